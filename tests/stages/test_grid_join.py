"""Joining a table continued from the bottom of one page onto the top of the next."""

from __future__ import annotations

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.grid import join_continued


def _table(page: int, xs: list[float], rows: list[list[str]], top: float = 100.0, height: float = 40.0) -> Table:
    """A ruled table of single cells on `page`; column boundaries `xs`, one text list per row."""
    cells = [
        Cell(
            row=r,
            col=c,
            text=text,
            bbox=BBox(x1=xs[c], y1=top + r * height, x2=xs[c + 1], y2=top + (r + 1) * height),
            page=page,
        )
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    return Table(
        n_rows=len(rows),
        n_cols=len(xs) - 1,
        cells=cells,
        pages=[page],
        bbox=BBox(x1=xs[0], y1=top, x2=xs[-1], y2=top + len(rows) * height),
    )


_XS = [200.0, 300.0, 500.0, 600.0, 700.0]


def test_table_continued_on_next_page_is_joined_without_repeated_header():
    # Page 2 ends with a table; page 3 starts with the same columns (shifted 12 px, as a scan
    # is) and reprints the header row. One 4-row grid comes out; cells keep their pages.
    head = ["项目", "说明", "自然人", "总计"]
    first = _table(2, _XS, [head, ["一", "新收", "3", "3"]], top=1500)
    second = _table(3, [x + 12 for x in _XS], [head, ["（四）", "无法提供", "1", "1"], ["四", "结转", "0", "0"]])
    (joined,) = join_continued([second, first])
    assert (joined.n_rows, joined.n_cols, joined.pages) == (4, 4, [2, 3])
    assert [c.text for c in joined.cells if c.row == 2] == ["（四）", "无法提供", "1", "1"]
    assert {c.page for c in joined.cells if c.row >= 2} == {3}
    assert joined.bbox == first.bbox


def test_table_with_other_columns_on_next_page_is_not_joined():
    # The table at the top of the next page has two columns where the first had four.
    # It is a different table, so both stay.
    first = _table(2, _XS, [["a", "b", "c", "d"]], top=1500)
    second = _table(3, [200.0, 450.0, 700.0], [["x", "y"]])
    assert len(join_continued([first, second])) == 2


def test_continuation_missing_a_column_rule_is_joined_onto_the_union_grid():
    # The continuation has no rule between its first two columns (its labels span both).
    # It is still joined; its label cells span the two columns of the joined grid.
    first = _table(2, _XS, [["一", "新收", "3", "3"]], top=1500)
    second = _table(3, [200.0, 500.0, 600.0, 700.0], [["（七）总计", "9", "9"]])
    (joined,) = join_continued([first, second])
    label = next(c for c in joined.cells if c.page == 3 and c.col == 0)
    assert (joined.n_cols, label.col_span) == (4, 2)
    assert [c.col for c in joined.cells if c.page == 3] == [0, 2, 3]


_SECTION3_XS = [200.0, 290.0, 700.0, 810.0, 920.0, 1030.0, 1140.0, 1250.0, 1360.0, 1470.0]


def test_one_row_continuation_that_kept_few_rules_is_joined():
    # The last row of section 三 alone on the next page (shifted 8 px), where a poor copy kept
    # only some of its short column rules: each rule it kept is one of the first part's. It is
    # joined; a cell that lost its rule spans the two columns of the joined grid.
    first = _table(2, _SECTION3_XS, [["（七）", "总计", *"3333333"]], top=1500)
    kept = [200.0, 700.0, 920.0, 1030.0, 1250.0, 1470.0]
    second = _table(3, [x + 8 for x in kept], [["四、结转下年度继续办理", "0 | 0", "0", "0 l 0", "0 1 0"]])
    (joined,) = join_continued([first, second])
    assert (joined.n_rows, joined.n_cols) == (2, 9)
    assert [(c.col, c.col_span) for c in joined.cells if c.row == 1] == [(0, 2), (2, 2), (4, 1), (5, 2), (7, 2)]


def test_next_page_table_with_a_rule_the_first_lacks_is_not_joined():
    # The same, but one of the next table's rules lies where the first has none: another table.
    first = _table(2, _SECTION3_XS, [["（七）", "总计", *"3333333"]], top=1500)
    second = _table(3, [200.0, 700.0, 975.0, 1030.0, 1250.0, 1470.0], [list("abcde")])
    assert len(join_continued([first, second])) == 2


def test_continuation_scanned_at_a_slightly_larger_scale_keeps_the_columns():
    # Section 三's ten columns continue on a page scanned 2.5% larger (in perspective the scale
    # changes across a page): past the first few boundaries the two parts' positions differ by
    # more than the tolerance in pixels, but not as fractions of each part's width. One grid of
    # ten columns comes out, no column added.
    xs = [100.0 + 130.0 * i for i in range(11)]
    first = _table(1, xs, [[str(i) for i in range(10)]], top=1800)
    second = _table(2, [100.0 + 1.025 * (x - 100.0) for x in xs], [[str(10 + i) for i in range(10)]] * 2)
    (joined,) = join_continued([first, second])
    assert joined.n_cols == 10 and joined.n_rows == 3
    assert all(c.col_span == 1 for c in joined.cells)
