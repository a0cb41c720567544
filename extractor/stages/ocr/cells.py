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
from extractor.stages.ocr.ctc import CtcReading
from extractor.stages.grid.lines import seal_mask
from extractor.stages.pixels import connected_components

_log = logging.getLogger(__name__)

Recogniser = Callable[[list[np.ndarray]], Sequence[tuple[str, float]]]
# A cell recogniser may also give each crop's k best readings over the value alphabet.
CellRecogniser = Callable[[list[np.ndarray]], Sequence[CtcReading | tuple[str, float]]]
# Readings of one cell kept from the combinations of its lines' candidates.
_CELL_CANDIDATES = 5


class CellReadOptions(BaseModel):
    """Tunables of cell-crop reading. Pixel lengths are given at 200 dpi and scaled."""

    model_config = ConfigDict(extra="forbid")

    slash_degrees: float = Field(
        12.0, description="a lone stroke leaning more than this from vertical is '/', not '1' (measured: 1 ≤ 4.4°, / ≈ 24°)"
    )
    min_ink_200: int = Field(12, description="fewer ink pixels (200 dpi) than this make a cell blank")
    min_line_height_200: int = Field(6, description="ink runs shorter than this (200 dpi) are specks, not a text line")
    margin_y: float = Field(0.5, description="space kept above and below a text line, in line heights")
    margin_x: float = Field(1.0, description="space kept left and right of a text line, in line heights")
    text_line_ratio: float = Field(
        3.0,
        description="given a text recogniser, a line crop wider than this many times its height (label text; a "
        "number is rarely that wide) is read by it first (PP-OCRv6 tiny read the 103 such crops of three typical "
        "scans 5.7x faster than small), and again by the cell recogniser unless that reading is sure of text",
    )
    text_line_score: float = Field(
        0.9,
        description="a text recogniser's reading is kept at this score or above, holding no digit. Below it, on "
        "hard scans, tiny read faint zeros and merged values as characters ('王' 0.44, '量。' 0.70) and labels a "
        "little worse than small ('保护第二方今法' 0.88)",
    )


@dataclass(frozen=True)
class _LineCrop:
    cell_index: int  # position of the cell in table.cells
    image: np.ndarray  # RGB crop of one text line, padded


def _text_ink(gray: np.ndarray, scale: float, contrast: float = 40) -> tuple[np.ndarray, np.ndarray]:
    """(text ink, whole text ink) of a cell crop, both bool.

    Left out of the text is what must not reach the recogniser: ruling lines, found on a loose
    threshold (so faint grey or JPEG-softened rules are caught) by morphological opening with
    kernels three quarters of the crop long; slivers, pieces and corners of broken rules; specks.

    The threshold is at most `contrast` grey levels below the paper (lower for a faint cell,
    see :func:`_cell_ink`).

    The whole text ink adds the lighter ink joined to the text (see :func:`_hysteresis`),
    specks included: whole characters, kept from being painted over. A dash would take in its
    blur and the specks beside it, so the shape and lines of the cell's ink are judged on the
    text ink alone.
    """
    h, w = gray.shape
    paper = float(np.percentile(gray, 90))
    loose = (gray < paper - 25).astype(np.uint8)
    band = max(4, int(10 * scale))
    # Cell boxes come from the grid's rules, so rules can only lie in bands along the edges;
    # searching only there keeps the tall strokes of characters from being taken for rules.
    sides, ends = np.zeros_like(loose), np.zeros_like(loose)
    sides[:, :band], sides[:, -band:] = loose[:, :band], loose[:, -band:]
    ends[:band, :], ends[-band:, :] = loose[:band, :], loose[-band:, :]
    vertical = cv2.morphologyEx(sides, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(9, 3 * h // 4))))
    horizontal = cv2.morphologyEx(ends, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, 3 * w // 4), 1)))
    rules = (horizontal | vertical).astype(bool)
    near_rules = cv2.dilate(rules.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # The threshold comes from the interior alone: dark rules along the edges would otherwise
    # set it, and a faint grey digit (a light print, a pale copy) would fall apart into specks.
    interior = gray[~near_rules]
    threshold = paper - contrast
    if interior.size:
        otsu, _ = cv2.threshold(interior.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        threshold = min(threshold, max(float(otsu), paper - 110))
    # Only ink near ink that stands out of its own neighbourhood's paper: blotches of textured
    # or grey-cast paper pass the threshold under the crop's one paper level, print passes both
    # (its blurred edges within a stroke's width of its core).
    stroke = max(1, int(round(_STROKE_200 * scale / 2)))
    near_dark = cv2.dilate(
        _locally_dark(gray, scale, contrast, ~near_rules).astype(np.uint8), np.ones((2 * stroke + 1,) * 2, np.uint8)
    ).astype(bool)
    text = (gray < threshold) & ~near_rules & near_dark
    pieces = np.zeros_like(text)
    # Twice: a speck or dash can hide another one (it sets the extent the other is judged by).
    for _ in range(2):
        noise = _edge_slivers(text, scale) | _rule_pieces(text, band) | _corner_pieces(text, band, scale)
        text &= ~(noise | _specks(text & ~noise, band))
        pieces |= noise
    # Not through the rules or their pieces: a digit beside a rule would be taken for one.
    whole = _hysteresis(text, (gray < threshold + (paper - threshold) / 3) & ~near_rules & ~pieces)
    return text, whole


def _locally_dark(gray: np.ndarray, scale: float, contrast: float, interior: np.ndarray) -> np.ndarray:
    """Pixels darker than their local paper (:func:`_local_darkness`) by `contrast`, or by a
    margin over the paper's grain where the paper is grainier than that (measured over `interior`)."""
    darkness = _local_darkness(gray, scale).astype(np.float32)
    inside = darkness[interior]
    if inside.size:
        grain = float(np.median(np.abs(inside - np.median(inside)))) * _MAD_TO_SIGMA
        contrast = max(contrast, float(np.median(inside)) + _GRAIN_MARGIN * grain)
    return darkness > contrast


# A robust spread (median absolute deviation) times this is the standard deviation of normal noise.
_MAD_TO_SIGMA = 1.4826
# Ink is darker than the paper by this many standard deviations of the paper's grain at least
# (measured on Augraphy's textured paper: grain of 9 grey levels, its darkest specks 45 levels
# below the local paper; print 100 and more).
_GRAIN_MARGIN = 6.0
# Widest stroke of print, pixels at 200 dpi: darkness wider than this is the paper's.
_STROKE_200 = 4


def _local_darkness(gray: np.ndarray, scale: float) -> np.ndarray:
    """How far each pixel lies below its local paper, not below one paper level of the crop.

    Paper texture, a photocopy's grey cast and a shadow darken the paper in patches wider than
    any stroke; a threshold under the crop's one paper level takes the dark patches for ink (a
    blank cell read as text, a digit read with blots beside it). The local paper is the crop
    with every dark feature narrower than twice the widest stroke closed over (a grey-level
    closing).
    """
    size = 2 * max(2, int(round(_STROKE_200 * scale))) + 1
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    return cv2.subtract(paper, gray)


def _hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """The weak ink connected to some strong ink.

    The thin strokes of a faint digit (the top and bottom of a "0") print lighter than its
    stems; on the strict threshold alone they break off, are judged specks and painted over, and
    the "0" is read as "u" or "日". The loose threshold alone would take in the paper's grain.
    """
    n, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    if n <= 1:
        return strong
    seeded = np.zeros(n, dtype=bool)
    seeded[labels[strong]] = True
    seeded[0] = False
    return seeded[labels]


def _components(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, labels, stats, _ = connected_components(ink)
    return labels, stats[1:, :4]


def _text_height(stats: np.ndarray, h: int, w: int, band: int) -> float:
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


def _rule_pieces(ink: np.ndarray, band: int) -> np.ndarray:
    """Dashes of a broken rule inside the crop: thin pieces along an edge that no text makes.

    A vertical piece in a side band that touches the top or bottom of the crop, or reaches
    well above or below the rest of the ink (the text line); a horizontal piece in the top or
    bottom band that touches the left or right end, or lies wholly above or below the rest of the
    ink. A "1" beside a rule shares its line's extent; a "一" keeps off the crop's ends.
    """
    labels, stats = _components(ink)
    h, w = ink.shape
    if not len(stats):
        return np.zeros_like(ink, dtype=bool)
    drop = np.zeros(len(stats) + 1, dtype=bool)
    # Rules of a dark copy spread to 6 px at 200 dpi; the band is 10 px.
    thin = max(3, (2 * band) // 3)
    # The text line's extent comes from the text-sized components, not from specks and dashes.
    size = np.maximum(stats[:, 2], stats[:, 3])
    texty = (size >= 0.5 * _text_height(stats, h, w, band)) & (np.minimum(stats[:, 2], stats[:, 3]) > thin)
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


def _corner_pieces(ink: np.ndarray, band: int, scale: float) -> np.ndarray:
    """Corners of the cell's frame: the ends of two rules that meet, left as one "┐"-shaped piece.

    Neither thin along one edge nor inside the cell, such a piece escapes the sliver and dash
    tests, and the recogniser reads it as "7" or "「". It lies wholly in the edge bands and
    reaches two crossing edges; text keeps a padding off the frame, so none of it does both.
    """
    labels, stats = _components(ink)
    h, w = ink.shape
    drop = np.zeros(len(stats) + 1, dtype=bool)
    if not len(stats):
        return drop[labels]
    edge = max(3, int(6 * scale))
    inner = np.zeros_like(ink, dtype=bool)
    inner[band:h - band, band:w - band] = True
    inside = np.bincount(labels[inner & ink], minlength=len(stats) + 1)
    for i, (x, y, cw, ch) in enumerate(stats, start=1):
        side = x < edge or x + cw > w - edge
        end = y < edge or y + ch > h - edge
        drop[i] = side and end and inside[i] == 0
    return drop[labels]


def _specks(ink: np.ndarray, band: int) -> np.ndarray:
    """Dots of dirt: components far smaller than the text that stand apart from it.

    A dot counts as text (a decimal point, the "、" of a label, a stroke of a character) when
    it is within the line's height and lies closely between text-sized components along the
    line. Before the text only a minus sign (a short level stroke) is kept: no number starts
    with a dot, and a speck there is read as a leading "4" or "1". After the text a dot ends
    nothing that matters (a label's "。") and a speck there is read as "0." or "0·".
    """
    labels, stats = _components(ink)
    if len(stats) < 2:
        return np.zeros_like(ink, dtype=bool)
    size = np.maximum(stats[:, 2], stats[:, 3])
    line = _text_height(stats, *ink.shape, band)
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


def _edge_slivers(ink: np.ndarray, scale: float) -> np.ndarray:
    """Pieces of broken rules: thin components lying along, and close to, a crop edge.

    A vertical sliver near the left or right edge, or a horizontal one near the top or bottom,
    is a rule; a digit "1" is as thin but stands inside the cell, and a "一" near the left edge
    (as in "一、本年新收") is horizontal, so neither is removed.
    """
    n, labels, stats, _ = connected_components(ink)
    h, w = ink.shape
    edge, thin = max(3, int(6 * scale)), max(2, int(4 * scale))
    drop = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        near_side = x < edge or x + cw > w - edge
        near_top_bottom = y < edge or y + ch > h - edge
        drop[i] = (near_side and cw <= thin and ch > cw) or (near_top_bottom and ch <= thin and cw > ch)
    return drop[labels]


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


# Widest spread of a "/" across its axis, as a share of the spread along it (standard deviations).
_SLASH_WIDTH = 0.25


def _is_slash(ink: np.ndarray, max_degrees: float) -> bool:
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


def _paint_mask(text: np.ndarray) -> np.ndarray:
    """Pixels to paint with the paper colour: all but the text and a margin round it.

    Rules, their pieces, specks and the paper's grain go (the contrast stretch would bring the
    grain out, and a faint dash on it was read as a row of letters). The margin keeps the soft
    edges of the characters and the pieces of a faint digit that broke off ("0" read as "U").
    """
    return ~cv2.dilate(text.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)


@dataclass(frozen=True)
class _CellInk:
    """A cell's crop and what its ink was judged to be."""

    crop: np.ndarray  # RGB crop of the cell box
    ink: np.ndarray  # bool, text ink (its lines and extents are what is read)
    whole: np.ndarray  # bool, text ink with the faint strokes joined to it (kept from the paint)
    spans: list[tuple[int, int]]  # vertical extents [y0, y1) of the ink's text lines
    seal_removed: bool = False  # a seal's red ink was taken out of the crop


@dataclass(frozen=True)
class _Dash:
    """A cell whose only ink is one short level stroke: a dash printed for zero."""

    width: int  # px


def _lone_dash(ink: np.ndarray, scale: float) -> _Dash | None:
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
    thin = h <= max(2, 6 * scale)
    if not thin.any():
        return None
    centre = y + h / 2
    widest = int(np.flatnonzero(thin)[np.argmax(w[thin])])
    line = float(centre[widest])
    on_line = thin & (np.abs(centre - line) <= max(2, 3 * scale))
    # The stroke runs on from its widest piece over small gaps; specks further along the line
    # (a dot by the rule) are specks, not a longer, broken stroke.
    stroke = np.zeros_like(on_line)
    stroke[widest] = True
    gap = max(4 * scale, w[widest] / 2)
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
    mostly = area[stroke].sum() >= 0.5 * area.sum() and (area[~stroke] <= 20 * scale * scale).all()
    flat = width >= max(5 * scale, 1.5 * height) and covered.mean() >= 0.5
    return _Dash(width) if middle and mostly and flat else None


def _dash_text(dash: _Dash, line: float | None) -> str:
    """"—" or "-" by the dash's length against the table's text height: an em dash is about a
    character wide (1.05–1.4 digit heights in the fonts measured), a hyphen a third of that."""
    return "—" if line is None or dash.width >= 0.75 * line else "-"


# In the red channel, seal ink is paler than this share of the paper; print under a seal darker.
_SEAL_RED = 0.6


def _without_seal(crop: np.ndarray, min_ink: float) -> np.ndarray | None:
    """The crop in grey without a red seal's ink, or None when no seal crosses it.

    A seal stamped over a table turns a label or a value into one blot of grey. Black print
    under a seal stays dark (ink multiplies), but is reddish. The red channel keeps the print
    and shows the seal pale, down to the pink of its edges; the seal's own red pixels, those
    paler there than print, are made paper. (Measured on seals stamped over generated tables:
    at 0.7 of the paper's red, pieces of the seal were left as ink; at 0.6 none were, and grey
    digits under it kept their strokes.)
    """
    red = seal_mask(crop)
    if np.count_nonzero(red) < min_ink:
        return None
    out = crop[:, :, 0].copy()
    paper = np.percentile(out, 90)
    out[red & (out > _SEAL_RED * paper)] = paper
    return out


# Darkness below the paper that still counts as ink when a cell looks blank (see _cell_ink).
_FAINT_CONTRAST = 30


def _has_faint_ink(gray: np.ndarray, min_ink: float, scale: float) -> bool:
    """Whether the cell's middle holds enough pixels darker than the paper by the faint contrast
    to make a character: most blank cells do not, and are not looked at again."""
    band = max(4, int(10 * scale))
    middle = gray[band:-band, band:-band]
    return middle.size > 0 and np.count_nonzero(middle < np.percentile(gray, 90) - _FAINT_CONTRAST) >= min_ink


def _one_character(ink: np.ndarray, scale: float) -> bool:
    """Whether the ink is one character away from the cell's edges: character-sized, and with a
    stroke at least half its height (the arcs of a pale "0"; specks of dirt are a few pixels)."""
    ys, xs = np.nonzero(ink)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    h, w = ink.shape
    margin = 4 * scale
    inside = ys.min() > margin and ys.max() < h - margin and xs.min() > margin and xs.max() < w - margin
    _, stats = _components(ink)
    stroke = stats[:, 3].max() >= max(10 * scale, height / 2)
    return bool(inside and stroke and 12 * scale <= height <= 40 * scale and width <= 1.2 * height)


def _cell_crop(image: np.ndarray, cell: Cell) -> np.ndarray | None:
    """The cell's box cut from the page, RGB; None when it is too small to hold anything."""
    h, w = image.shape[:2]
    x1, y1 = max(0, int(cell.bbox.x1)), max(0, int(cell.bbox.y1))
    x2, y2 = min(w, int(np.ceil(cell.bbox.x2))), min(h, int(np.ceil(cell.bbox.y2)))
    if x2 - x1 < 6 or y2 - y1 < 6:
        return None
    crop = image[y1:y2, x1:x2]
    return crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)


def _cell_ink(image: np.ndarray, cell: Cell, dpi: float, options: CellReadOptions) -> _CellInk | _Dash | str | None:
    """The cell's crop and ink, None for a blank cell, a lone dash, or the text itself when the
    shape alone decides it (a lone "/")."""
    scale = dpi / 200
    crop = _cell_crop(image, cell)
    if crop is None:
        return None
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    min_ink = options.min_ink_200 * scale
    min_height = _min_line_height(options, scale)
    ink, whole = _text_ink(gray, scale)
    if (ink.sum() < min_ink or not _line_spans(ink, min_height)) and _has_faint_ink(gray, min_ink, scale):
        # A faded digit can be too pale for the threshold, left as a few specks or nothing;
        # looked at again on a lower contrast, it is kept if it is one character's blob in the
        # middle of the cell (the paper's grain gives specks, which are dropped).
        faint, faint_whole = _text_ink(gray, scale, contrast=_FAINT_CONTRAST)
        if faint.sum() >= min_ink and _one_character(faint, scale):
            ink, whole = faint, faint_whole
    if ink.sum() < min_ink:
        return None
    seal_free = _without_seal(crop, min_ink)
    seal_removed = False
    if seal_free is not None:
        black, black_whole = _text_ink(seal_free, scale)
        # Only where black print is left: a value printed in colour is read as printed.
        if black.sum() >= min_ink:
            crop, ink, whole, seal_removed = np.dstack([seal_free] * 3), black, black_whole, True
    if _is_slash(ink, options.slash_degrees):
        return "/"
    # Before the recogniser, which reads a thick dash on a dark copy as "1".
    dash = _lone_dash(ink, scale)
    if dash is not None:
        return dash
    # Lines are found on the strict ink: a faint mark with its blur would pass for a line.
    spans = _line_spans(ink, min_height)
    if not spans:
        return None
    return _CellInk(crop, ink, whole, spans, seal_removed)


def _inked_interior(
    image: np.ndarray, cell: Cell, dpi: float, options: CellReadOptions, line: float | None
) -> np.ndarray | None:
    """The inside of a cell decided by its shape or judged blank, around its text ink, for the
    recogniser's second opinion; None when the ink is too little, or (given the table's text
    height `line`) lower than half a line: grain, not a character."""
    scale = dpi / 200
    crop = _cell_crop(image, cell)
    if crop is None:
        return None
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    # The faint text ink: rules, their pieces and specks left out, as for any cell.
    faint, _ = _text_ink(gray, scale, contrast=_FAINT_CONTRAST)
    if faint.sum() < options.min_ink_200 * scale:
        return None
    ys, xs = np.nonzero(faint)
    if line is not None and ys.max() - ys.min() + 1 < 0.5 * line:
        return None
    pad = max(3, int(6 * scale))
    ya, yb = max(0, ys.min() - pad), min(gray.shape[0], ys.max() + pad + 1)
    xa, xb = max(0, xs.min() - pad), min(gray.shape[1], xs.max() + pad + 1)
    return np.ascontiguousarray(crop[ya:yb, xa:xb])


# Score of a cell whose shape and recogniser disagree: below every acceptance threshold.
_DISAGREEING_SCORE = 0.5


def _second_opinion(
    decided: str, reading: CtcReading, stroke: bool = False
) -> tuple[list[tuple[str, float]], float] | None:
    """Both readings and a low score when the recogniser reads a non-zero number where the
    cell's shape (a dash, a slash) or its lack of ink said nothing or zero; None when they agree.

    A hard decision of the shape rules cannot be weighed against the identities; two readings
    can (`extractor.stages.validate.joint`), and a reviewer sees the cell either way. The shape
    stays the more probable reading. A lone stroke the shape found flat or leaning (`stroke`)
    read "1" agrees with it: the recogniser reads a dash or a slash as "1", and the shape test
    has measured the stroke's direction, which a "1" does not have.
    """
    best, p = reading.candidates[0] if reading.candidates else (reading.text, reading.score)
    digits = "".join(ch for ch in best if ch.isdigit())
    if p < _SECOND_OPINION_MIN or not digits.strip("0") or (stroke and digits == "1"):
        return None
    return [(decided, 0.6), (best, 0.4)], min(_DISAGREEING_SCORE, reading.score)


# The recogniser's reading must be at least this probable to put a shape decision in doubt.
_SECOND_OPINION_MIN = 0.5


def _min_line_height(options: CellReadOptions, scale: float) -> int:
    return max(2, int(options.min_line_height_200 * scale))


def _typical_line_height(cells: list[_CellInk]) -> float | None:
    """Median height of the text lines of a table's cells: what one line of its text measures."""
    heights = [b - a for c in cells for a, b in c.spans]
    return float(np.median(heights)) if heights else None


def _without_side_rules(cell: _CellInk, line: float | None, min_height: int) -> _CellInk | None:
    """The cell without its thin strokes along a side far taller than the table's text: pieces of
    a faint rule the cell box took in (read "1", or "11" beside a "1"). A "1" beside its rule is
    as thin but a line high. None when nothing else is left: the cell is blank."""
    if line is None:
        return cell
    labels, stats = _components(cell.ink)
    band = max(4, cell.ink.shape[1] // 10)
    width = cell.ink.shape[1]
    rules = [
        i + 1
        for i, (x, _, w, h) in enumerate(stats)
        if (x < band or x + w > width - band) and w <= max(3, line / 3) and h >= 1.5 * line
    ]
    if not rules:
        return cell
    # The rule's blur, joined to it on the loose threshold, goes with it.
    rule = cv2.dilate(np.isin(labels, rules).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    ink, whole = cell.ink & ~rule, cell.whole & ~rule
    spans = _line_spans(ink, min_height)
    return _CellInk(cell.crop, ink, whole, spans, cell.seal_removed) if spans else None


def _join_fragments(spans: list[tuple[int, int]], line: float | None) -> list[tuple[int, int]]:
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


# Grey levels a line crop is stretched to: its ink's darkest tenth, and its paper.
_BLACK, _WHITE = 20, 240


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


def _line_crops(cell: _CellInk, line: float | None, options: CellReadOptions) -> list[np.ndarray]:
    """RGB crops of a cell's text lines, top to bottom.

    Each line gets space around it in proportion to its height: the recogniser was trained on
    detector crops, which have such margins (tight crops read 5 as 0). All but the text is
    painted over with the paper colour (:func:`_paint_mask`).
    """
    crop, ink = cell.crop, cell.ink
    paper = np.median(crop[~cv2.dilate(cell.whole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)], axis=0)
    clean = crop.copy()
    clean[_paint_mask(cell.whole)] = paper.astype(np.uint8)
    # A pale print on grey paper is read more surely (higher scores, fewer misreads) at full contrast.
    clean = _stretch(clean, ink, paper)
    paper = np.full(3, _WHITE, dtype=np.float64)
    spans = _join_fragments(cell.spans, line)
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
        margin_y, margin_x = int(options.margin_y * height) + 1, int(options.margin_x * height) + 1
        # The line on paper-coloured margins: no neighbouring rule, no hard edge at the padding.
        # (The crop's own pixels as margin lower the recogniser's scores: measured, 0.86 -> 0.77.)
        lines.append(
            cv2.copyMakeBorder(
                clean[ya:yb, xa:xb], margin_y, margin_y, margin_x, margin_x, cv2.BORDER_CONSTANT,
                value=tuple(int(v) for v in paper),
            )
        )
    return lines


def _recognise_lines(
    images: list[np.ndarray], recognise: CellRecogniser, recognise_text: Recogniser | None, options: CellReadOptions
) -> list[CtcReading]:
    """One reading per line crop.

    Wide crops are mostly label text: `recognise_text` reads them, and a reading with a digit in
    it (a numbered label, a value beside its label) or a low score is read again by `recognise`,
    which reads numbers best. The rest, numbers above all, go to `recognise` directly.
    """
    readings: dict[int, CtcReading] = {}
    if recognise_text is not None:
        wide = [i for i, im in enumerate(images) if im.shape[1] > options.text_line_ratio * im.shape[0]]
        for i, (text, score) in zip(wide, recognise_text([images[i] for i in wide]) if wide else [], strict=True):
            if score >= options.text_line_score and not any(ch.isdigit() for ch in text):
                readings[i] = CtcReading(text, score, ())
    rest = [i for i in range(len(images)) if i not in readings]
    for i, read in zip(rest, recognise([images[i] for i in rest]) if rest else [], strict=True):
        readings[i] = read if isinstance(read, CtcReading) else CtcReading(read[0], read[1], ())
    return [readings[i] for i in range(len(images))]


def _cell_candidates(lines: list[CtcReading]) -> list[tuple[str, float]]:
    """A cell's k best readings: the most probable combinations of its lines' readings (a value
    wrapped over two lines is rare; every line must have been read over the value alphabet)."""
    if not lines or any(not line.candidates for line in lines):
        return []
    combined: list[tuple[str, float]] = [("", 1.0)]
    for line in lines:
        combined = sorted(
            ((text + t.strip(), p * q) for text, p in combined for t, q in line.candidates), key=lambda c: -c[1]
        )[:_CELL_CANDIDATES]
    merged: dict[str, float] = {}
    for text, p in combined:
        merged[text] = merged.get(text, 0.0) + p
    return sorted(merged.items(), key=lambda c: -c[1])


def read_table_cells(
    table: Table,
    image: np.ndarray,
    recognise: CellRecogniser,
    dpi: float,
    options: CellReadOptions | None = None,
    recognise_text: Recogniser | None = None,
) -> Table:
    """The table with every cell's text read from its crop of `image`.

    Steps:
        1. Crop each cell, clear ruling-line remnants at its edges, and call it blank when
           little ink is left; a lone "/" or dash is decided by its shape.
        2. Split the ink into text lines (labels wrap; vertical labels hold one character per
           line), putting the pieces of a broken character back together by the table's
           typical line height.
        3. Recognise all lines of the table in one batch (recognition only, no detection); wide
           lines of label text by `recognise_text` first (:func:`_recognise_lines`).
        4. Join each cell's lines; the cell score is its lowest line score (1.0 for a blank cell),
           its candidates the best combinations of its lines' value-alphabet readings, its
           evidence what decided it.
           The text is kept as read: marks around a number are the assembler's to judge
           (:func:`extractor.stages.assemble.values.parse_value` keeps them in ``raw`` and flags
           the field).

    Args:
        table: a grid whose cell boxes are in pixels of `image`.
        image: the page, RGB, uprighted as for the grid stage.
        recognise: recognition-only OCR, one reading per crop: a :class:`CtcReading` with the
            crop's best readings over the value alphabet, or a plain ``(text, score)``.
        dpi: resolution of `image`.
        recognise_text: a faster recogniser for lines of text (labels), whose readings holding a
            digit are read again by `recognise`; None reads every line with `recognise`.
    """
    options = options or CellReadOptions()
    crops: list[_LineCrop] = []
    texts: dict[int, list[str]] = {}
    evidence: dict[int, list[str]] = {}
    prepared = {i: _cell_ink(image, cell, dpi, options) for i, cell in enumerate(table.cells)}
    inked = {i: p for i, p in prepared.items() if isinstance(p, _CellInk)}
    line = _typical_line_height(list(inked.values()))
    min_height = _min_line_height(options, dpi / 200)
    second: dict[int, np.ndarray] = {}  # cells decided without the recogniser, read by it as well
    for i, p in prepared.items():
        if isinstance(p, str):
            texts[i], evidence[i] = [p], ["shape:slash"]
        elif isinstance(p, _Dash):
            texts[i], evidence[i] = [_dash_text(p, line)], ["shape:dash"]
        elif p is not None and (kept := _without_side_rules(p, line, min_height)):
            crops.extend(_LineCrop(i, crop) for crop in _line_crops(kept, line, options))
            evidence[i] = ["seal-removed"] if p.seal_removed else []
            continue
        else:
            evidence[i] = ["ink:blank"]
        interior = _inked_interior(image, table.cells[i], dpi, options, None if isinstance(p, _Dash) else line)
        if interior is not None:
            second[i] = interior
    order = list(second)
    results = _recognise_lines([c.image for c in crops] + [second[i] for i in order], recognise, recognise_text, options)
    lines: dict[int, list[CtcReading]] = {}
    for crop, reading in zip(crops, results[: len(crops)], strict=True):
        lines.setdefault(crop.cell_index, []).append(reading)
    recognised = dict(zip(order, results[len(crops):], strict=True))
    cells = []
    for i, cell in enumerate(table.cells):
        read = lines.get(i, [])
        candidates = _cell_candidates(read)
        notes = evidence.get(i, []) + ([f"alphabet:n-best {len(candidates)}"] if candidates else [])
        score = min((r.score for r in read), default=1.0)
        text = "".join(texts.get(i, []))
        if i in recognised and (doubt := _second_opinion(text, recognised[i], stroke=isinstance(prepared[i], (_Dash, str)))):
            candidates, score = doubt
            notes.append(f"recogniser read {candidates[1][0]!r}")
        cells.append(
            cell.model_copy(
                update={
                    "text": "".join(r.text.strip() for r in read) if read else text,
                    "token_texts": [r.text.strip() for r in read] if read else texts.get(i, []),
                    "score": score,
                    "candidates": candidates,
                    "evidence": notes,
                }
            )
        )
    _log.debug("read %d cells from %d line crops", len(cells), len(crops))
    return table.model_copy(update={"cells": cells})
