"""Joint decoding of value-cell readings with the accounting identities."""

import pytest

from extractor.stages.validate.joint import decode_jointly
from extractor.templates import Identity

_ROW = [Identity(name="row", description="总计 = a + b + c", lhs=("t",), rhs=("a", "b", "c"))]


def test_a_consistent_second_reading_beats_an_inconsistent_first():
    # A faint zero was read "1" (0.6) before "0" (0.35); the row total 5 = 0 + 2 + 3.
    # The identities choose "0"; the row's other readings stay.
    decoding = decode_jointly(_ROW, {"a": [(1, 0.6), (0, 0.35)], "t": [(5, 0.99)], "b": [(2, 0.98)]}, {"c": 3})
    assert {f: c.value for f, c in decoding.choices.items()} == {"a": 0, "t": 5, "b": 2}
    assert decoding.broken == ()


def test_a_total_that_does_not_add_up_keeps_the_printed_readings():
    # Every reading is sure and there is no consistent choice: the report's own total is wrong.
    # No reading is changed; the margin of every field is small, so the row goes to review.
    decoding = decode_jointly(_ROW, {f: [(v, 0.999)] for f, v in {"t": 9, "a": 1, "b": 2, "c": 3}.items()}, {})
    assert all(c.value in (None, v) for c, v in zip(decoding.choices.values(), [1, 2, 3, 9]))
    assert all(c.margin < 3 for c in decoding.choices.values())


def test_a_sure_reading_wins_by_a_wide_margin_and_an_unsure_one_by_little():
    # "b" is sure and the identity holds; "a" is torn between two values neither of which the
    # identity can tell apart (a field outside every identity).
    decoding = decode_jointly(_ROW, {"b": [(2, 0.999)], "x": [(4, 0.55), (9, 0.45)]}, {"t": 6, "a": 1, "c": 3})
    assert decoding.choices["b"].margin >= 6
    assert decoding.choices["x"].margin == pytest.approx(0.2007, abs=1e-3)
    assert decoding.choices["x"].runner_up == 9


def test_a_blank_total_is_left_free_for_its_row():
    # A blank printed 总计 is derived later from its parts: it does not pull on their readings.
    decoding = decode_jointly(_ROW, {"a": [(1, 0.6), (0, 0.35)]}, {"b": 2, "c": 3, "t": 0}, free=frozenset({"t"}))
    assert decoding.choices["a"].value == 1


def test_an_identity_over_an_unread_field_is_not_checked():
    # "c" could not be read: the row says nothing about "a", which keeps its likeliest reading.
    decoding = decode_jointly(_ROW, {"a": [(1, 0.6), (0, 0.35)]}, {"b": 2, "c": None, "t": 5})
    assert decoding.choices["a"].value == 1


# Joint decoding inside the validation stage (gov-2021: the stage's readings carry options).

from extractor.datamodel import BBox, FieldStatus, PageRecord, TextToken  # noqa: E402
from extractor.stages.assemble import FieldReading  # noqa: E402
from extractor.stages.validate import ValidateOptions, ValidateStage  # noqa: E402
from extractor.templates import get_template  # noqa: E402

_T = get_template("gov-2021")
_NINE = {"apply.new_received.natural_person": 9, "apply.new_received.total": 9, "apply.granted.natural_person": 9,
         "apply.granted.total": 9, "apply.total.natural_person": 9, "apply.total.total": 9}


def _scanned(options: dict[str, list[tuple[int, float]]]) -> list[FieldReading]:
    """Readings of a consistent report (9 applications, all granted), each cell read surely
    over the value alphabet unless `options` says otherwise."""
    out = []
    for i, fid in enumerate(_T.fields):
        opts = options.get(fid, [(_NINE.get(fid, 0), 0.999)])
        out.append(FieldReading(
            field_id=fid, value=opts[0][0], raw=str(opts[0][0]), page=1, bbox=BBox(x1=20 * i, y1=0, x2=20 * i + 9, y2=9),
            text_score=0.9, match_score=1.0, options=[(v, p, str(v)) for v, p in opts], whole_value=opts[0][0],
        ))
    return out


def test_the_stage_takes_the_reading_the_identities_choose():
    # The 9 of 予以公开/自然人 was read 6 (0.55) before 9 (0.4): the row and the column say 9.
    # The field is 9, with a note of what was read. Its whole-vocabulary reading (6) disagrees
    # with the value chosen, a doubt the identities that hold over it answer: nothing is flagged.
    fields, checks = ValidateStage().predict(_T, _scanned({"apply.granted.natural_person": [(6, 0.55), (9, 0.4)]}))
    cell = fields["apply.granted.natural_person"]
    assert (cell.value, cell.status) == (9, FieldStatus.AUTO)
    assert any(r.startswith("identity-chosen") for r in cell.reasons)
    assert any(r.startswith("the cell's two readings disagree") for r in cell.reasons)
    assert any(r.startswith("confirmed by") for r in cell.reasons)
    assert all(c.ok for c in checks)
    assert not [fid for fid, f in fields.items() if f.status is FieldStatus.FLAGGED]


def test_without_release_the_disagreeing_readings_go_to_review():
    # The same report with `release_confirmed` off: the two decodings' disagreement flags the field.
    stage = ValidateStage(ValidateOptions(release_confirmed=False))
    fields, _ = stage.predict(_T, _scanned({"apply.granted.natural_person": [(6, 0.55), (9, 0.4)]}))
    assert [fid for fid, f in fields.items() if f.status is FieldStatus.FLAGGED] == ["apply.granted.natural_person"]


def test_an_unsure_reading_outside_every_identity_is_flagged_with_the_next_one_suggested():
    # 行政许可 decisions (section 二, in no identity) read 1 (0.6) or 7 (0.35): nothing decides.
    fields, _ = ValidateStage().predict(_T, _scanned({"active.licensing.decisions": [(1, 0.6), (7, 0.35)]}))
    cell = fields["active.licensing.decisions"]
    assert (cell.value, cell.status, cell.suggestion) == (1, FieldStatus.FLAGGED, 7)
    assert cell.margin is not None and cell.margin < 1


def test_the_prose_is_a_second_reading_of_a_number_it_states():
    # The same unsure reading, and the prose says 行政许可 7件: 7 is chosen and accepted (the
    # whole-vocabulary reading said 7 too).
    page = PageRecord(index=0, width=1000, height=1400, dpi=200, tables=[],
                      tokens=[TextToken(text="本年度处理行政许可事项7件。", bbox=BBox(x1=10, y1=10, x2=900, y2=40))])
    readings = _scanned({"active.licensing.decisions": [(1, 0.6), (7, 0.35)]})
    next(r for r in readings if r.field_id == "active.licensing.decisions").whole_value = 7
    fields, _ = ValidateStage().predict(_T, readings, [page])
    assert (fields["active.licensing.decisions"].value, fields["active.licensing.decisions"].status) == (7, FieldStatus.AUTO)


def test_a_reading_beside_ones_that_are_none_of_their_readings_keeps_its_own_small_margin():
    # Three parts are likelier misread than read (their readings hold 0.01): the row is relaxed,
    # so nothing ties "b", torn between 11 (0.33), 61 (0.29) and neither (0.38): its margin is
    # theirs, not the cap (a bound once took its neighbours' "none of them" for savings).
    row = [Identity(name="row", description="", lhs=("t",), rhs=("a", "b", "c", "d", "e"))]
    unsure = {f: [(1, 0.01)] for f in "acde"}
    decoding = decode_jointly(row, unsure | {"b": [(11, 0.33), (61, 0.29)]}, {"t": 15})
    assert all(decoding.choices[f].index is None for f in "acde")
    assert decoding.choices["b"].margin == pytest.approx(0.141, abs=1e-3)


def test_a_value_no_identity_checks_needs_a_clearer_win():
    # 行政许可 decisions read 1 (0.9) or 7 (0.09): 2.3 nats, enough for a value the identities
    # check, not for one they do not (section 二): its reading is all there is.
    readings = _scanned({"active.licensing.decisions": [(1, 0.9), (7, 0.09)],
                         "apply.granted.natural_person": [(9, 0.9), (6, 0.09)]})
    fields, _ = ValidateStage().predict(_T, readings)
    assert fields["active.licensing.decisions"].status is FieldStatus.FLAGGED
    assert fields["apply.granted.natural_person"].status is FieldStatus.AUTO
