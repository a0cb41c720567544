"""The heuristic cell reader, in modules by concern.

``sizes`` (pixel lengths from the table's text height), ``ink`` (ink against the paper),
``noise`` (rule pieces and specks), ``seals``, ``shapes`` (a lone slash or dash, a faint
digit's blob), ``lines`` (text lines, their crops), ``cell`` (one cell judged), ``candidates``
(readings and the k best of a cell) and ``engine`` (a table read).
"""

from extractor.stages.cells.heuristic.engine import HeuristicCellReader
from extractor.stages.cells.heuristic.options import HeuristicCellReaderOptions

__all__ = ["HeuristicCellReader", "HeuristicCellReaderOptions"]
