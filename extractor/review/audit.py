"""The review history as people read it (per field, per document, per batch) and reviewer statistics."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.storage import BatchDocument, Correction, ReviewDecision, User
from extractor.storage.results import stored_number

_log = logging.getLogger(__name__)

# A gap between two decisions longer than this counts as a break, not as reviewing time.
IDLE_SECONDS = 300
# Time counted for a reviewer's first decision of a stretch (reading the item before it).
FIRST_DECISION_SECONDS = 30


class HistoryEntry(BaseModel):
    """One change to a field or metadata value: who, when, old, new, why."""

    id: int
    decision_id: int | None
    document_id: int
    batch_id: str | None = Field(description="the batch the decision was made in "
                                             "(None: made before reviews belonged to batches)")
    source: str | None
    field_id: str
    kind: str = Field(description="confirm | correct | as_printed | undo")
    old: int | float | str | None
    new: int | float | str | None
    reason: str
    reviewer: str | None
    at: dt.datetime
    undone: bool = Field(description="a later undo took this change back")


class ReviewerStats(BaseModel):
    reviewer: str
    decisions: int  # decisions not undone
    undone: int
    fields_changed: int  # corrections rows (one identity accepted as printed changes several)
    active_hours: float
    items_per_hour: float | None  # None under a minute of activity


def history(session: Session, *, batch_id: str | None = None, document_id: int | None = None,
            field_id: str | None = None, limit: int = 500) -> list[HistoryEntry]:
    """The changes, newest first, of a batch, a document or one field of it (with `batch_id`
    and `document_id`: the document's changes in that batch)."""
    query = (select(Correction, User.email, ReviewDecision.undone_at)
             .outerjoin(User, User.id == Correction.user_id)
             .outerjoin(ReviewDecision, ReviewDecision.id == Correction.decision_id))
    if document_id is not None:
        query = query.where(Correction.document_id == document_id)
    if batch_id is not None:
        # A review belongs to its batch: another batch's decisions on the same file are not this one's history.
        query = query.where(Correction.batch_id == batch_id)
    if field_id is not None:
        query = query.where(Correction.field_id == field_id)
    rows = session.execute(query.order_by(Correction.id.desc()).limit(limit)).all()
    names = select(BatchDocument.document_id, BatchDocument.source).where(
        BatchDocument.document_id.in_({c.document_id for c, _, _ in rows}))
    if batch_id is not None:
        names = names.where(BatchDocument.batch_id == batch_id)  # its name in that batch
    sources = dict(session.execute(names.order_by(BatchDocument.id.desc())).all())
    return [HistoryEntry(
        id=c.id, decision_id=c.decision_id, document_id=c.document_id, batch_id=c.batch_id,
        source=sources.get(c.document_id),
        field_id=c.field_id, kind=c.kind, reason=c.note or "", reviewer=email, at=c.created_at,
        old=c.old_text if c.old_text is not None else stored_number(c.old_value),
        new=c.new_text if c.new_text is not None else stored_number(c.new_value),
        undone=undone_at is not None and c.kind != "undo",
    ) for c, email, undone_at in rows]


def reviewer_stats(session: Session, batch_id: str) -> list[ReviewerStats]:
    """Per reviewer of the batch: decisions, and items per hour of active time.

    Active time adds the gaps between one reviewer's consecutive decisions, a gap over
    :data:`IDLE_SECONDS` counting as a break (not counted), plus :data:`FIRST_DECISION_SECONDS`
    for the first decision after each break.
    """
    decisions = session.execute(
        select(ReviewDecision, User.email).join(User, User.id == ReviewDecision.user_id)
        .where(ReviewDecision.batch_id == batch_id).order_by(ReviewDecision.user_id, ReviewDecision.created_at)
    ).all()
    changes: dict[int, int] = {}
    for (uid,) in session.execute(select(Correction.user_id).join(ReviewDecision, ReviewDecision.id == Correction.decision_id)
                                  .where(ReviewDecision.batch_id == batch_id, Correction.kind != "undo")):
        changes[uid] = changes.get(uid, 0) + 1
    per_user: dict[str, list] = {}
    for decision, email in decisions:
        per_user.setdefault(email, []).append(decision)
    out = []
    for email, rows in per_user.items():
        seconds, last = 0.0, None
        for d in rows:
            gap = (d.created_at - last).total_seconds() if last is not None else None
            seconds += gap if gap is not None and gap <= IDLE_SECONDS else FIRST_DECISION_SECONDS
            last = d.created_at
        kept = [d for d in rows if d.undone_at is None]
        hours = seconds / 3600
        out.append(ReviewerStats(reviewer=email, decisions=len(kept), undone=len(rows) - len(kept),
                                 fields_changed=changes.get(rows[0].user_id, 0), active_hours=round(hours, 3),
                                 items_per_hour=round(len(kept) / hours, 1) if seconds >= 60 else None))
    return sorted(out, key=lambda s: s.reviewer)
