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
