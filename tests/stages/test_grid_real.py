"""Grid stage on a real published report (digital PDF, rasterised at 150, 200 and 300 dpi)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.datamodel import Table
from extractor.stages.grid import GridStage, join_continued
from extractor.stages.layout import find_ruled_tables

_REPORTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-reports"
_HONGZE_2023 = _REPORTS / "huaian-hongze-2023.pdf"


def _page_tables(index: int, dpi: float) -> list[Table]:
    """Every ruled table of one page of 洪泽区 2023 rasterised at `dpi`, with tokens from the text layer."""
    from extractor.stages.rasterise import open_pdf, render_page, text_layer_tokens

    with open_pdf(_HONGZE_2023) as pdf:
        image = render_page(pdf, index, dpi).image
        tokens = text_layer_tokens(pdf, index, dpi)
    grid = GridStage()
    return [grid.predict(image, r.bbox, tokens, index, dpi=dpi) for r in find_ruled_tables(image, dpi)]


@pytest.mark.skipif(not _HONGZE_2023.is_file(), reason=f"real reports absent: {_REPORTS} (not in a fresh clone)")
@pytest.mark.parametrize("dpi", [150, 200, 300])
def test_real_section_three_joins_into_seven_value_columns(dpi):
    # 洪泽区 2023: section 三 starts on page 3 and continues at the top of page 4, cut mid-group.
    # Joined, it has 3 header rows + 23 data rows (its （六） is one row) and 3 label + 7 value columns.
    tables = join_continued(_page_tables(2, dpi) + _page_tables(3, dpi))
    apply = next(t for t in tables if any(c.text == "申请人情况" for c in t.cells))
    assert (apply.n_rows, apply.n_cols, apply.pages) == (26, 10, [2, 3])
    header = next(c for c in apply.cells if c.text == "申请人情况")
    assert (header.col, header.col_span) == (3, 7)
    last = sorted((c for c in apply.cells if c.row == apply.n_rows - 1), key=lambda c: c.col)
    assert last[0].text == "四、结转下年度继续办理" and last[0].col_span == 3
    assert [c.text for c in last[1:]] == ["0"] * 7
    # The tall group label 三、本年度办理结果 covers the page's last 12 rows; its part on the
    # next page stays a cell of its own, directly below.
    group = next(c for c in apply.cells if c.text.startswith("三、本年度办理结果"))
    assert (group.page, group.row, group.col, group.row_span) == (2, 5, 0, 12)
    rest = next(c for c in apply.cells if c.page == 3 and c.col == 0 and c.row == 17)
    assert rest.row_span > 1
