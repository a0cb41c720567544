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

# Options type -> stage class; build with :func:`create_grid_stage`.
_REGISTRY: dict[str, type[GridStage]] = {GridOptions.kind: GridStage}


def get_grid_registry() -> dict[str, type[GridStage]]:
    """Known grid engines by kind."""
    return dict(_REGISTRY)


def create_grid_stage(options: GridOptions) -> GridStage:
    """The grid stage for `options`.

    Raises:
        ValueError: the options' kind has no engine (the message lists the known kinds).
    """
    try:
        return _REGISTRY[options.kind](options)
    except KeyError:
        raise ValueError(f"unknown grid engine {options.kind!r}; known: {sorted(_REGISTRY)}") from None


def document_tables(tables: list[Table]) -> list[Table]:
    """A document's tables as the assembler takes them: joined across pages, merged values split
    (cells merged in one row, then columns whose rules were lost in every row)."""
    return [split_lost_columns(split_merged_values(t)) for t in join_continued(tables)]


__all__ = ["GridOptions", "GridStage", "create_grid_stage", "document_tables", "get_grid_registry", "join_continued"]
