"""Grid stage: the rows, columns and merged cells of a table region, and tables joined across pages.

Engines: ``opencv`` (ruling lines by morphology, with a token-alignment fallback for borderless
or half-ruled tables). :func:`document_tables` runs once per document, after every page's tables
have their cells read: it joins continued tables and splits cells merged where a rule was lost.
"""

from __future__ import annotations

from extractor.datamodel import Table
from extractor.stages.grid.join import join_continued
from extractor.stages.grid.split import split_lost_columns, split_merged_values
from extractor.stages.grid.stage import GridOptions, GridStage

def document_tables(tables: list[Table]) -> list[Table]:
    """A document's tables as the assembler takes them: joined across pages, merged values split
    (cells merged in one row, then columns whose rules were lost in every row)."""
    return [split_lost_columns(split_merged_values(t)) for t in join_continued(tables)]


__all__ = ["GridOptions", "GridStage", "document_tables", "join_continued"]
