"""The prose cross-check, run again after a review changed a value.

The validate stage compares the numbers a report's prose states (全年共办理行政许可事项 333 件)
with the table and records one ``narrative.<field id>`` check per statement. The statements are
kept with the stored document (``documents.prose_claims``), so after a decision the same check
(:func:`extractor.stages.validate.check_prose`) runs on the values as they stand: a correction
that makes the table agree with the prose clears the disagreement, one that contradicts the
prose raises it.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractor.datamodel import FieldStatus
from extractor.stages.validate import NARRATIVE_PREFIX, check_prose
from extractor.storage import CheckRow, Correction, Document, FieldRow
from extractor.storage.results import field_value, stored_claims
from extractor.templates import Template

_log = logging.getLogger(__name__)

# Reason appended to a field whose prose disagreement a review resolved.
PROSE_AGREES = "prose agrees after review"


def recheck_prose(session: Session, document: Document, template: Template, rows: dict[str, FieldRow],
                  batch_id: str) -> None:
    """Rebuild the prose checks of batch `batch_id`'s copy on its current values and flag what they contradict.

    Steps:
        1. The kept claims are checked against the current values; the ``narrative.*`` check
           rows are replaced by the outcome.
        2. A field that is not reviewed takes the stage's verdict (a disagreement flags it).
        3. A reviewed field whose last decision typed a value the prose contradicts goes back
           to review with the prose's number in its reasons (a typo is the likely cause); a
           confirmation stands, as the reviewer saw the disagreement.
        4. A field whose disagreement is gone gets a note saying so.

    Does nothing for a document stored before claims were kept (``prose_claims`` is None):
    its prose checks stay as the pipeline left them. Does not commit.
    """
    claims = stored_claims(document)
    if claims is None:
        return
    narrative = CheckRow.identity.like(f"{NARRATIVE_PREFIX}%") & (CheckRow.batch_id == batch_id)
    was_broken = {
        fid
        for check in session.scalars(select(CheckRow).where(CheckRow.document_id == document.id, narrative))
        if not check.ok
        for fid in check.fields
    }
    fields = {fid: field_value(row) for fid, row in rows.items()}
    checks = check_prose(template, fields, claims)
    session.execute(delete(CheckRow).where(CheckRow.document_id == document.id, narrative))
    for check in checks:
        session.add(CheckRow(document_id=document.id, batch_id=batch_id, identity=check.identity, ok=check.ok,
                             fields=list(check.fields), detail=check.detail))
    broken = {fid for check in checks if not check.ok for fid in check.fields}
    for fid in {fid for check in checks for fid in check.fields}:
        row, field = rows[fid], fields[fid]
        reasons = list(row.reasons or [])
        reasons += [r for r in field.reasons if r not in reasons]
        if fid not in broken and fid in was_broken:
            reasons.append(PROSE_AGREES)
        row.reasons = reasons
        if row.status != FieldStatus.REVIEWED.value:
            row.status = field.status.value
        elif fid in broken and _last_decision(session, document.id, fid, batch_id) == "correct":
            row.status = FieldStatus.FLAGGED.value


def _last_decision(session: Session, document_id: int, field_id: str, batch_id: str) -> str | None:
    """Kind of the latest review decision on a field in a batch (confirm | correct); None without one."""
    return session.scalar(
        select(Correction.kind)
        .where(Correction.document_id == document_id, Correction.field_id == field_id,
               Correction.batch_id == batch_id)
        .order_by(Correction.id.desc())
        .limit(1)
    )
