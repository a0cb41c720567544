from extractor.datamodel import BBox, Cell, Table
from extractor.stages.assemble.readings import FieldReading
from extractor.stages.classify import CombineMode, combine, read_fields
from extractor.stages.classify.stage import CellPrediction, TablePrediction
from extractor.templates import get_template


def _cell(row, col, text, row_span=1, col_span=1, score=1.0):
    box = BBox(x1=col * 50, y1=row * 20, x2=(col + col_span) * 50, y2=(row + row_span) * 20)
    return Cell(row=row, col=col, row_span=row_span, col_span=col_span, text=text, bbox=box, page=0, score=score)


def _table(cells, n_rows, n_cols):
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, pages=[0], bbox=BBox(x1=0, y1=0, x2=500, y2=600))


def _predict(labels, prob=0.99):
    return TablePrediction(cells=[CellPrediction(label, prob, {label: prob}) for label in labels])


def _reading(fid, raw, box, score):
    return FieldReading(field_id=fid, value=int(raw), raw=raw, page=0, bbox=box, text_score=1.0, match_score=score)


def test_value_cell_takes_row_label_left_and_column_header_above():
    # A section 三 corner: a group header over two columns, then rows whose label sits left.
    # Each value cell becomes apply.<row of its label>.<column of the nearest header above>.
    cells = [
        _cell(0, 1, "申请人情况", col_span=2),
        _cell(1, 1, "自然人"), _cell(1, 2, "总计"),
        _cell(2, 0, "（一）予以公开"), _cell(2, 1, "5"), _cell(2, 2, "7"),
        _cell(3, 0, "1.属于国家秘密"), _cell(3, 1, "0"), _cell(3, 2, ""),
    ]
    labels = ["col:applicants", "col:natural_person", "col:total", "row:granted", "value", "value",
              "row:denied.state_secret", "value", "value"]
    readings = read_fields([_table(cells, 4, 3)], [_predict(labels)], get_template("gov-2021"))
    got = {r.field_id: r.raw for r in readings}
    assert got == {
        "apply.granted.natural_person": "5", "apply.granted.total": "7",
        "apply.denied.state_secret.natural_person": "0", "apply.denied.state_secret.total": "",
    }


def test_appeal_value_takes_its_group_header_from_above():
    # Section 四: 行政复议 and 未经复议直接起诉 headers over result columns, one value row.
    # Values read appeal.<group>.<column>; the score is the least sure label involved.
    cells = [
        _cell(0, 0, "行政复议", col_span=2), _cell(0, 2, "未经复议直接起诉", col_span=2),
        _cell(1, 0, "结果维持"), _cell(1, 1, "总计"), _cell(1, 2, "结果维持"), _cell(1, 3, "总计"),
        _cell(2, 0, "1"), _cell(2, 1, "2"), _cell(2, 2, "3"), _cell(2, 3, "4"),
    ]
    labels = ["col:review", "col:suit_direct", "col:upheld", "col:total", "col:upheld", "col:total",
              "value", "value", "value", "value"]
    pred = _predict(labels)
    pred.cells[2] = CellPrediction("col:upheld", 0.6, {"col:upheld": 0.6})
    readings = {r.field_id: r for r in read_fields([_table(cells, 3, 4)], [pred], get_template("gov-2021"))}
    assert {f: r.raw for f, r in readings.items()} == {
        "appeal.review.upheld": "1", "appeal.review.total": "2",
        "appeal.suit_direct.upheld": "3", "appeal.suit_direct.total": "4",
    }
    assert readings["appeal.review.upheld"].match_score == 0.6


def test_value_without_a_known_field_is_left_out():
    # A value cell under a header the template has no field for (a row label of section 三
    # with a section 二 column) makes no reading rather than a guessed one.
    cells = [_cell(0, 1, "本年制发件数"), _cell(1, 0, "（一）予以公开"), _cell(1, 1, "5")]
    readings = read_fields([_table(cells, 2, 2)], [_predict(["col:issued", "row:granted", "value"])], get_template("gov-2021"))
    assert readings == []


def test_rules_first_fills_only_fields_the_matcher_missed():
    # The matcher read one field, the classifier that field (same cell) and another one.
    # rules_first keeps the matcher's reading, adds the other, and raises the shared score.
    box = BBox(x1=0, y1=0, x2=10, y2=10)
    rules = [_reading("apply.granted.total", "5", box, 0.7)]
    classified = [_reading("apply.granted.total", "5", box, 0.95), _reading("apply.total.total", "9", box, 0.9)]
    out = {r.field_id: r for r in combine(rules, classified, CombineMode.RULES_FIRST)}
    assert set(out) == {"apply.granted.total", "apply.total.total"}
    assert out["apply.granted.total"].match_score == 0.95


def test_disagreeing_sources_keep_the_preferred_reading_with_a_note():
    # Matcher and classifier read one field from different cells.
    # The preferred source wins and a note sends the field to review; RULES ignores the classifier.
    a, b = BBox(x1=0, y1=0, x2=10, y2=10), BBox(x1=50, y1=0, x2=60, y2=10)
    rules, classified = [_reading("apply.granted.total", "5", a, 0.9)], [_reading("apply.granted.total", "6", b, 0.9)]
    (first,) = combine(rules, classified, CombineMode.CLASSIFIER_FIRST)
    assert first.raw == "6" and "disagree" in first.notes[0]
    assert combine(rules, classified, CombineMode.RULES) == rules
