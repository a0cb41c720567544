"""The tables of the service store (SQLAlchemy 2 declarative; PostgreSQL or SQLite).

A Document is one distinct report file, identified by its SHA-256: the same bytes uploaded in
two batches are one Document, processed once, listed in both batches (``batch_documents``).
Page records keep each page's full :class:`~extractor.datamodel.PageRecord` JSON (tokens,
layout and the table grids), so tables need no table of their own. Fields are the values the
dataset is made of; reviewers change them, and each change is kept in ``corrections``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import (
    BigInteger,
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# JSON columns are JSONB on PostgreSQL (indexable, compact) and JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class BatchState(str, Enum):
    """Where a batch is in ingestion (document progress is counted from its documents)."""

    RECEIVED = "received"  # stored, waiting for a worker to unpack it
    INGESTED = "ingested"  # unpacked: its documents exist and are queued
    FAILED = "failed"  # the input could not be read at all (see `error`)


class DocumentState(str, Enum):
    """Where a document is in the pipeline."""

    QUEUED = "queued"  # registered, waiting for a worker
    PROCESSING = "processing"  # split into page tasks; pages are being understood
    DONE = "done"  # assembled and validated; fields are stored
    FAILED = "failed"  # unreadable or no template recognised (see `error`)


class User(Base):
    """A person who reviews fields; accounts and authentication are built on this table."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32), default="reviewer")  # UserRole value
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # argon2id PHC string "$argon2id$v=19$m=…" (extractor.review.accounts); accounts made before
    # argon2 keep "scrypt$n$r$p$salt$hash" until their next sign-in rehashes it; None: no password login.
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Batch(Base):
    """One submission: an archive, a folder or a list of files."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), default="")
    # Storage key of an uploaded archive, or None when the input was read in place (CLI, server path).
    source_key: Mapped[str | None] = mapped_column(String(200))
    # Server-side path given to POST /batches, read in place by the ingest task.
    source_path: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=BatchState.RECEIVED.value)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ingested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Who submitted it through the API (its uploader sees it); None: recorded by the CLI
    # (`extract`, `submit`), seen by admins and the reviewers assigned to it.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Bytes of the uploaded archive, counted against its owner's quota; None: not uploaded.
    upload_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # When the reconciler last queued its ingest again (a dispatch that failed, a lost message).
    requeued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[BatchDocument]] = relationship(back_populates="batch", cascade="all, delete-orphan")
    input_errors: Mapped[list[InputErrorRow]] = relationship(back_populates="batch", cascade="all, delete-orphan")


class Document(Base):
    """One distinct report file and what the pipeline made of it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    blob_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # pdf | image
    format: Mapped[str] = mapped_column(String(16))  # pdf, png, jpeg, ...
    size: Mapped[int] = mapped_column(BigInteger)  # bytes
    pages: Mapped[int | None] = mapped_column(Integer)  # None until the document has been opened
    state: Mapped[str] = mapped_column(String(16), default=DocumentState.QUEUED.value, index=True)
    error: Mapped[str | None] = mapped_column(Text)  # why it failed; page errors are in `result`
    template: Mapped[str | None] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    published: Mapped[str | None] = mapped_column(String(10))
    # The machine's DocumentResult JSON as the pipeline returned it (before any review).
    result: Mapped[dict | None] = mapped_column(JsonType)
    # Hash of the page inputs the stored result was assembled from; a rerun with the same hash returns.
    finish_hash: Mapped[str | None] = mapped_column(String(64))
    # Unused since review items belong to batches (BatchDocument.review_hash); kept for old rows.
    review_hash: Mapped[str | None] = mapped_column(String(64))
    # Numbers the report's prose states for fields ([{field_id, stated, clause}], the validate
    # stage's ProseClaim), kept so a review re-runs the prose check on corrected values;
    # None: stored before claims were kept (the prose checks then stay as the pipeline left them).
    prose_claims: Mapped[list | None] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When it was last queued again (reconciler, chord error callback); None: never.
    requeued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Times it was queued again after stalling; past CelerySettings.max_attempts it is failed.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    fields: Mapped[list[FieldRow]] = relationship(back_populates="document", cascade="all, delete-orphan")
    checks: Mapped[list[CheckRow]] = relationship(back_populates="document", cascade="all, delete-orphan")


class BatchDocument(Base):
    """A report file of a batch: its name in the batch, pointing at the shared Document."""

    __tablename__ = "batch_documents"
    __table_args__ = (UniqueConstraint("batch_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    item_id: Mapped[str] = mapped_column(Text)  # id from ingest: '<archive>__<member path>'
    source: Mapped[str] = mapped_column(Text)  # for people: 'batch.zip!2024/a.pdf'
    # Item id of the first copy of the same bytes within this batch; None for the first copy.
    duplicate_of: Mapped[str | None] = mapped_column(Text)
    # The document's finish_hash when this batch's review items were last built from it; None: not yet.
    review_hash: Mapped[str | None] = mapped_column(String(64))
    # Metadata values this batch's reviewers decided ({"agency": …, "year": …, "published": …},
    # only the keys decided); None: the machine's (storage.review_view.view_meta).
    meta: Mapped[dict | None] = mapped_column(JsonType)

    batch: Mapped[Batch] = relationship(back_populates="items")
    document: Mapped[Document] = relationship()


class InputErrorRow(Base):
    """An input of a batch that did not become a document (unsafe member, unsupported file)."""

    __tablename__ = "input_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)

    batch: Mapped[Batch] = relationship(back_populates="input_errors")


class PageRow(Base):
    """The output of one stage on one page, keyed by the hash of its inputs."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "stage", "input_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)  # 0-based page number
    stage: Mapped[str] = mapped_column(String(32))  # "understand_page"
    input_hash: Mapped[str] = mapped_column(String(64))  # file hash + page + pipeline options
    record: Mapped[dict | None] = mapped_column(JsonType)  # PageRecord JSON; None when the page failed
    error: Mapped[str | None] = mapped_column(Text)
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)  # routed to the OCR queue
    worker: Mapped[str] = mapped_column(String(200), default="")  # host/process that computed it
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # compute time inside the task
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class FieldRow(Base):
    """One field value of a document: the dataset cell, with its source and status."""

    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("document_id", "batch_id", "field_id", name="uq_fields_document_batch_field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # "" (storage.review_view.MACHINE): the pipeline's value, seen by every batch without a copy;
    # a batch id: that batch's reviewed copy (a review belongs to the batch it was made in).
    batch_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    field_id: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)  # counts are exact in a double up to 2**53
    raw: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # FieldStatus value
    confidence: Mapped[float | None] = mapped_column(Float)
    page: Mapped[int | None] = mapped_column(Integer)  # 0-based
    bbox: Mapped[list | None] = mapped_column(JsonType)  # [x1, y1, x2, y2] page pixels at the document's dpi
    reasons: Mapped[list] = mapped_column(JsonType, default=list)
    # Value the identities imply when this cell alone explains them; the printed value stays in `value`.
    suggestion: Mapped[float | None] = mapped_column(Float)

    document: Mapped[Document] = relationship(back_populates="fields")


class CheckRow(Base):
    """The outcome of one accounting identity on a document."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # As FieldRow.batch_id: "" the machine's check, a batch id that batch's copy.
    batch_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    identity: Mapped[str] = mapped_column(String(200))
    ok: Mapped[bool] = mapped_column(Boolean)
    fields: Mapped[list] = mapped_column(JsonType, default=list)
    detail: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[Document] = relationship(back_populates="checks")


class Correction(Base):
    """A person's decision on a field: who, when, old and new value, why. Rows are only added:
    a later decision on the same field is a new row, so the history is never overwritten."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # The batch the decision was made in (it changes that batch's copy only); None: made before
    # reviews belonged to batches.
    batch_id: Mapped[str | None] = mapped_column(String(32))
    field_id: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[float | None] = mapped_column(Float)
    new_value: Mapped[float | None] = mapped_column(Float)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")  # the reason given (or the flag reasons confirmed)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default="correct")  # confirm | correct
    old_status: Mapped[str | None] = mapped_column(String(16))  # FieldStatus before the decision
    # The cell as the machine saw it when the decision was made, kept for training data.
    raw: Mapped[str | None] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list | None] = mapped_column(JsonType)
    # The reviewer's decision this row belongs to (one decision may change several fields:
    # "printed as is" for an identity); None: recorded before decisions were kept.
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("review_decisions.id", ondelete="SET NULL"), index=True)
    # What the field held before, so an undo restores it exactly; None: not recorded (older rows).
    old_reasons: Mapped[list | None] = mapped_column(JsonType)
    old_suggestion: Mapped[float | None] = mapped_column(Float)
    # Metadata decisions (agency, year, publication date) keep their text here; numbers stay in old/new_value.
    old_text: Mapped[str | None] = mapped_column(Text)
    new_text: Mapped[str | None] = mapped_column(Text)


class UserRole(str, Enum):
    """What an account may do."""

    ADMIN = "admin"  # manages accounts, assignments and tokens; sees, uploads and reviews every batch
    UPLOADER = "uploader"  # uploads batches; sees, reviews and assigns its own (and those assigned to it)
    REVIEWER = "reviewer"  # reads, reviews and exports the batches assigned to it


class ApiToken(Base):
    """A bearer token of a user for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BatchAssignment(Base):
    """A reviewer may review a batch (admins may review every batch without one)."""

    __tablename__ = "batch_assignments"
    __table_args__ = (UniqueConstraint("batch_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewState(str, Enum):
    """Where a review item is."""

    PENDING = "pending"  # waiting for a reviewer
    DONE = "done"  # a reviewer confirmed or corrected the field
    RESOLVED = "resolved"  # no longer doubtful: another correction restored its identities


class ItemKind(str, Enum):
    """What a review item asks about."""

    FIELD = "field"  # one value cell (field_id is the field id)
    IDENTITY = "identity"  # a broken accounting identity as a whole (field_id is "identity:<name>")
    META = "meta"  # agency, year or publication date (field_id is "meta.<key>")


class ReviewItem(Base):
    """A field, identity or metadata value of a document waiting for (or past) review in one
    batch; one per batch, document and key."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("batch_id", "document_id", "field_id", name="uq_review_items_batch_document_field"),
                      Index("ix_review_queue", "batch_id", "state", "priority"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[str] = mapped_column(String(200))
    # The batch whose queue holds the item; each batch holding the document has its own items.
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer)  # lower first (extractor.review.queue.priority)
    state: Mapped[str] = mapped_column(String(16), default=ReviewState.PENDING.value)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), default=ItemKind.FIELD.value)  # ItemKind value
    # The lease group: items of one group are handed to one reviewer at a time (the field's
    # section, "meta" for metadata); other groups of the document stay free for others.
    group_key: Mapped[str] = mapped_column(String(32), default="")
    # Bumped whenever the item is decided or reopened; a decision names the version it was made
    # on, and one version takes one decision (a double Enter records once).
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReviewDecision(Base):
    """One decision of a reviewer on one version of an item (confirm, correct, printed as is).

    The field changes it made are its ``corrections`` rows; undoing it adds ``undo`` rows and
    sets ``undone_at`` (the history itself is never rewritten).
    """

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("item_id", "item_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    item_version: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # confirm | correct | as_printed
    comment: Mapped[str] = mapped_column(Text, default="")  # what the reviewer wrote in the comment box
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class IdentityAcceptance(Base):
    """A reviewer found an identity broken in print, in one batch: the agency's own figures do not add up.

    While it stands (``undone_at`` None) the identity's failure flags nothing; the check row
    still says it does not hold, so the dataset stays honest.
    """

    __tablename__ = "identity_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # The batch it was made in: it holds for that batch's copy of the document only.
    batch_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    identity: Mapped[str] = mapped_column(String(200))
    decision_id: Mapped[int] = mapped_column(ForeignKey("review_decisions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewLease(Base):
    """A reviewer holds one item group of a document (a section, or its metadata) until
    `expires_at`; nobody else reviews that group meanwhile."""

    __tablename__ = "review_leases"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A sign-in of the reviewer page; the signed cookie names it, logout revokes it.

    Only the SHA-256 of the session's random id is stored, so a copy of the database does not
    hold live sessions.
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's session id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """A failed sign-in, counted per account and per address by the login rate limit."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64), index=True)  # client IP as the server sees it
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
