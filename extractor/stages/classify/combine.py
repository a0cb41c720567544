"""Merge the rule-based matcher's readings with the classifier's, one reading per field."""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import Enum

from extractor.stages.assemble.readings import MATCHER_DISAGREES, FieldReading

_log = logging.getLogger(__name__)

# Two readings whose cell boxes overlap this much (IoU) come from the same printed cell.
_SAME_CELL_IOU = 0.5


class CombineMode(str, Enum):
    """Which reading of a field wins."""

    RULES = "rules"  # the rule-based matcher alone (the baseline)
    CLASSIFIER = "classifier"  # the classifier alone
    CLASSIFIER_FIRST = "classifier_first"  # the classifier's reading; the matcher's where it has none
    RULES_FIRST = "rules_first"  # the matcher's reading; the classifier's where it has none


def combine(
    rules: list[FieldReading], classified: list[FieldReading], mode: CombineMode = CombineMode.CLASSIFIER_FIRST
) -> list[FieldReading]:
    """One reading per field from the two sources.

    When both sources read a field from the same cell, the reading keeps the higher match
    score. When they read different cells, the preferred source wins and the reading gets a
    note naming the other cell, which sends the field to review.

    Args:
        rules: readings of the rule-based matcher (``AssembleStage``); a field may repeat.
        classified: readings of :func:`extractor.stages.classify.read_fields`.
        mode: which source is preferred.

    Returns:
        The readings, at most one per field.
    """
    mode = CombineMode(mode)
    first, second = (_by_field(classified), _by_field(rules))
    if mode in (CombineMode.RULES, CombineMode.RULES_FIRST):
        first, second = second, first
    if mode in (CombineMode.RULES, CombineMode.CLASSIFIER):
        return list(first.values())
    out = dict(second)
    for fid, reading in first.items():
        other = second.get(fid)
        if other is None:
            out[fid] = reading
        elif _same_cell(reading, other):
            out[fid] = replace(reading, match_score=max(reading.match_score, other.match_score))
        else:
            note = f"{MATCHER_DISAGREES}: other reading {other.raw!r} on page {_page(other)}"
            out[fid] = replace(reading, notes=[*reading.notes, note])
    _log.debug("combined %d rule and %d classifier readings (%s)", len(rules), len(classified), mode.value)
    return list(out.values())


def _by_field(readings: list[FieldReading]) -> dict[str, FieldReading]:
    best: dict[str, FieldReading] = {}
    for r in readings:
        if r.field_id not in best or r.match_score > best[r.field_id].match_score:
            best[r.field_id] = r
    return best


def _same_cell(a: FieldReading, b: FieldReading) -> bool:
    if a.page != b.page or a.bbox is None or b.bbox is None:
        return a.raw == b.raw and a.page == b.page
    return a.bbox.iou(b.bbox) >= _SAME_CELL_IOU


def _page(r: FieldReading) -> str:
    return str(r.page + 1) if r.page is not None else "?"
