"""Sending a field to review, and numbers as reasons print them (shared by the validation steps)."""

from __future__ import annotations

from extractor.datamodel import FieldStatus, FieldValue


def flag(field: FieldValue, reason: str) -> None:
    """Send a field to review with a reason; a reviewed field keeps its status."""
    if field.status in (FieldStatus.AUTO, FieldStatus.DERIVED):
        field.status = FieldStatus.FLAGGED
    field.reasons.append(reason)


def format_number(x: int | float) -> str:
    """A value as a reason shows it: whole numbers without a decimal point."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
