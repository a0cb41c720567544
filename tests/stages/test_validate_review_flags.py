"""Validation flags: repair suggestions, prose cross-checks and ranges (gov-2021, no models)."""

from __future__ import annotations

from extractor.datamodel import BBox, FieldStatus, PageRecord, Table, TextToken
from extractor.stages.assemble import FieldReading
from extractor.stages.validate import ValidateOptions, ValidateStage
from extractor.stages.validate.narrative import find_claims
from extractor.stages.validate.repair import describe_misread
from extractor.templates import get_template

_T = get_template("gov-2021")
# A consistent report: 9 applications from natural persons, all granted; the rest zero.
_CONSISTENT = {
    "apply.new_received.natural_person": 9, "apply.new_received.total": 9,
    "apply.granted.natural_person": 9, "apply.granted.total": 9,
    "apply.total.natural_person": 9, "apply.total.total": 9,
    "active.licensing.decisions": 333,
}


def _readings(overrides: dict[str, float] | None = None, scores: dict[str, float] | None = None) -> list[FieldReading]:
    values = {fid: _CONSISTENT.get(fid, 0) for fid in _T.fields} | (overrides or {})
    return [
        FieldReading(field_id=fid, value=v, raw=str(v), page=1, bbox=BBox(x1=20 * i, y1=0, x2=20 * i + 10, y2=10),
                     text_score=(scores or {}).get(fid, 1.0), match_score=1.0)
        for i, (fid, v) in enumerate(values.items())
    ]


def _prose_page(text: str) -> PageRecord:
    token = TextToken(text=text, bbox=BBox(x1=10, y1=10, x2=900, y2=40))
    return PageRecord(index=0, width=1000, height=1400, dpi=200, tokens=[token], tables=[])


def test_a_misread_cell_gets_the_implied_value_as_suggestion_and_keeps_the_printed_one():
    # OCR read the 9 of 予以公开/自然人 as 6: its row total and its column total break.
    # Only that cell explains both, so it alone is flagged, with 9 suggested and 6 kept.
    fields, checks = ValidateStage().predict(_T, _readings({"apply.granted.natural_person": 6}))
    cell = fields["apply.granted.natural_person"]
    assert (cell.value, cell.suggestion, cell.status) == (6, 9, FieldStatus.FLAGGED)
    assert "one digit differs (6 printed, 9 implied)" in cell.reasons[0]
    assert {c.identity for c in checks if not c.ok} == {"apply.row_total.granted", "apply.results.natural_person"}
    others = [f for fid, f in fields.items() if f.status is FieldStatus.FLAGGED and fid != "apply.granted.natural_person"]
    assert others == []
    assert any("explained by apply.granted.natural_person" in r for r in fields["apply.granted.total"].reasons)


def test_every_field_of_a_broken_identity_is_flagged_when_no_single_cell_explains_it():
    # Two cells of one row are off (a row total that matches neither part): several cells
    # could each restore the row alone, so nothing is suggested. With `release_confirmed` off
    # the whole row is flagged.
    fields, _ = ValidateStage(ValidateOptions(release_confirmed=False)).predict(
        _T, _readings({"apply.carried_over.natural_person": 2, "apply.carried_over.commercial": 1})
    )
    flagged = {fid for fid, f in fields.items() if f.status is FieldStatus.FLAGGED}
    assert "apply.carried_over.total" in flagged and "apply.carried_over.natural_person" in flagged
    assert all(f.suggestion is None for f in fields.values())


def test_a_broken_identity_flags_only_its_fields_that_no_holding_identity_confirms():
    # The same two misread cells: their columns' balance identities break too, while those of
    # the row's other cells (its total among them) hold. The error is among the two: they are
    # flagged, the rest of the row is not, and says where the error is.
    fields, _ = ValidateStage().predict(_T, _readings({"apply.carried_over.natural_person": 2,
                                                       "apply.carried_over.commercial": 1}))
    flagged = {fid for fid, f in fields.items() if f.status is FieldStatus.FLAGGED}
    assert flagged == {"apply.carried_over.natural_person", "apply.carried_over.commercial"}
    total = fields["apply.carried_over.total"]
    assert any("the error is among apply.carried_over.natural_person, apply.carried_over.commercial" in r
               for r in total.reasons)


def test_numbers_that_do_not_add_up_though_each_is_confirmed_are_all_flagged():
    # The report carried 3 applications over and forward but left both rows' totals at 0: each
    # column still balances (9 + 3 = 9 + 3), so every cell of the two rows is confirmed by its
    # column, yet neither row adds up. The report's own numbers disagree: both rows are flagged.
    fields, checks = ValidateStage().predict(_T, _readings({"apply.carried_over.natural_person": 3,
                                                            "apply.carried_forward.natural_person": 3}))
    assert {c.identity for c in checks if not c.ok} == {"apply.row_total.carried_over", "apply.row_total.carried_forward"}
    rows = [f"apply.{r}.{c}" for r in ("carried_over", "carried_forward") for c in _T.cols("apply")]
    assert all(fields[f].status is FieldStatus.FLAGGED for f in rows)


def test_explained_identity_flags_the_whole_identity_when_asked():
    # The same misread with flag_explained_identity on (and release_confirmed off, which would
    # accept the fields that identities holding over them confirm).
    # Every field of both broken identities is flagged; the suggestion stays on the one cell.
    stage = ValidateStage(ValidateOptions(flag_explained_identity=True, release_confirmed=False))
    fields, _ = stage.predict(_T, _readings({"apply.granted.natural_person": 6}))
    assert fields["apply.granted.total"].status is FieldStatus.FLAGGED
    assert fields["apply.granted.total"].suggestion is None
    assert fields["apply.granted.natural_person"].suggestion == 9


def test_prose_stating_another_number_flags_the_field_and_records_the_disagreement():
    # The prose says 全年共办理行政许可事项 338 件 where the table reads 333.
    # The field is flagged with the clause, and a failed narrative check is recorded.
    page = _prose_page("2024年，本机关全年共办理行政许可事项 338 件，行政处罚0件。")
    fields, checks = ValidateStage().predict(_T, _readings(), [page])
    field = fields["active.licensing.decisions"]
    assert field.status is FieldStatus.FLAGGED and field.value == 333
    assert any(r.startswith("prose states 338") for r in field.reasons)
    narrative = {c.identity: c.ok for c in checks if c.identity.startswith("narrative.")}
    assert narrative == {"narrative.active.licensing.decisions": False, "narrative.active.penalty.decisions": True}


def test_prose_stating_the_same_number_confirms_a_low_confidence_reading():
    # The cell 333 was read with confidence 0.7; the prose restates 333 件.
    # The field is not sent to review for its confidence alone.
    page = _prose_page("全年共办理行政许可事项333件。")
    fields, _ = ValidateStage().predict(_T, _readings(scores={"active.licensing.decisions": 0.7}), [page])
    assert fields["active.licensing.decisions"].status is FieldStatus.AUTO
    fields, _ = ValidateStage().predict(_T, _readings(scores={"active.licensing.decisions": 0.7}))
    assert fields["active.licensing.decisions"].status is FieldStatus.FLAGGED


def test_numbers_inside_a_table_region_are_not_read_as_prose():
    # A table row "行政许可事项 5 件" lies inside a table's box on the page.
    # No prose check is made from it.
    table = Table(pages=[0], bbox=BBox(x1=0, y1=0, x2=1000, y2=100), n_rows=0, n_cols=0, cells=[])
    page = _prose_page("行政许可事项5件").model_copy(update={"tables": [table]})
    _, checks = ValidateStage().predict(_T, _readings(), [page])
    assert [c for c in checks if c.identity.startswith("narrative.")] == []


def test_claims_attribute_each_number_to_one_field():
    # 上年结转政府信息公开申请 3 件 must not also count as a new application.
    # Only the carried-over field gets the claim.
    claims = find_claims("收到政府信息公开申请12件，上年结转政府信息公开申请3件", frozenset(_T.fields))
    assert {(c.field_id, c.stated) for c in claims} == {("apply.new_received.total", 12),
                                                         ("apply.carried_over.total", 3)}


def test_a_negative_count_is_flagged_as_out_of_range():
    # A count cell read as -4 (a stray dash before the digit).
    # The field is flagged with a range reason.
    fields, _ = ValidateStage().predict(_T, _readings({"active.licensing.decisions": -4}))
    field = fields["active.licensing.decisions"]
    assert field.status is FieldStatus.FLAGGED and any("negative" in r for r in field.reasons)


def test_misread_descriptions_name_dropped_and_swapped_digits():
    # Printed 19 where 119 is implied; printed 12 where 21 is implied.
    # The reviewer is told which kind of misreading it looks like.
    assert describe_misread(19, 119) == "a digit appears dropped"
    assert describe_misread(12, 21) == "two digits swapped"


def test_one_printed_cell_read_for_two_fields_flags_both():
    # A lost column rule merges the 1 of 社会公益组织 and the 0 of 法律服务机构 into one "10" cell,
    # read for both fields. The values happen to keep no identity broken here, so only the
    # shared cell can tell: both fields are flagged, naming each other.
    readings = _readings()
    merged = [r for r in readings if r.field_id in ("apply.carried_over.social", "apply.carried_over.legal")]
    for r in merged:
        r.raw, r.bbox = "10", BBox(x1=500, y1=500, x2=560, y2=520)
    fields, _ = ValidateStage().predict(_T, readings)
    assert fields["apply.carried_over.social"].status is FieldStatus.FLAGGED
    assert "apply.carried_over.legal" in " ".join(fields["apply.carried_over.social"].reasons)
    assert fields["apply.carried_over.legal"].status is FieldStatus.FLAGGED
    assert fields["apply.carried_over.natural_person"].status is FieldStatus.AUTO


def test_a_row_that_lost_a_cell_has_its_other_values_flagged():
    # A lost column rule may shift the row （四）2. 没有现成信息需要另行制作: its last cell is never found,
    # the others may each hold their neighbour's value, and the row total cannot be checked. The
    # row's read fields are flagged (here with `release_confirmed` off); other rows stay as they are.
    readings = [r for r in _readings() if r.field_id != "apply.unavailable.needs_creation.other_org"]
    fields, _ = ValidateStage(ValidateOptions(release_confirmed=False)).predict(_T, readings)
    assert fields["apply.unavailable.needs_creation.other_org"].value is None
    shifted = fields["apply.unavailable.needs_creation.natural_person"]
    assert shifted.status is FieldStatus.FLAGGED and "may be shifted" in " ".join(shifted.reasons)
    assert fields["apply.unavailable.needs_creation.total"].status is FieldStatus.FLAGGED
    assert fields["apply.unavailable.not_held.natural_person"].status is FieldStatus.AUTO


def test_cells_of_a_row_that_lost_one_are_accepted_where_their_columns_confirm_them():
    # The same row, not shifted: each read cell's column adds up with it, which a value one
    # column off would not. They are accepted with a note; the cell not found is flagged.
    readings = [r for r in _readings() if r.field_id != "apply.unavailable.needs_creation.other_org"]
    fields, _ = ValidateStage().predict(_T, readings)
    assert fields["apply.unavailable.needs_creation.other_org"].status is FieldStatus.FLAGGED
    kept = fields["apply.unavailable.needs_creation.natural_person"]
    assert kept.status is FieldStatus.AUTO and any(r.startswith("confirmed by apply.") for r in kept.reasons)


def test_cells_of_a_row_shifted_one_column_stay_flagged():
    # The row 一、本年新收 (9 from natural persons) read one column to the left: its 自然人 cell
    # holds 商业企业's 0, and its 总计 was not found. The 自然人 and 商业企业 columns no longer
    # balance: those cells stay flagged as possibly shifted.
    shifted = {"apply.new_received.natural_person": 0}
    readings = [r for r in _readings(shifted) if r.field_id != "apply.new_received.total"]
    fields, _ = ValidateStage().predict(_T, readings)
    assert fields["apply.new_received.natural_person"].status is FieldStatus.FLAGGED


def test_a_total_derived_from_a_flagged_part_is_flagged_too():
    # 总计 of 予以公开 printed blank: it is derived from its row (9). When the 自然人 cell it sums
    # is doubtful (low confidence, and its column's total was not found, so no identity confirms
    # it), the derived total is sent to review with it; when not, it stays derived.
    def blank_total(scores):
        readings = [r for r in _readings(scores=scores) if r.field_id != "apply.total.natural_person"]
        for r in readings:
            if r.field_id == "apply.granted.total":
                r.value, r.raw = 0, ""
        return ValidateStage().predict(_T, readings)[0]

    sure = blank_total({})["apply.granted.total"]
    assert (sure.value, sure.status) == (9, FieldStatus.DERIVED)
    doubtful = blank_total({"apply.granted.natural_person": 0.3})["apply.granted.total"]
    assert (doubtful.value, doubtful.status) == (9, FieldStatus.FLAGGED)
    assert "derived from flagged parts: apply.granted.natural_person" in doubtful.reasons


def test_a_value_no_identity_could_check_is_flagged():
    # 1.本机关不掌握 / 科研机构 could not be read, nor the 总计 row's 社会公益组织: the row identity of
    # 不掌握 and both column identities of 社会公益组织 each miss a value, so nothing checks the
    # 社会公益组织 cell of 不掌握 (a "0" read as "9" went through unseen). It is flagged; a value
    # whose row is still checked is not.
    readings = _readings({"apply.unavailable.not_held.social": 9})
    for r in readings:
        if r.field_id in ("apply.unavailable.not_held.research", "apply.total.social"):
            r.value, r.raw = None, "日"
    fields, _ = ValidateStage().predict(_T, readings)
    unchecked = fields["apply.unavailable.not_held.social"]
    assert unchecked.status is FieldStatus.FLAGGED
    assert any(r.startswith("no identity over this value could be checked") for r in unchecked.reasons)
    assert fields["apply.granted.natural_person"].status is FieldStatus.AUTO


def test_two_doubtful_readings_that_agree_with_each_other_confirm_nothing():
    # A rule's piece read "1" in both the 法律服务机构 cell and the 总计 cell of one row, each
    # with a low score: the row adds up with both wrong. The columns' totals were not found, so
    # nothing else checks them. An identity confirms a value only when its other values were
    # read without doubt: both stay flagged.
    row = "apply.denied.internal_affairs"
    readings = [
        r for r in _readings({f"{row}.legal": 1, f"{row}.total": 1}, scores={f"{row}.legal": 0.3, f"{row}.total": 0.4})
        if r.field_id not in ("apply.total.legal", "apply.total.total")
    ]
    fields, checks = ValidateStage().predict(_T, readings)
    assert any(c.identity == f"apply.row_total.{row[6:]}" and c.ok for c in checks)
    assert fields[f"{row}.legal"].status is FieldStatus.FLAGGED
    assert fields[f"{row}.total"].status is FieldStatus.FLAGGED


def test_a_row_placed_by_position_is_not_confirmed_by_its_own_total():
    # A row whose label was lost, placed by its position: it adds up wherever it is put, so its
    # own row total confirms nothing about its place; its columns' identities do.
    row = "apply.denied.third_party"
    readings = _readings()
    for r in readings:
        if r.field_id.startswith(row + "."):
            r.notes.append("row placed by position, its label read '·'")
    kept = [r for r in readings if r.field_id not in ("apply.total.natural_person",)]
    fields, _ = ValidateStage().predict(_T, kept)
    # 自然人's column cannot be checked (its total is missing): only the row's own total holds.
    assert fields[f"{row}.natural_person"].status is FieldStatus.FLAGGED
    # 商业企业's column holds: the cell is placed right, whatever its label.
    assert fields[f"{row}.commercial"].status is FieldStatus.AUTO


def test_a_cell_judged_blank_that_nothing_checks_is_flagged():
    # Section 二's 行政规范性文件 / 现行有效件数 was judged blank from its crop (the cell box missed
    # its "11" where a fold bent the rules): 0, and no identity checks it. It goes to review; a
    # blank cell of section 三, whose row and column add up, does not.
    readings = _readings()
    for r in readings:
        if r.field_id in ("active.normative.in_force", "apply.denied.inquiry.social"):
            r.raw, r.evidence = "", ["ink:blank"]
    fields, _ = ValidateStage().predict(_T, readings)
    assert fields["active.normative.in_force"].status is FieldStatus.FLAGGED
    assert fields["apply.denied.inquiry.social"].status is FieldStatus.AUTO
