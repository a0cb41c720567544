"""Cells decided by the shape of their ink: a lone "/" or dash printed for zero, a faint digit's blob.

The recogniser reads a lone "/" as "1", and a thick dash on a dark copy as "1"; a thin dash is
too low to make a text line at all. Lengths are pixels at the table's unit (:mod:`.sizes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from extractor.stages.cells.heuristic.noise import components
from extractor.stages.pixels import connected_components

_log = logging.getLogger(__name__)

# Widest spread of a "/" across its axis, as a share of the spread along it (standard deviations).
_SLASH_WIDTH = 0.25


def is_slash(ink: np.ndarray, max_degrees: float) -> bool:
    """Whether the cell's ink is one leaning stroke: "/" (printed for zero), which the
    recogniser reads as "1" when it stands alone."""
    n, labels, stats, _ = connected_components(ink)
    if n != 2:
        return False
    x, y, w, h, _ = stats[1]
    if h < 1.5 * w:
        return False
    ys, xs = np.nonzero(labels == 1)
    spread, vectors = np.linalg.eigh(np.cov(np.vstack([xs, ys])))
    vx, vy = vectors[:, 1]
    # A stroke is straight and thin: narrow across its axis. The diagonal of a pale "2" or "3"
    # leans as much, but its arcs make it wide (measured: "/" 0.06-0.11 of its length, 2/3/4/7
    # 0.37-0.71, in four fonts and on hard scans).
    straight = spread[0] <= (_SLASH_WIDTH**2) * spread[1]
    return bool(straight and np.degrees(np.arctan2(abs(vx), abs(vy))) > max_degrees)


@dataclass(frozen=True)
class Dash:
    """A cell whose only ink is one short level stroke: a dash printed for zero."""

    width: int  # px


def lone_dash(ink: np.ndarray, unit: float) -> Dash | None:
    """The cell's ink as a dash, if it is one flat stroke across the middle of the cell.

    A thin dash is too low to make a text line, so without this the cell would be read as blank
    (the value 0 right, the printed mark lost from ``raw``); on a dark copy the recogniser reads
    a thick one, or a speck beside a faint one, as "1". The stroke may be broken into pieces
    along one line (a faint 1 px print); it must hold half the ink or more, the rest specks,
    and be at least half again as wide as high (a blurred hyphen binarises to some 7 x 4 px;
    specks are about as high as wide).
    """
    n, _, stats, _ = connected_components(ink)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    thin = h <= max(2, 6 * unit)
    if not thin.any():
        return None
    centre = y + h / 2
    widest = int(np.flatnonzero(thin)[np.argmax(w[thin])])
    line = float(centre[widest])
    on_line = thin & (np.abs(centre - line) <= max(2, 3 * unit))
    # The stroke runs on from its widest piece over small gaps; specks further along the line
    # (a dot by the rule) are specks, not a longer, broken stroke.
    stroke = np.zeros_like(on_line)
    stroke[widest] = True
    gap = max(4 * unit, w[widest] / 2)
    left, right = int(x[widest]), int(x[widest] + w[widest])
    for i in np.flatnonzero(on_line)[np.argsort(np.abs(x[on_line] + w[on_line] / 2 - (left + right) / 2))]:
        if x[i] <= right + gap and x[i] + w[i] >= left - gap:
            stroke[i] = True
            left, right = min(left, int(x[i])), max(right, int(x[i] + w[i]))
    width, height = right - left, int((y + h)[stroke].max() - y[stroke].min())
    covered = np.zeros(right - left, dtype=bool)
    for xa, wa in zip(x[stroke], w[stroke], strict=True):
        covered[xa - left : xa - left + wa] = True
    middle = abs(line - ink.shape[0] / 2) <= ink.shape[0] / 4
    mostly = area[stroke].sum() >= 0.5 * area.sum() and (area[~stroke] <= 20 * unit * unit).all()
    flat = width >= max(5 * unit, 1.5 * height) and covered.mean() >= 0.5
    return Dash(width) if middle and mostly and flat else None


def dash_text(dash: Dash, line: float | None) -> str:
    """"—" or "-" by the dash's length against the table's text height: an em dash is about a
    character wide (1.05–1.4 digit heights in the fonts measured), a hyphen a third of that."""
    return "—" if line is None or dash.width >= 0.75 * line else "-"


def one_character(ink: np.ndarray, unit: float) -> bool:
    """Whether the ink is one character away from the cell's edges: character-sized, and with a
    stroke at least half its height (the arcs of a pale "0"; specks of dirt are a few pixels)."""
    ys, xs = np.nonzero(ink)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    h, w = ink.shape
    margin = 4 * unit
    inside = ys.min() > margin and ys.max() < h - margin and xs.min() > margin and xs.max() < w - margin
    _, stats = components(ink)
    stroke = stats[:, 3].max() >= max(10 * unit, height / 2)
    return bool(inside and stroke and 12 * unit <= height <= 40 * unit and width <= 1.2 * height)
