"""Cells merged where a rule was lost, split by the values printed side by side in them."""

from __future__ import annotations

from extractor.datamodel import BBox, Cell, Table
from extractor.stages.grid.split import side_by_side, split_lost_columns, split_merged_values


def test_values_and_the_piece_of_the_lost_rule_between_them():
    # What is left of the rule between two values is read "|", "l" or "1" between them. Over
    # two columns, "0 1 0" is two zeros; over three, three values; a "5" between is no rule.
    assert side_by_side("0 | 0", 2) == side_by_side("0 l 0", 2) == side_by_side("0 1 0", 2) == ["0", "0"]
    assert side_by_side("0 1 0", 3) == ["0", "1", "0"]
    assert side_by_side("3 12", 2) == ["3", "12"]
    assert side_by_side("0 0 l0", 3) == ["0", "0", "0"] and side_by_side("0 10", 2) == ["0", "10"]
    assert side_by_side("01 0", 2) == ["0", "0"] and side_by_side("05 0", 2) == ["05", "0"]
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


def _cell(row: int, col: int, text: str, x1: float, x2: float, col_span: int = 1) -> Cell:
    return Cell(row=row, col=col, col_span=col_span, text=text, bbox=BBox(x1=x1, y1=50 * row, x2=x2, y2=50 * row + 50), page=2)


def test_a_column_whose_rules_were_lost_in_every_row_becomes_the_columns_it_holds():
    # Section 四's end: a header over each column, then the value row. The rules between three
    # columns were lost top to bottom: the grid has one column 3 x 80 px wide, whose value cell
    # reads "0 0 0". It becomes three columns; the header over them spans the three.
    cells = [
        _cell(0, 0, "维持", 0, 80), _cell(0, 1, "纠正其他尚未", 80, 320), _cell(0, 2, "总计", 320, 400),
        _cell(1, 0, "3", 0, 80), _cell(1, 1, "0 0 0", 80, 320), _cell(1, 2, "3", 320, 400),
    ]
    table = Table(n_rows=2, n_cols=3, cells=cells, pages=[2], bbox=BBox(x1=0, y1=0, x2=400, y2=100))
    out = split_lost_columns(table)
    assert out.n_cols == 5
    rows = {r: [(c.col, c.col_span, c.text) for c in out.cells if c.row == r] for r in (0, 1)}
    assert rows[0] == [(0, 1, "维持"), (1, 3, "纠正其他尚未"), (4, 1, "总计")]
    assert rows[1] == [(0, 1, "3"), (1, 1, "0"), (2, 1, "0"), (3, 1, "0"), (4, 1, "3")]
    assert [c.bbox.x1 for c in out.cells if c.row == 1] == [0, 80, 160, 240, 320]
    assert [c.merged_text for c in out.cells if c.row == 1] == [None, "0 0 0", "0 0 0", "0 0 0", None]


def test_a_wide_label_column_is_not_split():
    # A label column four values wide whose text is a label, and a value cell reading "0 0" in
    # an ordinary value column (two values where one was printed, not a lost rule): no split.
    cells = [_cell(0, 0, "(一)予以公开", 0, 320), _cell(0, 1, "0 0", 320, 400), _cell(0, 2, "5", 400, 480)]
    table = Table(n_rows=1, n_cols=3, cells=cells, pages=[2], bbox=BBox(x1=0, y1=0, x2=480, y2=50))
    assert split_lost_columns(table) == table
