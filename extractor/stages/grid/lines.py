"""Ruling lines of a table image: binarisation, line masks, skew and line segments.

Everything here works on one greyscale crop (uint8, 0 = black ink, 255 = paper) whose pixel
coordinates have their origin at the crop's top-left corner. The layout stage uses the same masks
to find fully ruled tables on a page; the grid stage uses them to recover rows and columns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from extractor.stages.pixels import connected_components

_log = logging.getLogger(__name__)

# Resolution the pixel lengths below were measured at (FINDINGS.md: 45 px / 40 px at 200 dpi).
_REFERENCE_DPI = 200.0


@dataclass(frozen=True)
class LineParams:
    """Pixel sizes for line finding at one resolution."""

    h_kernel: int  # horizontal opening length: shorter ink runs (Chinese strokes) are not rules
    v_kernel: int  # vertical opening length
    gap: int  # gaps up to this long inside a rule are closed (broken or faint lines on scans)
    tol: int  # line positions closer than this are one boundary
    block: int  # adaptive-threshold neighbourhood (odd)


def line_params(dpi: float, h_kernel_200: int = 45, v_kernel_200: int = 40, gap_200: int = 12) -> LineParams:
    """Scale the 200-dpi pixel lengths to `dpi`."""
    f = dpi / _REFERENCE_DPI
    block = max(15, int(round(31 * f)) | 1)
    return LineParams(
        h_kernel=max(9, int(round(h_kernel_200 * f))),
        v_kernel=max(9, int(round(v_kernel_200 * f))),
        gap=max(2, int(round(gap_200 * f))),
        tol=max(3, int(round(8 * f))),
        block=block,
    )


# A pixel whose red exceeds its green and blue by this much is seal ink (red stamps), not print.
_SEAL_RED_EXCESS = 40


def to_gray(image: np.ndarray) -> np.ndarray:
    """RGB / greyscale uint8 image -> greyscale uint8, red seal ink turned light.

    Official seals are stamped in red over tables and signatures; in plain greyscale their
    strokes are as dark as print and become rules and text. Where red clearly dominates, the red
    channel is used (light for red ink; black print over a seal stays dark in every channel).
    """
    if image.ndim == 2:
        return image
    gray = cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY)
    red = np.ascontiguousarray(image[:, :, 0])
    np.copyto(gray, red, where=_red_excess(red, image))
    return gray


def seal_mask(image: np.ndarray) -> np.ndarray:
    """Pixels of an RGB image where red ink dominates (seal strokes)."""
    if image.ndim == 2:
        return np.zeros(image.shape, dtype=bool)
    return _red_excess(np.ascontiguousarray(image[:, :, 0]), image)


def _red_excess(red: np.ndarray, image: np.ndarray) -> np.ndarray:
    # In uint8 (half the time of the signed arithmetic it replaces): OpenCV's subtraction stops
    # at 0, so red below green or blue is no excess, as it should be.
    return cv2.subtract(red, np.maximum(image[:, :, 1], image[:, :, 2])) > _SEAL_RED_EXCESS


def binarise(gray: np.ndarray, params: LineParams) -> np.ndarray:
    """Ink mask (255 = ink) by adaptive mean threshold.

    Adaptive rather than global thresholding, because scans have uneven paper and light table
    fills (the blue 第二十条 band rows) that a global threshold turns into solid blocks.
    """
    return cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, params.block, 15
    )


# A faint rule is at least this many grey levels darker than the paper on either side of it.
_RULE_CONTRAST = 8


def faint_rules(gray: np.ndarray, params: LineParams) -> np.ndarray:
    """Ink mask (255) of thin lines darker than the paper just above and below them (or left and
    right), averaged along their direction first.

    A photocopy or a scan of grey paper leaves rules a few grey levels darker than the paper,
    broken and grainy: the adaptive threshold, set against the paper's own grain, keeps pieces
    too short for a rule. Averaged over a few millimetres along the line the grain cancels out
    and the line stands out from the paper on both sides of it (a ridge). Text lines are dark
    over their whole height and are no ridge; a character's thin stroke is, but too short to
    survive the rules' opening (`line_masks`), as in the thresholded ink.
    """
    reach = max(2, params.tol // 3 + 1)  # beyond half a rule's thickness
    out = np.zeros(gray.shape, dtype=bool)
    for axis, kernel in ((0, (params.gap, 1)), (1, (1, params.gap))):
        along = cv2.blur(gray, kernel).astype(np.int16)
        before, after = np.roll(along, reach, axis=axis), np.roll(along, -reach, axis=axis)
        out |= np.minimum(before, after) - along > _RULE_CONTRAST
    return out.astype(np.uint8) * 255


def line_masks(ink: np.ndarray, params: LineParams) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical rule masks from an ink mask.

    Steps:
        1. Close tiny gaps along each direction so a broken rule becomes one run.
        2. Open with a long thin kernel: only runs at least the kernel long survive, which keeps
           rules and drops text strokes.
        3. Close again along the direction with twice the gap length, joining the surviving
           pieces of a dashed or faint rule.
    """
    # Pieces that survived the opening are rule for sure, so they may be bridged across longer
    # dropouts than the text-safe pre-close allows (a poor copy breaks rules every few mm).
    h_close = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * params.gap, 1))
    v_close = cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * params.gap))
    h_open = cv2.getStructuringElement(cv2.MORPH_RECT, (params.h_kernel, 1))
    v_open = cv2.getStructuringElement(cv2.MORPH_RECT, (1, params.v_kernel))
    # Before opening, close only short dropouts: a wider close would join text strokes into rules.
    small_h = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, params.gap // 3), 1))
    small_v = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, params.gap // 3)))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, small_h)
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_OPEN, h_open)
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, h_close)
    vertical = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, small_v)
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_OPEN, v_open)
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, v_close)
    return horizontal, vertical


def estimate_skew(horizontal: np.ndarray, min_length: int, min_pixels: int = 1) -> float:
    """Skew of the page in degrees (positive = rules fall to the right, image y grows down).

    The median angle of straight-line fits to the long horizontal rule components; 0.0 when
    there are none.
    """
    n, labels, stats, _ = connected_components(horizontal, min_pixels)
    angles: list[float] = []
    weights: list[float] = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_WIDTH] < min_length:
            continue
        ys, xs = np.nonzero(labels[stats[i, 1] : stats[i, 1] + stats[i, 3], stats[i, 0] : stats[i, 0] + stats[i, 2]] == i)
        if len(xs) < 10:
            continue
        slope = np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)[0]
        angles.append(float(np.degrees(np.arctan(slope))))
        weights.append(float(stats[i, cv2.CC_STAT_WIDTH]))
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])


@dataclass(frozen=True)
class Segment:
    """One straight rule piece (a connected component of a line mask)."""

    pos: float  # y of a horizontal rule / x of a vertical rule, in crop pixels
    start: float  # left end (horizontal) / top end (vertical)
    end: float  # right end / bottom end


def segments(mask: np.ndarray, horizontal: bool, min_length: int) -> list[Segment]:
    """Connected components of a line mask longer than `min_length`, as segments."""
    # A rule mask's components are at least as long as the kernel that opened it.
    n, _, stats, centroids = connected_components(mask, min_length)
    out: list[Segment] = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if horizontal and w >= min_length:
            out.append(Segment(pos=float(centroids[i][1]), start=float(x), end=float(x + w)))
        elif not horizontal and h >= min_length:
            out.append(Segment(pos=float(centroids[i][0]), start=float(y), end=float(y + h)))
    return out


def cluster_positions(values: list[float], weights: list[float], tol: float) -> list[float]:
    """Merge sorted positions closer than `tol` into their weighted mean."""
    if not values:
        return []
    order = np.argsort(values)
    groups: list[list[int]] = [[int(order[0])]]
    for idx in order[1:]:
        if values[idx] - values[groups[-1][-1]] <= tol:
            groups[-1].append(int(idx))
        else:
            groups.append([int(idx)])
    return [float(np.average([values[i] for i in g], weights=[weights[i] for i in g])) for g in groups]


def coverage(mask: np.ndarray, horizontal: bool, pos: float, start: float, end: float, half_width: int) -> float:
    """Fraction of the stretch start..end of a rule at `pos` that the mask covers.

    A band `half_width` pixels either side of `pos` is searched, so a rule a few pixels off its
    clustered boundary (slight bow or residual skew) still counts.
    """
    h, w = mask.shape
    p0 = max(0, int(round(pos)) - half_width)
    p1 = min(h if horizontal else w, int(round(pos)) + half_width + 1)
    s0 = max(0, int(round(start)))
    s1 = min(w if horizontal else h, int(round(end)))
    if s1 <= s0 or p1 <= p0:
        return 0.0
    band = mask[p0:p1, s0:s1] if horizontal else mask[s0:s1, p0:p1].T
    return float(np.count_nonzero(band.max(axis=0))) / (s1 - s0)
