"""Batch tasks: unpack an uploaded archive into documents; the reconciler's sweep (queue: batches)."""

from __future__ import annotations

import logging

from workers import steps
from workers.app import app
from workers.tasks.base import NianbaoTask

_log = logging.getLogger(__name__)


@app.task(base=NianbaoTask)
def ingest_batch(batch_id: str) -> int:
    """Register the batch's documents, then enqueue them (after the commit)."""
    from workers.tasks.documents import process_document

    document_ids = steps.ingest(batch_id)
    for document_id in document_ids:
        process_document.delay(document_id)
    return len(document_ids)


@app.task(base=NianbaoTask, max_retries=0)
def reconcile() -> dict[str, int]:
    """Queue again what stopped moving (Celery beat sends this every ``reconcile_interval`` s).

    Not retried: the next sweep comes soon enough, and a retried sweep would only overlap it.
    """
    report = steps.reconcile_once(app)
    return {"batches": len(report.batches), "documents": len(report.documents), "failed": len(report.failed)}
