"""Tables beside those found whose rules are too faint for the threshold (a shadow over part of
the page) are looked for on faint rules, where the page's text shows a table there."""

from pathlib import Path

import numpy as np
from PIL import Image

from extractor.datamodel import BBox, TextToken
from extractor.stages.layout import LayoutOptions, LayoutStage

_DATA = Path(__file__).parent / "test_data"


def _numbers_row(y: float, xs: list[float]) -> list[TextToken]:
    return [TextToken(text="0", bbox=BBox(x1=x, y1=y, x2=x + 14, y2=y + 24), score=0.9) for x in xs]


def test_section_three_in_a_shadow_is_found_on_faint_rules():
    # Page 2 of Augraphy's hard scan of a generated report (development seed 125000, document 4):
    # a shadow over the left half. The threshold found parts of section 二's small tables only;
    # section 三 below (161 fields) was "not found in the report's tables".
    page = np.array(Image.open(_DATA / "tables_in_shadow_augraphy.jpg").convert("RGB"))
    stage = LayoutStage(LayoutOptions())
    found = stage.ruled_tables(page, 200)
    assert found and all(r.bbox.y2 < 700 for r in found)  # parts of section 二 only
    # What the page's OCR reads outside that table: among the rest, a row of section 三's values.
    numbers = _numbers_row(1700, [750 + 85 * i for i in range(7)])
    faint = stage.faint_tables(page, 200, numbers, found)
    boxes = [r.bbox for r in faint]
    assert any(b.y1 < 1260 and b.y2 > 2050 and b.x1 < 260 and b.x2 > 1390 for b in boxes)
    # None overlaps a table already found, and only tables holding those numbers are kept.
    assert all(b.intersection(f.bbox) == 0 for b in boxes for f in found)
    assert all(any(b.contains_point(*n.bbox.center) for n in numbers) for b in boxes)


def test_no_faint_search_without_a_table_in_the_text():
    page = np.array(Image.open(_DATA / "tables_in_shadow_augraphy.jpg").convert("RGB"))
    stage = LayoutStage(LayoutOptions())
    prose = [TextToken(text="本年度共收到申请12件", bbox=BBox(x1=300, y1=1700, x2=800, y2=1724), score=0.9)]
    assert stage.faint_tables(page, 200, prose, stage.ruled_tables(page, 200)) == []
