"""Decide which pages of a document need OCR, to route them to the OCR queue."""

from __future__ import annotations

import logging
from pathlib import Path

from extractor.stages.rasterise import PdfSource, open_document
from extractor.stages.structured import StructuredSource

_log = logging.getLogger(__name__)

# A page with fewer characters in its text layer is treated as a scan (a stamp or a page number
# alone does not make a page born-digital).
MIN_TEXT_CHARS = 20


def plan_pages(path: Path) -> list[bool]:
    """For each page of a document, whether it will need OCR.

    The probe only counts text-layer characters; the page task still applies the pipeline's
    full text-layer checks and OCRs a page whose layer turns out unusable, so a wrong guess
    costs queue placement, never correctness.

    Raises:
        DocumentError: the document cannot be opened.
    """
    with open_document(path) as source:
        if isinstance(source, StructuredSource):
            return [False] * len(source)  # HTML, DOCX, OFD: text read from the file, never OCR
        if not isinstance(source, PdfSource):
            return [True] * len(source)
        plan = []
        for index in range(len(source)):
            page = source.document[index]
            try:
                textpage = page.get_textpage()
                try:
                    plan.append(textpage.count_chars() < MIN_TEXT_CHARS)
                finally:
                    textpage.close()
            finally:
                page.close()
        return plan
