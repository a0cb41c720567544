"""What a reviewer typed, read strictly: a plain decimal number, in ASCII or full-width digits.

A value box is not a calculator: ``1e3``, ``0x10``, ``1_000`` or ``inf`` are refused rather
than read as 1000, 16 or infinity, and so is a number with more digits than a double holds
exactly. Every refusal carries a message in Chinese and in English (:class:`TypedValueError`).
"""

from __future__ import annotations

import re
import unicodedata

from extractor.templates import FieldDef, ValueType

# Digits before the point beyond which a double no longer holds every integer exactly (2**53 ≈ 9.0e15).
MAX_DIGITS = 15
# A plain decimal: optional sign, digits with optional thousands commas, optional fraction.
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
# Characters NFKC does not fold that people type for a minus sign or a decimal point.
_FOLD = str.maketrans({"−": "-", "－": "-", "。": ".", "，": ","})


class TypedValueError(ValueError):
    """A typed value that cannot be stored, with the reason in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


def parse_typed(text: str) -> float:
    """The number in `text`, after folding full-width characters (``７`` → ``7``).

    Raises:
        TypedValueError: `text` is not a plain decimal number, or has more than
            :data:`MAX_DIGITS` digits before its point.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD).strip().replace(" ", "")
    if not _NUMBER.fullmatch(folded):
        raise TypedValueError(f"“{text}”不是数字：请只输入数字（可带小数点和负号），不接受 1e3、0x10 之类的写法",
                              f"“{text}” is not a number: type digits only (a decimal point and a minus sign "
                              "are allowed; forms such as 1e3 or 0x10 are not)")
    whole = folded.lstrip("+-").split(".")[0].replace(",", "").lstrip("0")
    if len(whole) > MAX_DIGITS:
        raise TypedValueError(f"数字位数过多（{len(whole)} 位，最多 {MAX_DIGITS} 位）",
                              f"too many digits ({len(whole)}; at most {MAX_DIGITS} before the point)")
    return float(folded.replace(",", ""))


def check_value(definition: FieldDef, value: float) -> None:
    """Refuse a value outside the field's type or plausible range (the field contract's value_ranges).

    Raises:
        TypedValueError: the contract's reason in English, with its Chinese counterpart.
    """
    problem = definition.value_problem(value)
    if problem is None:
        return
    lo, hi = _num(definition.minimum), _num(definition.maximum)
    kind = {ValueType.INTEGER: "非负整数", ValueType.SIGNED_INTEGER: "整数", ValueType.DECIMAL: "数值"}[definition.value_type]
    if definition.value_type is not ValueType.DECIMAL and isinstance(value, float) and not value.is_integer():
        zh = f"{definition.id}：件数必须是整数（输入了 {value}）；允许：{kind} [{lo}, {hi}] {definition.unit}"
    else:
        zh = f"{definition.id}：数值超出允许范围；允许：{kind} [{lo}, {hi}] {definition.unit}"
    raise TypedValueError(zh, f"{definition.id}: {problem}")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
