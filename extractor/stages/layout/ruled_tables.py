"""Fully ruled tables found from their ruling lines alone, on a whole page."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from extractor.datamodel import BBox
from extractor.datamodel.page import LayoutRegion
from extractor.stages.grid.lines import binarise, faint_rules, line_masks, line_params, to_gray
from extractor.stages.grid.ruled import ruled_grid

_log = logging.getLogger(__name__)

# Score given to a region found from rules: they are exact when they are found at all.
_RULED_SCORE = 0.9
# A break in a row rule this share of the table's width or shorter is stepped over.
_RULE_BREAK = 0.08


def find_ruled_tables(image: np.ndarray, dpi: float, min_width_in: float = 1.0) -> list[LayoutRegion]:
    """Tables drawn with ruling lines, whatever a layout model calls them.

    Steps:
        1. Binarise the page and keep its long horizontal and vertical rules.
        2. Join rules that meet (a small dilation closes the joints) and take each connected
           network of rules as a candidate.
        3. Keep a candidate at least `min_width_in` inches wide whose rules form a grid of at
           least two rows, or one row of two cells (a page frame or a lone box is no table).
        4. Widen it where its row rules run on across a break (:func:`_rules_run_on`).

    Returns:
        Regions labelled ``table``, boxes in page pixels.
    """
    params = line_params(dpi)
    gray = to_gray(image)
    ink = binarise(gray, params)
    regions = _ruled_regions(ink, params, dpi, min_width_in)
    if not regions:
        # Rules too faint for the threshold (a photocopy, grey paper): looked for again along
        # their length (`faint_rules`). A big title's strokes are ridges too, so a table found
        # this way must also be table-sized and framed by long rules.
        regions = _ruled_regions(ink | faint_rules(gray, params), params, dpi, _FRAMED_MIN_WIDTH_IN, framed=True)
    _log.debug("ruled tables: %d", len(regions))
    return regions


# A table found on faint rules needs this many row rules running over this share of its width,
# is at least this wide (inches) and twice a rule's shortest length high: the strokes of a big
# title make small grids of their own.
_FRAME_RULES = 2
_FRAME_SHARE = 0.6
_FRAMED_MIN_WIDTH_IN = 3.0


def _ruled_regions(ink: np.ndarray, params, dpi: float, min_width_in: float, framed: bool = False) -> list[LayoutRegion]:
    horizontal, vertical = line_masks(ink, params)
    joints = cv2.dilate(horizontal | vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (params.tol, params.tol)))
    regions = []
    for x, y, w, h in _network_boxes(joints):
        if w < min_width_in * dpi or h < (2 if framed else 1) * params.v_kernel:
            continue
        grid = ruled_grid(horizontal[y : y + h, x : x + w], vertical[y : y + h, x : x + w], params)
        if grid is None or (len(grid.ys) - 1) * (len(grid.xs) - 1) < 2:
            continue
        if framed and _long_rules(horizontal[y : y + h, x : x + w], grid.ys, params.tol) < _FRAME_RULES:
            continue
        # The grid's outer boundaries, not the component's box: strokes of a heading just
        # above a table can touch its top rule and join its component.
        left, right = _rules_run_on(horizontal, [y + r for r in grid.ys], x + grid.xs[0], x + grid.xs[-1], params.tol)
        box = BBox(x1=left, y1=y + grid.ys[0], x2=right, y2=y + grid.ys[-1])
        regions.append(LayoutRegion(label="table", bbox=box, score=_RULED_SCORE))
    return regions


def _long_rules(horizontal: np.ndarray, rows: list[float], tol: int) -> int:
    """How many of the grid's row boundaries are rules running over most of its width."""
    width = horizontal.shape[1]
    count = 0
    for r in rows:
        band = horizontal[max(0, int(r) - tol) : int(r) + tol + 1]
        count += band.any(axis=0).sum() >= _FRAME_SHARE * width
    return count


def _network_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, w, h) of the mask's 8-connected components.

    Each component's outer border as traced by `cv2.findContours`, which costs a tenth of
    labelling the page's pixels with component statistics. A component lying in a hole of
    another (a table inside a page frame) has a border of its own at the top level of the
    two-level hierarchy, so it is found too.
    """
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    return [cv2.boundingRect(c) for c, (_, _, _, parent) in zip(contours, hierarchy[0]) if parent < 0]


def _rules_run_on(horizontal: np.ndarray, rows: list[float], left: float, right: float, tol: int) -> tuple[float, float]:
    """The table's left and right edges, moved out to where its row rules end.

    On a poor copy a row rule breaks, and the rules left and right of the break are two networks:
    the part without column rules is no table, and the table loses its first columns (the label
    of a row continued on the next page). Going out from the edge along each row rule, gaps
    shorter than :data:`_RULE_BREAK` of the width measured so far are stepped over; the edge
    moves where at least two rules run on, to the nearest of their ends.
    """
    reach = int(_RULE_BREAK * (right - left))
    ends: tuple[list[float], list[float]] = ([], [])
    for pos in rows:
        band = horizontal[max(0, int(pos) - tol) : int(pos) + tol + 1].any(axis=0)
        for side, (start, step) in enumerate(((int(left), -1), (int(right), 1))):
            x, last = start, start
            while 0 <= x < len(band) and abs(x - last) <= reach:
                if band[x]:
                    last = x
                x += step
            if abs(last - start) > 2 * tol:
                ends[side].append(float(last))
    new_left = max(ends[0]) if len(ends[0]) >= 2 else left
    new_right = min(ends[1]) if len(ends[1]) >= 2 else right
    return new_left, new_right
