"""Find the work that stopped moving: batches never unpacked, documents without progress.

A batch stays ``received`` when its ingest message never reached the broker (the broker was
down at upload) or was lost; a document stays ``queued`` or ``processing`` when its messages
were lost (a broker restarted without its data, a chord whose join failed) or every retry of
a task ran out during an outage. Nothing inside Celery notices either: these queries do, by
time since the last sign of life, for the reconciler (:mod:`workers.reconcile`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extractor.storage.models import Batch, BatchState, Document, DocumentState, PageRow

_log = logging.getLogger(__name__)

# Document states that still need work.
_UNFINISHED = (DocumentState.QUEUED.value, DocumentState.PROCESSING.value)


@dataclass(frozen=True)
class StuckWork:
    """What the reconciler should queue again (or give up on)."""

    batches: list[str]  # ids of batches still `received` past the deadline
    documents: list[int]  # ids of queued/processing documents without progress past the deadline


def find_stuck(session: Session, now: dt.datetime, stuck_after: float, limit: int = 1000) -> StuckWork:
    """Batches and documents with no sign of life for `stuck_after` seconds.

    A document's last sign of life is the latest of its registration, its start, its last
    requeue and its last stored page, so a long document whose pages keep arriving is never
    stuck. Rows another reconciler has locked (PostgreSQL ``SKIP LOCKED``) are passed over, so
    two sweeps at once do not both queue the same work.

    Args:
        session: an open session; the rows found stay locked until it ends.
        now: the time of the sweep.
        stuck_after: seconds without progress.
        limit: most batches and most documents returned per sweep.
    """
    deadline = now - dt.timedelta(seconds=stuck_after)
    batches = session.scalars(
        select(Batch.id)
        .where(Batch.state == BatchState.RECEIVED.value, Batch.created_at < deadline,
               (Batch.requeued_at.is_(None)) | (Batch.requeued_at < deadline))
        .order_by(Batch.created_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    last_page = (
        select(func.max(PageRow.created_at)).where(PageRow.document_id == Document.id).correlate(Document)
        .scalar_subquery()
    )
    documents = session.scalars(
        select(Document.id)
        .where(Document.state.in_(_UNFINISHED), Document.created_at < deadline,
               (Document.started_at.is_(None)) | (Document.started_at < deadline),
               (Document.requeued_at.is_(None)) | (Document.requeued_at < deadline),
               (last_page.is_(None)) | (last_page < deadline))
        .order_by(Document.id).limit(limit).with_for_update(skip_locked=True, of=Document)
    ).all()
    return StuckWork(batches=list(batches), documents=list(documents))
