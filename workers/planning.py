"""Decide which pages of a document need OCR, to route them to the OCR queue."""

from __future__ import annotations

import logging
from pathlib import Path

from extractor.stages.rasterise import DocumentError, ImageSource, PdfSource, open_document
from extractor.stages.structured import StructuredSource

_log = logging.getLogger(__name__)

# A page with fewer characters in its text layer is treated as a scan (a stamp or a page number
# alone does not make a page born-digital).
MIN_TEXT_CHARS = 20


def plan_pages(path: Path, max_page_pixels: int | None = None, dpi: float = 200.0) -> list[bool]:
    """For each page of a document, whether it will need OCR.

    The probe only counts text-layer characters; the page task still applies the pipeline's
    full text-layer checks and OCRs a page whose layer turns out unusable, so a wrong guess
    costs queue placement, never correctness.

    Args:
        path: the document's file.
        max_page_pixels: refuse the document when a page would render larger than this (pixels
            at `dpi`; an image page at its own size); None: no limit here.
        dpi: the pipeline's rendering resolution.

    Raises:
        DocumentError: the document cannot be opened, or a page is over the pixel limit.
    """
    with open_document(path) as source:
        if isinstance(source, StructuredSource):
            return [False] * len(source)  # HTML, DOCX, OFD: text read from the file, never OCR
        if not isinstance(source, PdfSource):
            if max_page_pixels is not None and isinstance(source, ImageSource):
                for index in range(len(source)):
                    frame = source.frame(index)  # the header only: pixels are decoded when the page is read
                    _check_pixels(path, index, frame.width, frame.height, max_page_pixels)
            return [True] * len(source)
        plan = []
        for index in range(len(source)):
            page = source.document[index]
            try:
                if max_page_pixels is not None:
                    width_pt, height_pt = page.get_size()  # PDF points, 1/72 inch
                    _check_pixels(path, index, round(width_pt / 72 * dpi), round(height_pt / 72 * dpi),
                                  max_page_pixels)
                textpage = page.get_textpage()
                try:
                    plan.append(textpage.count_chars() < MIN_TEXT_CHARS)
                finally:
                    textpage.close()
            finally:
                page.close()
        return plan


def _check_pixels(path: Path, index: int, width: int, height: int, limit: int) -> None:
    if width * height > limit:
        raise DocumentError(
            str(path), f"page {index + 1} would be {width}×{height} px ({width * height / 1e6:.0f} megapixels), more "
            f"than the limit of {limit / 1e6:.0f} (NIANBAO_STORAGE__MAX_PAGE_PIXELS): not read")
