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
from extractor.stages.cells.base import CellReaderEngine
from extractor.stages.cells.heuristic.candidates import cell_candidates, recognise_lines, second_opinion
from extractor.stages.cells.heuristic.cell import CellInk, cell_ink, inked_interior, min_line_height
from extractor.stages.cells.heuristic.lines import line_crops, line_heights, typical_line_height
from extractor.stages.cells.heuristic.noise import without_side_rules
from extractor.stages.cells.heuristic.options import HeuristicCellReaderOptions
from extractor.stages.cells.heuristic.shapes import Dash, dash_text
from extractor.stages.cells.heuristic.sizes import measured_unit, text_height, unit_for_dpi
from extractor.stages.ocr.ctc import CtcReading

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _LineCrop:
    cell_index: int  # position of the cell in table.cells
    image: np.ndarray  # RGB crop of one text line, padded


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
               heights of their text lines taken: the median line (`typical_line_height`) and
               the whole characters' height, which sets the unit of lengths (:mod:`.sizes`).
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
        first = unit_for_dpi(dpi)
        judged = {i: cell_ink(image, cell, first, options) for i, cell in enumerate(table.cells)}
        heights = line_heights([p for p in judged.values() if isinstance(p, CellInk)])
        line = typical_line_height(heights)
        unit = measured_unit(text_height(heights), len(heights), dpi)
        _log.debug("cells: %d lines, median %s px, unit %.2f (the resolution's %.2f)", len(heights), line, unit, first)
        wanted = range(len(table.cells)) if only is None else sorted(set(only))
        if unit == first:
            prepared = {i: judged[i] for i in wanted}
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
                evidence[i] = ["ink:blank"]
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
