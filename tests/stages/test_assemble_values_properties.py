"""Property-based tests of `parse_value` over every printed form of a value in both templates."""

from hypothesis import given
from hypothesis import strategies as st

from extractor.stages.assemble.values import parse_value
from extractor.templates import ValueType

# How reports print "nothing to report", in both templates (the dataset stores 0).
_ZERO_FORMS = st.sampled_from(["", "0", "０", "/", "／", "-", "—", "–", "－", "——", "无", "零"])
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _printed(n: int, full_width: bool, thousands: bool) -> str:
    text = f"{n:,}" if thousands else str(n)
    return text.translate(_FULL_WIDTH) if full_width else text


@given(st.integers(min_value=1, max_value=10**7), st.booleans(), st.booleans())
def test_a_printed_count_reads_as_itself(n, full_width, thousands):
    # A count is printed in ASCII or full-width digits, with or without thousands separators.
    # Every form reads as the count, with no note.
    parsed = parse_value(_printed(n, full_width, thousands), ValueType.INTEGER)
    assert (parsed.value, parsed.note) == (n, None)


@given(_ZERO_FORMS, st.sampled_from(list(ValueType)))
def test_every_zero_form_reads_as_zero_in_every_type(text, kind):
    # Blank, 0, slash, dashes, 无 and 零 mean nothing to report, whatever the field holds.
    # The printed mark stays in raw.
    parsed = parse_value(text, kind)
    assert parsed.value == 0 and parsed.raw == text.strip()


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["-", "−"]))
def test_a_negative_change_reads_negative_and_a_negative_count_is_refused(n, minus):
    # Only 本年增/减 (a signed column of the 2019 template) is printed negative.
    # Elsewhere a minus sign before a count is not a value.
    assert parse_value(f"{minus}{n}", ValueType.SIGNED_INTEGER).value == -n
    assert parse_value(f"{minus}{n}", ValueType.INTEGER).value is None


@given(st.integers(min_value=1, max_value=10**6))
def test_a_plus_sign_is_positive(n):
    # A positive change is printed "+2": it is +2, not -2 (an old bug turned it negative).
    # Before a count the sign is not printed by reports: the value stays, with a note.
    assert parse_value(f"+{n}", ValueType.SIGNED_INTEGER).value == n
    assert parse_value(f"+{n}", ValueType.SIGNED_INTEGER).note is None
    counted = parse_value(f"+{n}", ValueType.INTEGER)
    assert counted.value == n and counted.note


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=9999))
def test_an_amount_in_wan_yuan_reads_as_its_decimal(whole, fraction):
    # Fees and amounts are printed in 万元 with up to four decimals.
    text = f"{whole}.{fraction:04d}"
    parsed = parse_value(text, ValueType.DECIMAL)
    assert parsed.value == float(text) and parsed.note is None


@given(st.integers(min_value=1, max_value=99), st.integers(min_value=0, max_value=9))
def test_a_count_with_a_leading_zero_is_noted_as_two_cells(a, b):
    # No report prints "011": a zero and a count read together where a rule was lost.
    parsed = parse_value(f"0{a}{b}", ValueType.INTEGER)
    assert parsed.note and "leading zero" in parsed.note
