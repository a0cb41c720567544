"""Document tasks: fan a document out into page tasks, join them to assemble (queue: documents)."""

from __future__ import annotations

import logging

from celery import chord

from workers import steps
from workers.app import app
from workers.tasks.base import DocumentTask

_log = logging.getLogger(__name__)

# Seconds between checks when the assembly finds a page not stored yet.
_MISSING_PAGE_COUNTDOWN = 5
# Checks before giving up on a missing page (the document is then marked failed).
_MISSING_PAGE_RETRIES = 60


@app.task(base=DocumentTask)
def process_document(document_id: int) -> int:
    """Split a document into page tasks (OCR pages to their own queue) joined by assembly.

    The join carries an error callback (:func:`chord_failed`): a page task that failed for good,
    or a join that could not be counted, queues the document again instead of leaving it
    ``processing`` with nothing left to move it.
    """
    from workers.tasks import ocr, pages

    plan = steps.split(document_id)  # committed before anything is enqueued
    if plan is None:
        return 0
    if not plan:
        finish_document.delay(document_id)
        return 0
    header = [
        (ocr.understand_page if needs_ocr else pages.understand_page).si(document_id, index)
        for index, needs_ocr in enumerate(plan)
    ]
    body = finish_document.si(document_id)
    body.link_error(chord_failed.s(document_id))
    chord(header)(body)
    return len(plan)


@app.task(base=DocumentTask, bind=True)
def finish_document(self, document_id: int) -> None:
    """Assemble and validate the document from its stored page records."""
    try:
        steps.finish(document_id)
    except steps.PagesMissing as exc:
        raise self.retry(exc=exc, countdown=_MISSING_PAGE_COUNTDOWN, max_retries=_MISSING_PAGE_RETRIES) from exc


@app.task
def chord_failed(request, exc, traceback, document_id: int) -> None:
    """Error callback of a document's chord: queue the document again, or record why it failed.

    Celery calls it in the worker that saw the failure (a page task out of retries, a
    ``ChordError`` from the join), with whatever is broken still broken, so it needs only one of
    the two: :func:`workers.steps.chord_failed` queues the document again through the broker
    after a countdown (no database needed) and counts the attempt in the database when it can;
    with neither reachable it logs, and the reconciler queues the document once its deadline passes.
    """
    _log.warning("chord of document %s failed: %r", document_id, exc)
    steps.chord_failed(app, document_id, f"{type(exc).__name__}: {exc}")
