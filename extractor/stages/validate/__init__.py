"""Validate: identities, derived blank totals and review flags for one document.

Until the classifier is calibrated, confidence is the text recognition score times a label
confidence: 1.0 for a row/column label that matched its template label closely (similarity at
least `LABEL_SURE`), the similarity itself below that. The review threshold is an option.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import CheckResult, FieldStatus, FieldValue
from extractor.stages.assemble import FieldReading
from extractor.templates import Template, Violation

# Label similarity from which a matched row or column is taken as certain.
LABEL_SURE = 0.8
_ROW_TOTAL_PREFIX = "apply.row_total."
_APPEAL_TOTAL_PREFIX = "appeal.row_total."


class ValidateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_threshold: float = Field(0.9, description="fields with confidence below this are flagged")


class ValidateStage:
    def __init__(self, options: ValidateOptions | None = None) -> None:
        self.options = options or ValidateOptions()

    def predict(self, template: Template, readings: list[FieldReading]) -> tuple[dict[str, FieldValue], list[CheckResult]]:
        """Field values with statuses, and the identity checks.

        Steps:
            1. One value per field (the best-matched reading when a field was read twice).
            2. A blank printed total whose parts are known and not all zero is derived
               as their sum (status ``derived``), never silently set to 0.
            3. Every identity is checked; fields in a broken identity are flagged.
            4. Low confidence, unreadable text and notes flag a field too.
        """
        fields: dict[str, FieldValue] = {}
        best: dict[str, FieldReading] = {}
        for reading in readings:
            if reading.field_id not in best or reading.match_score > best[reading.field_id].match_score:
                best[reading.field_id] = reading
        for fid, r in best.items():
            label_confidence = 1.0 if r.match_score >= LABEL_SURE else r.match_score
            confidence = round(r.text_score * label_confidence, 4)
            reasons = list(r.notes)
            status = FieldStatus.DERIVED if r.derived else FieldStatus.AUTO
            if r.value is None:
                status = FieldStatus.FLAGGED
                reasons.append("value could not be read")
            elif confidence < self.options.review_threshold:
                status = FieldStatus.FLAGGED
                reasons.append(f"low confidence {confidence:.2f}")
            elif r.notes and not r.derived:
                status = FieldStatus.FLAGGED
            fields[fid] = FieldValue(
                value=r.value,
                raw=r.raw,
                confidence=confidence,
                status=status,
                page=r.page,
                bbox=r.bbox.as_list() if r.bbox else None,
                reasons=reasons,
            )
        self._derive_blank_totals(template, fields)
        checks = self._check(template, fields)
        return fields, checks

    def _derive_blank_totals(self, template: Template, fields: dict[str, FieldValue]) -> None:
        for identity in template.identities:
            if not identity.name.startswith((_ROW_TOTAL_PREFIX, _APPEAL_TOTAL_PREFIX)):
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

    def _check(self, template: Template, fields: dict[str, FieldValue]) -> list[CheckResult]:
        values = {fid: f.value for fid, f in fields.items()}
        checks = []
        for identity in template.identities:
            result = identity.evaluate(values)
            if result is None:
                continue
            ok = result is True
            checks.append(
                CheckResult(
                    identity=identity.name,
                    ok=ok,
                    fields=identity.fields,
                    detail="" if ok else result.detail if isinstance(result, Violation) else "",
                )
            )
            if not ok:
                for fid in identity.fields:
                    field = fields[fid]
                    if field.status in (FieldStatus.AUTO, FieldStatus.DERIVED):
                        field.status = FieldStatus.FLAGGED
                    field.reasons.append(f"in broken identity {identity.name}")
        return checks
