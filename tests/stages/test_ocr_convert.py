"""OCR conversion and configuration, offline: recorded rapidocr output → tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from extractor.datamodel import TokenSource
from extractor.stages.ocr import OcrOptions, RapidOcrOptions, RapidOcrRaw, normalise_text
from extractor.stages.ocr.rapid import raw_to_tokens
from extractor.stages.registry import create_instance, options_from_dict

TEST_DATA = Path(__file__).parent / "test_data"


def _recorded() -> RapidOcrRaw:
    # rapidocr 3.10.0 on a 1320 × 300 px crop of huaian-city-2024 page 4 (200 dpi): the first
    # four rows of section 三 (labels and 7 numbers each).
    return RapidOcrRaw.model_validate_json((TEST_DATA / "ocr_rapidocr_raw_section3_rows.json").read_text())


def test_recorded_lines_become_tokens_with_axis_aligned_boxes() -> None:
    # The recorded raw output: 33 lines with 4-point boxes.
    # One OCR token per line, the box the hull of the quad, numbers in row order.
    raw = _recorded()
    tokens = raw_to_tokens(raw, RapidOcrOptions().text_score)
    assert len(tokens) == len(raw.txts) == 33
    assert [t.text for t in tokens[1:8]] == ["3001", "53", "0", "0", "61", "4", "3119"]
    first = tokens[1]
    assert first.source is TokenSource.OCR
    assert first.bbox.as_list() == [539.0, 30.0, 586.0, 55.0]
    assert first.score == pytest.approx(raw.scores[1])
    assert all(0 <= t.bbox.x1 < t.bbox.x2 <= raw.width and 0 <= t.bbox.y1 < t.bbox.y2 <= raw.height for t in tokens)


def test_fullwidth_punctuation_in_recorded_lines_is_normalised() -> None:
    # rapidocr returned the label of row (二) with full-width brackets and comma.
    # The token carries ASCII brackets and comma (NFKC), as the text layer does.
    raw = _recorded()
    assert "（二）部分公开（区分处理的，只计这一情" in raw.txts
    texts = [t.text for t in raw_to_tokens(raw, RapidOcrOptions().text_score)]
    assert "(二)部分公开(区分处理的,只计这一情" in texts


def test_lines_below_the_score_threshold_are_dropped() -> None:
    # The recorded lines converted with a threshold above the 3001 line's score (0.972).
    # That line is gone, the lines scoring 1.0 stay.
    raw = _recorded()
    texts = [t.text for t in raw_to_tokens(raw, text_score=0.99)]
    assert "3001" not in texts and "3119" in texts


@pytest.mark.parametrize(
    ("printed", "normalised"),
    [("１２３", "123"), ("９６１７１．６", "96171.6"), ("1,234", "1234"), ("12，345，678", "12345678"), ("⼀⼆⾏", "一二行"), ("1,2", "1,2")],
)
def test_numbers_are_normalised(printed: str, normalised: str) -> None:
    # Full-width digits/points, thousands separators (ASCII or full-width), Kangxi radicals.
    # ASCII digits, no separators; a comma between single digits (a list) is kept.
    assert normalise_text(printed) == normalised


def test_unknown_engine_kind_lists_the_known_kinds() -> None:
    # A config asking for an engine nobody registered, by kind and by options type.
    # The error names the kind and lists rapidocr.
    with pytest.raises(ValueError, match=r"'tesseract'.*known kinds: rapidocr"):
        options_from_dict(OcrOptions, {"kind": "tesseract"})

    class TesseractOptions(OcrOptions):
        kind = "tesseract"

    with pytest.raises(ValueError, match=r"'tesseract'.*known kinds: rapidocr"):
        create_instance(TesseractOptions())


def test_options_reject_unknown_settings_and_keep_the_classifier_off() -> None:
    # RapidOCR options built from a config mapping, with a typo in a setting.
    # The typo is an error; by default the angle classifier is off.
    assert options_from_dict(OcrOptions, {"kind": "rapidocr", "threads": 1}) == RapidOcrOptions(threads=1)
    assert RapidOcrOptions().use_cls is False
    with pytest.raises(ValidationError):
        options_from_dict(OcrOptions, {"kind": "rapidocr", "use_clss": True})
