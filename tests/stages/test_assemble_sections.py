from extractor.datamodel import BBox, Cell, Table
from extractor.stages.assemble.sections import classify_table, map_active, map_appeal, map_apply
from extractor.stages.grid.split import split_merged_values
from extractor.templates import get_template

_COLS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")


def _cell(row, col, text, row_span=1, col_span=1, page=0, score=1.0):
    box = BBox(x1=col * 50, y1=row * 20, x2=(col + col_span) * 50, y2=(row + row_span) * 20)
    return Cell(row=row, col=col, row_span=row_span, col_span=col_span, text=text, bbox=box, page=page, score=score)


def _table(cells, n_rows, n_cols, page=0):
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, pages=[page], bbox=BBox(x1=0, y1=0, x2=500, y2=600))


def _apply_header():
    """The official three header rows of section 三 over label columns 0-2 and value columns 3-9."""
    cells = [
        _cell(0, 0, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", row_span=3, col_span=3),
        _cell(0, 3, "申请人情况", col_span=7),
        _cell(1, 3, "自然人", row_span=2),
        _cell(1, 4, "法人或其他组织", col_span=5),
        _cell(1, 9, "总计", row_span=2),
    ]
    cells += [_cell(2, 4 + i, label) for i, label in enumerate(_COLS[1:6])]
    return cells


def _value_row(row, label_cells, numbers, page=0):
    return label_cells + [_cell(row, 3 + i, str(n), page=page) for i, n in enumerate(numbers)]


def _full_apply_table(template_id, numbers_for):
    """Section 三 with every row of the template, numbered in the printed order."""
    template = get_template(template_id)
    cells = _apply_header()
    r = 3
    for key in template.rows("apply"):
        label = template.fields[f"apply.{key}.total"].row_label
        cells += _value_row(r, [_cell(r, 0, label, col_span=3)], numbers_for(key))
        r += 1
    return _table(cells, r, 10)


def test_apply_rows_and_columns_are_matched_by_their_labels():
    # A section 三 grid with the official merged headers and one label cell per row.
    # Every one of the 175 fields is read from the cell where its row and column meet.
    rows = get_template("gov-2021").rows("apply")
    table = _full_apply_table("gov-2021", lambda key: [rows.index(key) * 10 + i for i in range(7)])
    readings, notes = map_apply([table], get_template("gov-2021"))
    values = {r.field_id: r.value for r in readings}
    assert len(values) == 175 and notes == []
    assert values["apply.new_received.natural_person"] == 0
    assert values["apply.denied.state_secret.research"] == rows.index("denied.state_secret") * 10 + 2
    assert values["apply.carried_forward.total"] == rows.index("carried_forward") * 10 + 6


def test_group_labels_in_merged_cells_and_item_numbering_variants():
    # 三、本年度办理结果 is a tall merged cell, （三）不予公开 spans its items, items are "1、…" or "2. …".
    # Rows are matched on their most specific label; group cells do not confuse them.
    cells = _apply_header()
    cells += _value_row(3, [_cell(3, 0, "一、本年新收政府信息公开申请数量", col_span=3)], [5, 0, 0, 0, 0, 0, 5])
    cells += [_cell(4, 0, "三、本年度办理结果", row_span=3), _cell(4, 1, "（三）不予公开", row_span=2)]
    cells += _value_row(4, [_cell(4, 2, "1、属于国家秘密")], [1, 0, 0, 0, 0, 0, 1])
    cells += _value_row(5, [_cell(5, 2, "2. 其他法律行政法规禁止公开")], [2, 0, 0, 0, 0, 0, 2])
    cells += _value_row(6, [_cell(6, 1, "（七）总计", col_span=2)], [3, 0, 0, 0, 0, 0, 3])
    readings, _ = map_apply([_table(cells, 7, 10)], get_template("gov-2021"))
    values = {r.field_id: r.value for r in readings}
    assert values["apply.denied.state_secret.natural_person"] == 1
    assert values["apply.denied.prohibited.total"] == 2
    assert values["apply.total.total"] == 3
    assert "apply.granted.total" not in values  # not printed, so not invented


def test_continuation_table_without_header_uses_the_same_value_columns():
    # Section 三 continues on the next page without repeating its header.
    # Its rows are matched in order and read from the rightmost seven columns.
    template = get_template("gov-2021")
    first = _apply_header() + _value_row(3, [_cell(3, 0, "一、本年新收政府信息公开申请数量", col_span=3)], [4, 0, 0, 0, 0, 0, 4])
    second = _value_row(0, [_cell(0, 0, "四、结转下年度继续办理", col_span=3, page=1)], [1, 0, 0, 0, 0, 0, 1], page=1)
    readings, _ = map_apply([_table(first, 4, 10), _table(second, 1, 10, page=1)], template)
    by_id = {r.field_id: r for r in readings}
    assert by_id["apply.carried_forward.total"].value == 1
    assert by_id["apply.carried_forward.total"].page == 1


def test_single_other_row_on_the_2021_format_derives_zero_items_only():
    # Some 2021 reports print （六）其他处理 as one row. A printed 0 means each of its three items is 0;
    # a printed 2 cannot be split, so the items stay unknown with a note.
    cells = _apply_header()
    cells += _value_row(3, [_cell(3, 0, "一、本年新收政府信息公开申请数量", col_span=3)], [2, 0, 0, 0, 0, 0, 2])
    cells += _value_row(4, [_cell(4, 0, "（六）其他处理", col_span=3)], [2, 0, 0, 0, 0, 0, 2])
    readings, notes = map_apply([_table(cells, 5, 10)], get_template("gov-2021"))
    by_id = {r.field_id: r for r in readings}
    assert notes and "one row" in notes[0]
    assert by_id["apply.other.no_fee.commercial"].value == 0 and by_id["apply.other.no_fee.commercial"].derived
    assert by_id["apply.other.other.natural_person"].value is None
    assert "items unknown" in by_id["apply.other.other.natural_person"].notes[0]


def test_appeal_values_are_read_by_position_from_the_value_row():
    # Section 四: two header rows over 15 value cells; 昭苏 leaves one 总计 blank.
    # The value row's 15 cells map in order to review, direct suit and suit after review.
    header = [_cell(0, 0, "行政复议", col_span=5), _cell(0, 5, "行政诉讼", col_span=10)]
    header += [_cell(1, 5, "未经复议直接起诉", col_span=5), _cell(1, 10, "复议后起诉", col_span=5)]
    header += [_cell(2, i, ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"][i % 5]) for i in range(15)]
    numbers = ["0", "1", "0", "0", "1", "2", "0", "0", "0", "", "0", "0", "0", "1", "1"]
    values_row = [_cell(3, i, t) for i, t in enumerate(numbers)]
    table = _table(header + values_row, 4, 15)
    assert classify_table(table) == "appeal"
    readings = {r.field_id: r for r in map_appeal(table, get_template("gov-2021"))}
    assert readings["appeal.review.corrected"].value == 1
    assert readings["appeal.suit_direct.upheld"].value == 2
    assert readings["appeal.suit_direct.total"].raw == ""
    assert readings["appeal.suit_after_review.pending"].value == 1


def test_appeal_values_under_the_header_of_another_column_are_noted():
    # The grid gained a sliver column right of section 四 (a blank cell at the end of the value
    # row): by position every value lands one column left of its own. The header above each one
    # names its real column, so every shifted reading carries a note (and goes to review).
    header = [_cell(0, 0, "行政复议", col_span=5), _cell(0, 5, "行政诉讼", col_span=11)]
    header += [_cell(1, 5, "未经复议直接起诉", col_span=5), _cell(1, 10, "复议后起诉", col_span=6)]
    header += [_cell(2, i, ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"][i % 5]) for i in range(15)]
    values_row = [_cell(3, i, str(i % 5)) for i in range(15)] + [_cell(3, 15, "")]
    readings = map_appeal(_table(header + values_row, 4, 16), get_template("gov-2021"))
    noted = [r.field_id for r in readings if any(n.startswith("its column header names another") for n in r.notes)]
    assert len(noted) == 14  # the first value, 行政复议's 结果维持, has no header above its new place
    in_place = map_appeal(_table(header + values_row[:15], 4, 15), get_template("gov-2021"))
    assert not any(r.notes for r in in_place)


def test_values_side_by_side_in_a_merged_cell_are_split_and_noted():
    # A scan lost two rules: in section 四 the value row has 13 cells, one reading "0 2 0" over
    # three columns; in section 三 one cell reads "3 0" over 科研机构 and 社会公益组织. Each value
    # goes to its own column, with a note that sends it to review. A merged cell whose text is
    # not one value per column ("12" over two) is shared, as before.
    header = [_cell(0, 0, "行政复议", col_span=5), _cell(0, 5, "行政诉讼", col_span=10)]
    header += [_cell(1, 5, "未经复议直接起诉", col_span=5), _cell(1, 10, "复议后起诉", col_span=5)]
    header += [_cell(2, i, ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"][i % 5]) for i in range(15)]
    values_row = [_cell(3, i, "1") for i in range(4)] + [_cell(3, 4, "0 2 0", col_span=3)]
    values_row += [_cell(3, i, "0") for i in range(7, 15)]
    appeal = {r.field_id: r for r in map_appeal(_table(header + values_row, 4, 15), get_template("gov-2021"))}
    split = ("review.total", "suit_direct.upheld", "suit_direct.corrected")
    assert [appeal[f"appeal.{f}"].value for f in split] == [0, 2, 0]
    assert "side by side" in appeal["appeal.suit_direct.upheld"].notes[0]
    assert not appeal["appeal.review.pending"].notes

    cells = _apply_header() + [_cell(3, 0, "一、本年新收政府信息公开申请数量", col_span=3), _cell(3, 3, "5")]
    cells += [_cell(3, 4, "1"), _cell(3, 5, "3 0", col_span=2), _cell(3, 7, "12", col_span=2), _cell(3, 9, "21")]
    readings, _ = map_apply([split_merged_values(_table(cells, 4, 10))], get_template("gov-2021"))
    apply = {r.field_id: r for r in readings}
    assert (apply["apply.new_received.research"].value, apply["apply.new_received.social"].value) == (3, 0)
    assert "side by side" in apply["apply.new_received.social"].notes[0]
    assert apply["apply.new_received.legal"].value == apply["apply.new_received.other_org"].value == 12


def test_a_row_with_a_misread_label_is_placed_by_position_and_noted():
    # The last rows of section 三 on a continuation page: （六） printed as one row, then （七）总计
    # read "(t)总i" (its "（七）" cut by a rule), then 四. The one row between （六） and 四 is 总计;
    # its values are read, each with a note that sends it to review.
    cells = []
    for r, label in enumerate(["（六）其他处理", "(t)总i", "四、结转下年度继续办理"]):
        cells += [_cell(r, 0, label, col_span=3)] + [_cell(r, 3 + c, str(r + 1)) for c in range(7)]
    readings, _ = map_apply([_table(cells, 3, 10)], get_template("gov-2021"))
    total = {r.field_id: r for r in readings if r.field_id.startswith("apply.total.")}
    assert len(total) == 7 and {r.value for r in total.values()} == {2}
    assert all("placed by position" in r.notes[-1] for r in total.values())
    assert {r.value for r in readings if r.field_id.startswith("apply.carried_forward.")} == {3}


def test_rows_under_a_streak_are_placed_by_position_between_two_read_labels():
    # A roller streak across section 三: the labels of 3., 4. and 5. under （三）不予公开 are
    # unreadable (one is lost altogether) while their values are read. Between 2. and 6. there are
    # three printed rows and three template rows: each goes to its place, in order, with a note.
    template = get_template("gov-2021")
    rows = template.rows("apply")
    table = _full_apply_table("gov-2021", lambda key: [rows.index(key)] * 7)
    streaked = {rows.index(k) + 3: text for k, text in (
        ("denied.security_stability", "3.薄墨"), ("denied.third_party", "一斷洲照"), ("denied.internal_affairs", ""),
    )}
    for cell in table.cells:
        if cell.row in streaked and cell.col == 0:
            cell.text = streaked[cell.row]
    readings, _ = map_apply([table], template)
    by_id = {r.field_id: r for r in readings}
    for key in ("denied.security_stability", "denied.third_party", "denied.internal_affairs"):
        assert by_id[f"apply.{key}.total"].value == rows.index(key)
        assert "placed by position" in by_id[f"apply.{key}.total"].notes[-1]
    assert len(by_id) == 175


def test_header_columns_misread_are_placed_between_those_read_and_none_is_guessed_otherwise():
    # 科研机构 and 社会公益组织 read as noise: placed between 商业企业 and 法律服务机构. 自然人 lost
    # too: placed where the first data row's label cell ends. A table cut short (its 其他 and 总计
    # columns lost beyond a faded band) leaves those two unplaced, not filled from its right edge.
    template = get_template("gov-2021")
    rows = template.rows("apply")
    numbers = lambda key: [rows.index(key) * 10 + i for i in range(7)]  # noqa: E731
    table = _full_apply_table("gov-2021", numbers)
    for cell in table.cells:
        if cell.row == 2 and cell.col in (5, 6):
            cell.text = "厂科机杉" if cell.col == 5 else "甲社"
        if cell.row == 1 and cell.col == 3:
            cell.text = "日"
    values = {r.field_id: r.value for r in map_apply([table], template)[0]}
    assert len(values) == 175
    assert values["apply.granted.natural_person"] == rows.index("granted") * 10
    assert values["apply.granted.research"] == rows.index("granted") * 10 + 2
    assert values["apply.granted.social"] == rows.index("granted") * 10 + 3
    cut = _table([c for c in table.cells if c.col + c.col_span <= 8 or c.col < 3], table.n_rows, 8)
    values = {r.field_id: r.value for r in map_apply([cut], template)[0]}
    assert not any(f.endswith((".other_org", ".total")) for f in values)
    assert values["apply.granted.legal"] == rows.index("granted") * 10 + 4


def test_value_read_at_the_end_of_a_label_merged_with_it_is_taken_and_noted():
    # The rule between the label and 自然人 was lost: one cell over both reads the label and the
    # value. The value is the number at the label's end, sent to review with a note.
    cells = _apply_header() + [_cell(3, 0, "一、本年新收政府信息公开申请数量4", col_span=4)]
    cells += [_cell(3, 4 + i, str(i)) for i in range(6)]
    readings, _ = map_apply([_table(cells, 4, 10)], get_template("gov-2021"))
    apply = {r.field_id: r for r in readings}
    assert apply["apply.new_received.natural_person"].value == 4
    assert "side by side" in apply["apply.new_received.natural_person"].notes[0]
    assert apply["apply.new_received.total"].value == 5 and not apply["apply.new_received.total"].notes


def test_active_rows_follow_the_header_of_their_group():
    # Section 二 printed as one grid: each 第二十条 group has a 信息内容 header row.
    # Values land in the column named by their group's header; 行政规范性文件 and 规范性文件 both match.
    cells = [
        _cell(0, 0, "第二十条第（一）项", col_span=4),
        _cell(1, 0, "信息内容"), _cell(1, 1, "本年制发件数"), _cell(1, 2, "本年废止件数"), _cell(1, 3, "现行有效件数"),
        _cell(2, 0, "规章"), _cell(2, 1, "0"), _cell(2, 2, "0"), _cell(2, 3, "2"),
        _cell(3, 0, "规范性文件"), _cell(3, 1, "3"), _cell(3, 2, "1"), _cell(3, 3, "12"),
        _cell(4, 0, "信息内容"), _cell(4, 1, "本年处理决定数量", col_span=3),
        _cell(5, 0, "行政许可"), _cell(5, 1, "333", col_span=3),
        _cell(6, 0, "信息内容"), _cell(6, 1, "本年收费金额（单位：万元）", col_span=3),
        _cell(7, 0, "行政事业性收费"), _cell(7, 1, "46.5687", col_span=3),
    ]
    table = _table(cells, 8, 4)
    assert classify_table(table) == "active"
    values = {r.field_id: r.value for r in map_active([table], get_template("gov-2021"))}
    assert values["active.normative.in_force"] == 12
    assert values["active.rules.in_force"] == 2
    assert values["active.licensing.decisions"] == 333
    assert values["active.fees.amount"] == 46.5687


def test_single_other_row_of_a_table_cut_short_reads_the_columns_placed():
    # A cut table (its 其他 and 总计 columns lost) that prints （六）其他处理 as one row: the columns
    # the header did not place are not read in that row either (this raised a KeyError and the
    # whole document was lost).
    cells = _apply_header()
    cells += _value_row(3, [_cell(3, 0, "一、本年新收政府信息公开申请数量", col_span=3)], [2, 0, 0, 0, 0])
    cells += _value_row(4, [_cell(4, 0, "（六）其他处理", col_span=3)], [0, 0, 0, 0, 0])
    cut = _table([c for c in cells if c.col + c.col_span <= 8 or c.col < 3], 5, 8)
    readings, notes = map_apply([cut], get_template("gov-2021"))
    by_id = {r.field_id: r for r in readings}
    assert notes and "one row" in notes[0]
    assert by_id["apply.other.no_fee.natural_person"].value == 0
    assert not any(f.startswith("apply.other.") and f.endswith((".other_org", ".total")) for f in by_id)


def test_a_table_whose_labels_were_all_misread_is_still_section_three():
    # A faint page: no label reads as printed ("收政信么开申请数" for 一、本年新收…), so no word of
    # section 三 is found; the cells alike to its labels say which section it is. Stripped of
    # its labels, its rows of seven numbers still make it section 三 by its shape.
    misread = ["收政信么开申请数量", "年转政府信么开申", "部分公开区分只计", "属于三类内部信息", "行政执法卷"]
    cells = []
    for r, label in enumerate(misread):
        cells += _value_row(r, [_cell(r, 0, label, col_span=3)], [0, 1, 0, 0, 0, 0, 1])
    assert classify_table(_table(cells, len(misread), 10)) == "apply"
    bare = [c for c in cells if c.col >= 3]
    assert classify_table(_table(bare, len(misread), 10)) == "apply"
    assert classify_table(_table([_cell(0, 0, "规章"), _cell(0, 1, "3")], 1, 2)) is None


def test_a_header_repeated_on_the_continuation_page_is_not_a_row():
    # Section 三 runs on to a second page that repeats the header; the rows between the last
    # item read on page one and the first read on page two have misread labels. Only the data
    # rows count when they are placed by position: they land on the template's rows in order.
    template = get_template("gov-2021")
    rows = template.rows("apply")
    first = _apply_header()
    split = rows.index("unavailable.not_held")
    for r, key in enumerate(rows[:split]):
        label = template.fields[f"apply.{key}.total"].row_label if r < 5 else "·"
        first += _value_row(3 + r, [_cell(3 + r, 0, label, col_span=3)], [r] * 6 + [6 * r])
    second = [_cell(c.row, c.col, c.text, c.row_span, c.col_span, page=1) for c in _apply_header()]
    for r, key in enumerate(rows[split:]):
        label = template.fields[f"apply.{key}.total"].row_label if r >= 3 else "t"
        second += _value_row(3 + r, [_cell(3 + r, 0, label, col_span=3, page=1)], [split + r] * 6 + [6 * (split + r)], page=1)
    tables = [_table(first, 3 + split, 10), _table(second, 3 + len(rows) - split, 10, page=1)]
    by_id = {r.field_id: r.value for r in map_apply(tables, template)[0]}
    assert len(by_id) == 175
    assert all(by_id[f"apply.{key}.natural_person"] == i for i, key in enumerate(rows))


def test_columns_of_values_place_the_header_that_was_misread():
    # The header's cells are all misread but 社会公益组织, and the first data row's label cell is
    # found: the grid has exactly seven columns of values after it, which are the template's
    # seven columns in order.
    template = get_template("gov-2021")
    rows = template.rows("apply")
    table = _full_apply_table("gov-2021", lambda key: [rows.index(key) * 10 + i for i in range(7)])
    for cell in table.cells:
        if cell.row in (1, 2) and cell.text != "社会公益组织":
            cell.text = "日"
    values = {r.field_id: r.value for r in map_apply([table], template)[0]}
    assert len(values) == 175
    assert values["apply.granted.total"] == rows.index("granted") * 10 + 6


def test_active_values_among_more_cells_than_columns_are_noted_without_a_header():
    # A section 二 row read without its group's header row, one cell more than its columns (a
    # stain taken for a rule split a cell): the values are taken in order, with a note.
    cells = [_cell(0, 0, "行政许可"), _cell(0, 1, "3"), _cell(0, 2, "1"), _cell(0, 3, "")]
    readings = map_active([_table(cells, 1, 4)], get_template("gov-2021"))
    assert readings and all(any(n.startswith("placed by order") for n in r.notes) for r in readings)


def test_a_misread_single_other_row_and_a_mark_beside_the_total_are_still_placed():
    # The end of a 2021-format section 三 on a poor scan: （六）其他处理, printed as one row, read
    # "(六) 他处"; （七）总计 read "(七) i计t" with a dash left in the empty item column beside it.
    # The （六） row is the group's single row (its items derived from its zeros), the row after it
    # is （七）总计 by position.
    template = get_template("gov-2021")
    cells = _apply_header()
    cells += _value_row(3, [_cell(3, 0, "一、本年新收政府信息公开申请数量", col_span=3)], [5, 0, 0, 0, 0, 0, 5])
    cells += _value_row(4, [_cell(4, 1, "（五）不予处理"), _cell(4, 2, "5.要求行政机关确认或重新出具已获取信息")], [0] * 7)
    cells += _value_row(5, [_cell(5, 1, "(六) 他处"), _cell(5, 2, "")], [0] * 7)
    cells += _value_row(6, [_cell(6, 1, "(七) i计t"), _cell(6, 2, "-")], [5, 0, 0, 0, 0, 0, 5])
    cells += _value_row(7, [_cell(7, 0, "四、结转下年度继续办理", col_span=3)], [0] * 7)
    readings, notes = map_apply([_table(cells, 8, 10)], template)
    by_id = {r.field_id: r for r in readings}
    assert notes and "one row" in notes[0]
    assert by_id["apply.other.no_fee.total"].value == 0 and by_id["apply.other.no_fee.total"].derived
    assert by_id["apply.total.natural_person"].value == 5
    assert by_id["apply.carried_forward.total"].value == 0
