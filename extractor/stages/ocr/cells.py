"""Read table cells from their own image crops once the grid is known.

Full-page OCR finds text lines that cross cell borders on scans and reads the ruling lines as
"1" or "|" ("0 | 0" → "01 0"). Recognising each cell's interior alone avoids that, skips the
(costly) detection step, and lets blank cells be decided from ink instead of from a model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import Cell, Table

_log = logging.getLogger(__name__)

Recogniser = Callable[[list[np.ndarray]], Sequence[tuple[str, float]]]


class CellReadOptions(BaseModel):
    """Tunables of cell-crop reading. Pixel lengths are given at 200 dpi and scaled."""

    model_config = ConfigDict(extra="forbid")

    min_ink_200: int = Field(12, description="fewer ink pixels (200 dpi) than this make a cell blank")
    min_line_height_200: int = Field(6, description="ink runs shorter than this (200 dpi) are specks, not a text line")
    margin_y: float = Field(0.5, description="space kept above and below a text line, in line heights")
    margin_x: float = Field(1.0, description="space kept left and right of a text line, in line heights")


@dataclass(frozen=True)
class _LineCrop:
    cell_index: int  # position of the cell in table.cells
    image: np.ndarray  # RGB crop of one text line, padded


def _text_ink(gray: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(text ink, ruling-line pixels) of a cell crop.

    Faint grey rules are found on a loose threshold by morphological opening with kernels
    almost as long as the crop, so that remnants of the cell's borders (even dashed by JPEG
    or partly outside the box on a skewed scan) are not mistaken for text.
    """
    h, w = gray.shape
    paper = float(np.percentile(gray, 90))
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = gray < min(threshold, paper - 40)
    loose = (gray < paper - 25).astype(np.uint8)
    horizontal = cv2.morphologyEx(loose, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, w // 2), 1)))
    vertical = cv2.morphologyEx(loose, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(9, h // 2))))
    rules = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8)).astype(bool)
    text = ink & ~rules
    text[:2, :] = text[-2:, :] = False
    text[:, :2] = text[:, -2:] = False
    return _drop_debris(text, scale), rules


def _drop_debris(ink: np.ndarray, scale: float) -> np.ndarray:
    """Remove ink that is not text: specks, and slivers of broken rules along the crop's edges.

    A sliver is thin (a rule's width) and lies within a few pixels of the crop's border; a digit
    "1" is as thin but sits away from the border, inside the cell.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    h, w = ink.shape
    edge, thin, speck = max(3, int(6 * scale)), max(2, int(4 * scale)), max(2, int(5 * scale * scale))
    keep = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        near_edge = x < edge or y < edge or x + cw > w - edge or y + ch > h - edge
        sliver = near_edge and (cw <= thin or ch <= thin)
        keep[i] = area >= speck and not sliver
    return keep[labels]


def _line_spans(ink: np.ndarray, min_height: int) -> list[tuple[int, int]]:
    """Vertical extents [y0, y1) of the text lines in a cell, from its row ink profile."""
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


def _cell_lines(image: np.ndarray, cell: Cell, dpi: float, options: CellReadOptions) -> list[np.ndarray]:
    """RGB crops of a cell's text lines, top to bottom ([] for a blank cell).

    Each line keeps white space around it in proportion to its height (the recogniser was
    trained on detector crops, which have such margins; tight crops read 5 as 0), with the
    ruling-line pixels painted paper-white.
    """
    scale = dpi / 200
    h, w = image.shape[:2]
    x1, y1 = max(0, int(cell.bbox.x1)), max(0, int(cell.bbox.y1))
    x2, y2 = min(w, int(np.ceil(cell.bbox.x2))), min(h, int(np.ceil(cell.bbox.y2)))
    if x2 - x1 < 6 or y2 - y1 < 6:
        return []
    crop = image[y1:y2, x1:x2]
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    ink, rules = _text_ink(gray, scale)
    if ink.sum() < options.min_ink_200 * scale:
        return []
    clean = crop.copy()
    clean[rules] = int(np.percentile(gray, 90))
    lines = []
    for a, b in _line_spans(ink, max(2, int(options.min_line_height_200 * scale))):
        xs = np.flatnonzero(ink[a:b].any(axis=0))
        height = b - a
        margin_y, margin_x = int(options.margin_y * height), int(options.margin_x * height)
        line = clean[max(0, a - margin_y) : b + margin_y, max(0, xs[0] - margin_x) : xs[-1] + 1 + margin_x]
        pad_y = max(0, margin_y - a) if a < margin_y else 0
        line = cv2.copyMakeBorder(line, pad_y, 0, 0, 0, cv2.BORDER_REPLICATE) if pad_y else line
        lines.append(line)
    return lines


def read_table_cells(
    table: Table, image: np.ndarray, recognise: Recogniser, dpi: float, options: CellReadOptions | None = None
) -> Table:
    """The table with every cell's text read from its crop of `image`.

    Steps:
        1. Crop each cell, clear ruling-line remnants at its edges, and call it blank when
           little ink is left.
        2. Split the ink into text lines (labels wrap; vertical labels hold one character per line).
        3. Recognise all lines of the table in one batch (recognition only, no detection).
        4. Join each cell's lines; the cell score is its lowest line score (1.0 for a blank cell).

    Args:
        table: a grid whose cell boxes are in pixels of `image`.
        image: the page, RGB, uprighted as for the grid stage.
        recognise: recognition-only OCR, one ``(text, score)`` per crop.
        dpi: resolution of `image`.
    """
    options = options or CellReadOptions()
    crops: list[_LineCrop] = []
    for i, cell in enumerate(table.cells):
        crops.extend(_LineCrop(i, line) for line in _cell_lines(image, cell, dpi, options))
    results = list(recognise([c.image for c in crops])) if crops else []
    texts: dict[int, list[str]] = {}
    scores: dict[int, float] = {}
    for crop, (text, score) in zip(crops, results, strict=True):
        texts.setdefault(crop.cell_index, []).append(text.strip())
        scores[crop.cell_index] = min(scores.get(crop.cell_index, 1.0), score)
    cells = [
        cell.model_copy(
            update={
                "text": "".join(texts.get(i, [])),
                "token_texts": texts.get(i, []),
                "score": scores.get(i, 1.0),
            }
        )
        for i, cell in enumerate(table.cells)
    ]
    _log.debug("read %d cells from %d line crops", len(cells), len(crops))
    return table.model_copy(update={"cells": cells})
