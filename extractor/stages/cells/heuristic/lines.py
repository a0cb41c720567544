"""A cell's text lines: found in its ink, measured over the table, cropped for the recogniser.

Labels wrap and vertical labels hold one character per line, so a cell is read line by line.
Each line's crop is painted clean (all but the text made paper) and stretched to full contrast.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import cv2
import numpy as np

from extractor.stages.cells.heuristic.sizes import odd_kernel

if TYPE_CHECKING:
    from extractor.stages.cells.heuristic.cell import CellInk

_log = logging.getLogger(__name__)

# Grey levels a line crop is stretched to: its ink's darkest tenth, and its paper.
_BLACK, _WHITE = 20, 240


def line_spans(ink: np.ndarray, min_height: int) -> list[tuple[int, int]]:
    """Vertical extents [y0, y1) of the text lines in a cell, from its row ink profile; runs
    lower than `min_height` pixels are specks, not lines."""
    has_ink = ink.any(axis=1)
    spans, start = [], None
    for y, on in enumerate(has_ink):
        if on and start is None:
            start = y
        elif not on and start is not None:
            spans.append((start, y))
            start = None
    if start is not None:
        spans.append((start, len(has_ink)))
    return [(a, b) for a, b in spans if b - a >= min_height]


def line_heights(cells: list[CellInk]) -> list[int]:
    """Heights of the text lines of a table's cells, pixels."""
    return [b - a for c in cells for a, b in c.spans]


def whole_line_heights(cells: list[CellInk], min_height: int) -> list[int]:
    """Heights of the text lines of a table's cells with their faint strokes (their whole ink),
    pixels: what whole characters measure where a poor copy broke their strict ink in pieces."""
    return [b - a for c in cells for a, b in line_spans(c.whole, min_height)]


def typical_line_height(heights: list[int]) -> float | None:
    """Median of a table's text line heights (`line_heights`): what one line of its text
    measures, pixels; None when no cell holds a line."""
    return float(np.median(heights)) if heights else None


def join_fragments(spans: list[tuple[int, int]], line: float | None) -> list[tuple[int, int]]:
    """Text lines with the pieces of a broken character put back together, and crumbs dropped.

    A faint or toner-starved digit thresholds into pieces stacked with a small gap between them
    ("2" as its arc and its foot), each read as a line of its own ("2" -> "9"). Two neighbouring
    spans are one line when together they are no taller than a line of the table's text and one
    of them is too short to be a line alone; characters of a vertical label are each a full line,
    so they stay apart. After that, a span far shorter than a line is dropped when the cell holds
    a full one: it is dirt above or below the text, which the recogniser reads as "*" or "'".
    """
    if line is None or not spans:
        return spans
    joined = [spans[0]]
    for a, b in spans[1:]:
        pa, pb = joined[-1]
        short = min(pb - pa, b - a) < 0.75 * line
        if short and a - pb <= 0.35 * line and b - pa <= 1.25 * line:
            joined[-1] = (pa, b)
        else:
            joined.append((a, b))
    if any(b - a >= 0.75 * line for a, b in joined):
        joined = [(a, b) for a, b in joined if b - a >= 0.4 * line]
    return joined


def paint_mask(text: np.ndarray, unit: float) -> np.ndarray:
    """Pixels to paint with the paper colour: all but the text and a margin round it.

    Rules, their pieces, specks and the paper's grain go (the contrast stretch would bring the
    grain out, and a faint dash on it was read as a row of letters). The margin keeps the soft
    edges of the characters and the pieces of a faint digit that broke off ("0" read as "U").
    """
    return ~cv2.dilate(text.astype(np.uint8), odd_kernel(3, unit)).astype(bool)


def _stretch(crop: np.ndarray, ink: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """The crop in grey, stretched so its darkest ink is near black and its paper near white.

    Measured on generated hard scans (faded toner, black printed as grey 35-80 on darker paper):
    numeric cells exact 97.8% -> 98.2% and 94.7% -> 95.4% on two seeds, and fewer fields flagged
    for low confidence.
    """
    gray = crop.astype(np.float32).mean(axis=2)
    dark = float(np.percentile(gray[ink], 10)) if ink.any() else 0.0
    light = float(np.mean(paper))
    if light - dark < 20:
        return crop
    out = np.clip((gray - dark) / (light - dark) * (_WHITE - _BLACK) + _BLACK, 0, 255).astype(np.uint8)
    return np.dstack([out, out, out])


def line_crops(cell: CellInk, line: float | None, margin_y: float, margin_x: float, unit: float) -> list[np.ndarray]:
    """RGB crops of a cell's text lines, top to bottom.

    Each line gets space around it in proportion to its height (`margin_y` above and below,
    `margin_x` left and right, in line heights): the recogniser was trained on detector crops,
    which have such margins (tight crops read 5 as 0). All but the text is painted over with the
    paper colour (:func:`paint_mask`).
    """
    crop, ink = cell.crop, cell.ink
    paper = np.median(crop[~cv2.dilate(cell.whole.astype(np.uint8), odd_kernel(2, unit)).astype(bool)], axis=0)
    clean = crop.copy()
    clean[paint_mask(cell.whole, unit)] = paper.astype(np.uint8)
    # A pale print on grey paper is read more surely (higher scores, fewer misreads) at full contrast.
    clean = _stretch(clean, ink, paper)
    paper = np.full(3, _WHITE, dtype=np.float64)
    spans = join_fragments(cell.spans, line)
    whole_rows = cell.whole.any(axis=1)
    lines = []
    for i, (a, b) in enumerate(spans):
        height = b - a
        # Out over the faint strokes of the line's characters (the top of a pale "0"), by at
        # most half a line and never into the next line.
        top = spans[i - 1][1] if i else 0
        bottom = spans[i + 1][0] if i + 1 < len(spans) else len(whole_rows)
        a_end, b_end = max(top, a - height // 2), min(bottom, b + height // 2)
        while a > a_end and whole_rows[a - 1]:
            a -= 1
        while b < b_end and whole_rows[b]:
            b += 1
        xs = np.flatnonzero(cell.whole[a:b].any(axis=0))
        ya, yb, xa, xb = max(0, a - 1), min(ink.shape[0], b + 1), max(0, xs[0] - 1), min(ink.shape[1], xs[-1] + 2)
        my, mx = int(margin_y * height) + 1, int(margin_x * height) + 1
        # The line on paper-coloured margins: no neighbouring rule, no hard edge at the padding.
        # (The crop's own pixels as margin lower the recogniser's scores: measured, 0.86 -> 0.77.)
        lines.append(
            cv2.copyMakeBorder(
                clean[ya:yb, xa:xb], my, my, mx, mx, cv2.BORDER_CONSTANT, value=tuple(int(v) for v in paper)
            )
        )
    return lines
