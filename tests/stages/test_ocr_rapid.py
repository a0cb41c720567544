"""RapidOCR with its bundled PP-OCR models on small crops of a real report page."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from extractor.stages.ocr import OcrStage, RapidOcrOptions
from extractor.stages.ocr.bench import cell_crop, is_number
from extractor.stages.rasterise import PageImage, open_pdf, render_page, text_layer_tokens

REAL_REPORTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-reports"

pytestmark = pytest.mark.ml


@cache
def _stage() -> OcrStage:
    return OcrStage(RapidOcrOptions(threads=1))


@cache
def _section3_page() -> tuple[PageImage, list]:
    """huaian-city-2024 page 4 at 200 dpi and its text-layer tokens (the reference)."""
    path = REAL_REPORTS / "huaian-city-2024.pdf"
    if not path.exists():
        pytest.skip(f"real report not available at {REAL_REPORTS}")
    with open_pdf(path) as pdf:
        return render_page(pdf, 3), text_layer_tokens(pdf, 3)


def test_number_cell_crops_are_read_exactly() -> None:
    # The first 28 numbers of section 三 (rows 一 to 三(二)), each cropped around its cell text.
    # Recognition without detection reads every one exactly as the text layer has it.
    page, tokens = _section3_page()
    start = [t.text for t in tokens].index("一、本年新收政府信息公开申请数量")
    numbers = [t for t in tokens[start:] if is_number(t.text)][:28]
    read = _stage().recognise_crops([cell_crop(page.image, t.bbox) for t in numbers])
    assert [text for text, _ in read] == [t.text for t in numbers]
    assert min(score for _, score in read) > 0.8


def test_full_ocr_of_a_row_finds_its_numbers_in_place() -> None:
    # A 1320 × 70 px strip holding row 一 of section 三 (label and 7 numbers).
    # Full OCR (detection + recognition) returns the numbers left to right, boxes on the strip.
    page, _ = _section3_page()
    strip = page.image[1270:1340, 180:1500]
    tokens = _stage().predict(strip)
    numbers = [t for t in sorted(tokens, key=lambda t: t.bbox.x1) if is_number(t.text)]
    assert [t.text for t in numbers] == ["3001", "53", "0", "0", "61", "4", "3119"]
    assert all(0 <= t.bbox.x1 < t.bbox.x2 <= strip.shape[1] for t in numbers)


def test_blank_crop_reads_as_nothing() -> None:
    # An empty (zero-pixel) crop next to a real one.
    # The empty crop gives ("", 0.0) and does not shift the other result.
    page, tokens = _section3_page()
    number = next(t for t in tokens if t.text == "3985758")
    read = _stage().recognise_crops([page.image[0:0, 0:0], cell_crop(page.image, number.bbox)])
    assert read[0] == ("", 0.0)
    assert read[1][0] == "3985758"


def test_detection_at_half_scale_finds_the_lines_where_full_scale_does() -> None:
    # The top of the page (title, prose) read with detection on the full image and on a half-scale one.
    # Same lines, same text, and the boxes (mapped back to full-image pixels) within a few pixels.
    page, _ = _section3_page()
    strip = page.image[150:700]
    full = _stage().predict(strip)
    half = OcrStage(RapidOcrOptions(threads=1, det_scale=0.5)).predict(strip)
    assert len(full) >= 3
    assert [t.text for t in half] == [t.text for t in full]
    for a, b in zip(full, half):
        assert abs(a.bbox.center[0] - b.bbox.center[0]) < 6 and abs(a.bbox.center[1] - b.bbox.center[1]) < 6
