"""One cell's crop judged: blank, decided by its shape, or text lines for the recogniser."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from extractor.datamodel import Cell
from extractor.stages.cells.heuristic.ink import FAINT_CONTRAST, has_faint_ink, text_ink, with_full_contrast
from extractor.stages.cells.heuristic.lines import line_spans
from extractor.stages.cells.heuristic.options import HeuristicCellReaderOptions
from extractor.stages.cells.heuristic.seals import without_seal
from extractor.stages.cells.heuristic.shapes import Dash, is_slash, lone_dash, one_character
from extractor.stages.cells.heuristic.sizes import px

_log = logging.getLogger(__name__)

# The text of a cell whose shape alone decides it: a lone leaning stroke.
SLASH = "/"


@dataclass(frozen=True)
class CellInk:
    """A cell's crop and what its ink was judged to be."""

    crop: np.ndarray  # RGB crop of the cell box
    ink: np.ndarray  # bool, text ink (its lines and extents are what is read)
    whole: np.ndarray  # bool, text ink with the faint strokes joined to it (kept from the paint)
    spans: list[tuple[int, int]]  # vertical extents [y0, y1) of the ink's text lines
    seal_removed: bool = False  # a seal's red ink was taken out of the crop


def min_ink(options: HeuristicCellReaderOptions, unit: float) -> float:
    """Fewest ink pixels of a cell that is not blank, at `unit`.

    In proportion to the unit, not to its square, though it is an area: the least marks (a
    hyphen, a thin dash) are strokes of a pixel or two whatever the resolution, their ink
    growing with their length alone (a hyphen of 6 x 2 px at 200 dpi is 9 x 3 at 300).
    """
    return options.min_ink * unit


def min_line_height(options: HeuristicCellReaderOptions, unit: float) -> int:
    """Lowest ink run that is a text line, pixels at `unit`."""
    return px(options.min_line_height, unit, least=2)


def cell_crop(image: np.ndarray, cell: Cell, unit: float) -> np.ndarray | None:
    """The cell's box cut from the page, RGB; None when it is too small to hold anything."""
    h, w = image.shape[:2]
    x1, y1 = max(0, int(cell.bbox.x1)), max(0, int(cell.bbox.y1))
    x2, y2 = min(w, int(np.ceil(cell.bbox.x2))), min(h, int(np.ceil(cell.bbox.y2)))
    least = px(6, unit)
    if x2 - x1 < least or y2 - y1 < least:
        return None
    crop = image[y1:y2, x1:x2]
    return crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)


def cell_ink(image: np.ndarray, cell: Cell, unit: float, options: HeuristicCellReaderOptions) -> CellInk | Dash | str | None:
    """The cell's crop and ink, None for a blank cell, a lone dash, or the text itself when the
    shape alone decides it (a lone "/"). Lengths are pixels at `unit` (:mod:`.sizes`)."""
    crop = cell_crop(image, cell, unit)
    if crop is None:
        return None
    gray = with_full_contrast(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
    least = min_ink(options, unit)
    min_height = min_line_height(options, unit)
    ink, whole = text_ink(gray, unit)
    if (ink.sum() < least or not line_spans(ink, min_height)) and has_faint_ink(gray, least, unit):
        # A faded digit can be too pale for the threshold, left as a few specks or nothing;
        # looked at again on a lower contrast, it is kept if it is one character's blob in the
        # middle of the cell (the paper's grain gives specks, which are dropped).
        faint, faint_whole = text_ink(gray, unit, contrast=FAINT_CONTRAST)
        if faint.sum() >= least and one_character(faint, unit):
            ink, whole = faint, faint_whole
    if ink.sum() < least:
        return None
    seal_free = without_seal(crop, least)
    seal_removed = False
    if seal_free is not None:
        black, black_whole = text_ink(seal_free, unit)
        # Only where black print is left: a value printed in colour is read as printed.
        if black.sum() >= least:
            crop, ink, whole, seal_removed = np.dstack([seal_free] * 3), black, black_whole, True
    if is_slash(ink, options.slash_degrees):
        return SLASH
    # Before the recogniser, which reads a thick dash on a dark copy as "1".
    dash = lone_dash(ink, unit)
    if dash is not None:
        return dash
    # Lines are found on the strict ink: a faint mark with its blur would pass for a line.
    spans = line_spans(ink, min_height)
    if not spans:
        return None
    return CellInk(crop, ink, whole, spans, seal_removed)


def inked_interior(
    image: np.ndarray, cell: Cell, unit: float, options: HeuristicCellReaderOptions, line: float | None
) -> np.ndarray | None:
    """The inside of a cell decided by its shape or judged blank, around its text ink, for the
    recogniser's second opinion; None when the ink is too little, or (given the table's text
    height `line`) lower than half a line: grain, not a character."""
    crop = cell_crop(image, cell, unit)
    if crop is None:
        return None
    gray = with_full_contrast(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
    # The faint text ink: rules, their pieces and specks left out, as for any cell.
    faint, _ = text_ink(gray, unit, contrast=FAINT_CONTRAST)
    if faint.sum() < min_ink(options, unit):
        return None
    ys, xs = np.nonzero(faint)
    if line is not None and ys.max() - ys.min() + 1 < 0.5 * line:
        return None
    pad = px(6, unit, least=3)
    ya, yb = max(0, ys.min() - pad), min(gray.shape[0], ys.max() + pad + 1)
    xa, xb = max(0, xs.min() - pad), min(gray.shape[1], xs.max() + pad + 1)
    return np.ascontiguousarray(crop[ya:yb, xa:xb])
