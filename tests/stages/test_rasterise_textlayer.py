"""Text-layer tokens: right text, boxes on the printed ink, unusable layers rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from extractor.datamodel import TokenSource
from extractor.stages.rasterise import open_pdf, render_page, text_layer_tokens
from extractor.stages.rasterise.textlayer import _Char, _unusable_reason

REAL_REPORTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-reports"


def _real_report(name: str) -> Path:
    path = REAL_REPORTS / name
    if not path.exists():
        pytest.skip(f"real report {name} not available at {REAL_REPORTS}")
    return path


def _html_pdf(tmp_path: Path, body: str) -> Path:
    """A one-page PDF typeset by WeasyPrint with a CJK font (embedded, with ToUnicode)."""
    weasyprint = pytest.importorskip("weasyprint")
    path = tmp_path / "page.pdf"
    html = f'<html><body style="font-family: Noto Sans CJK SC; font-size: 20pt">{body}</body></html>'
    weasyprint.HTML(string=html).write_pdf(path)
    return path


def _ink(image: np.ndarray, bbox) -> float:
    crop = image[int(bbox.y1) : int(np.ceil(bbox.y2)), int(bbox.x1) : int(np.ceil(bbox.x2))]
    return float((crop.mean(axis=2) < 128).mean())


def test_real_report_numbers_come_whole_with_boxes_on_the_ink() -> None:
    # huaian-city-2024 page 4 holds section 三; row 一 reads 3001 53 0 0 61 4 3119, and the
    # section 二 table above it holds 3985758 and 96171.6 in single cells.
    path = _real_report("huaian-city-2024.pdf")
    with open_pdf(path) as pdf:
        page = render_page(pdf, 3, dpi=200)
        tokens = text_layer_tokens(pdf, 3, dpi=200, image=page.image)
    assert tokens is not None
    texts = [t.text for t in tokens]
    start = texts.index("一、本年新收政府信息公开申请数量")
    assert texts[start + 1 : start + 8] == ["3001", "53", "0", "0", "61", "4", "3119"]
    assert "3985758" in texts and "96171.6" in texts
    assert "商业企" in texts  # widely spaced characters of one cell stay one token

    by_text = {t.text: t for t in tokens}
    number = by_text["3985758"]
    assert number.source is TokenSource.TEXT_LAYER and number.score == 1.0
    # A 7-digit number at ~10.5 pt, 200 dpi: about 100 × 22 px, most of it ink-covered rows.
    assert 80 < number.bbox.width < 130 and 15 < number.bbox.height < 30
    assert _ink(page.image, number.bbox) > 0.15
    # The same box shifted right by its own width (blank cell space) holds no ink: the box is
    # on the number, not somewhere near it.
    assert _ink(page.image, number.bbox.model_copy(update={"x1": number.bbox.x2 + 10, "x2": number.bbox.x2 + 110})) == 0


def test_boxes_scale_with_dpi() -> None:
    # The same page read at 100 and 200 dpi.
    # Every box at 200 dpi is the 100 dpi box doubled (within a pixel).
    path = _real_report("huaian-hongze-2024.pdf")
    with open_pdf(path) as pdf:
        low = text_layer_tokens(pdf, 2, dpi=100)
        high = text_layer_tokens(pdf, 2, dpi=200)
    assert low and high and [t.text for t in low] == [t.text for t in high]
    for a, b in zip(low, high):
        assert np.allclose(a.bbox.scaled(2).as_list(), b.bbox.as_list(), atol=1.0)


def test_kangxi_radicals_and_fullwidth_digits_are_normalised(tmp_path: Path) -> None:
    # A PDF whose text layer holds Kangxi radicals ⼀⼆⾏ (U+2F00...) and full-width digits,
    # as WPS/Chromium exports do. Tokens read 一二行 and 12345.
    path = _html_pdf(tmp_path, "<p>⼀⼆⾏ 政府 １２３４５</p>")
    with open_pdf(path) as pdf:
        raw = pdf.document[0].get_textpage().get_text_range()
        tokens = text_layer_tokens(pdf, 0)
    assert "⼀" in raw  # the fixture really carries the radicals
    assert [t.text for t in tokens] == ["一二行", "政府", "12345"]


def test_page_without_text_has_no_text_layer(tmp_path: Path) -> None:
    # A blank page (what a scanned PDF without OCR looks like to the text layer).
    # None, not an empty list: the page must be OCRed.
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    path = tmp_path / "blank.pdf"
    pdf.save(path)
    with open_pdf(path) as source:
        assert text_layer_tokens(source, 0) is None


def test_text_not_printed_on_the_page_is_rejected(tmp_path: Path) -> None:
    # Text drawn in white on white: present in the text layer, invisible on the render.
    # Without the image the tokens come back; with it the layer is rejected.
    path = _html_pdf(tmp_path, '<p style="color: white">一二三 98765</p><p style="color: white">政府信息</p>')
    with open_pdf(path) as pdf:
        assert [t.text for t in text_layer_tokens(pdf, 0)] == ["一二三", "98765", "政府信息"]
        page = render_page(pdf, 0)
        assert text_layer_tokens(pdf, 0, image=page.image) is None


def test_mostly_unmapped_glyphs_make_the_layer_unusable() -> None:
    # Characters read from a font without a ToUnicode map: U+FFFD and private-use code points.
    # The layer is unusable when they exceed a tenth of the characters, usable otherwise.
    box = (0.0, 0.0, 1.0, 1.0)

    def chars(text: str) -> list[_Char]:
        return [_Char(text=c, tight=box, loose=box) for c in text]

    assert _unusable_reason(chars("\ufffd\ue001\ue002政府信息公开")) is not None
    assert _unusable_reason(chars("\ufffd政府信息公开工作年度报告")) is None
    assert _unusable_reason([None, None]) == "no text"
