"""Grid of a borderless (or badly ruled) table from the alignment of its tokens."""

from __future__ import annotations

import logging

import numpy as np

from extractor.stages.grid.assign import WorkToken
from extractor.stages.grid.ruled import GridCell, RuledGrid

_log = logging.getLogger(__name__)

# An x position is a column gap when at most this fraction of rows has ink there (lets a
# spanning header token cross a gap without closing it).
_GAP_ROW_FRACTION = 0.15


def _rows(tokens: list[WorkToken]) -> list[list[WorkToken]]:
    """Cluster tokens into rows by y-centre (a token joins a row within half a line height)."""
    ordered = sorted(tokens, key=lambda t: t.cy)
    rows: list[list[WorkToken]] = []
    for t in ordered:
        if rows:
            centre = float(np.mean([r.cy for r in rows[-1]]))
            height = float(np.median([r.y2 - r.y1 for r in rows[-1]]))
            if abs(t.cy - centre) <= 0.5 * max(height, t.y2 - t.y1):
                rows[-1].append(t)
                continue
        rows.append([t])
    return rows


def _column_bands(rows: list[list[WorkToken]], min_gap: float) -> list[tuple[float, float]]:
    """Column bands: x ranges separated by gaps that (almost) no row puts ink into.

    Steps:
        1. For every x, count the rows with a token covering x.
        2. x positions covered by at most `_GAP_ROW_FRACTION` of the rows are gap candidates; gap
           runs narrower than `min_gap` are ignored (spaces between words).
        3. The bands between gaps are the columns.
    """
    x0 = int(np.floor(min(t.x1 for r in rows for t in r)))
    x1 = int(np.ceil(max(t.x2 for r in rows for t in r)))
    counts = np.zeros(x1 - x0 + 1, dtype=np.int32)
    for row in rows:
        covered = np.zeros_like(counts, dtype=bool)
        for t in row:
            covered[int(t.x1) - x0 : int(np.ceil(t.x2)) - x0 + 1] = True
        counts += covered
    limit = max(1, int(_GAP_ROW_FRACTION * len(rows))) if len(rows) >= 4 else 0
    free = counts <= limit
    # Runs of free x positions; interior runs at least `min_gap` wide separate columns.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], free.astype(np.int8), [0]])))
    gaps = [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2]) if e - s >= min_gap and s > 0 and e < len(free)]
    bands: list[tuple[float, float]] = []
    left = 0
    for s, e in gaps:
        bands.append((float(left + x0), float(s + x0)))
        left = e
    bands.append((float(left + x0), float(len(free) + x0)))
    return bands


def aligned_grid(tokens: list[WorkToken]) -> RuledGrid | None:
    """Rows and columns from token alignment; a token over several columns spans them.

    Steps:
        1. Cluster tokens into rows by their y-centres.
        2. Find column bands from the x gaps shared by the rows (:func:`_column_bands`).
        3. Boundaries are the midpoints between neighbouring rows and bands.
        4. In each row, tokens whose band ranges overlap form one cell spanning those bands;
           grid positions with no token become empty one-by-one cells.

    Returns:
        The grid (``repaired`` is always 0), or None when there are no tokens.
    """
    if not tokens:
        return None
    rows = _rows(tokens)
    line_h = float(np.median([t.y2 - t.y1 for t in tokens]))
    bands = _column_bands(rows, min_gap=max(4.0, 0.6 * line_h))
    tops = [min(t.y1 for t in r) for r in rows]
    bottoms = [max(t.y2 for t in r) for r in rows]
    ys = [tops[0] - 2] + [(bottoms[i] + tops[i + 1]) / 2 for i in range(len(rows) - 1)] + [bottoms[-1] + 2]
    xs = [bands[0][0] - 2] + [(bands[i][1] + bands[i + 1][0]) / 2 for i in range(len(bands) - 1)] + [bands[-1][1] + 2]
    n_cols = len(bands)

    def band_range(t: WorkToken) -> tuple[int, int]:
        hit = [i for i, (a, b) in enumerate(bands) if min(b, t.x2) - max(a, t.x1) > 0]
        if not hit:
            nearest = int(np.argmin([abs((a + b) / 2 - t.cx) for a, b in bands]))
            return nearest, nearest
        return hit[0], hit[-1]

    cells: list[GridCell] = []
    for r, row in enumerate(rows):
        spans = sorted(band_range(t) for t in row)
        merged: list[list[int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        taken = set()
        for a, b in merged:
            cells.append(GridCell(r, a, 1, b - a + 1, xs[a], ys[r], xs[b + 1], ys[r + 1]))
            taken.update(range(a, b + 1))
        for c in range(n_cols):
            if c not in taken:
                cells.append(GridCell(r, c, 1, 1, xs[c], ys[r], xs[c + 1], ys[r + 1]))
    cells.sort(key=lambda g: (g.row, g.col))
    return RuledGrid(xs=xs, ys=ys, cells=cells, repaired=0)
