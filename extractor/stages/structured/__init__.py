"""Reports published as documents with their own structure: HTML pages, Word (DOCX), OFD.

They are read into the same page records as PDFs (tokens, tables of cells), so the grid join,
the assembler, validation, review and export do not know where a report came from.
"""

from extractor.stages.structured.layout import LaidOutPage
from extractor.stages.structured.render import draw_page
from extractor.stages.structured.source import (
    STRUCTURED_FORMATS,
    StructuredSource,
    open_structured,
    structured_format,
)

__all__ = ["STRUCTURED_FORMATS", "LaidOutPage", "StructuredSource", "draw_page", "open_structured", "structured_format"]
