"""Compare one predicted field, and one document, with the truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from extractor.datamodel import DocumentResult, FieldStatus
from extractor.evaluation.report import FieldTally
from extractor.templates import Template, ValueType, get_template

_log = logging.getLogger(__name__)

# Absolute tolerance for every number (counts are integers; decimals may carry float noise).
ABS_TOLERANCE = 1e-6
# Relative tolerance for 万元 amounts, which reports round to different decimals.
AMOUNT_REL_TOLERANCE = 1e-4


@dataclass(frozen=True)
class FieldOutcome:
    field_id: str
    section: str  # prefix of the field id: active | apply | appeal
    truth: float | None  # None: the cell is not printed on the report
    predicted: bool  # the prediction has an entry for the field
    value: float | None  # predicted value; None when absent or unreadable
    flagged: bool  # predicted with status "flagged"
    correct: bool


def values_match(truth: float | None, value: float | None, amount: bool) -> bool:
    """Whether a predicted value equals the truth.

    Args:
        truth: the true value; None means "not printed", where only None is right.
        value: the predicted value, None when absent.
        amount: the field is a 万元 amount, compared with a relative tolerance.
    """
    if truth is None or value is None:
        return truth is None and value is None
    tolerance = max(ABS_TOLERANCE, AMOUNT_REL_TOLERANCE * abs(truth)) if amount else ABS_TOLERANCE
    return abs(float(value) - float(truth)) <= tolerance


def truth_values(truth: dict[str, Any]) -> dict[str, float | None]:
    """Field id → true value from a leniently read truth file.

    An entry may be ``{"value": ...}`` (the generator's format) or a bare number.

    Raises:
        ValueError: when "fields" is missing or an entry is neither.
    """
    fields = truth.get("fields")
    if not isinstance(fields, dict):
        raise ValueError("no 'fields' object")
    out: dict[str, float | None] = {}
    for field_id, entry in fields.items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"field {field_id}: value {value!r} is not a number")
        out[field_id] = value
    return out


def compare_fields(truth: dict[str, float | None], prediction: DocumentResult | None,
                   template_id: str | None) -> list[FieldOutcome]:
    """One outcome per truth field; a missing prediction leaves every field absent."""
    template = _template(template_id)
    predicted = prediction.fields if prediction is not None else {}
    outcomes = []
    for field_id, true_value in truth.items():
        entry = predicted.get(field_id)
        value = entry.value if entry is not None else None
        outcomes.append(
            FieldOutcome(
                field_id=field_id,
                section=field_id.split(".", 1)[0],
                truth=true_value,
                predicted=entry is not None,
                value=value,
                flagged=entry is not None and entry.status is FieldStatus.FLAGGED,
                correct=values_match(true_value, value, _is_amount(field_id, template)),
            )
        )
    return outcomes


def tally(outcome: FieldOutcome, into: FieldTally) -> None:
    """Add one field outcome to a tally."""
    into.fields += 1
    into.correct += outcome.correct
    if outcome.truth is not None:
        into.with_value += 1
        into.missing += outcome.value is None
    if outcome.predicted:
        into.predicted += 1
        into.wrong_predicted += not outcome.correct
        into.flagged += outcome.flagged
        into.flagged_wrong += outcome.flagged and not outcome.correct
        # A None value is visible in the dataset as a gap (counted as missing), not silent.
        into.silent_errors += not outcome.correct and not outcome.flagged and outcome.value is not None


def _template(template_id: str | None) -> Template | None:
    if template_id is None:
        return None
    try:
        return get_template(template_id)
    except KeyError:
        _log.warning("truth names unknown template %r; amounts found by column name", template_id)
        return None


def _is_amount(field_id: str, template: Template | None) -> bool:
    if template is not None and field_id in template.fields:
        return template.fields[field_id].value_type is ValueType.DECIMAL
    return field_id.endswith(".amount")
