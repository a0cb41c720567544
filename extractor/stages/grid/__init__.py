"""Grid stage: the rows, columns and merged cells of a table region, and tables joined across pages.

Engines: ``opencv`` (ruling lines by morphology, with a token-alignment fallback for borderless
or half-ruled tables). :func:`join_continued` runs once per document, after every page's tables.
"""

from __future__ import annotations

from extractor.stages.grid.join import join_continued
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


__all__ = ["GridOptions", "GridStage", "create_grid_stage", "get_grid_registry", "join_continued"]
