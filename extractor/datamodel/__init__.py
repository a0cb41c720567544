"""Typed records that cross stage boundaries (pydantic, JSON-serialisable)."""

from extractor.datamodel.geometry import BBox
from extractor.datamodel.page import LayoutRegion, PageRecord, TextToken, TokenSource, reading_lines
from extractor.datamodel.result import (
    CheckResult,
    DocumentInfo,
    DocumentResult,
    FieldStatus,
    FieldValue,
    ReportMeta,
)
from extractor.datamodel.table import Cell, Table

__all__ = [
    "BBox",
    "Cell",
    "CheckResult",
    "DocumentInfo",
    "DocumentResult",
    "FieldStatus",
    "FieldValue",
    "LayoutRegion",
    "PageRecord",
    "ReportMeta",
    "Table",
    "TextToken",
    "TokenSource",
    "reading_lines",
]
