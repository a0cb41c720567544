"""Reviewer decisions: store each one (never overwriting history) and re-validate the document."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractor.datamodel import FieldStatus
from extractor.stages.validate import BROKEN_IDENTITY, NARRATIVE_PREFIX, check_identities
from extractor.stages.validate.repair import suggest_repairs
from extractor.storage import CheckRow, Correction, Document, FieldRow, ReviewItem, ReviewState, User
from extractor.storage.review_view import copy_for_batch
from extractor.templates import get_template
from extractor.review.prose import recheck_prose
from extractor.review.queue import holds_lease, sync_document

_log = logging.getLogger(__name__)

# Reason appended to a field whose broken identities all hold again after a review.
RESTORED = "identities hold after review"


class LeaseLost(Exception):
    """The reviewer's lease on the document expired and someone else took it."""


def decide(session: Session, user: User, item: ReviewItem, value: float | None, reason: str = "") -> Correction:
    """Confirm (``value`` None) or correct a field, record the decision and re-validate (does not commit).

    Raises:
        LeaseLost: the user does not hold the document's lease.
        ValueError: `value` does not fit the field's type or plausible range (the message says which).
    """
    if not holds_lease(session, item.document_id, user):
        raise LeaseLost(f"document {item.document_id} is not leased to {user.email}")
    document = session.get(Document, item.document_id)
    # The decision changes the item's batch's copy only (made on its first decision).
    copy_for_batch(session, item.document_id, item.batch_id)
    row = session.scalar(
        select(FieldRow).where(FieldRow.document_id == item.document_id, FieldRow.batch_id == item.batch_id,
                               FieldRow.field_id == item.field_id)
    )
    if document is None or row is None:
        raise ValueError(f"no field {item.field_id} on document {item.document_id}")
    if value is not None:
        _check_type(document.template, item.field_id, value)
    new = row.value if value is None else float(value)
    kind = "confirm" if value is None or row.value == new else "correct"
    now = dt.datetime.now(dt.UTC)
    correction = Correction(
        document_id=document.id, batch_id=item.batch_id, field_id=row.field_id, old_value=row.value, new_value=new, user_id=user.id,
        note=reason or "; ".join(row.reasons or []), created_at=now, kind=kind, old_status=row.status,
        raw=row.raw, page=row.page, bbox=row.bbox,
    )
    session.add(correction)
    row.value = new
    row.status = FieldStatus.REVIEWED.value
    row.reasons = [*(row.reasons or []), f"{kind}ed by {user.email}"]
    item.state, item.closed_at, item.closed_by = ReviewState.DONE.value, now, user.id
    session.flush()
    revalidate(session, document, item.batch_id)
    return correction


def revalidate(session: Session, document: Document, batch_id: str) -> None:
    """Re-check the identities and the prose of a document on batch `batch_id`'s values (does not commit).

    Works on the batch's copy (``storage.review_view``), made here when the batch has none yet.

    Steps:
        1. Identity check rows are rebuilt.
        2. A field flagged only for broken identities that all hold now goes back to ``auto``.
        3. Fields of an identity that is broken now are flagged.
        4. The prose checks run again on the kept claims (:func:`recheck_prose`).
        5. Suggestions are recomputed.
        6. The document's review items follow its fields (new flags queue, cleared ones resolve).
    """
    if document.template is None:
        return
    template = get_template(document.template)
    copy_for_batch(session, document.id, batch_id)
    rows = {r.field_id: r for r in session.scalars(
        select(FieldRow).where(FieldRow.document_id == document.id, FieldRow.batch_id == batch_id))}
    values = {fid: r.value for fid, r in rows.items()}
    checks = check_identities(template, values)
    session.execute(
        delete(CheckRow).where(CheckRow.document_id == document.id, CheckRow.batch_id == batch_id,
                               CheckRow.identity.not_like(f"{NARRATIVE_PREFIX}%"))
    )
    for check in checks:
        session.add(CheckRow(document_id=document.id, batch_id=batch_id, identity=check.identity, ok=check.ok,
                             fields=list(check.fields), detail=check.detail))
    broken = {c.identity: c for c in checks if not c.ok}
    for row in rows.values():
        if row.status != FieldStatus.FLAGGED.value:
            continue
        reasons = row.reasons or []
        named = [r[len(BROKEN_IDENTITY) + 1 :].split(" ")[0] for r in reasons if r.startswith(BROKEN_IDENTITY)]
        if named and len(named) == len(reasons) and not any(n in broken for n in named):
            row.status = FieldStatus.AUTO.value
            row.reasons = [*reasons, RESTORED]
    for check in broken.values():
        for fid in check.fields:
            row = rows[fid]
            note = f"{BROKEN_IDENTITY} {check.identity}"
            if row.status == FieldStatus.REVIEWED.value or note in (row.reasons or []):
                continue
            if row.status in (FieldStatus.AUTO.value, FieldStatus.DERIVED.value):
                row.status = FieldStatus.FLAGGED.value
            row.reasons = [*(row.reasons or []), note]
    recheck_prose(session, document, template, rows, batch_id)
    suggestions = {r.field_id: r.implied for r in suggest_repairs(template, values)}
    for fid, row in rows.items():
        if row.status != FieldStatus.REVIEWED.value:
            row.suggestion = float(suggestions[fid]) if fid in suggestions else None
    session.flush()
    sync_document(session, document, batch_id)


def _check_type(template_id: str | None, field_id: str, value: float) -> None:
    """Refuse a typed value outside the field's type or plausible range (the contract's value_ranges)."""
    if template_id is None:
        return
    definition = get_template(template_id).fields.get(field_id)
    if definition is None:
        return
    problem = definition.value_problem(value)
    if problem is not None:
        raise ValueError(f"{field_id}: {problem}")
