"""The reconciler: queue again what stopped moving, so no batch or document stays unfinished for good.

One pure sweep over the database (:func:`reconcile`), run every ``reconcile_interval`` seconds
by Celery beat (``workers.tasks.batches.reconcile``) and once by ``nianbao reconcile``. Queuing
again is always safe: every step finds its stored output and does nothing twice. A document
queued again ``max_attempts`` times without finishing is failed with the reason, so it cannot
stay ``processing`` either.

Kept apart from :mod:`workers.dispatch`, whose import creates the process's Celery app: a caller
with its own app (a test on a private broker) passes it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from extractor.settings import CelerySettings

if TYPE_CHECKING:
    from celery import Celery

_log = logging.getLogger(__name__)

# Task names, sent by name so this module imports no task (nor the pipeline behind them).
INGEST_TASK = "workers.tasks.batches.ingest_batch"
DOCUMENT_TASK = "workers.tasks.documents.process_document"


@dataclass
class ReconcileReport:
    """What one sweep did."""

    batches: list[str] = field(default_factory=list)  # batches whose ingest was queued again
    documents: list[int] = field(default_factory=list)  # documents queued again
    failed: list[int] = field(default_factory=list)  # documents given up on (max_attempts reached)
    error: str | None = None  # why the sweep stopped early (the broker is down); None: it did not

    def describe(self) -> str:
        text = (f"{len(self.batches)} batches and {len(self.documents)} documents queued again, "
                f"{len(self.failed)} documents failed after too many attempts")
        return text + (f"; stopped: {self.error}" if self.error else "")


def reconcile(session: Session, settings: CelerySettings, celery: Celery | None = None,
              now: dt.datetime | None = None) -> ReconcileReport:
    """Queue again every batch and document stuck past ``settings.stuck_after``; commits.

    Steps:
        1. Find the stuck work (:func:`extractor.storage.stuck.find_stuck`), rows locked.
        2. A batch never unpacked gets its ingest task again.
        3. A document queued again ``max_attempts`` times already is failed, with the reason.
        4. Every other stuck document gets its document task again, and its attempt counted.
        5. A broker error stops the sweep; what was sent is committed, the rest waits for the next.

    Args:
        session: an open session.
        settings: deadlines and attempts (``CelerySettings``).
        celery: the app to send with; the process's (``workers.app.app``) when None.
        now: the time of the sweep (tests); the clock when None.
    """
    from extractor.storage import Batch, Document
    from extractor.storage.results import mark_failed
    from extractor.storage.stuck import find_stuck
    from workers.tasks.base import TRANSIENT_ERRORS

    now = now or dt.datetime.now(dt.UTC)
    report = ReconcileReport()
    stuck = find_stuck(session, now, settings.stuck_after)
    if (stuck.batches or stuck.documents) and celery is None:
        # Only now: the import creates the process's app (and its broker settings).
        from workers.app import app as celery
    try:
        for batch_id in stuck.batches:
            celery.send_task(INGEST_TASK, args=[batch_id], ignore_result=True)
            session.get(Batch, batch_id).requeued_at = now
            report.batches.append(batch_id)
        for document_id in stuck.documents:
            doc = session.get(Document, document_id)
            if doc.attempts >= settings.max_attempts:
                mark_failed(session, doc, f"no progress after {doc.attempts} attempts, {settings.stuck_after} s "
                                          f"each (last error: {doc.error or 'none'})")
                report.failed.append(document_id)
                continue
            celery.send_task(DOCUMENT_TASK, args=[document_id], ignore_result=True)
            doc.requeued_at, doc.attempts = now, doc.attempts + 1
            report.documents.append(document_id)
    except TRANSIENT_ERRORS as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        _log.warning("reconciler stopped: %s", report.error)
    session.commit()
    if report.batches or report.documents or report.failed:
        _log.warning("reconciler: %s", report.describe())
    return report
