"""The heuristic cell reader: each cell's ink judged on its crop, its text lines read by PP-OCR.

Recognising each cell's interior alone skips the (costly) detection step, and lets blank
cells be decided from ink instead of from a model.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from extractor.datamodel import Table
from extractor.stages.cells.base import BLANK_BY_INK, CellReaderEngine
from extractor.stages.cells.heuristic.candidates import cell_candidates, recognise_lines, second_opinion
from extractor.stages.cells.heuristic.cell import CellInk, cell_ink, inked_interior, min_line_height
from extractor.stages.cells.heuristic.lines import line_crops, line_heights, typical_line_height, whole_line_heights
from extractor.stages.cells.heuristic.noise import without_side_rules
from extractor.stages.cells.heuristic.options import HeuristicCellReaderOptions
from extractor.stages.cells.heuristic.shapes import Dash, dash_text
from extractor.stages.cells.heuristic.sizes import measured_unit, unit_for_dpi
from extractor.stages.ocr.ctc import CtcReading

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _LineCrop:
    cell_index: int  # position of the cell in table.cells
    image: np.ndarray  # RGB crop of one text line, padded


@dataclass(frozen=True)
class TableText:
    """What a table's text measures, and its cells as judged to measure it."""

    line: float | None  # median height of its text lines, px; None when no cell holds a line
    unit: float  # page pixels per pixel of text as high as a 200 dpi scan's (`sizes.measured_unit`)
    judged: dict[int, CellInk | Dash | str | None]  # each cell (by position) judged at the resolution's unit


def measure_text(table: Table, image: np.ndarray, dpi: float, options: HeuristicCellReaderOptions) -> TableText:
    """Every cell of `table` judged with lengths for `dpi`, and its text measured: the median
    line, and the unit of lengths from the height of whole characters (:func:`.sizes.measured_unit`)."""
    first = unit_for_dpi(dpi)
    judged = {i: cell_ink(image, cell, first, options) for i, cell in enumerate(table.cells)}
    inked = [p for p in judged.values() if isinstance(p, CellInk)]
    heights = line_heights(inked)
    line = typical_line_height(heights)
    unit = measured_unit(heights, whole_line_heights(inked, min_line_height(options, first)), dpi)
    _log.debug("cells: %d lines, median %s px, unit %.2f (the resolution's %.2f)", len(heights), line, unit, first)
    return TableText(line, unit, judged)


class HeuristicCellReader(CellReaderEngine):
    """Cells read from their crops: ink measured against the paper, rules and specks left out,
    lone dashes and slashes decided by their shape, text lines read by the recognisers."""

    options: HeuristicCellReaderOptions

    @classmethod
    def get_options_type(cls) -> type[HeuristicCellReaderOptions]:
        return HeuristicCellReaderOptions

    def read(self, table: Table, image: np.ndarray, dpi: float, only: Collection[int] | None = None) -> Table:
        """The table with its cells (those at the positions `only`, or all) read from their crops
        of `image`.

        Steps:
            1. Measure the table's text: every cell's ink judged with lengths for `dpi`, the
               heights of their text lines taken: the median line (`typical_line_height`), and
               the whole characters' height, on the strict ink and with the faint strokes, which
               sets the unit of lengths (:func:`.sizes.measured_unit`).
            2. Crop each cell to read, clear ruling-line remnants at its edges, and call it blank
               when little ink is left; a lone "/" or dash is decided by its shape. Lengths are
               now in proportion to the measured text height.
            3. Split the ink into text lines (labels wrap; vertical labels hold one character per
               line), putting the pieces of a broken character back together by the median line.
            4. Recognise all lines of the table in one batch (recognition only, no detection);
               wide lines of label text by the text recogniser first (`recognise_lines`). A cell
               decided by its shape, or judged blank with some ink, is read too: a second opinion.
            5. Join each cell's lines; the cell score is its lowest line score (1.0 for a blank
               cell), its candidates the best combinations of its lines' value-alphabet readings,
               its evidence what decided it. The text is kept as read: marks around a number are
               the assembler's to judge (:func:`extractor.stages.assemble.values.parse_value`
               keeps them in ``raw`` and flags the field).

        Args:
            table: a grid whose cell boxes are in pixels of `image`.
            image: the page, RGB, uprighted as for the grid stage.
            dpi: resolution of `image`.
            only: positions in ``table.cells`` of the cells to read; None reads them all. The
                text is measured over all cells.
        """
        options = self.options
        text = measure_text(table, image, dpi, options)
        line, unit = text.line, text.unit
        wanted = range(len(table.cells)) if only is None else sorted(set(only))
        if unit == unit_for_dpi(dpi):
            prepared = {i: text.judged[i] for i in wanted}
        else:
            prepared = {i: cell_ink(image, table.cells[i], unit, options) for i in wanted}
        min_height = min_line_height(options, unit)
        crops: list[_LineCrop] = []
        texts: dict[int, list[str]] = {}
        evidence: dict[int, list[str]] = {}
        second: dict[int, np.ndarray] = {}  # cells decided without the recogniser, read by it as well
        for i, p in prepared.items():
            if isinstance(p, str):
                texts[i], evidence[i] = [p], ["shape:slash"]
            elif isinstance(p, Dash):
                texts[i], evidence[i] = [dash_text(p, line)], ["shape:dash"]
            elif p is not None and (kept := without_side_rules(p, line, min_height, unit)):
                crops.extend(
                    _LineCrop(i, crop) for crop in line_crops(kept, line, options.margin_y, options.margin_x, unit)
                )
                evidence[i] = ["seal-removed"] if p.seal_removed else []
                continue
            else:
                evidence[i] = [BLANK_BY_INK]
            interior = inked_interior(image, table.cells[i], unit, options, None if isinstance(p, Dash) else line)
            if interior is not None:
                second[i] = interior
        order = list(second)
        results = recognise_lines(
            [c.image for c in crops] + [second[i] for i in order], self.recognise, self.recognise_text, options
        )
        lines: dict[int, list[CtcReading]] = {}
        for crop, reading in zip(crops, results[: len(crops)], strict=True):
            lines.setdefault(crop.cell_index, []).append(reading)
        recognised = dict(zip(order, results[len(crops):], strict=True))
        cells = list(table.cells)
        for i, p in prepared.items():
            read = lines.get(i, [])
            candidates = cell_candidates(read)
            notes = evidence[i] + ([f"alphabet:n-best {len(candidates)}"] if candidates else [])
            score = min((r.score for r in read), default=1.0)
            text = "".join(texts.get(i, []))
            if i in recognised and (doubt := second_opinion(text, recognised[i], stroke=isinstance(p, (Dash, str)))):
                candidates, score = doubt
                notes.append(f"recogniser read {candidates[1][0]!r}")
            cells[i] = cells[i].model_copy(
                update={
                    "text": "".join(r.text.strip() for r in read) if read else text,
                    "token_texts": [r.text.strip() for r in read] if read else texts.get(i, []),
                    "score": score,
                    "candidates": candidates,
                    "evidence": notes,
                }
            )
        _log.debug("cells: read %d cells from %d line crops", len(prepared), len(crops))
        return table.model_copy(update={"cells": cells})
