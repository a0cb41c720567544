"""Cell reading stage interface: options, the engine contract and the stage.

Once a table's grid is known, each cell is read from its own crop of the page (full-page OCR
finds text lines that cross cell borders on scans and reads the ruling lines as "1" or "|").
An engine reads the cells of one table; the stage builds the engine its options ask for
(:mod:`extractor.stages.registry`) and hands it the recognisers it is given.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from extractor.datamodel import Table
from extractor.stages.ocr.ctc import CtcReading
from extractor.stages.registry import create_instance

_log = logging.getLogger(__name__)

# Evidence of a cell judged blank from its lack of ink, without a reading (`Cell.evidence`).
BLANK_BY_INK = "ink:blank"
# Recognition only, one ``(text, score)`` per crop (RGB, one text line each).
Recogniser = Callable[[list[np.ndarray]], Sequence[tuple[str, float]]]
# A cell recogniser may also give each crop's k best readings over the value alphabet.
CellRecogniser = Callable[[list[np.ndarray]], Sequence[CtcReading | tuple[str, float]]]


class CellReaderOptions(BaseModel):
    """Options of the cell reading stage; each engine subclasses this with its own `kind`."""

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[str]


class CellReaderEngine(ABC):
    """A cell reader: a table's cells read from their crops of the page image.

    Args:
        options: the engine's options.
        recognise: recognition-only OCR of one text line per crop, giving a :class:`CtcReading`
            with the crop's best readings over the value alphabet, or a plain ``(text, score)``
            (the OCR stage's ``read_cell_crops``).
        recognise_text: a faster recogniser for lines of label text, or None to read every line
            with `recognise` (the OCR stage's ``recognise_prose_crops``).
    """

    def __init__(
        self, options: CellReaderOptions, recognise: CellRecogniser, recognise_text: Recogniser | None = None
    ) -> None:
        self.options = options
        self.recognise = recognise
        self.recognise_text = recognise_text

    @classmethod
    @abstractmethod
    def get_options_type(cls) -> type[CellReaderOptions]:
        """The options class this engine is built from."""

    @abstractmethod
    def read(self, table: Table, image: np.ndarray, dpi: float, only: Collection[int] | None = None) -> Table:
        """The table with its cells read (see :meth:`CellReaderStage.predict`)."""


class CellReaderStage:
    """Reads table cells from their crops with the engine chosen by the options' kind."""

    def __init__(
        self, options: CellReaderOptions, recognise: CellRecogniser, recognise_text: Recogniser | None = None
    ) -> None:
        """Build the engine of `options` (see :class:`CellReaderEngine` for the recognisers).

        Raises:
            extractor.stages.registry.UnknownEngineError: no engine has the options' kind.
        """
        self.options = options
        self.engine: CellReaderEngine = create_instance(options, recognise=recognise, recognise_text=recognise_text)

    def predict(self, table: Table, image: np.ndarray, dpi: float, only: Collection[int] | None = None) -> Table:
        """The table with every cell's text, score, candidates and evidence read from its crop.

        Args:
            table: a grid whose cell boxes are in pixels of `image`.
            image: the page, RGB, uprighted as for the grid stage.
            dpi: resolution of `image`.
            only: positions in ``table.cells`` of the cells to read, the others left as they
                are; None reads them all. The whole table is still looked at (its text's
                height is measured over all its cells).

        Returns:
            A copy of `table`; its cell boxes, spans and order are unchanged.
        """
        return self.engine.read(table, image, dpi, only)
