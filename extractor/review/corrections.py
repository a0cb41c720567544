"""Reviewer decisions: store each one (never overwriting history), re-validate the document,
and undo a reviewer's own decisions.

A decision changes its item's batch's copy of the document only (``storage.review_view``: the
batch's first decision copies the machine's fields and checks); other batches holding the same
file keep their own values, acceptances and history.

One decision is made on one version of one item (:class:`~extractor.storage.ReviewDecision`,
unique per item and version, so a double Enter records once). What it changed is kept as
``corrections`` rows, one per field (or metadata value), each with what the field held before,
so an undo restores it exactly.

Actions:

- ``confirm``: the value as read is right;
- ``correct``: the value typed replaces it (for an identity item, in the cell named);
- ``as_printed``: the report's own figures do not add up — every broken identity of the item
  is accepted as printed, which clears every item those identities raised.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractor.datamodel import FieldStatus
from extractor.stages.validate import BROKEN_IDENTITY, HOW_READ, NARRATIVE_PREFIX, check_identities
from extractor.stages.validate.repair import suggest_repairs
from extractor.storage import (
    CheckRow,
    Correction,
    Document,
    FieldRow,
    IdentityAcceptance,
    ItemKind,
    ReviewDecision,
    ReviewItem,
    ReviewState,
    User,
)
from extractor.storage.review_view import copy_for_batch, set_meta, view_meta
from extractor.templates import get_template
from extractor.review.meta import META_KEYS, parse_meta
from extractor.review.prose import recheck_prose
from extractor.review.queue import (
    IDENTITY_PREFIX,
    META_PREFIX,
    accepted_identities,
    acquire_lease,
    holds_lease,
    reopen,
    sync_document,
)
from extractor.review.typed import TypedValueError, check_value, parse_typed

_log = logging.getLogger(__name__)

# Reason appended to a field whose broken identities all hold again after a review.
RESTORED = "identities hold after review"
# Start of the note on a field accepted with its identity, and of the check detail of an accepted identity.
AS_PRINTED_NOTE = "printed as is:"
# Start of a reason that names a suggested value (the validate stage's repair note).
_SUGGESTED = "suggested "


class Action(str, Enum):
    """What a reviewer decided."""

    CONFIRM = "confirm"  # the value as read is right
    CORRECT = "correct"  # the typed value replaces it
    AS_PRINTED = "as_printed"  # the identity does not add up in print; accept it as it stands


class LeaseLost(Exception):
    """The reviewer's lease on the item's group expired and someone else took it."""


class StaleDecision(Exception):
    """The item was decided or changed since the reviewer saw it (a second Enter, another tab)."""


def decide(session: Session, user: User, item: ReviewItem, value: float | None = None, reason: str = "", *,
           text: str | None = None, action: Action | None = None, field_id: str | None = None,
           version: int | None = None) -> ReviewDecision:
    """Record one decision on `item` and re-validate its document (does not commit).

    Args:
        value: the corrected number (scripts); None with `text` None confirms.
        reason: the reviewer's comment, kept in the history.
        text: what the reviewer typed, read strictly (:func:`parse_typed`; a metadata item
            takes a name, a year or a date).
        action: ``as_printed`` to accept the item's broken identities as printed; else
            derived from the value (confirm when it is None or equal to the value read).
        field_id: for an identity item, the cell a typed value goes into.
        version: the item version the reviewer saw; None takes the current one.

    Raises:
        LeaseLost: the user does not hold the lease on the item's group.
        StaleDecision: `version` is not the item's current version.
        TypedValueError: the value does not fit the field's type or plausible range (the message
            says which, in Chinese and English).
        ValueError: the item does not name a stored field, or `field_id` is not in its identity.
    """
    if not holds_lease(session, item.document_id, item.group_key, user):
        raise LeaseLost(f"document {item.document_id} ({item.group_key}) is not leased to {user.email}")
    # Lock the document: decisions on its groups re-validate it one at a time.
    document = session.get(Document, item.document_id, with_for_update=True, populate_existing=True)
    session.refresh(item)
    if version is not None and version != item.version:
        raise StaleDecision(f"item {item.id} is at version {item.version}, the decision was made on {version}")
    if document is None:
        raise ValueError(f"no document {item.document_id}")
    if text is not None and text.strip() == "":
        text = None
    decision = ReviewDecision(item_id=item.id, item_version=item.version, document_id=document.id,
                              batch_id=item.batch_id, user_id=user.id, action="", comment=reason.strip())
    copy_for_batch(session, document.id, item.batch_id)
    rows = _rows(session, document.id, item.batch_id)
    if item.kind == ItemKind.META.value:
        decision.action = _decide_meta(session, decision, user, document, item, text, value)
    elif item.kind == ItemKind.IDENTITY.value:
        identity = item.field_id.removeprefix(IDENTITY_PREFIX)
        if text is None and value is None and action in (None, Action.CONFIRM, Action.AS_PRINTED):
            decision.action = Action.AS_PRINTED.value
            _flush_decision(session, decision)
            _accept(session, decision, user, document, rows, {identity})
        else:
            cells = _identity_fields(session, document.id, item.batch_id, identity)
            if field_id not in cells:
                raise ValueError(f"{field_id!r} is not a cell of {identity}")
            decision.action = _decide_field(session, decision, user, document, rows[field_id], text, value)
    else:
        row = rows.get(item.field_id)
        if row is None:
            raise ValueError(f"no field {item.field_id} on document {item.document_id}")
        if action is Action.AS_PRINTED:
            decision.action = Action.AS_PRINTED.value
            _flush_decision(session, decision)
            broken = {c.identity for c in _broken_checks(session, document.id, item.batch_id)
                      if item.field_id in c.fields}
            _set_field(session, decision, user, row, row.value, Action.CONFIRM.value, reason)
            _accept(session, decision, user, document, rows,
                    broken - accepted_identities(session, document.id, item.batch_id))
        else:
            decision.action = _decide_field(session, decision, user, document, row, text, value)
    _close(item, user)
    session.flush()
    revalidate(session, document, item.batch_id)
    return decision


def _decide_field(session: Session, decision: ReviewDecision, user: User, document: Document, row: FieldRow,
                  text: str | None, value: float | None) -> str:
    if text is not None:
        value = parse_typed(text)
    if value is not None and document.template is not None:
        definition = get_template(document.template).fields.get(row.field_id)
        if definition is not None:
            check_value(definition, value)
    new = row.value if value is None else float(value)
    kind = Action.CONFIRM.value if value is None or row.value == new else Action.CORRECT.value
    decision.action = kind
    _flush_decision(session, decision)
    _set_field(session, decision, user, row, new, kind, decision.comment)
    return kind


def _decide_meta(session: Session, decision: ReviewDecision, user: User, document: Document, item: ReviewItem,
                 text: str | None, value: float | None) -> str:
    key = item.field_id.removeprefix(META_PREFIX)
    old = dict(zip(META_KEYS, view_meta(session, document, item.batch_id)))[key]
    if text is None and value is not None:
        text = str(int(value)) if float(value).is_integer() else str(value)
    new = old if text is None else parse_meta(key, text)
    kind = Action.CONFIRM.value if new == old else Action.CORRECT.value
    decision.action = kind
    _flush_decision(session, decision)
    set_meta(session, document, item.batch_id, key, new)
    session.add(Correction(
        document_id=document.id, batch_id=item.batch_id, field_id=item.field_id, user_id=user.id, kind=kind,
        decision_id=decision.id,
        old_value=float(old) if isinstance(old, int) else None, new_value=float(new) if isinstance(new, int) else None,
        old_text=None if old is None else str(old), new_text=None if new is None else str(new),
        note=decision.comment, created_at=decision.created_at, old_status="flagged",
    ))
    return kind


def _flush_decision(session: Session, decision: ReviewDecision) -> None:
    """Insert the decision row (its unique item version refuses a second decision made meanwhile)."""
    if decision.id is None:
        decision.created_at = dt.datetime.now(dt.UTC)
        session.add(decision)
        session.flush()


def _set_field(session: Session, decision: ReviewDecision, user: User, row: FieldRow, new: float | None,
               kind: str, note: str) -> None:
    session.add(Correction(
        document_id=row.document_id, batch_id=row.batch_id, field_id=row.field_id, old_value=row.value, new_value=new,
        user_id=user.id,
        note=note or "; ".join(row.reasons or []), created_at=decision.created_at, kind=kind,
        old_status=row.status, raw=row.raw, page=row.page, bbox=row.bbox, decision_id=decision.id,
        old_reasons=list(row.reasons or []), old_suggestion=row.suggestion,
    ))
    row.value = new
    row.status = FieldStatus.REVIEWED.value
    row.reasons = [*(row.reasons or []), f"{kind}ed by {user.email}"]


def _accept(session: Session, decision: ReviewDecision, user: User, document: Document,
            rows: dict[str, FieldRow], identities: set[str]) -> None:
    """Accept `identities` as printed: record them, and mark reviewed every field they alone made doubtful."""
    for identity in sorted(identities):
        session.add(IdentityAcceptance(document_id=document.id, batch_id=decision.batch_id, identity=identity,
                                       decision_id=decision.id, user_id=user.id, reason=decision.comment,
                                       created_at=decision.created_at))
        # The history names the identity itself too (its cells may all have been reviewed already).
        session.add(Correction(document_id=document.id, batch_id=decision.batch_id,
                               field_id=f"{IDENTITY_PREFIX}{identity}", user_id=user.id,
                               kind=Action.AS_PRINTED.value, decision_id=decision.id, created_at=decision.created_at,
                               note=decision.comment or AS_PRINTED_NOTE.rstrip(":"), old_status="flagged"))
    session.flush()
    accepted = accepted_identities(session, document.id, decision.batch_id)
    broken = _broken_checks(session, document.id, decision.batch_id)
    note = f"{AS_PRINTED_NOTE} {', '.join(sorted(identities))}" + (f" ({decision.comment})" if decision.comment else "")
    touched = {fid for c in broken if c.identity in identities for fid in c.fields}
    items = {i.field_id: i for i in session.scalars(select(ReviewItem).where(
        ReviewItem.document_id == document.id, ReviewItem.batch_id == decision.batch_id))}
    for fid in sorted(touched):
        row = rows[fid]
        if row.status != FieldStatus.FLAGGED.value or not _only_identity_doubts(row):
            continue
        if any(fid in c.fields and c.identity not in accepted for c in broken):
            continue  # still in an identity nobody accepted: its item shows the field
        _set_field(session, decision, user, row, row.value, Action.AS_PRINTED.value, note)
        item = items.get(fid)
        if item is not None and item.state == ReviewState.PENDING.value:
            _close(item, user)
    for identity in identities:
        item = items.get(f"{IDENTITY_PREFIX}{identity}")
        if item is not None and item.state == ReviewState.PENDING.value:
            _close(item, user)


def _only_identity_doubts(row: FieldRow) -> bool:
    """Every reason the field is doubtful is a broken identity (or the repair it suggests)."""
    from extractor.review.queue import _HISTORY_NOTE

    return all(r.startswith((BROKEN_IDENTITY, _SUGGESTED, HOW_READ)) or _HISTORY_NOTE.match(r)
               for r in row.reasons or [])


def _close(item: ReviewItem, user: User) -> None:
    item.state, item.closed_at, item.closed_by = ReviewState.DONE.value, dt.datetime.now(dt.UTC), user.id
    item.version = (item.version or 1) + 1


def _rows(session: Session, document_id: int, batch_id: str) -> dict[str, FieldRow]:
    """The batch's copy of the document's fields (made by :func:`copy_for_batch`), by field id."""
    return {r.field_id: r for r in session.scalars(
        select(FieldRow).where(FieldRow.document_id == document_id, FieldRow.batch_id == batch_id))}


def _broken_checks(session: Session, document_id: int, batch_id: str) -> list[CheckRow]:
    return list(session.scalars(select(CheckRow).where(
        CheckRow.document_id == document_id, CheckRow.batch_id == batch_id, CheckRow.ok.is_(False),
        CheckRow.identity.not_like(f"{NARRATIVE_PREFIX}%"))))


def _identity_fields(session: Session, document_id: int, batch_id: str, identity: str) -> list[str]:
    check = session.scalar(select(CheckRow).where(CheckRow.document_id == document_id, CheckRow.batch_id == batch_id,
                                                  CheckRow.identity == identity))
    return list(check.fields) if check is not None else []


def undo_last(session: Session, user: User, batch_id: str, lease_seconds: int) -> ReviewDecision | None:
    """Undo the user's latest decision in the batch that is not undone yet (does not commit).

    Every field it changed gets its value, status, reasons and suggestion back (an ``undo``
    correction row records each), its identity acceptances are withdrawn, its item is queued
    again as a new version, and the document is re-validated. Calling it again goes one
    decision further back.

    Returns:
        The undone decision; None when the user has nothing left to undo here.

    Raises:
        LeaseLost: another reviewer holds the item's group now.
        StaleDecision: someone changed one of its fields since (their decision stands).
    """
    decision = session.scalar(select(ReviewDecision).where(
        ReviewDecision.user_id == user.id, ReviewDecision.batch_id == batch_id,
        ReviewDecision.undone_at.is_(None)).order_by(ReviewDecision.id.desc()).limit(1))
    if decision is None:
        return None
    item = session.get(ReviewItem, decision.item_id)
    if not acquire_lease(session, item.document_id, item.group_key, user, lease_seconds):
        raise LeaseLost(f"another reviewer is working on document {item.document_id} ({item.group_key})")
    document = session.get(Document, decision.document_id, with_for_update=True, populate_existing=True)
    changes = list(session.scalars(select(Correction).where(Correction.decision_id == decision.id)
                                   .order_by(Correction.id.desc())))
    for change in changes:
        later = session.scalar(select(Correction.id).join(ReviewDecision, ReviewDecision.id == Correction.decision_id)
                               .where(Correction.document_id == document.id, Correction.batch_id == batch_id,
                                      Correction.field_id == change.field_id,
                                      Correction.id > change.id, Correction.kind != "undo",
                                      ReviewDecision.undone_at.is_(None)).limit(1))
        if later is not None:
            raise StaleDecision(f"{change.field_id} was decided again since; undo that decision first")
    now = dt.datetime.now(dt.UTC)
    copy_for_batch(session, document.id, batch_id)
    rows = _rows(session, document.id, batch_id)
    for change in changes:
        record = Correction(document_id=document.id, batch_id=batch_id, field_id=change.field_id, user_id=user.id,
                            kind="undo", decision_id=decision.id, created_at=now, note=f"undo of decision {decision.id}",
                            old_status=FieldStatus.REVIEWED.value, new_text=change.old_text, old_text=change.new_text)
        if change.field_id.startswith(IDENTITY_PREFIX):
            pass  # the acceptance itself is withdrawn below
        elif change.field_id.startswith(META_PREFIX):
            key = change.field_id.removeprefix(META_PREFIX)
            set_meta(session, document, batch_id, key, int(change.old_value) if key == "year" and change.old_value
                     is not None else change.old_text if key != "year" else None)
        else:
            row = rows[change.field_id]
            record.old_value, record.new_value = row.value, change.old_value
            record.raw, record.page, record.bbox = row.raw, row.page, row.bbox
            row.value = change.old_value
            row.status = change.old_status or FieldStatus.FLAGGED.value
            row.reasons = [*(change.old_reasons or row.reasons or []), f"undone by {user.email}"]
            row.suggestion = change.old_suggestion
        session.add(record)
    for acceptance in session.scalars(select(IdentityAcceptance).where(IdentityAcceptance.decision_id == decision.id)):
        acceptance.undone_at = now
    decision.undone_at = now
    reopen(item)
    session.flush()
    revalidate(session, document, batch_id)
    return decision


def revalidate(session: Session, document: Document, batch_id: str) -> None:
    """Re-check the identities and the prose of a document on batch `batch_id`'s values (does not commit).

    Works on the batch's copy (``storage.review_view``), made here when the batch has none yet.

    Steps:
        1. Identity check rows are rebuilt (an identity accepted as printed still fails, and
           its detail says it was accepted).
        2. A field flagged only for broken identities that all hold (or were accepted) now goes
           back to ``auto``.
        3. Fields of an identity that is broken now, and not accepted, are flagged.
        4. The prose checks run again on the kept claims (:func:`recheck_prose`).
        5. Suggestions are recomputed for the identities nobody accepted.
        6. The document's review items follow its fields (new flags queue, cleared ones resolve).
    """
    if document.template is None:
        sync_document(session, document, batch_id)
        return
    template = get_template(document.template)
    copy_for_batch(session, document.id, batch_id)
    rows = _rows(session, document.id, batch_id)
    values = {fid: r.value for fid, r in rows.items()}
    checks = check_identities(template, values)
    accepted = accepted_identities(session, document.id, batch_id)
    session.execute(
        delete(CheckRow).where(CheckRow.document_id == document.id, CheckRow.batch_id == batch_id,
                               CheckRow.identity.not_like(f"{NARRATIVE_PREFIX}%"))
    )
    for check in checks:
        detail = check.detail
        if not check.ok and check.identity in accepted:
            detail = f"{detail} · {AS_PRINTED_NOTE} 复核确认照印 / accepted as printed by a reviewer"
        session.add(CheckRow(document_id=document.id, batch_id=batch_id, identity=check.identity, ok=check.ok,
                             fields=list(check.fields), detail=detail))
    broken = {c.identity: c for c in checks if not c.ok and c.identity not in accepted}
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
    suggestions = {r.field_id: r.implied for r in suggest_repairs(template, values)
                   if not set(r.identities) <= accepted}
    for fid, row in rows.items():
        if row.status != FieldStatus.REVIEWED.value:
            row.suggestion = float(suggestions[fid]) if fid in suggestions else None
    session.flush()
    sync_document(session, document, batch_id)


__all__ = ["Action", "LeaseLost", "StaleDecision", "TypedValueError", "decide", "revalidate", "undo_last"]
