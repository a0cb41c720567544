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
    """Split a document into page tasks (OCR pages to their own queue) joined by assembly."""
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
    chord(header)(finish_document.si(document_id))
    return len(plan)


@app.task(base=DocumentTask, bind=True)
def finish_document(self, document_id: int) -> None:
    """Assemble and validate the document from its stored page records."""
    try:
        steps.finish(document_id)
    except steps.PagesMissing as exc:
        raise self.retry(exc=exc, countdown=_MISSING_PAGE_COUNTDOWN, max_retries=_MISSING_PAGE_RETRIES) from exc
