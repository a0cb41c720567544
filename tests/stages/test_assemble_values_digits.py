"""A cell with more digits than any value of the contract is unreadable, not a giant number."""

from __future__ import annotations

from extractor.stages.assemble.values import parse_value
from extractor.templates import ValueType


def test_too_many_digits_is_no_value_and_says_why():
    # A 400-digit run (cells read as one), a 16-digit count and a 16-digit amount; 15 digits still read.
    # The long ones give no value and a note naming the digit count; 15 digits are a number.
    for text, kind in (("9" * 400, ValueType.INTEGER), ("1234567890123456", ValueType.INTEGER),
                       ("1234567890123456.5", ValueType.DECIMAL), ("-" + "9" * 30, ValueType.SIGNED_INTEGER)):
        parsed = parse_value(text, kind)
        assert parsed.value is None and parsed.note and "too many digits" in parsed.note, text
    assert parse_value("123456789012345", ValueType.INTEGER).value == 123456789012345
    assert parse_value("12.123456789012345678", ValueType.DECIMAL).value == 12.123456789012346
