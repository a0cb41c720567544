"""A cell's ink against its paper: what of a cell crop is text.

A threshold under the crop's paper level finds the ink; rules, their pieces and specks are left
out (:mod:`.noise`); only ink that also stands out of its own neighbourhood's paper is kept, so
that the blotches of textured or grey-cast paper are not text. Lengths are pixels at the
table's unit (:mod:`.sizes`).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from extractor.stages.cells.heuristic.noise import corner_pieces, edge_slivers, rule_pieces, specks
from extractor.stages.cells.heuristic.sizes import odd_kernel, px

_log = logging.getLogger(__name__)

# Darkness below the paper that still counts as ink when a cell looks blank (see `cell.cell_ink`).
FAINT_CONTRAST = 30
# Darkness below the paper that counts as ink, grey levels (lower for a faint cell).
_CONTRAST = 40
# Darkness below the paper at which ink may be a rule: a loose threshold, so that faint grey or
# JPEG-softened rules are caught.
_RULE_CONTRAST = 25
# Width of the bands along a cell's edges where its rules lie, pixels.
_BAND = 10
# A robust spread (median absolute deviation) times this is the standard deviation of normal noise.
_MAD_TO_SIGMA = 1.4826
# Ink is darker than the paper by this many standard deviations of the paper's grain at least
# (measured on Augraphy's textured paper: grain of 9 grey levels, its darkest specks 45 levels
# below the local paper; print 100 and more).
_GRAIN_MARGIN = 6.0
# Widest stroke of print, pixels: darkness wider than this is the paper's.
_STROKE = 4


# Grey levels between the paper and the darkest print that the thresholds here assume (black
# toner on white or grey paper, scanned): a crop of fainter print is stretched to it first.
_FULL_CONTRAST = 150
# Print stands out of the paper by at least this many standard deviations of its grain: a crop
# whose darkest pixels do not is blank paper, and is not stretched.
_SIGNIFICANT = 8.0


def with_full_contrast(gray: np.ndarray) -> np.ndarray:
    """The crop with its print as far below its paper as black toner on paper is.

    A pale copy, low ink or a dark photocopy leave a cell's print 10-40 grey levels below its
    paper, where every threshold above takes it for paper. The darkest of the crop (its print or
    its rules, which are of one toner) is set `_FULL_CONTRAST` below the paper, the paper kept
    where it is, when it stands out of the paper's grain at all; grain is stretched with it, and
    is told from print as on any crop (`_locally_dark`).
    """
    paper = float(np.percentile(gray, 90))
    dark = float(np.percentile(gray, 0.5))
    contrast = paper - dark
    grain = float(np.median(np.abs(gray - np.median(gray)))) * _MAD_TO_SIGMA
    if contrast >= _FULL_CONTRAST or contrast < _SIGNIFICANT * max(grain, 1.0):
        return gray
    stretched = paper - (paper - gray.astype(np.float32)) * (_FULL_CONTRAST / contrast)
    return np.clip(stretched, 0, 255).astype(np.uint8)


def edge_band(unit: float) -> int:
    """Width of the bands along a cell's edges where its rules lie, pixels at `unit`."""
    return px(_BAND, unit, least=4)


def text_ink(gray: np.ndarray, unit: float, contrast: float = _CONTRAST) -> tuple[np.ndarray, np.ndarray]:
    """(text ink, whole text ink) of a cell crop, both bool.

    Left out of the text is what must not reach the recogniser: ruling lines, found on a loose
    threshold by morphological opening with kernels three quarters of the crop long; slivers,
    pieces and corners of broken rules; specks.

    The threshold is at most `contrast` grey levels below the paper (lower for a faint cell,
    see :func:`extractor.stages.cells.heuristic.cell.cell_ink`).

    The whole text ink adds the lighter ink joined to the text (see :func:`hysteresis`),
    specks included: whole characters, kept from being painted over. A dash would take in its
    blur and the specks beside it, so the shape and lines of the cell's ink are judged on the
    text ink alone.
    """
    h, w = gray.shape
    paper = float(np.percentile(gray, 90))
    loose = (gray < paper - _RULE_CONTRAST).astype(np.uint8)
    band = edge_band(unit)
    # Cell boxes come from the grid's rules, so rules can only lie in bands along the edges;
    # searching only there keeps the tall strokes of characters from being taken for rules.
    sides, ends = np.zeros_like(loose), np.zeros_like(loose)
    sides[:, :band], sides[:, -band:] = loose[:, :band], loose[:, -band:]
    ends[:band, :], ends[-band:, :] = loose[:band, :], loose[-band:, :]
    shortest = px(9, unit)
    vertical = cv2.morphologyEx(
        sides, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(shortest, 3 * h // 4)))
    )
    horizontal = cv2.morphologyEx(
        ends, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(shortest, 3 * w // 4), 1))
    )
    rules = (horizontal | vertical).astype(bool)
    near_rules = cv2.dilate(rules.astype(np.uint8), odd_kernel(1, unit)).astype(bool)
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
    near_dark = cv2.dilate(
        _locally_dark(gray, unit, contrast, ~near_rules).astype(np.uint8), odd_kernel(_STROKE / 2, unit)
    ).astype(bool)
    text = (gray < threshold) & ~near_rules & near_dark
    pieces = np.zeros_like(text)
    # Twice: a speck or dash can hide another one (it sets the extent the other is judged by).
    for _ in range(2):
        noise = edge_slivers(text, unit) | rule_pieces(text, band) | corner_pieces(text, band, unit)
        text &= ~(noise | specks(text & ~noise, band))
        pieces |= noise
    # Not through the rules or their pieces: a digit beside a rule would be taken for one.
    whole = hysteresis(text, (gray < threshold + (paper - threshold) / 3) & ~near_rules & ~pieces)
    return text, whole


def _locally_dark(gray: np.ndarray, unit: float, contrast: float, interior: np.ndarray) -> np.ndarray:
    """Pixels darker than their local paper (:func:`local_darkness`) by `contrast`, or by a
    margin over the paper's grain where the paper is grainier than that (measured over `interior`)."""
    darkness = local_darkness(gray, unit).astype(np.float32)
    inside = darkness[interior]
    if inside.size:
        grain = float(np.median(np.abs(inside - np.median(inside)))) * _MAD_TO_SIGMA
        contrast = max(contrast, float(np.median(inside)) + _GRAIN_MARGIN * grain)
    return darkness > contrast


def local_darkness(gray: np.ndarray, unit: float) -> np.ndarray:
    """How far each pixel lies below its local paper, not below one paper level of the crop.

    Paper texture, a photocopy's grey cast and a shadow darken the paper in patches wider than
    any stroke; a threshold under the crop's one paper level takes the dark patches for ink (a
    blank cell read as text, a digit read with blots beside it). The local paper is the crop
    with every dark feature narrower than twice the widest stroke closed over (a grey-level
    closing).
    """
    size = 2 * px(_STROKE, unit, least=2) + 1
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    return cv2.subtract(paper, gray)


def hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
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


def has_faint_ink(gray: np.ndarray, min_ink: float, unit: float) -> bool:
    """Whether the cell's middle holds enough pixels darker than the paper by the faint contrast
    to make a character: most blank cells do not, and are not looked at again."""
    band = edge_band(unit)
    middle = gray[band:-band, band:-band]
    return middle.size > 0 and np.count_nonzero(middle < np.percentile(gray, 90) - FAINT_CONTRAST) >= min_ink
