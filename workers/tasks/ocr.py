"""Page tasks for scanned pages that need OCR (queue: ocr, routed by this module's name)."""

from __future__ import annotations

from workers import steps
from workers.app import app
from workers.tasks.base import DocumentTask


@app.task(base=DocumentTask)
def understand_page(document_id: int, index: int) -> int:
    """Store the page record of one scanned page; returns its index for the chord."""
    steps.understand_page(document_id, index, ocr=True)
    return index
