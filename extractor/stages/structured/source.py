"""Open HTML, DOCX and OFD files as page sources, alongside PDFs and images.

A :class:`StructuredSource` behaves like the rasterise stage's sources (``len``, ``close``, a
context manager) and gives each page as a :class:`LaidOutPage`: for HTML and DOCX the page
record is complete (tokens and tables read from the document's own structure), for OFD its
tables are left for the layout and grid stages to find on the drawn page.
"""

from __future__ import annotations

import logging
from pathlib import Path

from extractor.stages.rasterise.errors import DocumentError
from extractor.stages.structured.blocks import Block, TableBlock
from extractor.stages.structured.detect import looks_like_html, zip_document_format
from extractor.stages.structured.layout import LaidOutPage, lay_out

_log = logging.getLogger(__name__)

# Formats read here: HTML page, Word (Office Open XML) document, OFD (GB/T 33190).
STRUCTURED_FORMATS = ("html", "docx", "ofd")
# Largest HTML page read, bytes (a saved report page is well under 1 MB; its images are separate).
MAX_HTML_BYTES = 32 * 1024 * 1024
# The words of the first data row of a section 三 table: one such table per report.
_APPLY_WORDS = ("本年新收",)
# How each format is named in messages.
_NAMES = {"html": "HTML page", "docx": "Word document", "ofd": "OFD file"}


def structured_format(path: Path, head: bytes) -> str | None:
    """``"html"``, ``"docx"`` or ``"ofd"`` when the file is one of them (from its content), else None."""
    if looks_like_html(head):
        return "html"
    if head.startswith(b"PK\x03\x04"):
        found = zip_document_format(path)
        if found in STRUCTURED_FORMATS:
            return found
    return None


class StructuredSource:
    """An opened HTML, DOCX or OFD file.

    Attributes:
        path: the file.
        format: ``html``, ``docx`` or ``ofd``.
    """

    def __init__(self, path: Path, format: str, blocks: list[Block] | None = None) -> None:  # noqa: A002
        self.path = path
        self.format = format
        self._blocks = blocks
        self._pages: dict[float, list[LaidOutPage]] = {}
        self._n_pages = 1 if blocks is not None else len(self.pages(200.0))

    def __len__(self) -> int:
        return self._n_pages

    def pages(self, dpi: float) -> list[LaidOutPage]:
        """Every page laid out (HTML, DOCX) or read (OFD) at `dpi`."""
        if dpi not in self._pages:
            if self._blocks is not None:
                self._pages[dpi] = [lay_out(self._blocks, dpi)]
            else:
                from extractor.stages.structured.ofd import read_ofd

                self._pages[dpi] = read_ofd(self.path, dpi, str(self.path))
        return self._pages[dpi]

    def page(self, index: int, dpi: float) -> LaidOutPage:
        pages = self.pages(dpi)
        if not 0 <= index < len(pages):
            raise IndexError(f"page {index} out of range 0..{len(pages) - 1}")
        return pages[index]

    def close(self) -> None:
        self._pages.clear()

    def __enter__(self) -> StructuredSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_structured(path: str | Path, format: str) -> StructuredSource:  # noqa: A002
    """Open an HTML page, a Word document or an OFD file.

    Raises:
        DocumentError: the file cannot be read, or (HTML, DOCX) holds no report or several.
    """
    path = Path(path)
    source = str(path)
    if format == "html":
        from extractor.stages.structured.html import read_html

        try:
            size = path.stat().st_size
            if size > MAX_HTML_BYTES:
                raise DocumentError(source, f"HTML page of {size:,} bytes exceeds the limit of {MAX_HTML_BYTES:,}")
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(source, f"cannot be read ({exc})") from exc
        return StructuredSource(path, format, read_html(data, source))
    if format == "docx":
        from extractor.stages.structured.docx import read_docx

        blocks = read_docx(path, source)
        check_one_report(blocks, source, format)
        return StructuredSource(path, format, blocks)
    if format == "ofd":
        return StructuredSource(path, format)
    raise ValueError(f"unknown structured format {format!r}; known: {', '.join(STRUCTURED_FORMATS)}")


def check_one_report(blocks: list[Block], source: str, format: str) -> None:  # noqa: A002
    """Refuse a document whose tables hold no report or several (one section 三 table each).

    Raises:
        DocumentError: naming what was found.
    """
    name = _NAMES.get(format, format)
    apply_tables = [b for b in blocks if isinstance(b, TableBlock) and any(w in b.text() for w in _APPLY_WORDS)]
    if not apply_tables:
        raise DocumentError(source, f"the {name} holds no annual report: no table of section 三 (本年新收…) was found")
    if len(apply_tables) > 1:
        raise DocumentError(
            source, f"the {name} holds {len(apply_tables)} reports (one section 三 table each): split it, one report a file"
        )
