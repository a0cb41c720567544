"""The review crop of a cell of an HTML page: the page is drawn from the file and the cell outlined."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from extractor.datamodel import PageRecord
from extractor.review.crop import cell_crop_png
from extractor.stages.rasterise import open_document

_PAGE = (
    "<html><head><meta charset='utf-8'></head><body><h1>某某县财政局2024年政府信息公开工作年度报告</h1>"
    "<table><tr><td>本年新收政府信息公开申请数量</td><td>7</td></tr></table></body></html>"
)


def test_a_cell_of_an_html_report_is_shown_drawn_and_outlined(tmp_path):
    # An HTML page has no page image: the crop is drawn from the same layout the pipeline used.
    path = tmp_path / "r.html"
    path.write_text(_PAGE, encoding="utf-8")
    with open_document(path) as source:
        laid_out = source.page(0, 200)
    cell = laid_out.record.tables[0].cells[1]
    record = PageRecord(index=0, width=laid_out.record.width, height=laid_out.record.height, dpi=200)

    crop = np.asarray(Image.open(io.BytesIO(cell_crop_png(path, record, cell.bbox.as_list()))).convert("RGB"))

    red = (crop[:, :, 0] > 180) & (crop[:, :, 1] < 80) & (crop[:, :, 2] < 80)
    dark = crop.max(axis=2) < 80
    assert red.sum() > 100  # the outline
    assert dark.sum() > 200  # the cell rules and the text "7" and its label
