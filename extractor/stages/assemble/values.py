"""Turn the text of a value cell into a number, keeping the printed text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.stages.assemble.text import nfkc
from extractor.templates import ValueType

# Printed forms that mean "nothing to report": the dataset records 0 and keeps the raw text.
_ZERO_MARKS = frozenset({"", "/", "-", "—", "–", "－", "——", "无", "0", "零", "×", "\\"})
# A number at the start of a cell; anything after it (notes like （其中修订16件）) is ignored.
_LEADING_NUMBER = re.compile(r"^([+\-−]?)\s*(\d[\d,]*(?:\.\d+)?)")
# Marks that scans leave around a number (specks, rule remnants read as 一 _ | ( ) . · 「 ° *).
_STRAY = "一_—–-.·`'‘’\":：;；|!！()（）[]【】「」『』、,，。~°* "
# Letters a recogniser reads for a lone "0" drawn badly (a blot, a break, a dash across it).
_ZERO_LOOKALIKES = frozenset("θΘOoοОоQ")
# Letters a recogniser reads for a "1" (a thin stem, a serif foot): "11" read "Il". Not "|", which
# a piece of a rule is read as.
_ONE_LOOKALIKES = frozenset("1Il")
_AS_ONES = str.maketrans("Il", "11")
# A number followed by a unit of yuan (not 万元), which has to be converted to 万元.
_YUAN = re.compile(r"\d\s*元")
# Most digits a value may have before its point: a double holds every whole number up to 2**53 (16 digits) exactly;
# amounts in 元 (converted to 万元) have up to 13 before the point at the contract's maximum.
_MAX_DIGITS = 15


@dataclass(frozen=True)
class ParsedValue:
    """A parsed cell."""

    value: int | float | None  # None: the text is not a number we understand
    raw: str  # the printed text, whitespace-trimmed
    note: str | None = None  # why the value needs a second look, if it does


def parse_value(text: str, value_type: ValueType, amount_in_yuan: bool = False) -> ParsedValue:
    """Parse one value cell.

    Args:
        text: the cell text as read (OCR or text layer).
        value_type: what the field holds.
        amount_in_yuan: the column header says the amount is in 元 (to convert to 万元).

    Returns:
        The value (0 for blank, "/", "—", "无"), the raw text and a note when something is odd.
    """
    raw = text.strip()
    normal = nfkc(raw).replace(" ", "").replace("\u3000", "")
    if normal in _ZERO_MARKS:
        return ParsedValue(0, raw)
    if normal in _ZERO_LOOKALIKES:
        return ParsedValue(0, raw, f"a letter read for 0: {raw!r}")
    if normal and set(normal) <= _ONE_LOOKALIKES and not normal.isdigit():
        return ParsedValue(int(normal.translate(_AS_ONES)), raw, f"a letter read for 1: {raw!r}")
    match = _LEADING_NUMBER.match(normal)
    stray_note = None
    if not match:
        stripped = normal.strip(_STRAY)
        match = _LEADING_NUMBER.fullmatch(stripped) if stripped else None
        if stripped and match:
            normal = stripped
            stray_note = f"stray marks around the number: {raw!r}"
        elif not stripped and any(c in "一—–-_" for c in normal):
            return ParsedValue(0, raw, f"read as a dash: {raw!r}")
    if not match:
        return ParsedValue(None, raw, f"not a number: {raw!r}")
    sign, digits = match.groups()
    note = stray_note
    if match.end() < len(normal) and note is None:
        note = f"text after the number: {normal[match.end():]!r}"
    digits = digits.replace(",", "")
    if note is None and len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        # Reports never print "02" or "011": two cells read as one where a rule was lost.
        note = f"leading zero, possibly two cells read as one: {raw!r}"
    if len(digits.split(".")[0]) > _MAX_DIGITS:
        # No value of the contract has so many digits (cells read as one, a phone number): a double,
        # which the store holds, could not keep it exactly, and "9"*400 is no float at all.
        return ParsedValue(None, raw, f"too many digits for one value ({len(digits.split('.')[0])}): {raw[:40]!r}")
    if value_type is ValueType.DECIMAL:
        number: int | float = float(digits)
        if amount_in_yuan or _YUAN.search(normal) and "万元" not in normal:
            number = round(number / 10000, 6)
    elif "." in digits:
        return ParsedValue(None, raw, f"a count with decimals: {raw!r}")
    else:
        number = int(digits)
    if sign and number == 0:
        # A dash (printed for zero) or a piece of rule before a "0": zero either way.
        return ParsedValue(0, raw, note or f"a mark before a zero: {raw!r}")
    if sign in ("-", "−"):
        if value_type is not ValueType.SIGNED_INTEGER:
            return ParsedValue(None, raw, f"negative count: {raw!r}")
        number = -number
    elif sign == "+" and value_type is not ValueType.SIGNED_INTEGER:
        # Only a change (本年增/减) is printed with a sign; a "+" before a count is a misread mark.
        return ParsedValue(number, raw, note or f"a sign before a count: {raw!r}")
    return ParsedValue(number, raw, note)
