"""The review queue in the database: items per doubtful field, per broken identity and per
doubtful metadata value, ordered by batch and priority, handed out under a lease per item group
(a section of a document, or its metadata) so two reviewers never work on one group at once
while a second reviewer can take another section of the same document.

Items are built lazily from the stored fields: a document whose result changed since the batch's
items were built (``batch_documents.review_hash != documents.finish_hash``) is synced when that
batch's queue is read, so the workers need not know about review at all. Items, decisions,
identity acceptances and the reviewed values belong to one batch (``storage.review_view``): a
document held by two batches is reviewed in each on its own.

A field flagged only because an identity it is in does not hold gets no item of its own: the
identity gets one (``identity:<name>``), where the reviewer sees the whole row or column and
decides once — fix one cell, or accept the identity as printed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from extractor.datamodel import FieldStatus
from extractor.stages.validate import BROKEN_IDENTITY, HOW_READ, NARRATIVE_PREFIX
from extractor.storage import (
    Batch,
    BatchDocument,
    Document,
    DocumentState,
    FieldRow,
    IdentityAcceptance,
    ItemKind,
    ReviewItem,
    ReviewLease,
    ReviewState,
    User,
)
from extractor.storage.review_view import view_checks, view_fields, view_meta
from extractor.review.accounts import visible_batches
from extractor.review.meta import META_KEYS, SURE, check_meta

_log = logging.getLogger(__name__)

# Candidate item groups tried per request before giving up (all others leased).
_MAX_TRIES = 200
# Item keys of identity and metadata items (field ids never start so).
IDENTITY_PREFIX = "identity:"
META_PREFIX = "meta."
# Lease group of metadata items.
META_GROUP = "meta"
# Queue priorities of metadata and identity items (see priority()).
META_PRIORITY = 1
IDENTITY_PRIORITY = 2
# Notes on a field that record what happened, not why it is doubtful.
_HISTORY_NOTE = re.compile(r"^(?:confirm|correct|as_print|undon)ed by |^identities hold after review$|"
                           r"^prose agrees after review$|^printed as is: ")


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


def group_of(key: str) -> str:
    """The lease group of an item key: the section of a field or identity, or the metadata group."""
    if key.startswith(META_PREFIX):
        return META_GROUP
    return key.removeprefix(IDENTITY_PREFIX).split(".", 1)[0]


def identity_only(row: FieldRow) -> bool:
    """The field is doubtful only because identities it is in do not hold (their items cover it)."""
    if row.status != FieldStatus.FLAGGED.value or row.value is None or row.suggestion is not None:
        return False
    named = False
    for reason in row.reasons or []:
        if reason.startswith(BROKEN_IDENTITY):
            named = named or "(explained by" not in reason
        elif not (reason.startswith(HOW_READ) or _HISTORY_NOTE.match(reason)):
            return False
    return named


def accepted_identities(session: Session, document_id: int, batch_id: str) -> set[str]:
    """Identities of the document a reviewer in batch `batch_id` accepted as printed (and did not undo)."""
    return set(session.scalars(select(IdentityAcceptance.identity).where(
        IdentityAcceptance.document_id == document_id, IdentityAcceptance.batch_id == batch_id,
        IdentityAcceptance.undone_at.is_(None))))


def sync_document(session: Session, document: Document, batch_id: str) -> None:
    """Bring a document's items in batch `batch_id` in line with the fields, identities and
    metadata that batch sees (does not commit).

    Each batch holding the document has items of its own: a decision in one leaves the others'
    queues, fields and exports as they were.

    Steps:
        1. A field that needs review on its own gets a pending field item (a closed one is
           reopened when a new result flagged the field again); a pending item whose field no
           longer needs one is resolved.
        2. A broken identity, not accepted as printed and not explained by a pending suggested
           cell, gets a pending identity item; one that holds again (or is explained) is resolved.
        3. A doubtful agency, year or publication date gets a metadata item once; it is
           resolved when the value no longer looks doubtful (a decided one stays decided).
    """
    items = {i.field_id: i for i in session.scalars(
        select(ReviewItem).where(ReviewItem.document_id == document.id, ReviewItem.batch_id == batch_id))}
    now = dt.datetime.now(dt.UTC)

    def want(key: str, kind: ItemKind, rank: int) -> None:
        item = items.get(key)
        if item is None:
            item = ReviewItem(document_id=document.id, field_id=key, batch_id=batch_id, priority=rank,
                              kind=kind.value, group_key=group_of(key), version=1)
            session.add(item)
            items[key] = item
            return
        item.priority = rank
        if item.state == ReviewState.RESOLVED.value:
            reopen(item)

    def drop(key: str) -> None:
        item = items.get(key)
        if item is not None and item.state == ReviewState.PENDING.value:
            item.state, item.closed_at = ReviewState.RESOLVED.value, now
            item.version = (item.version or 1) + 1

    rows = view_fields(session, document.id, batch_id)
    for row in rows:
        rank = None if identity_only(row) else priority(row)
        if rank is None:
            drop(row.field_id)
        else:
            want(row.field_id, ItemKind.FIELD, rank)
            item = items[row.field_id]
            if item.state == ReviewState.DONE.value and row.status != FieldStatus.REVIEWED.value:
                reopen(item)
    suggested = {r.field_id for r in rows if r.suggestion is not None and r.status == FieldStatus.FLAGGED.value}
    accepted = accepted_identities(session, document.id, batch_id)
    checks = [c for c in view_checks(session, document.id, batch_id) if not c.identity.startswith(NARRATIVE_PREFIX)]
    for check in checks:
        key = f"{IDENTITY_PREFIX}{check.identity}"
        if check.ok or check.identity in accepted or suggested & set(check.fields):
            drop(key)
            continue
        want(key, ItemKind.IDENTITY, IDENTITY_PRIORITY)
        if items[key].state == ReviewState.DONE.value:
            reopen(items[key])  # decided by fixing a cell, yet still broken: decide again
    for key, meta in check_meta(*view_meta(session, document, batch_id)).items():
        item_key = f"{META_PREFIX}{key}"
        if meta.confidence < SURE:
            if item_key not in items:
                want(item_key, ItemKind.META, META_PRIORITY)
        else:
            drop(item_key)
    session.execute(update(BatchDocument).where(BatchDocument.batch_id == batch_id,
                                                BatchDocument.document_id == document.id)
                    .values(review_hash=document.finish_hash))
    session.flush()


def reopen(item: ReviewItem) -> None:
    """Put a closed item back in the queue as a new version (a decision names the version it saw)."""
    item.state, item.closed_at, item.closed_by = ReviewState.PENDING.value, None, None
    item.version = (item.version or 1) + 1


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


def acquire_lease(session: Session, document_id: int, group_key: str, user: User, seconds: int) -> bool:
    """Hold one item group of a document for `user` for `seconds` (renewing a lease it holds).

    One atomic INSERT … ON CONFLICT DO UPDATE … WHERE: it takes the row when there is none, when
    the user holds it already, or when the holder's lease has expired, so two reviewers racing
    for a group cannot both win. Other leases of the user are released (one group at a time).

    Returns:
        False when someone else holds a live lease on the group.
    """
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ReviewLease).values(document_id=document_id, group_key=group_key, user_id=user.id,
                                      acquired_at=now, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=["document_id", "group_key"],
        set_={"user_id": user.id, "acquired_at": now, "expires_at": expires},
        where=(ReviewLease.user_id == user.id) | (ReviewLease.expires_at < now),
    ).returning(ReviewLease.document_id)
    # RETURNING yields the row only when it was inserted or updated (rowcount is not reliable
    # for ORM-enabled upserts across drivers).
    won = session.execute(stmt).scalar() is not None
    if won:
        session.execute(delete(ReviewLease).where(
            ReviewLease.user_id == user.id,
            (ReviewLease.document_id != document_id) | (ReviewLease.group_key != group_key)))
    return won


def holds_lease(session: Session, document_id: int, group_key: str, user: User) -> bool:
    lease = session.get(ReviewLease, (document_id, group_key), populate_existing=True)
    return lease is not None and lease.user_id == user.id and _aware(lease.expires_at) > dt.datetime.now(dt.UTC)


def lease_of(session: Session, item: ReviewItem) -> ReviewLease | None:
    """The live or expired lease on the item's group, if any."""
    return session.get(ReviewLease, (item.document_id, item.group_key), populate_existing=True)


def release_leases(session: Session, user: User) -> None:
    session.execute(delete(ReviewLease).where(ReviewLease.user_id == user.id))


def next_item(session: Session, user: User, batch_id: str, lease_seconds: int,
              after: ReviewItem | None = None) -> ReviewItem | None:
    """The next pending item of a batch for `user`, its group leased to them.

    Order: the rest of the group the user is on (by priority), then the batch's items by
    priority, document and id; groups leased by others are passed over. With `after` (the
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
    current = (after.document_id, after.group_key) if after is not None else _leased_group(session, user)
    order: list[ReviewItem] = []
    if current is not None:
        same = list(session.scalars(pending.where(ReviewItem.document_id == current[0],
                                                  ReviewItem.group_key == current[1])))
        if after is not None:
            key = (after.priority, after.id)
            same = [i for i in same if (i.priority, i.id) > key] + [i for i in same if (i.priority, i.id) < key]
        order += same
    order += [i for i in session.scalars(pending.limit(5000)) if (i.document_id, i.group_key) != current]
    if after is not None and not order:
        return None
    tried: set[tuple[int, str]] = set()
    for item in order:
        group = (item.document_id, item.group_key)
        if group in tried:
            continue
        if len(tried) >= _MAX_TRIES:
            break
        tried.add(group)
        if acquire_lease(session, item.document_id, item.group_key, user, lease_seconds):
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
    leased_by_others: int = 0  # pending items in groups another reviewer holds now


def queue_progress(session: Session, batch_id: str, user_id: int | None = None) -> BatchQueueProgress | None:
    """Item counts of a batch's queue by state (after syncing it); `user_id`: whose leases are not "others"."""
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
    others = session.scalar(
        select(func.count()).select_from(ReviewItem).join(
            ReviewLease, (ReviewLease.document_id == ReviewItem.document_id)
            & (ReviewLease.group_key == ReviewItem.group_key)).where(
            ReviewItem.batch_id == batch_id, ReviewItem.state == ReviewState.PENDING.value,
            ReviewLease.expires_at > dt.datetime.now(dt.UTC), ReviewLease.user_id != (user_id or -1))
    )
    return BatchQueueProgress(batch_id=batch_id, name=batch.name, pending=pending, done=done, resolved=resolved,
                              total=pending + done + resolved, documents_pending=docs or 0,
                              leased_by_others=others or 0)


def _leased_group(session: Session, user: User) -> tuple[int, str] | None:
    lease = session.scalar(select(ReviewLease).where(ReviewLease.user_id == user.id))
    if lease is None or _aware(lease.expires_at) <= dt.datetime.now(dt.UTC):
        return None
    return lease.document_id, lease.group_key


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for timezone columns; they are UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
