"""Page tasks for pages with a text layer (queue: pages)."""

from __future__ import annotations

from workers import steps
from workers.app import app
from workers.tasks.base import DocumentTask


@app.task(base=DocumentTask)
def understand_page(document_id: int, index: int) -> int:
    """Store the page record of one page; returns its index for the chord."""
    steps.understand_page(document_id, index, ocr=False)
    return index
