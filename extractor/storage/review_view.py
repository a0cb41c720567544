"""Whose values: the machine's result of a document, or a batch's reviewed copy of it.

A document is one file shared by every batch that holds the same bytes, but a review belongs
to the batch it was made in: a correction in batch P must not change batch Q's export (issue
21 saw 95 become 4242 that way). The pipeline's fields and checks are stored once, under
``batch_id = MACHINE``; the first decision a reviewer makes on a document in a batch copies
them under that batch's id (:func:`copy_for_batch`), and from then on that batch reviews,
revalidates and exports its copy. A batch without a copy sees the machine's rows. Metadata a
batch's reviewers decided (agency, year, publication date) is kept on its ``batch_documents`` row.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from extractor.storage.models import BatchDocument, CheckRow, Document, FieldRow

_log = logging.getLogger(__name__)

# batch_id of the machine's own rows (the pipeline's result, seen by every batch without a copy).
MACHINE = ""
# FieldRow columns copied into a batch's copy (all but the keys).
_FIELD_COLUMNS = ("field_id", "value", "raw", "status", "confidence", "page", "bbox", "reasons", "suggestion")
# CheckRow columns copied likewise.
_CHECK_COLUMNS = ("identity", "ok", "fields", "detail")


def has_copy(session: Session, document_id: int, batch_id: str) -> bool:
    """Whether `batch_id` holds a reviewed copy of the document's fields."""
    return session.scalar(
        select(FieldRow.id).where(FieldRow.document_id == document_id, FieldRow.batch_id == batch_id).limit(1)
    ) is not None


def view_of(session: Session, document_id: int, batch_id: str | None) -> str:
    """The rows `batch_id` sees: its own copy when it has one, else the machine's (None: the machine's)."""
    if batch_id and batch_id != MACHINE and has_copy(session, document_id, batch_id):
        return batch_id
    return MACHINE


def view_fields(session: Session, document_id: int, batch_id: str | None) -> list[FieldRow]:
    """The document's fields as batch `batch_id` sees them."""
    view = view_of(session, document_id, batch_id)
    return list(session.scalars(
        select(FieldRow).where(FieldRow.document_id == document_id, FieldRow.batch_id == view).order_by(FieldRow.id)
    ))


def view_checks(session: Session, document_id: int, batch_id: str | None) -> list[CheckRow]:
    """The document's identity and prose checks as batch `batch_id` sees them."""
    view = view_of(session, document_id, batch_id)
    return list(session.scalars(
        select(CheckRow).where(CheckRow.document_id == document_id, CheckRow.batch_id == view).order_by(CheckRow.id)
    ))


def copy_for_batch(session: Session, document_id: int, batch_id: str) -> bool:
    """Give `batch_id` its own copy of the machine's fields and checks, once (does not commit).

    Returns:
        True when this call made the copy.
    """
    if has_copy(session, document_id, batch_id):
        return False
    for row in session.scalars(select(FieldRow).where(FieldRow.document_id == document_id,
                                                      FieldRow.batch_id == MACHINE)):
        session.add(FieldRow(document_id=document_id, batch_id=batch_id,
                             **{c: _copied(getattr(row, c)) for c in _FIELD_COLUMNS}))
    _copy_checks(session, document_id, batch_id)
    session.flush()
    return True


def refresh_copies(session: Session, document_id: int, reviewed_status: str) -> None:
    """After a new machine result: every batch copy takes it, but for the fields its reviewers decided.

    The copy's checks become the machine's; the batch's queue re-syncs the document when read.
    """
    batches = set(session.scalars(select(FieldRow.batch_id).where(FieldRow.document_id == document_id,
                                                                  FieldRow.batch_id != MACHINE)))
    if not batches:
        return
    session.flush()
    machine = list(session.scalars(select(FieldRow).where(FieldRow.document_id == document_id,
                                                          FieldRow.batch_id == MACHINE)))
    for batch_id in sorted(batches):
        decided = set(session.scalars(select(FieldRow.field_id).where(
            FieldRow.document_id == document_id, FieldRow.batch_id == batch_id, FieldRow.status == reviewed_status)))
        session.execute(delete(FieldRow).where(FieldRow.document_id == document_id, FieldRow.batch_id == batch_id,
                                               FieldRow.field_id.not_in(decided)))
        for row in machine:
            if row.field_id not in decided:
                session.add(FieldRow(document_id=document_id, batch_id=batch_id,
                                     **{c: _copied(getattr(row, c)) for c in _FIELD_COLUMNS}))
        session.execute(delete(CheckRow).where(CheckRow.document_id == document_id, CheckRow.batch_id == batch_id))
        _copy_checks(session, document_id, batch_id)
    session.flush()


def _copy_checks(session: Session, document_id: int, batch_id: str) -> None:
    for check in session.scalars(select(CheckRow).where(CheckRow.document_id == document_id,
                                                        CheckRow.batch_id == MACHINE).order_by(CheckRow.id)):
        session.add(CheckRow(document_id=document_id, batch_id=batch_id,
                             **{c: _copied(getattr(check, c)) for c in _CHECK_COLUMNS}))


def _copied(value):
    # JSON columns hold lists: the copy must not share them with the machine's row.
    return list(value) if isinstance(value, list) else value


# Metadata keys a batch may decide for itself (the columns of Document of the same names).
META_KEYS = ("agency", "year", "published")


def view_meta(session: Session, document: Document, batch_id: str | None) -> tuple[str | None, int | None, str | None]:
    """The document's agency, year and publication date as batch `batch_id` sees them: the
    machine's, but for the values that batch's reviewers decided (``batch_documents.meta``)."""
    decided = _batch_meta(session, document.id, batch_id) if batch_id else {}
    agency, year, published = (decided.get(k, getattr(document, k)) for k in META_KEYS)
    return agency, year, published


def set_meta(session: Session, document: Document, batch_id: str, key: str, value: str | int | None) -> None:
    """Record batch `batch_id`'s decided value of one metadata key (does not commit)."""
    if key not in META_KEYS:
        raise ValueError(f"no metadata key {key!r}")
    # A new dict, so the JSON column sees the change.
    decided = {**_batch_meta(session, document.id, batch_id), key: value}
    session.execute(update(BatchDocument).where(BatchDocument.batch_id == batch_id,
                                                BatchDocument.document_id == document.id).values(meta=decided))
    session.flush()


def _batch_meta(session: Session, document_id: int, batch_id: str) -> dict:
    # A batch may list the same bytes twice (duplicate items); their decisions are the same row set.
    meta = session.scalar(select(BatchDocument.meta).where(BatchDocument.batch_id == batch_id,
                                                          BatchDocument.document_id == document_id,
                                                          BatchDocument.meta.is_not(None)).limit(1))
    return dict(meta or {})
