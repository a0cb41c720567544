"""Queue again what a batch still needs after the broker lost its messages (``nianbao resume``).

Kept apart from :mod:`workers.dispatch`, whose import creates the process's Celery app from the
settings in force at that moment: a caller with its own app (a test on a private broker) passes
it and never creates the global one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from celery import Celery

_log = logging.getLogger(__name__)


def resume_batch(session: Session, batch_id: str, celery: Celery | None = None) -> list[int] | None:
    """Queue again what a batch still needs, after the broker lost its messages (Redis restarted empty).

    A batch never unpacked gets its ingest task again; otherwise every document neither done nor
    failed gets its document task again. Safe while the old tasks are still queued too: every
    step finds its stored output and does nothing twice.

    Args:
        session: an open session.
        batch_id: the batch.
        celery: the app to send with; the process's (``workers.app.app``) when None.

    Returns:
        The documents queued again, or None when the batch's ingest was queued again.

    Raises:
        KeyError: there is no such batch.
    """
    from extractor.storage import Batch, BatchState, unfinished_documents

    batch = session.get(Batch, batch_id)
    if batch is None:
        raise KeyError(batch_id)
    received = batch.state == BatchState.RECEIVED.value
    todo = [] if received else unfinished_documents(session, batch_id)
    if (received or todo) and celery is None:
        # Only now: the import creates the process's app (and its broker settings).
        from workers.app import app as celery
    if received:
        celery.send_task("workers.tasks.batches.ingest_batch", args=[batch_id], ignore_result=True)
        return None
    for document_id in todo:
        celery.send_task("workers.tasks.documents.process_document", args=[document_id], ignore_result=True)
    _log.info("batch %s resumed: %d documents queued again", batch_id, len(todo))
    return todo
