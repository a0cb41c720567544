"""The review queue in the database: items per doubtful field, ordered by batch and priority,
handed out under a per-document lease so two reviewers never work on one document at once.

Items are built lazily from the stored fields: a document whose result changed since the batch's
items were built (``batch_documents.review_hash != documents.finish_hash``) is synced when that
batch's queue is read, so the workers need not know about review at all. Items, decisions and
the reviewed values belong to one batch (``storage.review_view``): a document held by two
batches is reviewed in each on its own.
"""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from extractor.datamodel import FieldStatus
from extractor.stages.validate import BROKEN_IDENTITY
from extractor.storage import (
    Batch,
    BatchDocument,
    Document,
    DocumentState,
    FieldRow,
    ReviewItem,
    ReviewLease,
    ReviewState,
    User,
)
from extractor.storage.review_view import view_fields
from extractor.review.accounts import visible_batches

_log = logging.getLogger(__name__)

# Candidate documents tried per request before giving up (all others leased).
_MAX_TRIES = 200


def priority(row: FieldRow) -> int | None:
    """Queue priority of a field, lower first; None when it needs no review.

    0: a suggested repair or an unreadable value (the cell is most likely wrong);
    1: the prose states another number; 2: in a broken identity; 3: low confidence and other
    notes; 4: a derived (inferred) value.
    """
    if row.status == FieldStatus.DERIVED.value:
        return 4
    if row.status != FieldStatus.FLAGGED.value:
        return None
    reasons = row.reasons or []
    if row.suggestion is not None or row.value is None:
        return 0
    if any(r.startswith("prose states") for r in reasons):
        return 1
    if any(r.startswith(BROKEN_IDENTITY) for r in reasons):
        return 2
    return 3


def sync_document(session: Session, document: Document, batch_id: str) -> None:
    """Bring a document's items in batch `batch_id` in line with the fields that batch sees (does not commit).

    A field that needs review gets a pending item (a closed one is reopened when a new result
    flagged the field again); a pending item whose field no longer needs review is resolved.
    Each batch holding the document has items of its own: a decision in one leaves the others'
    queues, fields and exports as they were.
    """
    items = {i.field_id: i for i in session.scalars(
        select(ReviewItem).where(ReviewItem.document_id == document.id, ReviewItem.batch_id == batch_id))}
    now = dt.datetime.now(dt.UTC)
    for row in view_fields(session, document.id, batch_id):
        rank = priority(row)
        item = items.get(row.field_id)
        if rank is None:
            if item is not None and item.state == ReviewState.PENDING.value:
                item.state, item.closed_at = ReviewState.RESOLVED.value, now
        elif item is None:
            session.add(ReviewItem(document_id=document.id, field_id=row.field_id, batch_id=batch_id, priority=rank))
        else:
            item.priority = rank
            if item.state != ReviewState.PENDING.value and row.status != FieldStatus.REVIEWED.value:
                item.state, item.closed_at, item.closed_by = ReviewState.PENDING.value, None, None
    session.execute(update(BatchDocument).where(BatchDocument.batch_id == batch_id,
                                                BatchDocument.document_id == document.id)
                    .values(review_hash=document.finish_hash))
    session.flush()


def refresh_queue(session: Session, batch_id: str) -> int:
    """Sync every finished document of a batch whose result changed; returns how many were synced."""
    stale = session.scalars(
        select(Document)
        .join(BatchDocument, BatchDocument.document_id == Document.id)
        .where(
            BatchDocument.batch_id == batch_id,
            Document.state == DocumentState.DONE.value,
            (BatchDocument.review_hash.is_(None)) | (BatchDocument.review_hash != Document.finish_hash),
        )
        .distinct()
    ).all()
    for document in stale:
        sync_document(session, document, batch_id)
    return len(stale)


def may_review(session: Session, user: User, batch_id: str) -> bool:
    batches = visible_batches(session, user)
    return batches is None or batch_id in batches


def acquire_lease(session: Session, document_id: int, user: User, seconds: int) -> bool:
    """Hold `document_id` for `user` for `seconds` (renewing a lease it holds).

    One atomic INSERT … ON CONFLICT DO UPDATE … WHERE: it takes the row when there is none, when
    the user holds it already, or when the holder's lease has expired, so two reviewers racing
    for a document cannot both win. Other leases of the user are released (one document at a time).

    Returns:
        False when someone else holds a live lease on the document.
    """
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ReviewLease).values(document_id=document_id, user_id=user.id, acquired_at=now, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=["document_id"],
        set_={"user_id": user.id, "acquired_at": now, "expires_at": expires},
        where=(ReviewLease.user_id == user.id) | (ReviewLease.expires_at < now),
    ).returning(ReviewLease.document_id)
    # RETURNING yields the row only when it was inserted or updated (rowcount is not reliable
    # for ORM-enabled upserts across drivers).
    won = session.execute(stmt).scalar() is not None
    if won:
        session.execute(delete(ReviewLease).where(ReviewLease.user_id == user.id, ReviewLease.document_id != document_id))
    return won


def holds_lease(session: Session, document_id: int, user: User) -> bool:
    lease = session.get(ReviewLease, document_id, populate_existing=True)
    return lease is not None and lease.user_id == user.id and _aware(lease.expires_at) > dt.datetime.now(dt.UTC)


def release_leases(session: Session, user: User) -> None:
    session.execute(delete(ReviewLease).where(ReviewLease.user_id == user.id))


def next_item(session: Session, user: User, batch_id: str, lease_seconds: int,
              after: ReviewItem | None = None) -> ReviewItem | None:
    """The next pending item of a batch for `user`, its document leased to them.

    Order: the rest of the document the user is on (by priority), then the batch's items by
    priority, document and id; documents leased by others are passed over. With `after` (the
    user skipped an item) the order continues past that item and wraps around.

    Raises:
        PermissionError: the user may not review this batch.
    """
    if not may_review(session, user, batch_id):
        raise PermissionError(f"batch {batch_id} is not assigned to {user.email}")
    refresh_queue(session, batch_id)
    pending = (
        select(ReviewItem)
        .where(ReviewItem.batch_id == batch_id, ReviewItem.state == ReviewState.PENDING.value)
        .order_by(ReviewItem.priority, ReviewItem.document_id, ReviewItem.id)
    )
    current = after.document_id if after is not None else _leased_document(session, user)
    order: list[ReviewItem] = []
    if current is not None:
        same = list(session.scalars(pending.where(ReviewItem.document_id == current)))
        if after is not None:
            key = (after.priority, after.id)
            same = [i for i in same if (i.priority, i.id) > key] + [i for i in same if (i.priority, i.id) < key]
        order += same
    rest = [i for i in session.scalars(pending.limit(5000)) if i.document_id != current]
    order += rest
    if after is not None and not order:
        return None
    tried: set[int] = set()
    for item in order:
        if item.document_id in tried:
            continue
        if len(tried) >= _MAX_TRIES:
            break
        tried.add(item.document_id)
        if acquire_lease(session, item.document_id, user, lease_seconds):
            return item
    return None


class BatchQueueProgress(BaseModel):
    """Review progress of one batch."""

    batch_id: str
    name: str
    pending: int
    done: int
    resolved: int
    total: int
    documents_pending: int


def queue_progress(session: Session, batch_id: str) -> BatchQueueProgress | None:
    """Item counts of a batch's queue by state (after syncing it)."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        return None
    refresh_queue(session, batch_id)
    counts = dict(
        session.execute(
            select(ReviewItem.state, func.count()).where(ReviewItem.batch_id == batch_id).group_by(ReviewItem.state)
        ).all()
    )
    docs = session.scalar(
        select(func.count(func.distinct(ReviewItem.document_id))).where(
            ReviewItem.batch_id == batch_id, ReviewItem.state == ReviewState.PENDING.value
        )
    )
    pending = counts.get(ReviewState.PENDING.value, 0)
    done = counts.get(ReviewState.DONE.value, 0)
    resolved = counts.get(ReviewState.RESOLVED.value, 0)
    return BatchQueueProgress(batch_id=batch_id, name=batch.name, pending=pending, done=done, resolved=resolved,
                              total=pending + done + resolved, documents_pending=docs or 0)


def _leased_document(session: Session, user: User) -> int | None:
    lease = session.scalar(select(ReviewLease).where(ReviewLease.user_id == user.id))
    if lease is None or _aware(lease.expires_at) <= dt.datetime.now(dt.UTC):
        return None
    return lease.document_id


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for timezone columns; they are UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
