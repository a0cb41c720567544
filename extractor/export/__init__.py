"""Research dataset export: wide and long tables, a codebook and a manifest, in four formats."""

from extractor.export.bundle import ExportBundle, Layout, export_batch
from extractor.export.codebook import codebook
from extractor.export.frame import Column, ColumnKind, Frame, stata_name
from extractor.export.tables import Selection, batch_results, long_frame, wide_frame
from extractor.export.writers import ExportFormat, write_bytes

__all__ = [
    "Column",
    "ColumnKind",
    "ExportBundle",
    "ExportFormat",
    "Frame",
    "Layout",
    "Selection",
    "batch_results",
    "codebook",
    "export_batch",
    "long_frame",
    "stata_name",
    "wide_frame",
    "write_bytes",
]
