"""Turn a batch's input into Documents: unpack with extractor.ingest, store by hash, dedupe.

The same bytes are one Document across all batches (unique SHA-256), so a report uploaded
twice is processed once and listed in both batches. Registering is idempotent: running it again
for the same batch and input adds nothing new, which makes the ingest task safe to redeliver.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractor.ingest import IngestLimits, InputDocument, iter_inputs
from extractor.storage.blobs import ContentStore
from extractor.storage.models import (
    Batch,
    BatchDocument,
    BatchState,
    Document,
    DocumentState,
    InputErrorRow,
)
from extractor.storage.upsert import insert_ignore

_log = logging.getLogger(__name__)

# File suffixes dropped from a label before it starts document ids ('reports.tar.gz' → 'reports').
_LABEL_SUFFIX = re.compile(r"(\.tar)?\.(zip|tar|tgz|tbz2|txz|gz|bz2|xz|pdf|png|jpe?g|tiff?|bmp|webp|html?|docx|ofd)$", re.IGNORECASE)
# Characters kept in a batch label that replaces a stored upload's hash in document ids.
_LABEL_UNSAFE = re.compile(r'[\x00-\x1f<>:"|?*\\/\s]+')


def register_inputs(
    session: Session,
    store: ContentStore,
    batch: Batch,
    paths: list[Path],
    label: str | None = None,
    limits: IngestLimits = IngestLimits(),
    confine_to: Path | None = None,
) -> list[int]:
    """Ingest `paths` into `batch`: documents, batch items and input errors; does not commit.

    1. ``iter_inputs`` unpacks archives into the store (``work_dir`` is the store root, so
       members land at their final content address) and refuses unsafe members.
    2. Every report file gets a Document, shared with earlier batches when its hash is known.
    3. The batch lists each file under its ingest id; the input errors replace earlier ones.

    Args:
        session: an open session; the caller commits, then enqueues the returned ids.
        store: the content store shared with the workers.
        batch: the batch being filled.
        paths: what to unpack (an uploaded archive's stored file, or local files/folders).
        label: replaces the stored upload's file stem (its hash) at the start of ids and
            sources, so ids read 'reports-2024__a' rather than '3fa9…__a'.
        limits: archive size and ratio limits.
        confine_to: refuse inputs whose real path lies outside this folder (server-side imports).

    Returns:
        Ids of the batch's documents that still need processing (new, or queued earlier
        and not yet done); enqueue them after the commit.
    """
    ingest = iter_inputs(list(paths), store.root, limits, confine_to=confine_to)
    rename = _renamer(paths, label)

    session.execute(delete(InputErrorRow).where(InputErrorRow.batch_id == batch.id))
    for error in ingest.errors:
        session.add(InputErrorRow(batch_id=batch.id, source=rename(error.source), reason=error.reason))

    document_ids: list[int] = []
    for doc in ingest.documents:
        document_id = _document_for(session, store, doc)
        insert_ignore(
            session,
            BatchDocument,
            {
                "batch_id": batch.id,
                "document_id": document_id,
                "item_id": rename(doc.id),
                "source": rename(doc.source),
                "duplicate_of": rename(doc.duplicate_of) if doc.duplicate_of else None,
            },
            ["batch_id", "item_id"],
        )
        document_ids.append(document_id)

    batch.state = BatchState.INGESTED.value
    batch.ingested_at = dt.datetime.now(dt.UTC)
    batch.error = None
    pending = session.scalars(
        select(Document.id).where(
            Document.id.in_(set(document_ids)), Document.state.in_([DocumentState.QUEUED.value])
        )
    ).all()
    _log.info("batch %s: %d files, %d documents to process, %d input errors",
              batch.id, len(ingest.documents), len(pending), len(ingest.errors))
    return sorted(pending)


def _document_for(session: Session, store: ContentStore, doc: InputDocument) -> int:
    """The id of the Document holding `doc`'s bytes, created (and stored) when new."""
    existing = session.scalar(select(Document.id).where(Document.sha256 == doc.sha256))
    if existing is not None:
        return existing
    key = store.adopt(doc.path, doc.sha256, doc.format)
    # Another ingest may be inserting the same bytes right now: the unique hash decides.
    insert_ignore(
        session,
        Document,
        {
            "sha256": doc.sha256,
            "blob_key": key,
            "kind": doc.kind.value,
            "format": doc.format,
            "size": doc.size,
            "state": DocumentState.QUEUED.value,
            "created_at": dt.datetime.now(dt.UTC),
        },
        ["sha256"],
    )
    return session.scalar(select(Document.id).where(Document.sha256 == doc.sha256))


def _renamer(paths: list[Path], label: str | None):
    """A function replacing the single stored upload's stem by `label` in ids and sources."""
    if label is None or len(paths) != 1:
        return lambda text: text
    clean = _LABEL_UNSAFE.sub("_", _LABEL_SUFFIX.sub("", label)).strip("._") or "upload"
    path = paths[0]
    stem = path.name

    def rename(text: str) -> str:
        if text.startswith(str(path)):
            return label + text[len(str(path)):]
        if text.startswith(stem):
            return clean + text[len(stem):]
        return text

    return rename


def create_batch(session: Session, name: str, source_key: str | None = None, source_path: str | None = None) -> Batch:
    """A new batch in state RECEIVED; does not commit.

    Args:
        session: an open session.
        name: for people (the uploaded file's name); also the id prefix of its documents.
        source_key: storage key of an uploaded archive or file.
        source_path: a server-side path read in place.
    """
    batch = Batch(id=uuid.uuid4().hex, name=name, source_key=source_key, source_path=source_path,
                  state=BatchState.RECEIVED.value, created_at=dt.datetime.now(dt.UTC))
    session.add(batch)
    return batch


def pending_documents(session: Session, batch_id: str) -> list[int]:
    """Ids of the batch's documents still queued (to enqueue again after a lost message)."""
    return sorted(
        session.scalars(
            select(BatchDocument.document_id)
            .join(Document, Document.id == BatchDocument.document_id)
            .where(BatchDocument.batch_id == batch_id, Document.state == DocumentState.QUEUED.value)
            .distinct()
        ).all()
    )


def unfinished_documents(session: Session, batch_id: str) -> list[int]:
    """Ids of the batch's documents neither done nor failed (queued, or processing when the broker lost
    their tasks); enqueueing them again is safe, every step being idempotent."""
    return sorted(
        session.scalars(
            select(BatchDocument.document_id)
            .join(Document, Document.id == BatchDocument.document_id)
            .where(BatchDocument.batch_id == batch_id,
                   Document.state.in_((DocumentState.QUEUED.value, DocumentState.PROCESSING.value)))
            .distinct()
        ).all()
    )
