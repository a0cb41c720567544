"""Cell reading stage: a table's cells read from their own crops of the page, once its grid is known.

Engines: ``heuristic`` (the cell's ink judged against its paper, rules, specks and seals left
out, a lone dash or slash decided by its shape, text lines read by PP-OCR's recogniser, value
cells with their k best readings over the value alphabet). A learned engine subclasses
:class:`CellReaderEngine` with its own options type and is added to
:mod:`extractor.stages.registry`.
"""

from extractor.stages.cells.base import (
    CellReaderEngine,
    CellReaderOptions,
    CellReaderStage,
    CellRecogniser,
    Recogniser,
)
from extractor.stages.cells.heuristic import HeuristicCellReader, HeuristicCellReaderOptions

__all__ = [
    "CellReaderEngine",
    "CellReaderOptions",
    "CellReaderStage",
    "CellRecogniser",
    "HeuristicCellReader",
    "HeuristicCellReaderOptions",
    "Recogniser",
]
