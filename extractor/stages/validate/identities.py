"""Accounting identities over field values: derived blank totals and the identity checks."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from extractor.datamodel import CheckResult, FieldStatus, FieldValue
from extractor.templates import Template, Violation

_log = logging.getLogger(__name__)

# Identity name prefixes whose left side is one printed 总计 cell that may be left blank.
TOTAL_PREFIXES = ("apply.row_total.", "appeal.row_total.")

Number = int | float


def derive_blank_totals(template: Template, fields: dict[str, FieldValue]) -> None:
    """Fill a blank printed 总计 whose parts are all known and not all zero with their sum.

    The total gets status ``derived`` and a reason; a blank total over zero parts stays 0 as
    read (a blank cell means zero in these reports). Changes `fields` in place.
    """
    for identity in template.identities:
        if not identity.name.startswith(TOTAL_PREFIXES):
            continue
        (total_id,) = identity.lhs
        total = fields.get(total_id)
        parts = [fields.get(f) for f in identity.rhs]
        if total is None or total.raw != "" or any(p is None or p.value is None for p in parts):
            continue
        part_sum = sum(p.value for p in parts)  # type: ignore[misc]
        if part_sum != 0:
            total.value = part_sum
            total.status = FieldStatus.DERIVED
            total.reasons.append(f"总计 printed blank; derived as the sum of its row ({part_sum})")


def check_identities(template: Template, values: Mapping[str, Number | None]) -> list[CheckResult]:
    """One result per identity that can be checked (every field it needs has a value)."""
    checks = []
    for identity in template.identities:
        result = identity.evaluate(values)
        if result is None:
            continue
        checks.append(
            CheckResult(
                identity=identity.name,
                ok=result is True,
                fields=identity.fields,
                detail=result.detail if isinstance(result, Violation) else "",
            )
        )
    return checks


def field_values(fields: Mapping[str, FieldValue]) -> dict[str, Number | None]:
    return {fid: f.value for fid, f in fields.items()}
