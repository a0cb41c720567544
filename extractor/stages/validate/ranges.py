"""Types and ranges: counts are whole and non-negative, decimals only where allowed, no absurd sizes."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from extractor.datamodel import FieldValue
from extractor.templates import Template, ValueType

_log = logging.getLogger(__name__)

# Largest plausible count per section. Section 三/四 count applications and appeals: the busiest
# national ministries receive some tens of thousands a year. Section 二 counts decisions
# (行政许可/处罚 of a large city run to hundreds of thousands) and documents.
MAX_COUNT = {"active": 5_000_000, "apply": 100_000, "appeal": 10_000}
# Largest plausible 万元 amount (fees, procurement): 1e8 万元 is a trillion yuan.
MAX_AMOUNT = 1e8


def range_problems(template: Template, fields: Mapping[str, FieldValue]) -> dict[str, str]:
    """Field id → what is wrong with its value's type or size (fields without a problem are absent)."""
    problems: dict[str, str] = {}
    for fid, field in fields.items():
        definition = template.fields.get(fid)
        value = field.value
        if definition is None or value is None:
            continue
        kind = definition.value_type
        if kind is not ValueType.DECIMAL and not float(value).is_integer():
            problems[fid] = f"a count must be a whole number, read {value}"
        elif kind is not ValueType.SIGNED_INTEGER and value < 0:
            problems[fid] = f"negative value {value} where only counts/amounts ≥ 0 are allowed"
        elif kind is ValueType.DECIMAL and value > MAX_AMOUNT:
            problems[fid] = f"implausibly large amount {value:g} 万元"
        elif kind is not ValueType.DECIMAL and abs(value) > MAX_COUNT.get(definition.section, MAX_COUNT["active"]):
            problems[fid] = f"implausibly large count {value:g}"
    return problems
