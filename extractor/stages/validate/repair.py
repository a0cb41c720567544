"""Repair suggestions: the one cell whose change would restore the broken identities.

A misread cell (OCR took 9 for 6, dropped a digit) breaks every identity it takes part in: its
row total and its column totals. When exactly one cell, given the value those identities
imply, makes every identity it is in hold again, that value is suggested for review. The
printed value is kept: a suggestion is never applied by the machine.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from extractor.stages.validate.flags import format_number as _fmt
from extractor.templates import Identity, Template, ValueType

_log = logging.getLogger(__name__)

Number = int | float
# Differences below this count as equal (amounts carry float noise).
_EPS = 1e-6


@dataclass(frozen=True)
class Repair:
    """A single-cell explanation of a group of broken identities."""

    field_id: str  # the cell whose printed value would be wrong
    printed: Number  # its value as read
    implied: Number  # the value every identity it is in agrees on
    identities: tuple[str, ...]  # the broken identities this one change restores


def suggest_repairs(template: Template, values: Mapping[str, Number | None]) -> list[Repair]:
    """Suggested values for cells that alone explain a group of broken identities.

    Steps:
        1. Group the broken identities into connected groups (identities sharing a field).
        2. Candidates of a group: the fields that take part in every broken identity of it.
        3. A candidate's implied value solves its first broken identity for it; it must fit
           the field's type (a whole, non-negative count unless the field is signed/decimal).
        4. A candidate is kept when, with the implied value, every identity it is in holds.
        5. A group with exactly one kept candidate yields a :class:`Repair`; with none or
           several, the evidence does not single out a cell and nothing is suggested.

    Args:
        template: the report's template (identities and field types).
        values: field id → value as read; None for unreadable fields.

    Returns:
        One repair per group that has a unique explanation, in identity order.
    """
    broken = [i for i in template.identities if _holds(i, values) is False]
    repairs = []
    for group in _groups(broken):
        candidates = set(group[0].fields).intersection(*(i.fields for i in group[1:]))
        kept = []
        for fid in sorted(candidates):
            implied = _implied(group[0], fid, values)
            if implied is None or not _fits(template, fid, implied):
                continue
            trial = dict(values)
            trial[fid] = implied
            if all(_holds(i, trial) is not False for i in template.identities if fid in i.fields):
                kept.append((fid, implied))
        if len(kept) == 1:
            fid, implied = kept[0]
            repairs.append(Repair(fid, values[fid], implied, tuple(i.name for i in group)))  # type: ignore[arg-type]
    return repairs


def describe_misread(printed: Number, implied: Number) -> str:
    """A short account of how the printed digits differ from the implied ones, for reviewers."""
    a, b = _digits(printed), _digits(implied)
    if len(a) == len(b):
        diff = [(x, y) for x, y in zip(a, b) if x != y]
        if len(diff) == 1:
            return f"one digit differs ({diff[0][0]} printed, {diff[0][1]} implied)"
        if len(diff) == 2 and sorted(a) == sorted(b):
            return "two digits swapped"
    if len(a) + 1 == len(b) and any(b[:k] + b[k + 1 :] == a for k in range(len(b))):
        return "a digit appears dropped"
    if len(a) == len(b) + 1 and any(a[:k] + a[k + 1 :] == b for k in range(len(a))):
        return "a digit appears added"
    return f"differs by {_fmt(implied - printed)}"


def _digits(x: Number) -> str:
    return _fmt(x).lstrip("-")


def _holds(identity: Identity, values: Mapping[str, Number | None]) -> bool | None:
    """True/False, or None when a field the identity needs has no value."""
    result = identity.evaluate(values)
    return None if result is None else result is True


def _implied(identity: Identity, fid: str, values: Mapping[str, Number | None]) -> Number | None:
    lhs = sum(values[f] for f in identity.lhs)  # type: ignore[misc]
    rhs = sum(values[f] for f in identity.rhs)  # type: ignore[misc]
    old = values[fid]
    if old is None:
        return None
    new = old + (rhs - lhs) if fid in identity.lhs else old + (lhs - rhs)
    return int(round(new)) if abs(new - round(new)) < _EPS else new


def _fits(template: Template, fid: str, value: Number) -> bool:
    kind = template.fields[fid].value_type
    if kind is ValueType.DECIMAL:
        return value >= 0
    if not float(value).is_integer():
        return False
    return kind is ValueType.SIGNED_INTEGER or value >= 0


def _groups(identities: list[Identity]) -> list[list[Identity]]:
    """Connected groups of identities, two identities being connected when they share a field."""
    groups: list[list[Identity]] = []
    for identity in identities:
        touching = [g for g in groups if any(set(identity.fields) & set(i.fields) for i in g)]
        merged = [identity]
        for g in touching:
            merged = g + merged
            groups.remove(g)
        groups.append(merged)
    return [sorted(g, key=identities.index) for g in groups]
