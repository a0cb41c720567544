"""What must not reach the recogniser: pieces of ruling lines and specks of dirt in a cell's ink.

Every function takes a bool ink mask of one cell crop and returns the bool mask of the pixels
to drop. Lengths are pixels at the table's unit (:mod:`.sizes`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import cv2
import numpy as np

from extractor.stages.cells.heuristic.lines import line_spans
from extractor.stages.cells.heuristic.sizes import odd_kernel, px
from extractor.stages.pixels import connected_components

if TYPE_CHECKING:
    from extractor.stages.cells.heuristic.cell import CellInk

_log = logging.getLogger(__name__)


def components(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels of `ink`'s 8-connected components, and their (x, y, width, height), background left out."""
    _, labels, stats, _ = connected_components(ink)
    return labels, stats[1:, :4]


def text_height(stats: np.ndarray, h: int, w: int, band: int) -> float:
    """Height of the text line: the tallest component centred out of the edge bands.

    What text-sized means in a cell is judged against this. Heights, because characters that
    blur together grow wide, not tall; outside the bands, because a dash of a broken rule can be
    far longer than a digit, but it lies along an edge, where text does not.
    """
    x, y, cw, ch = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    # By the centre: a rule a few pixels inside the cell box pokes out of the band by its width.
    cx, cy = x + cw / 2, y + ch / 2
    in_band = (cx < band) | (cx > w - band) | (cy < band) | (cy > h - band)
    return float(ch[~in_band].max() if (~in_band).any() else np.maximum(cw, ch).max())


def rule_pieces(ink: np.ndarray, band: int) -> np.ndarray:
    """Dashes of a broken rule inside the crop: thin pieces along an edge that no text makes.

    A vertical piece in a side band that touches the top or bottom of the crop, or reaches
    well above or below the rest of the ink (the text line); a horizontal piece in the top or
    bottom band that touches the left or right end, or lies wholly above or below the rest of the
    ink. A "1" beside a rule shares its line's extent; a "一" keeps off the crop's ends.
    """
    labels, stats = components(ink)
    h, w = ink.shape
    if not len(stats):
        return np.zeros_like(ink, dtype=bool)
    drop = np.zeros(len(stats) + 1, dtype=bool)
    # Rules of a dark copy spread to 6 px where the band is 10 px.
    thin = max(3, (2 * band) // 3)
    # The text line's extent comes from the text-sized components, not from specks and dashes.
    size = np.maximum(stats[:, 2], stats[:, 3])
    texty = (size >= 0.5 * text_height(stats, h, w, band)) & (np.minimum(stats[:, 2], stats[:, 3]) > thin)
    for i, (x, y, cw, ch) in enumerate(stats, start=1):
        others = stats[texty & (np.arange(len(stats)) != i - 1)]
        if len(others):
            top, bottom = others[:, 1].min(), (others[:, 1] + others[:, 3]).max()
        if cw <= thin and ch >= 2 * cw and (x < band or x + cw > w - band):
            touches = y <= 1 or y + ch >= h - 1
            beyond = len(others) > 0 and (y < top - 0.3 * ch or y + ch > bottom + 0.3 * ch)
            drop[i] = touches or beyond
        elif ch <= thin and cw >= 2 * ch and (y < band or y + ch > h - band):
            touches = x <= 1 or x + cw >= w - 1
            outside = len(others) > 0 and (y + ch <= top or y >= bottom)
            drop[i] = touches or outside
    # A blank cell under a broken rule: all it holds is flat pieces along its top or bottom
    # (thick where the blur of a shaded header joins them), which were read as "1" or "一". A
    # dash printed for zero keeps to the middle of the cell.
    x, y, cw, ch = (stats[:, k] for k in range(4))
    along = ((y < band) & (y + ch < h / 2)) | ((y + ch > h - band) & (y > h / 2))
    if np.all((cw >= 2 * ch) & (ch <= band) & along):
        drop[1:] = True
    return drop[labels]


def corner_pieces(ink: np.ndarray, band: int, unit: float) -> np.ndarray:
    """Corners of the cell's frame: the ends of two rules that meet, left as one "┐"-shaped piece.

    Neither thin along one edge nor inside the cell, such a piece escapes the sliver and dash
    tests, and the recogniser reads it as "7" or "「". It lies wholly in the edge bands and
    reaches two crossing edges; text keeps a padding off the frame, so none of it does both.
    """
    labels, stats = components(ink)
    h, w = ink.shape
    drop = np.zeros(len(stats) + 1, dtype=bool)
    if not len(stats):
        return drop[labels]
    edge = px(6, unit, least=3)
    inner = np.zeros_like(ink, dtype=bool)
    inner[band:h - band, band:w - band] = True
    inside = np.bincount(labels[inner & ink], minlength=len(stats) + 1)
    for i, (x, y, cw, ch) in enumerate(stats, start=1):
        side = x < edge or x + cw > w - edge
        end = y < edge or y + ch > h - edge
        drop[i] = side and end and inside[i] == 0
    return drop[labels]


def specks(ink: np.ndarray, band: int) -> np.ndarray:
    """Dots of dirt: components far smaller than the text that stand apart from it.

    A dot counts as text (a decimal point, the "、" of a label, a stroke of a character) when
    it is within the line's height and lies closely between text-sized components along the
    line. Before the text only a minus sign (a short level stroke) is kept: no number starts
    with a dot, and a speck there is read as a leading "4" or "1". After the text a dot ends
    nothing that matters (a label's "。") and a speck there is read as "0." or "0·".
    """
    labels, stats = components(ink)
    if len(stats) < 2:
        return np.zeros_like(ink, dtype=bool)
    size = np.maximum(stats[:, 2], stats[:, 3])
    line = text_height(stats, *ink.shape, band)
    big = size >= 0.45 * line
    drop = np.zeros(len(stats) + 1, dtype=bool)
    for i, (x, y, cw, ch) in enumerate(stats):
        if big[i] or size[i] > 0.35 * line:
            continue
        cx, cy = x + cw / 2, y + ch / 2
        near = stats[big]
        # A neighbour spans at least a line's height: a flat stroke ("二") still has a "、" beside it.
        mid = near[:, 1] + near[:, 3] / 2
        top = np.minimum(near[:, 1], mid - line / 2) - 0.1 * line
        bottom = np.maximum(near[:, 1] + near[:, 3], mid + line / 2) + 0.1 * line
        in_line = (top <= cy) & (cy <= bottom)
        # Full-width punctuation ("、", "。") sits at the left of a character's width: the next
        # character can be most of a line's height further on.
        left = in_line & (near[:, 0] + near[:, 2] <= cx) & (near[:, 0] + near[:, 2] >= x - 0.6 * line)
        right = in_line & (near[:, 0] >= cx) & (near[:, 0] <= x + cw + line)
        minus = cw >= 2 * ch
        drop[i + 1] = not (right.any() and (left.any() or minus))
    return drop[labels]


def edge_slivers(ink: np.ndarray, unit: float) -> np.ndarray:
    """Pieces of broken rules: thin components lying along, and close to, a crop edge.

    A vertical sliver near the left or right edge, or a horizontal one near the top or bottom,
    is a rule; a digit "1" is as thin but stands inside the cell, and a "一" near the left edge
    (as in "一、本年新收") is horizontal, so neither is removed.
    """
    n, labels, stats, _ = connected_components(ink)
    h, w = ink.shape
    edge, thin = px(6, unit, least=3), px(4, unit, least=2)
    drop = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        near_side = x < edge or x + cw > w - edge
        near_top_bottom = y < edge or y + ch > h - edge
        drop[i] = (near_side and cw <= thin and ch > cw) or (near_top_bottom and ch <= thin and cw > ch)
    return drop[labels]


def without_side_rules(cell: CellInk, line: float | None, min_height: int, unit: float) -> CellInk | None:
    """The cell without its thin strokes along a side far taller than the table's text: pieces of
    a faint rule the cell box took in (read "1", or "11" beside a "1"). A "1" beside its rule is
    as thin but a line high. None when nothing else is left: the cell is blank."""
    if line is None:
        return cell
    labels, stats = components(cell.ink)
    width = cell.ink.shape[1]
    band = max(px(4, unit), width // 10)
    rules = [
        i + 1
        for i, (x, _, w, h) in enumerate(stats)
        if (x < band or x + w > width - band) and w <= max(3 * unit, line / 3) and h >= 1.5 * line
    ]
    if not rules:
        return cell
    # The rule's blur, joined to it on the loose threshold, goes with it.
    rule = cv2.dilate(np.isin(labels, rules).astype(np.uint8), odd_kernel(2, unit)).astype(bool)
    ink, whole = cell.ink & ~rule, cell.whole & ~rule
    spans = line_spans(ink, min_height)
    return dataclasses.replace(cell, ink=ink, whole=whole, spans=spans) if spans else None
