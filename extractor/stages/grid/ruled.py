"""Grid of a ruled table from its line masks: boundaries, present segments, merged cells."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import cv2
import numpy as np

from extractor.stages.pixels import connected_components
from extractor.stages.grid.lines import LineParams, Segment, cluster_positions, coverage, segments

_log = logging.getLogger(__name__)

# A grid edge counts as ruled when the mask covers at least this fraction of it.
_EDGE_COVERAGE = 0.6
# An edge whose long-rule coverage is at least this holds part of a rule: it is merged over only
# where the merged cell stays a rectangle.
_PARTIAL_RULE = 0.15
# Short rule pieces covering this share of an edge are what is left of a rule: the edge may be
# judged by the text on either side of it.
_RULE_REMNANT = 0.15
# A rule covering this share of the table's extent is a rule, whatever it meets.
_LONG_RULE = 0.6
# A rule meets a crossing rule when its end comes this many line tolerances near it.
_TOUCH_REACH = 2.5
# An edge the long rules missed is kept when short rule pieces cover this share of it...
_BROKEN_COVERAGE = 0.3
# ... and unbroken ink runs in from its real corners over this share (text keeps off the rules).
_BROKEN_FROM_CORNERS = 0.3
# ... or thin dashes with no text about them cover this share of it.
_RULE_LIKE_COVERAGE = 0.45


@dataclass(frozen=True)
class GridCell:
    """A (possibly merged) cell on a boundary grid, in the working crop's pixels."""

    row: int  # top grid row
    col: int  # left grid column
    row_span: int  # grid rows covered
    col_span: int  # grid columns covered
    x1: float  # left boundary
    y1: float  # top boundary
    x2: float  # right boundary
    y2: float  # bottom boundary


@dataclass(frozen=True)
class RuledGrid:
    """What the ruling lines say about a table."""

    xs: list[float]  # column boundaries, left to right (len = n_cols + 1)
    ys: list[float]  # row boundaries, top to bottom (len = n_rows + 1)
    cells: list[GridCell]  # every grid position covered by exactly one cell
    repaired: int  # merged groups that were not rectangles and were split back into single cells


def _touches(seg: Segment, pos: float, others: list[Segment], tol: float) -> bool:
    """Whether the rule `seg` crosses or meets a boundary at `pos` made of `others`."""
    if not seg.start - tol <= pos <= seg.end + tol:
        return False
    return any(o.start - tol <= seg.pos <= o.end + tol for o in others)


def _boundaries(segs: list[Segment], tol: float) -> list[tuple[float, list[Segment]]]:
    """Cluster segment positions into boundaries, each with its segments."""
    positions = cluster_positions([s.pos for s in segs], [s.end - s.start for s in segs], tol)
    groups: list[list[Segment]] = [[] for _ in positions]
    for s in segs:
        groups[int(np.argmin([abs(s.pos - p) for p in positions]))].append(s)
    return list(zip(positions, groups))


def _crossed(
    bounds: list[tuple[float, list[Segment]]], others: list[tuple[float, list[Segment]]], tol: float
) -> list[tuple[float, list[Segment]]]:
    """Keep boundaries whose rules meet at least two boundaries of the other direction, or
    that run along most of the table.

    A long stroke of text or an underline touches no column rule, a real row rule touches at
    least the table's two side rules (one of them maybe from a little way off, see below).
    """
    kept = []
    # On a poor copy a rule breaks near the crossings, and a piece of it can stop a couple of
    # millimetres short of a rule it meets: one of the two meetings may be that loose. Not both:
    # a text stroke (the bottom of "企业") keeps a cell's padding from the rules at either end.
    reach = _TOUCH_REACH * tol
    ends = [opos for opos, _ in others]
    lo, hi = (min(ends), max(ends)) if len(ends) >= 2 else (0.0, 0.0)
    for pos, segs in bounds:
        close = sum(1 for opos, osegs in others if any(_touches(s, opos, osegs, tol) for s in segs))
        loose = sum(1 for opos, osegs in others if any(_touches(s, opos, osegs, reach) for s in segs))
        # A rule broken at both ends, between rows whose crossing rules are broken too (a faded
        # rule under a full-width group title), meets nothing; but no text or underline runs
        # along most of a table.
        along = sum(max(0.0, min(s.end, hi) - max(s.start, lo)) for s in segs)
        if (close >= 1 and loose >= 2) or (hi > lo and along >= _LONG_RULE * (hi - lo)):
            kept.append((pos, segs))
    return kept


def _crossing_pieces(
    dropped: list[tuple[float, list[Segment]]],
    others: list[tuple[float, list[Segment]]],
    kept: list[tuple[float, list[Segment]]],
    tol: float,
) -> list[tuple[float, list[Segment]]]:
    """Boundaries among `dropped` made of a piece of rule that runs through a kept rule of the
    other direction, away from every kept boundary.

    On a poor copy all that may be left of a column rule is one piece across a row rule, too
    short to reach the rules above and below it. Text never runs through a rule. A piece near
    a kept boundary is that rule's own continuation, offset where the paper was warped.
    """
    found = []
    for pos, segs in dropped:
        if any(abs(pos - k) < 4 * tol for k, _ in kept):
            continue
        # The rule it runs through is often broken just where the two cross: it need only run
        # on either side.
        if any(
            s.start + tol <= opos <= s.end - tol and min(o.start for o in osegs) <= pos <= max(o.end for o in osegs)
            for s in segs
            for opos, osegs in others
        ):
            found.append((pos, segs))
    return found


def _extend(positions: list[float], crossing: list[tuple[float, list[Segment]]], tol: float) -> list[float]:
    """Add outer boundaries where the crossing rules run on past the last boundary.

    Open-sided tables draw their row rules out to the table edge without a side rule; the ends
    of those rules are the missing outer boundaries. At least two rules must run past (one
    stroke of a heading above the table is not an open side), and the new boundary is at the
    median of their ends (each rule's outermost end: a broken rule is several segments).
    """
    if not positions or not crossing:
        return positions
    out = list(positions)
    starts = [min(s.start for s in segs) for _, segs in crossing if segs]
    ends = [max(s.end for s in segs) for _, segs in crossing if segs]
    before = [x for x in starts if x < out[0] - 3 * tol]
    after = [x for x in ends if x > out[-1] + 3 * tol]
    if len(before) >= 2:
        out.insert(0, float(np.median(before)))
    if len(after) >= 2:
        out.append(float(np.median(after)))
    return out


def _short_masks(ink: np.ndarray, params: LineParams) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ink runs at least a gap long: the pieces of a broken rule.

    The line masks keep only runs a text stroke cannot make (45 px at 200 dpi); a rule broken
    every few millimetres on a poor scan leaves no run that long in a small cell.
    """
    n = max(5, params.gap)
    h = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    v = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    return h, v


def _rule_pieces(
    short: np.ndarray, horizontal: bool, pos: float, start: float, end: float, band: int
) -> tuple[float, float, float]:
    """How short rule pieces cover a grid edge: (coverage, run from the start, run from the end).

    The profile is taken along the edge from `start` to `end` (the crossing boundaries); the
    runs are how far unbroken ink goes inward from either corner, as shares of the edge.
    """
    h, w = short.shape
    p0 = max(0, int(round(pos)) - band)
    p1 = min(h if horizontal else w, int(round(pos)) + band + 1)
    s0 = max(0, int(round(start)))
    s1 = min(w if horizontal else h, int(round(end)))
    if s1 - s0 < 4 or p1 <= p0:
        return 0.0, 0.0, 0.0
    strip = short[p0:p1, s0:s1] if horizontal else short[s0:s1, p0:p1].T
    profile = strip.max(axis=0) > 0
    length = len(profile)
    off = np.flatnonzero(~profile)
    if not len(off):
        return 1.0, 1.0, 1.0
    return float(profile.mean()), float(off[0]) / length, float(length - 1 - off[-1]) / length


def _rule_like_cover(ink: np.ndarray, horizontal: bool, pos: float, start: float, end: float, band: int, tol: int) -> float:
    """Share of a grid edge covered by thin ink lying along it and nowhere else: a rule's dashes.

    The ink of a strip around the edge (``pos`` ± 1.5 ``tol``, corners left out) is split into
    pieces; a piece counts when it is no thicker than ``tol`` across the edge, does not reach
    the strip's long sides, and passes within ``band`` of the edge. Any other ink in the strip
    bigger than a speck means text about the edge (the strokes of a character can look like
    dashes): then nothing counts.
    """
    half = int(round(1.5 * tol))
    h, w = ink.shape
    p0, p1 = max(0, int(round(pos)) - half), min(h if horizontal else w, int(round(pos)) + half + 1)
    s0, s1 = max(0, int(round(start + tol))), min(w if horizontal else h, int(round(end - tol)))
    if s1 - s0 < 4 or p1 - p0 < 3:
        return 0.0
    strip = ink[p0:p1, s0:s1] if horizontal else ink[s0:s1, p0:p1].T
    n, labels, stats, _ = connected_components(strip > 0)
    rows = strip.shape[0]
    centre = int(round(pos)) - p0
    covered = np.zeros(strip.shape[1], dtype=bool)
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        rule_like = y > 0 and y + ch < rows and ch <= tol and y - band <= centre <= y + ch + band
        if rule_like:
            covered[x:x + cw] = True
        elif area > tol:
            # Anything else about the edge (a character, even one of its strokes) says text: a
            # header written across columns, a label across rows.
            return 0.0
    return float(covered.mean())


def _separate_texts(
    text: np.ndarray, horizontal: bool, pos: float, start: float, end: float, before: float, after: float, tol: int
) -> bool:
    """Whether the two cells on either side of an edge each hold text, and none lies across it.

    `text` is the ink with the rules taken out; the edge runs at `pos` from `start` to `end`,
    between the cells from `before` to `pos` and from `pos` to `after`. On either side, going out
    from the edge past any dash of the broken rule on it, a blank strip half a tolerance wide
    must come before the text, and no piece of text may lie across the edge: the text of a cell
    merged across it ("第二十条第（八）项" across two columns, a "0" centred on it) runs through,
    while the text of a cell keeps a padding off its rules (a left-aligned value or a label's
    last line less than a tolerance).
    """
    if not horizontal:
        text = text.T
    # Rows of `text` now run along the edge's normal: index [across, along].
    s0, s1 = max(0, int(round(start + tol))), int(round(end - tol))
    near, far = tol // 2 + 1, int(round(1.5 * tol))
    p = int(round(pos))
    if s1 <= s0:
        return False
    # A speck's pixel does not fill a strip.
    blank = np.count_nonzero(text[:, s0:s1], axis=1) <= 1

    def parted(outward: np.ndarray) -> bool:
        """Whether, going out from the edge, a blank strip comes before any text."""
        run = 0
        for i, is_blank in enumerate(outward):
            if is_blank:
                run += 1
                if run >= near:
                    return True
            elif i < tol // 2:
                run = 0  # a dash of the rule, on the edge
            else:
                return False
        return False

    if not (parted(blank[max(0, p - far) : p][::-1]) and parted(blank[p + 1 : p + far + 1])):
        return False
    # Nor may one piece of text lie across the edge (a "0" centred on it has a blank hole there).
    lo = max(0, p - 3 * far)
    _, labels, stats, _ = connected_components(np.ascontiguousarray(text[lo : p + 3 * far, s0:s1]))
    first, last = stats[1:, cv2.CC_STAT_TOP] + lo, stats[1:, cv2.CC_STAT_TOP] + stats[1:, cv2.CC_STAT_HEIGHT] + lo
    if np.any((first <= p - near) & (last > p + near)):
        return False

    def inked(a: float, b: float) -> int:
        a, b = max(0, int(round(a))), max(0, int(round(b)))
        return int(np.count_nonzero(text[a:b, s0:s1])) if b > a else 0

    # A digit "1" at 200 dpi is some 50 ink pixels; specks are a few.
    least = 2 * tol
    return inked(before + tol, p - near) >= least and inked(p + near + 1, after - tol) >= least


def _crossing_at(mask: np.ndarray, horizontal: bool, pos: float, at: float, band: int, reach: int) -> bool:
    """Whether the rule mask of the other direction passes the corner (`at` on the boundary at
    `pos`): a horizontal rule at y = pos near x = at (or a vertical one at x = pos near y = at)."""
    h, w = mask.shape
    p0, p1 = max(0, int(round(pos)) - band), int(round(pos)) + band + 1
    a0, a1 = max(0, int(round(at)) - reach), int(round(at)) + reach + 1
    window = mask[p0:p1, a0:a1] if horizontal else mask[a0:a1, p0:p1]
    return bool(window.any())


def _edge(a: int, b: int, xs: list[float], ys: list[float], n_cols: int) -> tuple[bool, float, float, float]:
    """The edge between neighbouring grid positions `a` and `b` (b right of or below a):
    (horizontal, position, start, end)."""
    ra, ca, rb, cb = a // n_cols, a % n_cols, b // n_cols, b % n_cols
    if ra == rb:  # side by side: a vertical edge at xs[cb]
        return False, xs[cb], ys[ra], ys[ra + 1]
    return True, ys[rb], xs[ca], xs[ca + 1]


def ruled_grid(
    horizontal: np.ndarray, vertical: np.ndarray, params: LineParams, ink: np.ndarray | None = None
) -> RuledGrid | None:
    """Recover the cell grid of a ruled table from its line masks.

    Steps:
        1. Cut each mask into segments; cluster segment positions into row / column boundaries.
        2. Drop boundaries whose rules do not meet two rules of the other direction (text
           strokes, underlines) unless they run along most of the table, and add outer
           boundaries where rules run past the last one.
        3. For every edge between two neighbouring grid positions, measure how much of it the
           line mask covers: an uncovered edge means the two positions belong to one merged cell,
           unless (with `ink` given) short rule pieces run along it in from its real corners (a
           rule broken on a poor copy; the text of a merged cell keeps clear of the rules).
        4. Union the positions joined by edges with no rule at all; then those joined by edges
           holding part of a rule, weakest first, only where the merged cell stays a rectangle.
           An edge with remains of a rule, a text on either side and none across it is a rule
           lost on the scan and joins nothing. Each group's bounding rectangle is a cell. A
           group that is still not a rectangle is split back into single cells and counted in
           ``repaired``.

    Args:
        horizontal, vertical: the line masks (:func:`line_masks`).
        params: pixel sizes at the image's resolution.
        ink: the binarised crop the masks came from; without it broken rules are not looked for.

    Returns:
        The grid, or None when fewer than two row or two column boundaries were found.
    """
    tol = params.tol
    h_segs = segments(horizontal, True, params.h_kernel)
    v_segs = segments(vertical, False, params.v_kernel)
    h_bounds = _boundaries(h_segs, tol) if h_segs else []
    v_bounds = _boundaries(v_segs, tol) if v_segs else []
    h_kept = _crossed(h_bounds, v_bounds, tol)
    v_kept = _crossed(v_bounds, h_kept, tol)
    h_kept = _crossed(h_kept, v_kept, tol)
    if len(h_kept) >= 2 and len(v_kept) >= 2:
        v_kept = sorted(v_kept + _crossing_pieces([b for b in v_bounds if b not in v_kept], h_kept, v_kept, tol))
        h_kept = sorted(h_kept + _crossing_pieces([b for b in h_bounds if b not in h_kept], v_kept, h_kept, tol))
    if len(h_kept) < 2 or len(v_kept) < 2:
        _log.debug("ruled grid: %d row and %d column rules, not a ruled table", len(h_kept), len(v_kept))
        return None
    ys = _extend([p for p, _ in h_kept], v_kept, tol)
    xs = _extend([p for p, _ in v_kept], h_kept, tol)
    virtual_x = {i for i, x in enumerate(xs) if x not in {p for p, _ in v_kept}}
    virtual_y = {i for i, y in enumerate(ys) if y not in {p for p, _ in h_kept}}
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    band = max(2, tol // 2 + 1)

    parent = list(range(n_rows * n_cols))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    h_short, v_short = _short_masks(ink, params) if ink is not None else (None, None)

    def broken(pieces: tuple[float, float, float], cross: np.ndarray, horiz: bool, pos: float, a: float, b: float) -> bool:
        """Whether an edge the long rules missed is a rule broken on the scan after all:
        short pieces along it (`pieces`, see :func:`_rule_pieces`) that run in from a real
        corner (a rule crossing there)."""
        cov, from_a, from_b = pieces
        if cov < _BROKEN_COVERAGE:
            return False
        # A crossing rule is of the other direction: horizontal edge <- vertical rule at x = a.
        reach = 2 * tol
        run = (from_a if _crossing_at(cross, not horiz, a, pos, band, reach) else 0.0) + (
            from_b if _crossing_at(cross, not horiz, b, pos, band, reach) else 0.0
        )
        if run >= _BROKEN_FROM_CORNERS or (cov >= 2 * _BROKEN_COVERAGE and run >= _BROKEN_FROM_CORNERS / 2):
            return True
        # Corners of a poor copy are often broken too; dashes with no text about them still say rule.
        return _rule_like_cover(ink, horiz, pos, a, b, band, tol) >= _RULE_LIKE_COVERAGE

    # Missing edges: (long-rule coverage, short-piece coverage, position a, position b).
    # Broken rules are not missing.
    missing: list[tuple[float, float, int, int]] = []
    no_pieces = (0.0, 0.0, 0.0)
    for r in range(n_rows):
        # Trim the ends of each stretch: corners are inked by the crossing rule.
        margin = min(tol, (ys[r + 1] - ys[r]) / 4)
        for c in range(1, n_cols):
            if c in virtual_x:
                continue
            cov = coverage(vertical, False, xs[c], ys[r] + margin, ys[r + 1] - margin, band)
            if cov >= _EDGE_COVERAGE:
                continue
            pieces = _rule_pieces(v_short, False, xs[c], ys[r], ys[r + 1], band) if v_short is not None else no_pieces
            if not (v_short is not None and broken(pieces, horizontal, False, xs[c], ys[r], ys[r + 1])):
                missing.append((cov, pieces[0], r * n_cols + c - 1, r * n_cols + c))
    for c in range(n_cols):
        margin = min(tol, (xs[c + 1] - xs[c]) / 4)
        for r in range(1, n_rows):
            if r in virtual_y:
                continue
            cov = coverage(horizontal, True, ys[r], xs[c] + margin, xs[c + 1] - margin, band)
            if cov >= _EDGE_COVERAGE:
                continue
            pieces = _rule_pieces(h_short, True, ys[r], xs[c], xs[c + 1], band) if h_short is not None else no_pieces
            if not (h_short is not None and broken(pieces, vertical, True, ys[r], xs[c], xs[c + 1])):
                missing.append((cov, pieces[0], (r - 1) * n_cols + c, r * n_cols + c))

    # Edges with no rule at all merge their cells. An edge with part of a rule left (a rule
    # broken beyond bridging) merges only where the merged cell stays a rectangle, weakest first.
    members: dict[int, list[int]] = {i: [i] for i in range(n_rows * n_cols)}

    def rectangular(group: list[int]) -> bool:
        rows = [m // n_cols for m in group]
        cols = [m % n_cols for m in group]
        return (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1) == len(group)

    def merge(a: int, b: int, check: bool) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        joined = members[ra] + members[rb]
        if check and not rectangular(joined):
            return
        union(ra, rb)
        root = find(ra)
        members[root] = joined
        members.pop(rb if root == ra else ra, None)

    @functools.cache
    def text_ink() -> np.ndarray:
        # The ink with the rules taken out, made once and only for a table with an edge to judge.
        rules = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
        return cv2.bitwise_and(ink, cv2.bitwise_not(rules))

    absent = {(a, b) for _, _, a, b in missing}

    def two_cells(a: int, b: int) -> bool:
        """A text on either side of the edge and none across it: the rule was lost on the scan,
        and merging would read "1" and "0" as one cell "10". Each side reaches on to the next
        edge that has a rule (a value centred in a cell merged over two columns)."""
        if ink is None:
            return False
        horiz, pos, start, end = _edge(a, b, xs, ys, n_cols)
        step, bounds, index = (n_cols, ys, lambda m: m // n_cols) if horiz else (1, xs, lambda m: m % n_cols)
        while (a - step, a) in absent:
            a -= step
        while (b, b + step) in absent:
            b += step
        return _separate_texts(text_ink(), horiz, pos, start, end, bounds[index(a)], bounds[index(b) + 1], tol)

    def gap_in_rule(a: int, b: int) -> bool:
        """Whether the edge is a gap in a rule that runs on along its boundary on both sides."""
        if b - a == n_cols:  # a horizontal edge: its neighbours are in the columns either side
            step, inside = 1, 0 < a % n_cols < n_cols - 1
        else:  # a vertical edge: in the rows above and below
            step, inside = n_cols, 0 < a // n_cols < n_rows - 1
        if not inside:
            return False
        return all((a + d, b + d) not in absent for d in (-step, step))

    # An edge without pieces of a rule along it is judged by the text about it only where it is
    # a gap in a rule: the characters of a label spaced out across a merged cell can leave a
    # gap on an edge, but such a cell is merged over the edges beside it too.
    for cov, pieces, a, b in missing:
        if cov < _PARTIAL_RULE and not ((pieces >= _RULE_REMNANT or gap_in_rule(a, b)) and two_cells(a, b)):
            merge(a, b, check=False)
    for cov, _, a, b in sorted(m for m in missing if m[0] >= _PARTIAL_RULE):
        if not two_cells(a, b):
            merge(a, b, check=True)

    groups: dict[int, list[int]] = {}
    for idx in range(n_rows * n_cols):
        groups.setdefault(find(idx), []).append(idx)
    cells: list[GridCell] = []
    repaired = 0
    for members in groups.values():
        rows = [m // n_cols for m in members]
        cols = [m % n_cols for m in members]
        r0, r1, c0, c1 = min(rows), max(rows), min(cols), max(cols)
        if (r1 - r0 + 1) * (c1 - c0 + 1) != len(members):
            repaired += 1
            cells.extend(
                GridCell(r, c, 1, 1, xs[c], ys[r], xs[c + 1], ys[r + 1]) for r, c in zip(rows, cols)
            )
            continue
        cells.append(GridCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1]))
    cells.sort(key=lambda g: (g.row, g.col))
    return RuledGrid(xs=xs, ys=ys, cells=cells, repaired=repaired)
