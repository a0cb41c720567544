"""Join a table that continues from the bottom of one page onto the top of the next."""

from __future__ import annotations

import logging
import re
import unicodedata

import numpy as np

from extractor.datamodel import Cell, Table

_log = logging.getLogger(__name__)

# Column boundaries of the two parts match when closer than this fraction of the table width
# (each part's boundaries measured as fractions of its own width: pages are scanned at slightly
# different scales, and in perspective a page's scale changes across it).
_BOUNDARY_TOL = 0.015
# The two parts' widths may differ by this fraction (scanned pages' scales differ by a few percent).
_WIDTH_TOL = 0.04
# Share of the boundaries (of the part with more) that must match the other part.
_MIN_MATCHED = 0.8
# ... unless every boundary of the part with fewer matches, and it has at least this many.
_MIN_SUBSET = 4


def _boundaries(table: Table, page: int) -> dict[int, float]:
    """Column boundary index -> x position for a table's part on `page` (median over its cells).

    Positions are relative to the part's left edge: scanned pages are shifted against each
    other, so only the spacing of the columns can be compared. A boundary every cell on that
    page spans is absent from the result.
    """
    edges: dict[int, list[float]] = {}
    for c in table.cells:
        if c.page != page:
            continue
        edges.setdefault(c.col, []).append(c.bbox.x1)
        edges.setdefault(c.col + c.col_span, []).append(c.bbox.x2)
    xs = {i: float(np.median(edges[i])) for i in sorted(edges)}
    left = min(xs.values(), default=0.0)
    return {i: x - left for i, x in xs.items()}


def _fractions(boundaries: dict[int, float]) -> dict[int, float]:
    """Boundary positions as fractions of the part's width (0 at its left edge, 1 at its right)."""
    width = max(boundaries.values(), default=0.0) or 1.0
    return {i: x / width for i, x in boundaries.items()}


def _index_map(own: dict[int, float], union: list[float]) -> dict[int, int]:
    """Old boundary index -> index of the nearest boundary of the joined grid."""
    return {i: int(np.argmin([abs(u - x) for u in union])) for i, x in own.items()}


def _union(a: list[float], b: list[float], tol: float) -> tuple[list[float], int]:
    """Merged sorted boundary list and the number of boundaries of `b` that matched `a`."""
    merged = sorted(a)
    matched = 0
    for x in b:
        if min(abs(x - m) for m in merged) <= tol:
            matched += 1
        else:
            merged.append(x)
            merged.sort()
    return merged, matched


def _remap(table: Table, cols: list[dict[int, int]], row_offset: int, drop_rows: int) -> list[Cell]:
    """Cells of `table` on the union grid: `cols[page_pos]` maps old boundary -> new boundary."""
    out = []
    for c in table.cells:
        if c.row < drop_rows:
            continue
        mapping = cols[table.pages.index(c.page)]
        left, right = mapping[c.col], mapping[c.col + c.col_span]
        out.append(c.model_copy(update={"row": c.row - drop_rows + row_offset, "col": left, "col_span": right - left}))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _row_texts(table: Table, row: int) -> list[str]:
    return [_norm(c.text) for c in sorted(table.cells, key=lambda c: c.col) if c.row == row]


def _repeated_header_rows(first: Table, second: Table) -> int:
    """How many leading rows of `second` repeat the leading rows of `first` (a reprinted header)."""
    n = 0
    while n < min(first.n_rows, second.n_rows):
        a, b = _row_texts(first, n), _row_texts(second, n)
        if not any(a) or a != b:
            break
        n += 1
    return n


def continues(first: Table, second: Table) -> bool:
    """Whether `second` (top of the next page) has the column structure of `first`'s last part."""
    if second.pages[0] != first.pages[-1] + 1:
        return False
    a_px = list(_boundaries(first, first.pages[-1]).values())
    b_px = list(_boundaries(second, second.pages[0]).values())
    if len(a_px) < 2 or len(b_px) < 2:
        return False
    if abs(a_px[-1] - b_px[-1]) > _WIDTH_TOL * max(a_px[-1], b_px[-1]):
        return False
    a = list(_fractions(_boundaries(first, first.pages[-1])).values())
    b = list(_fractions(_boundaries(second, second.pages[0])).values())
    tol = _BOUNDARY_TOL
    _, matched = _union(a, b, tol)
    if matched >= _MIN_MATCHED * max(len(a), len(b)):
        return True
    # A part of a row or two keeps few of its short column rules on a poor copy: the rules it
    # kept are all where the other part has them.
    fewer, more = sorted((a, b), key=len)
    return len(fewer) >= _MIN_SUBSET and _union(more, fewer, tol)[1] == len(fewer)


def join_continued(tables: list[Table]) -> list[Table]:
    """Merge tables continued across a page break into one grid.

    Steps:
        1. Order the tables by first page, then by their top edge.
        2. A table that is the first on page k+1 continues the previous table when that table is
           the last on page k and both have the same column spacing (measured from each part's
           left edge, as scanned pages are shifted, and as fractions of its width, as their scales
           differ: widths within 4 %, and boundaries within 1.5 % of the width, 80 % of them
           matching, or all of a part's if it has lost some rules; a
           boundary that only one part has is added to the joined grid and cells of the other
           part span it).
        3. Leading rows of the continuation that repeat the first table's header are dropped;
           the other rows are appended below. Cells keep their own page and box; a label cut by
           the page break stays two cells, one per page.

    Args:
        tables: the tables of one document, each on one page or already joined.

    Returns:
        The tables with every continuation merged into the table it continues.
    """
    ordered = sorted(tables, key=lambda t: (t.pages[0], t.bbox.y1))
    out: list[Table] = []
    for i, table in enumerate(ordered):
        prev = out[-1] if out else None
        is_first_on_page = i == 0 or ordered[i - 1].pages[-1] < table.pages[0]
        if prev is None or not is_first_on_page or not continues(prev, table) or table.n_rows == 0:
            out.append(table)
            continue
        a = _fractions(_boundaries(prev, prev.pages[-1]))
        b = _fractions(_boundaries(table, table.pages[0]))
        union, _ = _union(list(a.values()), list(b.values()), _BOUNDARY_TOL)
        maps_prev = [_index_map(_fractions(_boundaries(prev, p)), union) for p in prev.pages]
        # Earlier pages of an already joined table were mapped onto its own columns before;
        # its boundaries on those pages are close to its last page's, so nearest-match holds.
        drop = _repeated_header_rows(prev, table)
        cells = _remap(prev, maps_prev, 0, 0) + _remap(table, [_index_map(b, union)], prev.n_rows, drop)
        _log.info("joined table on page %d onto table on page(s) %s (%d header rows dropped)", table.pages[0], prev.pages, drop)
        out[-1] = Table(
            n_rows=prev.n_rows + table.n_rows - drop,
            n_cols=len(union) - 1,
            cells=sorted(cells, key=lambda c: (c.row, c.col)),
            pages=prev.pages + table.pages,
            bbox=prev.bbox,
            ruled=prev.ruled and table.ruled,
            score=min(prev.score, table.score),
        )
    return out
