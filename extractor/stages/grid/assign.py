"""Tokens into cells: by box centre, splitting a token that runs across several cells."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

from extractor.stages.grid.ruled import GridCell

_log = logging.getLogger(__name__)

# A token this many times wider than the cell its centre falls in is checked for crossing cells.
_CROSSING_RATIO = 1.15


@dataclass(frozen=True)
class WorkToken:
    """A token in the working (crop, deskewed) coordinates of the grid stage."""

    text: str  # the token's text as recognised
    x1: float  # box in working pixels
    y1: float
    x2: float
    y2: float
    score: float  # recognition confidence in [0, 1]

    @property
    def cx(self) -> float:
        return (self.x1 + self.x2) / 2

    @property
    def cy(self) -> float:
        return (self.y1 + self.y2) / 2


def _char_weight(ch: str) -> float:
    """Relative printed width of a character: full-width ones are about twice ASCII ones."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5


def _cell_at(cells: list[GridCell], x: float, y: float) -> int | None:
    for i, c in enumerate(cells):
        if c.x1 <= x <= c.x2 and c.y1 <= y <= c.y2:
            return i
    return None


def _overlap(c: GridCell, t: WorkToken) -> float:
    w = min(c.x2, t.x2) - max(c.x1, t.x1)
    h = min(c.y2, t.y2) - max(c.y1, t.y1)
    return w * h if w > 0 and h > 0 else 0.0


def split_across(token: WorkToken, cells: list[GridCell]) -> list[tuple[int, WorkToken]]:
    """Split a token whose characters fall in different cells.

    Characters are laid out over the token's width in proportion to their printed width
    (full-width 1, ASCII 0.5); each character goes to the cell holding its centre. Runs of
    characters in one cell become one piece, stripped of spaces. Returns an empty list when the
    token cannot be split (one character, or all characters in one cell).
    """
    text = token.text
    if len(text) < 2:
        return []
    weights = [_char_weight(ch) for ch in text]
    total = sum(weights)
    unit = (token.x2 - token.x1) / total
    pieces: list[tuple[int, list[int]]] = []
    x = token.x1
    for k, w in enumerate(weights):
        idx = _cell_at(cells, x + w * unit / 2, token.cy)
        x += w * unit
        if idx is None:
            continue
        if pieces and pieces[-1][0] == idx:
            pieces[-1][1].append(k)
        else:
            pieces.append((idx, [k]))
    if len({idx for idx, _ in pieces}) < 2:
        return []
    out = []
    for idx, ks in pieces:
        part = "".join(text[k] for k in ks).strip()
        if not part:
            continue
        left = token.x1 + sum(weights[: ks[0]]) * unit
        right = token.x1 + sum(weights[: ks[-1] + 1]) * unit
        out.append((idx, WorkToken(part, left, token.y1, right, token.y2, token.score)))
    return out


def assign_tokens(tokens: list[WorkToken], cells: list[GridCell]) -> tuple[list[list[WorkToken]], int]:
    """Give every token (or piece of a token) to one cell.

    Steps:
        1. A token whose centre lies in a cell it is not much wider than goes to that cell.
        2. A token wider than its cell (an OCR line across columns) is split by character
           position (:func:`split_across`).
        3. Otherwise the token goes to the cell it overlaps most; a token overlapping no cell is
           left out and counted.

    Returns:
        Tokens per cell (same order as `cells`) and the number of tokens left out.
    """
    per_cell: list[list[WorkToken]] = [[] for _ in cells]
    left_out = 0
    for t in tokens:
        idx = _cell_at(cells, t.cx, t.cy)
        if idx is not None and (t.x2 - t.x1) <= _CROSSING_RATIO * (cells[idx].x2 - cells[idx].x1):
            per_cell[idx].append(t)
            continue
        pieces = split_across(t, cells)
        if pieces:
            for i, piece in pieces:
                per_cell[i].append(piece)
            continue
        overlaps = [_overlap(c, t) for c in cells]
        best = max(range(len(cells)), key=overlaps.__getitem__) if cells else None
        if best is None or overlaps[best] <= 0:
            left_out += 1
            _log.debug("token %r overlaps no cell", t.text)
            continue
        per_cell[best].append(t)
    return per_cell, left_out


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _same_line(a: WorkToken, b: WorkToken) -> bool:
    """Vertical extents overlap by half the smaller height (small punctuation boxes sit low)."""
    overlap = min(a.y2, b.y2) - max(a.y1, b.y1)
    return overlap >= 0.5 * max(1.0, min(a.y2 - a.y1, b.y2 - b.y1))


def join_text(tokens: list[WorkToken]) -> str:
    """Tokens in reading order (lines top to bottom, left to right within a line), joined.

    Neighbours are joined without a space when either side is full-width (Chinese has none
    between words or across wrapped lines) or when they touch; ASCII words with a visible gap
    between them get one space.
    """
    if not tokens:
        return ""
    ordered = sorted(tokens, key=lambda t: t.cy)
    lines: list[list[WorkToken]] = [[ordered[0]]]
    for t in ordered[1:]:
        if any(_same_line(t, other) for other in lines[-1]):
            lines[-1].append(t)
        else:
            lines.append([t])
    text = ""
    prev: WorkToken | None = None
    for line in lines:
        for t in sorted(line, key=lambda t: t.x1):
            part = t.text.strip()
            if not part:
                continue
            gap = t.x1 - prev.x2 if prev is not None and _same_line(t, prev) else None
            spaced = gap is not None and gap > 0.3 * (t.y2 - t.y1)
            if text and spaced and not (_is_cjk(text[-1]) or _is_cjk(part[0])):
                text += " "
            text += part
            prev = t
    return text
