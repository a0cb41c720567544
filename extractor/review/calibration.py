"""Choosing the review threshold: the trade-off between fields sent to review and wrong fields caught.

For every field of every predicted document that has a truth file, we know whether its value
is wrong and what would send it to review at a given confidence threshold ``t``:

- the reasons that do not depend on ``t`` (broken identity, prose disagreement, range problem,
  unreadable value, reader notes) and derived (inferred) values, which are queued too;
- its confidence below ``t`` (unless the prose confirmed the reading).

Scanned value cells read jointly with the identities are flagged by their margin instead
(`ValidateOptions.decision_margin`): ``calibrate(..., by="margin")`` gives the same curve over
margins, the other fields flagged as they were.

A field that the truth has but the prediction lacks (its table was not found) is wrong and
not flagged at any threshold: it is counted as missed and reported apart.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from extractor.datamodel import DocumentResult, FieldStatus
from extractor.evaluation.compare import truth_values, values_match
from extractor.stages.validate import HOW_READ, LOW_CONFIDENCE, PROSE_CONFIRMED, ValidateOptions
from extractor.stages.validate.joint import IDENTITY_CHOSEN, LOW_MARGIN
from extractor.templates import ValueType, get_template

_log = logging.getLogger(__name__)

# Thresholds tried by default: fine steps where recognition scores crowd (0.8-1.0).
DEFAULT_THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99,
                      0.995, 1.0, 1.01)
# Margins tried by default (nats).
DEFAULT_MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 6.01)
# Notes that go with a flag without being a reason for it, or reasons that the threshold decides.
_NOT_FIXED_REASONS = (LOW_CONFIDENCE, LOW_MARGIN, HOW_READ, IDENTITY_CHOSEN)


@dataclass(frozen=True)
class Observation:
    """One field of one document, seen against the truth."""

    document: str
    field_id: str
    wrong: bool  # the predicted value differs from the truth (or is missing)
    missing: bool  # the prediction has no entry for the field at all
    confidence: float | None
    flagged_anyway: bool  # sent to review whatever the threshold (or derived)
    confirmed: bool  # the prose restated the reading: confidence does not flag it
    margin: float | None = None  # scanned value cells: the joint decoding's margin (nats)


class CurvePoint(BaseModel):
    threshold: float
    flag_rate: float  # share of predicted fields sent to review
    recall: float  # share of wrong fields sent to review (fields missing from the prediction included)
    recall_located: float  # share of wrong fields the prediction has, sent to review
    flagged: int
    wrong_missed: int


class Calibration(BaseModel):
    documents: int
    fields: int
    wrong: int
    missing: int
    curve: list[CurvePoint]
    chosen: CurvePoint | None  # the lowest threshold whose located recall reaches the target, if any
    recall_target: float
    flag_budget: float

    def describe(self) -> str:
        lines = [
            f"{self.documents} documents, {self.fields} fields, {self.wrong} wrong "
            f"({self.missing} of them missing from the prediction)",
            f"{'threshold':>9}  {'flag rate':>9}  {'recall':>7}  {'located':>7}  {'flagged':>7}  {'missed':>6}",
        ]
        for p in self.curve:
            mark = "  <- chosen" if self.chosen is not None and p.threshold == self.chosen.threshold else ""
            lines.append(f"{p.threshold:>9.3f}  {p.flag_rate:>9.2%}  {p.recall:>7.2%}  {p.recall_located:>7.2%}  "
                         f"{p.flagged:>7}  "
                         f"{p.wrong_missed:>6}{mark}")
        if self.chosen is None:
            lines.append(f"no threshold reaches {self.recall_target:.0%} recall of wrong located fields")
        else:
            within = "within" if self.chosen.flag_rate <= self.flag_budget else "OVER"
            lines.append(f"chosen {self.chosen.threshold:g}: recall {self.chosen.recall:.2%} "
                         f"(located {self.chosen.recall_located:.2%}), flag rate "
                         f"{self.chosen.flag_rate:.2%} ({within} the {self.flag_budget:.0%} budget)")
        return "\n".join(lines)


def observe(truth_dir: Path, pred_dir: Path) -> tuple[int, list[Observation]]:
    """Observations of every predicted document with a ``<id>.truth.json`` in `truth_dir`.

    Returns:
        (documents compared, observations).
    """
    observations: list[Observation] = []
    documents = 0
    for pred_path in sorted(pred_dir.glob("*.json")):
        truth_path = truth_dir / f"{pred_path.stem}.truth.json"
        if not truth_path.exists():
            continue
        result = DocumentResult.model_validate_json(pred_path.read_text(encoding="utf-8"))
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        template = get_template(truth["template"])
        documents += 1
        for fid, true_value in truth_values(truth).items():
            if true_value is None:
                continue
            field = result.fields.get(fid)
            definition = template.fields.get(fid)
            amount = definition is not None and definition.value_type is ValueType.DECIMAL
            if field is None:
                observations.append(Observation(pred_path.stem, fid, True, True, None, False, False))
                continue
            reasons = field.reasons
            anyway = field.status is FieldStatus.DERIVED or (
                field.status is FieldStatus.FLAGGED and not all(r.startswith(_NOT_FIXED_REASONS) for r in reasons)
            )
            observations.append(Observation(
                document=pred_path.stem, field_id=fid, wrong=not values_match(true_value, field.value, amount),
                missing=False, confidence=field.confidence, flagged_anyway=anyway,
                confirmed=PROSE_CONFIRMED in reasons, margin=field.margin,
            ))
    return documents, observations


def is_flagged(o: Observation, threshold: float, by: str = "confidence") -> bool:
    """Whether `o` goes to review at `threshold`: a confidence, or with ``by="margin"`` a margin
    (fields without one are then flagged at the default review threshold)."""
    if o.missing:
        return False
    if o.flagged_anyway:
        return True
    if by == "margin":
        if o.margin is not None:
            return o.margin < threshold
        threshold = ValidateOptions().review_threshold
    return not o.confirmed and (o.confidence is None or o.confidence < threshold)


def curve(observations: list[Observation], thresholds=DEFAULT_THRESHOLDS, by: str = "confidence") -> list[CurvePoint]:
    present = [o for o in observations if not o.missing]
    wrong = [o for o in observations if o.wrong]
    located = [o for o in wrong if not o.missing]
    points = []
    for t in thresholds:
        flagged = sum(is_flagged(o, t, by) for o in present)
        caught = sum(is_flagged(o, t, by) for o in wrong)
        points.append(CurvePoint(
            threshold=t, flag_rate=flagged / len(present) if present else 0.0,
            recall=caught / len(wrong) if wrong else 1.0,
            recall_located=caught / len(located) if located else 1.0,
            flagged=flagged, wrong_missed=len(wrong) - caught,
        ))
    return points


def calibrate(truth_dir: Path, pred_dir: Path, thresholds=None, recall_target: float = 0.99,
              flag_budget: float = 0.05, by: str = "confidence") -> Calibration:
    """The trade-off curve and the lowest threshold whose recall of wrong fields meets the target.

    Args:
        by: ``confidence`` (the review threshold) or ``margin`` (the decision margin of scanned
            value cells).
    """
    documents, observations = observe(truth_dir, pred_dir)
    thresholds = thresholds or (DEFAULT_MARGINS if by == "margin" else DEFAULT_THRESHOLDS)
    points = curve(observations, sorted(thresholds), by)
    # Fields missing from the prediction cannot be flagged by any threshold (their table was not
    # found; the document carries an error instead), so the target applies to located fields.
    chosen = next((p for p in points if p.recall_located >= recall_target), None)
    return Calibration(
        documents=documents, fields=sum(not o.missing for o in observations),
        wrong=sum(o.wrong for o in observations), missing=sum(o.missing for o in observations),
        curve=points, chosen=chosen, recall_target=recall_target, flag_budget=flag_budget,
    )
