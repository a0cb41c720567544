"""Line crops to readings, and a cell's readings to its k best candidates.

A cell's lines are read in one batch per table; its candidates are the most probable
combinations of its lines' readings over the value alphabet. Where the cell's shape decided it,
the recogniser's reading of its ink is a second opinion that can put the shape in doubt.
"""

from __future__ import annotations

import logging

import numpy as np

from extractor.stages.cells.base import CellRecogniser, Recogniser
from extractor.stages.cells.heuristic.options import HeuristicCellReaderOptions
from extractor.stages.ocr.ctc import CtcReading

_log = logging.getLogger(__name__)

# Readings of one cell kept from the combinations of its lines' candidates.
_CELL_CANDIDATES = 5
# Score of a cell whose shape and recogniser disagree: below every acceptance threshold.
_DISAGREEING_SCORE = 0.5
# The recogniser's reading must be at least this probable to put a shape decision in doubt.
_SECOND_OPINION_MIN = 0.5


def recognise_lines(
    images: list[np.ndarray],
    recognise: CellRecogniser,
    recognise_text: Recogniser | None,
    options: HeuristicCellReaderOptions,
) -> list[CtcReading]:
    """One reading per line crop.

    Wide crops are mostly label text: `recognise_text` reads them, and a reading with a digit in
    it (a numbered label, a value beside its label) or a low score is read again by `recognise`,
    which reads numbers best. The rest, numbers above all, go to `recognise` directly.
    """
    readings: dict[int, CtcReading] = {}
    if recognise_text is not None:
        wide = [i for i, im in enumerate(images) if im.shape[1] > options.text_line_ratio * im.shape[0]]
        for i, (text, score) in zip(wide, recognise_text([images[i] for i in wide]) if wide else [], strict=True):
            if score >= options.text_line_score and not any(ch.isdigit() for ch in text):
                readings[i] = CtcReading(text, score, ())
    rest = [i for i in range(len(images)) if i not in readings]
    for i, read in zip(rest, recognise([images[i] for i in rest]) if rest else [], strict=True):
        readings[i] = read if isinstance(read, CtcReading) else CtcReading(read[0], read[1], ())
    return [readings[i] for i in range(len(images))]


def cell_candidates(lines: list[CtcReading]) -> list[tuple[str, float]]:
    """A cell's k best readings: the most probable combinations of its lines' readings (a value
    wrapped over two lines is rare; every line must have been read over the value alphabet)."""
    if not lines or any(not line.candidates for line in lines):
        return []
    combined: list[tuple[str, float]] = [("", 1.0)]
    for line in lines:
        combined = sorted(
            ((text + t.strip(), p * q) for text, p in combined for t, q in line.candidates), key=lambda c: -c[1]
        )[:_CELL_CANDIDATES]
    merged: dict[str, float] = {}
    for text, p in combined:
        merged[text] = merged.get(text, 0.0) + p
    return sorted(merged.items(), key=lambda c: -c[1])


def second_opinion(
    decided: str, reading: CtcReading, stroke: bool = False
) -> tuple[list[tuple[str, float]], float] | None:
    """Both readings and a low score when the recogniser reads a non-zero number where the
    cell's shape (a dash, a slash) or its lack of ink said nothing or zero; None when they agree.

    A hard decision of the shape rules cannot be weighed against the identities; two readings
    can (`extractor.stages.validate.joint`), and a reviewer sees the cell either way. The shape
    stays the more probable reading. A lone stroke the shape found flat or leaning (`stroke`)
    read "1" agrees with it: the recogniser reads a dash or a slash as "1", and the shape test
    has measured the stroke's direction, which a "1" does not have.
    """
    best, p = reading.candidates[0] if reading.candidates else (reading.text, reading.score)
    digits = "".join(ch for ch in best if ch.isdigit())
    if p < _SECOND_OPINION_MIN or not digits.strip("0") or (stroke and digits == "1"):
        return None
    return [(decided, 0.6), (best, 0.4)], min(_DISAGREEING_SCORE, reading.score)
