"""The work of each task: load records by id, call the pipeline, save. No Celery here.

Every step is idempotent: its output is stored under the hash of its inputs, and a step that
finds its output already stored returns without computing, so a task redelivered after its
worker died (acks_late) does nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from sqlalchemy import select

from extractor.datamodel import PageRecord
from extractor.ingest import DocumentKind, IngestLimits, InputDocument
from extractor.settings import get_settings
from extractor.stages.rasterise import DocumentError, open_document
from extractor.storage import (
    Batch,
    BatchDocument,
    BatchState,
    Document,
    DocumentState,
    PageRow,
    pending_documents,
    register_inputs,
    session_scope,
)
from extractor.storage.results import find_page, mark_failed, save_page, save_result
from workers.planning import plan_pages
from workers.runtime import PAGE_STAGE, finish_input_hash, page_input_hash, pipeline, sessions, store, worker_name

_log = logging.getLogger(__name__)

# Document states that need no more work.
_FINAL = (DocumentState.DONE.value, DocumentState.FAILED.value)


class PagesMissing(Exception):
    """The assembly step ran before every page was stored (a redelivered page task can make
    a chord join early); it is retried until the pages are there."""


def ingest(batch_id: str) -> list[int]:
    """Unpack a batch's input into documents.

    Returns:
        Ids of documents to process (already committed; the caller enqueues them).
    """
    with session_scope(sessions()) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            _log.warning("no batch %s", batch_id)
            return []
        if batch.state != BatchState.RECEIVED.value:
            # A rerun: the documents exist; hand back those whose message may have been lost.
            return pending_documents(session, batch_id)
        settings = get_settings().storage
        limits = IngestLimits(max_members=settings.max_archive_members)
        if batch.source_key is not None:
            return register_inputs(session, store(), batch, [store().path(batch.source_key)], label=batch.name,
                                   limits=limits)
        if settings.import_root is None:
            batch.state, batch.error = BatchState.FAILED.value, "server-side paths are disabled on this worker"
            return []
        # Checked again here, links resolved: the path or a link inside it may have changed since
        # the API accepted it.
        return register_inputs(session, store(), batch, [Path(batch.source_path or "")], limits=limits,
                               confine_to=settings.import_root)


def split(document_id: int) -> list[bool] | None:
    """Open a document, count its pages and mark it processing.

    Returns:
        Per page, whether it needs OCR; None when there is nothing to do (already final, or
        unreadable: the error is recorded on the document).
    """
    with session_scope(sessions()) as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.state in _FINAL:
            return None
        try:
            # The pixel limit before any page is rendered: one 95-megapixel page cost a worker 1.75 GB.
            plan = plan_pages(store().path(doc.blob_key), get_settings().storage.max_page_pixels,
                              pipeline().options.dpi)
        except DocumentError as exc:
            # The reason alone: the path is the store's copy, named by hash, meaningless to people.
            mark_failed(session, doc, exc.reason)
            return None
        doc.pages = len(plan)
        doc.state = DocumentState.PROCESSING.value
        doc.started_at = doc.started_at or dt.datetime.now(dt.UTC)
        return plan


def understand_page(document_id: int, index: int, ocr: bool) -> None:
    """Compute and store one page's record (tokens, layout, tables), once."""
    factory = sessions()
    with session_scope(factory) as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return
        key = page_input_hash(doc.sha256, index)
        if find_page(session, document_id, PAGE_STAGE, key) is not None:
            _log.info("document %d page %d already done", document_id, index)
            return
        path = store().path(doc.blob_key)
    started = time.perf_counter()
    record: PageRecord | None = None
    error: str | None = None
    try:
        with open_document(path) as source:
            record = pipeline().understand_page(source, index)
    except DocumentError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - the pipeline touches no network or database:
        # anything it raises is about this page's data, so it is recorded, not retried.
        _log.exception("document %d page %d failed", document_id, index)
        error = f"{type(exc).__name__}: {exc}"
    with session_scope(factory) as session:
        save_page(session, document_id, index, PAGE_STAGE, key, record, error=error, ocr=ocr,
                  worker=worker_name(), seconds=time.perf_counter() - started)


def finish(document_id: int) -> None:
    """Assemble and validate a document from its stored pages, once per set of page inputs.

    Raises:
        PagesMissing: a page has no stored output yet.
    """
    with session_scope(sessions()) as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.pages is None:
            return
        keys = [page_input_hash(doc.sha256, i) for i in range(doc.pages)]
        finish_key = finish_input_hash(keys)
        if doc.finish_hash == finish_key and doc.state in _FINAL:
            return
        rows = {
            row.index: row
            for row in session.scalars(
                select(PageRow).where(PageRow.document_id == document_id, PageRow.stage == PAGE_STAGE,
                                      PageRow.input_hash.in_(keys))
            )
        }
        missing = [i for i in range(doc.pages) if i not in rows]
        if missing:
            raise PagesMissing(f"document {document_id}: pages {missing} not stored yet")
        item = session.scalars(
            select(BatchDocument).where(BatchDocument.document_id == document_id).order_by(BatchDocument.id)
        ).first()
        result = pipeline().start(
            InputDocument(
                id=item.item_id if item else str(document_id),
                source=item.source if item else doc.blob_key,
                path=store().path(doc.blob_key),
                sha256=doc.sha256,
                size=doc.size,
                kind=DocumentKind(doc.kind),
                format=doc.format,
            )
        )
        result.document.pages = doc.pages
        pages = []
        for index in range(doc.pages):
            row = rows[index]
            if row.record is None:
                result.errors.append(f"page {index + 1}: {row.error}")
            else:
                pages.append(PageRecord.model_validate(row.record))
        result = pipeline().finish(result, pages)
        save_result(session, doc, result, finish_key, pages=pages)


def record_failure(document_id: int, error: str) -> None:
    """Mark a document failed after its task gave up (retries exhausted, unexpected error)."""
    with session_scope(sessions()) as session:
        doc = session.get(Document, document_id)
        if doc is not None and doc.state not in _FINAL:
            mark_failed(session, doc, error)


def reconcile_once(celery):
    """One sweep of the reconciler over the store (:func:`workers.reconcile.reconcile`)."""
    from workers.reconcile import reconcile

    with sessions()() as session:
        return reconcile(session, get_settings().celery, celery)


def chord_failed(celery, document_id: int, error: str) -> None:
    """After a document's chord failed: queue it again after a countdown, count the attempt.

    Each half is tried on its own, so a broker or a database that is down does not stop the
    other: the message alone moves the document on (its pages found stored are skipped), the
    database alone keeps the attempt and the error for the reconciler, which fails the document
    after ``max_attempts``.
    """
    from workers.reconcile import DOCUMENT_TASK
    from workers.tasks.base import TRANSIENT_ERRORS

    settings = get_settings().celery
    try:
        with session_scope(sessions()) as session:
            doc = session.get(Document, document_id)
            if doc is None or doc.state in _FINAL:
                return
            if doc.attempts >= settings.max_attempts:
                mark_failed(session, doc, f"failed {doc.attempts + 1} times; last: {error}")
                return
            doc.attempts += 1
            doc.requeued_at = dt.datetime.now(dt.UTC)
            doc.error = f"retrying (attempt {doc.attempts + 1}) after: {error}"
    except TRANSIENT_ERRORS as exc:
        _log.error("document %d: attempt not recorded (%r); queuing it again all the same", document_id, exc)
    try:
        celery.send_task(DOCUMENT_TASK, args=[document_id], countdown=settings.retries.backoff_max,
                         ignore_result=True)
    except TRANSIENT_ERRORS as exc:
        _log.error("document %d: not queued again (%r); the reconciler will", document_id, exc)
