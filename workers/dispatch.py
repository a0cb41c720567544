"""Enqueue work by task name, without importing the tasks (and the pipeline behind them).

The API and the CLI call these after their database commit.
"""

from __future__ import annotations

import logging

from celery import Celery
from sqlalchemy.orm import Session

from workers.app import app

_log = logging.getLogger(__name__)


def enqueue_batch(batch_id: str) -> None:
    """Ask a worker to unpack a stored batch input."""
    app.send_task("workers.tasks.batches.ingest_batch", args=[batch_id])


def enqueue_documents(document_ids: list[int]) -> None:
    """Ask workers to process documents (already registered and committed)."""
    for document_id in document_ids:
        app.send_task("workers.tasks.documents.process_document", args=[document_id])


def resume_batch(session: Session, batch_id: str, celery: Celery | None = None) -> list[int] | None:
    """Queue again what a batch still needs, after the broker lost its messages (Redis restarted empty).

    A batch never unpacked gets its ingest task again; otherwise every document neither done nor
    failed gets its document task again. Safe while the old tasks are still queued too: every
    step finds its stored output and does nothing twice.

    Returns:
        The documents queued again, or None when the batch's ingest was queued again.

    Raises:
        KeyError: there is no such batch.
    """
    from extractor.storage import Batch, BatchState, unfinished_documents

    celery = celery or app
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise KeyError(batch_id)
    if batch.state == BatchState.RECEIVED.value:
        celery.send_task("workers.tasks.batches.ingest_batch", args=[batch_id])
        return None
    todo = unfinished_documents(session, batch_id)
    for document_id in todo:
        celery.send_task("workers.tasks.documents.process_document", args=[document_id])
    _log.info("batch %s resumed: %d documents queued again", batch_id, len(todo))
    return todo
