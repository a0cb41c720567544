"""Cells of a table built from the page's OCR tokens that no token fell in are read from their crops."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from extractor.datamodel import BBox, Cell, Table

_DATA = Path(__file__).parents[1] / "stages" / "test_data"


@pytest.fixture(scope="module")
def pipeline():
    from extractor.pipeline import Pipeline

    return Pipeline()


def test_an_empty_cell_of_a_text_built_table_is_read_from_its_crop(pipeline):
    # A real report degraded by Augraphy (huaian-hongze-2024): the table's rules were too faint to
    # find, its grid came from the OCR tokens, and the detector missed the faint "84" of 行政强制,
    # whose empty cell went out as a sure 0 (a silent error).
    value = np.array(Image.open(_DATA / "cell_84_on_textured_paper_augraphy.png").convert("RGB"))
    h, w = value.shape[:2]
    page = np.full((h + 40, w + 300, 3), 236, dtype=np.uint8)
    page[20 : 20 + h, 280 : 280 + w] = value
    label = Cell(row=0, col=0, text="行政强制", bbox=BBox(x1=20, y1=20, x2=270, y2=20 + h), page=0)
    empty = Cell(row=0, col=1, text="", bbox=BBox(x1=280, y1=20, x2=280 + w, y2=20 + h), page=0)
    blank = np.full_like(page, 236)
    table = Table(n_rows=1, n_cols=2, cells=[label, empty], pages=[0], bbox=label.bbox.union(empty.bbox), ruled=False)

    read = pipeline._read_empty_cells(table, page)
    assert [c.text for c in read.cells] == ["行政强制", "84"]  # the label is kept as the OCR read it
    assert read.cells[1].score > 0.9
    # A crop with nothing on it stays blank.
    assert pipeline._read_empty_cells(table, blank).cells[1].text == ""
