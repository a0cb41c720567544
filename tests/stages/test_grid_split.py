"""Cells merged where a rule was lost, split by the values printed side by side in them."""

from __future__ import annotations

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.grid.split import side_by_side, split_merged_values


def test_values_and_the_piece_of_the_lost_rule_between_them():
    # What is left of the rule between two values is read "|", "l" or "1" between them. Over
    # two columns, "0 1 0" is two zeros; over three, three values; a "5" between is no rule.
    assert side_by_side("0 | 0", 2) == side_by_side("0 l 0", 2) == side_by_side("0 1 0", 2) == ["0", "0"]
    assert side_by_side("0 1 0", 3) == ["0", "1", "0"]
    assert side_by_side("3 12", 2) == ["3", "12"]
    assert side_by_side("0 0 l0", 3) == ["0", "0", "0"] and side_by_side("0 10", 2) == ["0", "10"]
    assert side_by_side("0 5 0", 2) is None
    assert side_by_side("12", 2) is None


def test_a_merged_value_cell_becomes_one_cell_per_column():
    # A one-row table: a label, then "0 | 0" over columns 1-2 and "7" in column 3. The merged
    # cell becomes two cells, each over its column's half of the box, keeping the merged text.
    cells = [
        Cell(row=0, col=0, text="四、结转下年度继续办理", bbox=BBox(x1=0, y1=0, x2=300, y2=45), page=3),
        Cell(row=0, col=1, col_span=2, text="0 | 0", bbox=BBox(x1=300, y1=0, x2=520, y2=45), page=3, score=0.8),
        Cell(row=0, col=3, text="7", bbox=BBox(x1=520, y1=0, x2=630, y2=45), page=3),
    ]
    table = Table(n_rows=1, n_cols=4, cells=cells, pages=[3], bbox=BBox(x1=0, y1=0, x2=630, y2=45))
    out = split_merged_values(table)
    assert [(c.col, c.col_span, c.text) for c in out.cells] == [(0, 1, cells[0].text), (1, 1, "0"), (2, 1, "0"), (3, 1, "7")]
    assert [c.bbox.as_list() for c in out.cells[1:3]] == [[300, 0, 410, 45], [410, 0, 520, 45]]
    assert [c.merged_text for c in out.cells] == [None, "0 | 0", "0 | 0", None]
    assert out.cells[1].score == 0.8
