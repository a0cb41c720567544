"""Enqueue work by task name, without importing the tasks (and the pipeline behind them).

The API and the CLI call these after their database commit. Nothing waits for these tasks'
results (``ignore_result``): asking for one makes Celery subscribe to the result backend as it
sends, and with Redis down that retried for 20 s and then raised a RuntimeError (a 500) instead
of the broker's error the caller handles.
"""

from __future__ import annotations

import logging

from workers.app import app

_log = logging.getLogger(__name__)


def enqueue_batch(batch_id: str) -> None:
    """Ask a worker to unpack a stored batch input."""
    app.send_task("workers.tasks.batches.ingest_batch", args=[batch_id], ignore_result=True)


def enqueue_documents(document_ids: list[int]) -> None:
    """Ask workers to process documents (already registered and committed)."""
    for document_id in document_ids:
        app.send_task("workers.tasks.documents.process_document", args=[document_id], ignore_result=True)

