"""Fully ruled tables found from their ruling lines alone, on a whole page."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from extractor.datamodel import BBox
from extractor.datamodel.page import LayoutRegion
from extractor.stages.grid.lines import LineParams, binarise, faint_rules, line_masks, line_params, to_gray
from extractor.stages.grid.ruled import ruled_grid
from extractor.stages.grid.stage import MAX_TABLE_COLUMNS

_log = logging.getLogger(__name__)

# Score given to a region found from rules: they are exact when they are found at all.
_RULED_SCORE = 0.9
# A break in a row rule this share of the table's width or shorter is stepped over.
_RULE_BREAK = 0.08


def find_ruled_tables(
    image: np.ndarray, dpi: float, min_width_in: float = 1.0, follow_faint: bool = False
) -> list[LayoutRegion]:
    """Tables drawn with ruling lines, whatever a layout model calls them.

    Steps:
        1. Binarise the page and keep its long horizontal and vertical rules.
        2. Join rules that meet (a small dilation closes the joints) and take each connected
           network of rules as a candidate.
        3. Keep a candidate at least `min_width_in` inches wide whose rules form a grid of at
           least two rows, or one row of two cells (a page frame or a lone box is no table).
        4. Widen it where its row rules run on across a break (:func:`_rules_run_on`).
        5. Join candidates side by side that share their row rules (:func:`_join_side_by_side`).

    Args:
        follow_faint: follow row rules along faint rules too (:func:`faint_rules`) where the
            threshold loses them, for the table's edges (step 4): on a low-contrast scan the
            label columns of a table are often on a lighter part of the page. It costs about
            0.2 s a page, so it is asked for where it pays.

    Returns:
        Regions labelled ``table``, boxes in page pixels.
    """
    params = line_params(dpi)
    gray = to_gray(image)
    ink = binarise(gray, params)
    run_on = line_masks(ink | faint_rules(gray, params), params)[0] if follow_faint else None
    regions = _ruled_regions(ink, params, dpi, min_width_in, run_on=run_on)
    if not regions:
        regions = _faint_regions(gray, ink, params, dpi)
    _log.debug("ruled tables: %d", len(regions))
    return regions


def find_faint_ruled_tables(image: np.ndarray, dpi: float) -> list[LayoutRegion]:
    """Tables whose rules are too faint for the threshold (a photocopy, grey paper, a shadow):
    looked for along their length (:func:`faint_rules`).

    A big title's strokes are ridges too, so a table found this way must also be table-sized
    and framed by long rules.
    """
    params = line_params(dpi)
    gray = to_gray(image)
    return _faint_regions(gray, binarise(gray, params), params, dpi)


def _faint_regions(gray: np.ndarray, ink: np.ndarray, params: LineParams, dpi: float) -> list[LayoutRegion]:
    return _ruled_regions(ink | faint_rules(gray, params), params, dpi, _FRAMED_MIN_WIDTH_IN, framed=True)


# A table found on faint rules needs this many row rules running over this share of its width,
# is at least this wide (inches) and twice a rule's shortest length high: the strokes of a big
# title make small grids of their own.
_FRAME_RULES = 2
_FRAME_SHARE = 0.6
_FRAMED_MIN_WIDTH_IN = 3.0


def _ruled_regions(
    ink: np.ndarray, params, dpi: float, min_width_in: float, framed: bool = False, run_on: np.ndarray | None = None
) -> list[LayoutRegion]:
    horizontal, vertical = line_masks(ink, params)
    along = horizontal if run_on is None else horizontal | run_on
    joints = cv2.dilate(horizontal | vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (params.tol, params.tol)))
    found: list[tuple[BBox, list[float], bool]] = []
    for x, y, w, h in _network_boxes(joints):
        if h < (2 if framed else 1) * params.v_kernel or w < _PART_MIN_WIDTH_IN * dpi:
            continue
        grid = ruled_grid(horizontal[y : y + h, x : x + w], vertical[y : y + h, x : x + w], params)
        if grid is None or (len(grid.ys) - 1) * (len(grid.xs) - 1) < 2 or w < min_width_in * dpi:
            # No table alone, but maybe the part of one beyond a band where its rules faded.
            rows = _long_rule_rows(horizontal[y : y + h, x : x + w], params.tol)
            if len(rows) >= 2:
                found.append((BBox(x1=x, y1=y + rows[0], x2=x + w, y2=y + rows[-1]), [y + r for r in rows], False))
            continue
        if framed and _long_rules(horizontal[y : y + h, x : x + w], grid.ys, params.tol) < _FRAME_RULES:
            continue
        if len(grid.xs) - 1 > MAX_TABLE_COLUMNS:
            _log.info("ruled network of %d columns at (%d, %d) is no table", len(grid.xs) - 1, x, y)
            continue
        # The grid's outer boundaries, not the component's box: strokes of a heading just
        # above a table can touch its top rule and join its component.
        left, right = _rules_run_on(along, [y + r for r in grid.ys], x + grid.xs[0], x + grid.xs[-1], params.tol)
        box = BBox(x1=left, y1=y + grid.ys[0], x2=right, y2=y + grid.ys[-1])
        found.append((box, [y + r for r in grid.ys], True))
    return [LayoutRegion(label="table", bbox=box, score=_RULED_SCORE) for box in _join_side_by_side(found, params.tol)]


# A network of rules this wide (inches) or wider may be part of a table cut by a faded band.
_PART_MIN_WIDTH_IN = 0.5


def _long_rule_rows(horizontal: np.ndarray, tol: int) -> list[float]:
    """Positions of the horizontal rules running over most of a network's width."""
    covered = (horizontal > 0).sum(axis=1) >= _FRAME_SHARE * horizontal.shape[1]
    rows: list[float] = []
    for y in np.flatnonzero(covered):
        if rows and y - rows[-1] <= tol:
            continue
        rows.append(float(y))
    return rows


# Two networks side by side are one table when this share of the shorter one's row rules lie on
# rules of the other, and the gap between them is at most `_RULE_BREAK` of their joint width.
_SHARED_ROWS = 0.6
# ...and they span the same height, to this share (a page frame round a table spans more).
_SAME_HEIGHT = 0.8


def _join_side_by_side(found: list[tuple[BBox, list[float], bool]], tol: int) -> list[BBox]:
    """Boxes of the tables found, with the networks side by side on the same row rules joined.

    On a poor copy every row rule can fade over the same column (a light band of the scanner,
    a fold): the rules left and right of it are two networks, each alone a table with part of
    the columns, or no table at all (a run of merged cells without column rules). Row rules are
    the table's own signature: two parts of one table share them, two tables side by side
    rarely do. A network that is no table alone (its flag False) is kept only when joined to one.
    """
    joined: list[tuple[BBox, list[float], bool]] = []
    for box, rows, is_table in sorted(found, key=lambda item: item[0].x1):
        for k, (left_box, left_rows, left_is_table) in enumerate(joined):
            gap = box.x1 - left_box.x2  # negative where they overlap
            shorter, longer = sorted((rows, left_rows), key=len)
            shared = sum(any(abs(r - q) <= tol for q in longer) for r in shorter)
            overlap = min(box.y2, left_box.y2) - max(box.y1, left_box.y1)
            same_height = overlap >= _SAME_HEIGHT * max(box.height, left_box.height)
            if (
                same_height
                and gap <= _RULE_BREAK * (box.x2 - left_box.x1)
                and shared >= max(2, _SHARED_ROWS * len(shorter))
            ):
                union = BBox(
                    x1=left_box.x1, y1=min(left_box.y1, box.y1), x2=max(left_box.x2, box.x2), y2=max(left_box.y2, box.y2)
                )
                joined[k] = (union, sorted(set(left_rows) | set(rows)), left_is_table or is_table)
                break
        else:
            joined.append((box, rows, is_table))
    return [box for box, _, is_table in sorted(joined, key=lambda item: (item[0].y1, item[0].x1)) if is_table]


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
