"""The perspective of a ruled table, from its rules: a homography that levels every row rule and
stands every column rule upright.

A page photographed, or not flat on the scanner's glass, is seen in perspective: its row rules
are straight but no longer parallel (they meet at a vanishing point far to one side), nor are
its column rules. One rotation levels the middle rows only; over a page-long table the top and
bottom rules are then a row's height apart from level at their ends, and one shear stands only
some column rules upright, splitting the others into sliver columns.

The two vanishing points are fitted to all the table's rule pieces at once (a robust,
length-weighted least-squares fit, pieces that do not agree with the rest left out), and the
homography sends them to infinity along the x and y axes. It is the identity, or a rotation and
shear, when the rules are parallel; a prior on parallel rules keeps the fit from inventing a
convergence from a few short pieces.

Coordinates: crop pixels, origin at the crop's top-left corner, x right, y down.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from extractor.stages.pixels import connected_components

_log = logging.getLogger(__name__)

# A rule piece is fitted only if at least this many of its pixels lie on its line.
_MIN_PIXELS = 20
# Robust fit: a piece whose direction misses the vanishing point by more than this (radians,
# ~0.6°) is not a rule of the table's grid (a bent rule at a fold, a stroke of a heading).
_OUTLIER_ANGLE = 0.01
# ... or than this many pixels over its own length, for a short piece.
_PIECE_PX = 3.0
# Weight of the prior that the rules are parallel, as a share of the pieces' total weight.
_PARALLEL_PRIOR = 0.001
# The homography is not applied when it moves no point of the crop by more than this (px).
_MIN_EFFECT_PX = 1.5
# Nor when it moves a point of the crop by more than this share of the crop's size: no scan is
# that far from flat, the fit is wrong.
_MAX_EFFECT_SHARE = 0.05


def rule_pieces(mask: np.ndarray, horizontal: bool, min_length: int) -> list[tuple[np.ndarray, float]]:
    """Straight-line fits to the rule pieces of a line mask.

    Returns:
        (line, length) per piece at least `min_length` long: the line as homogeneous
        (a, b, c) with a² + b² = 1 (a·x + b·y + c = 0, crop pixels), its length in pixels.
    """
    n, labels, stats, _ = connected_components(mask, _MIN_PIXELS)
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        length = w if horizontal else h
        if length < min_length:
            continue
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == i)
        points = np.column_stack([xs + x, ys + y]).astype(np.float32)
        dx, dy, px, py = (float(v) for v in cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel())
        normal = np.array([-dy, dx])
        out.append((np.array([normal[0], normal[1], -(normal[0] * px + normal[1] * py)]), float(length)))
    return out


def vanishing_point(
    lines: list[tuple[np.ndarray, float]], direction: np.ndarray, centre: np.ndarray, scale: float
) -> np.ndarray:
    """The point where `lines` meet (homogeneous, crop pixels; third coordinate 0 at infinity).

    Fitted in coordinates centred on `centre` and divided by `scale`, where a line's product
    with a unit-norm vanishing point is, for a point at infinity, the sine of the angle between
    them. Iteratively refitted without the lines that miss it by more than `_OUTLIER_ANGLE`.
    With no line, the point at infinity in `direction` (x for rows, y for columns).
    """
    if not lines:
        return np.array([direction[0], direction[1], 0.0])
    to_norm = np.array([[1 / scale, 0, -centre[0] / scale], [0, 1 / scale, -centre[1] / scale], [0, 0, 1]])
    # Lines map by the inverse transpose; each renormalised so that its normal has unit length.
    normed = []
    for line, length in lines:
        l = np.linalg.inv(to_norm).T @ line
        normed.append((l / np.hypot(l[0], l[1]), length))
    L = np.array([l for l, _ in normed])
    w = np.array([length for _, length in normed])
    # A short piece's direction is known to a few pixels over its length only.
    tolerance = np.maximum(_OUTLIER_ANGLE, _PIECE_PX / w)
    keep = np.ones(len(L), dtype=bool)
    v = np.array([direction[0], direction[1], 0.0])
    for _ in range(3):
        weights = w * keep
        scatter = (L * weights[:, None]).T @ L
        # The prior: parallel rules (a point at infinity) unless the pieces say otherwise.
        scatter[2, 2] += _PARALLEL_PRIOR * weights.sum()
        _, vectors = np.linalg.eigh(scatter)
        v = vectors[:, 0]
        residual = np.abs(L @ v) / max(np.hypot(v[0], v[1]), 1e-12)
        new_keep = residual <= tolerance
        if new_keep.sum() < 1 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    # Back to crop pixels.
    point = np.linalg.inv(to_norm) @ v
    return point / np.linalg.norm(point)


def rectifying_homography(
    horizontal: np.ndarray, vertical: np.ndarray, min_h: int, min_v: int
) -> np.ndarray | None:
    """The homography (3x3) from a crop to its rectified copy, or None when there is nothing to do.

    The rectified copy agrees with the crop at its centre (same point, same scale along the
    rules there); elsewhere every row rule is level and every column rule upright.

    Args:
        horizontal: row-rule mask of the crop (255 = rule), as `line_masks` gives.
        vertical: column-rule mask of the crop.
        min_h: shortest row-rule piece fitted (px).
        min_v: shortest column-rule piece fitted (px).

    Returns:
        None when the rules are parallel to the axes already (nothing moves by more than
        `_MIN_EFFECT_PX`), when there are no rules to fit in one direction, or when the fit
        would move a point by more than `_MAX_EFFECT_SHARE` of the crop.
    """
    height, width = horizontal.shape
    rows = rule_pieces(horizontal, True, min_h)
    cols = rule_pieces(vertical, False, min_v)
    if not rows or not cols:
        return None
    centre = np.array([width / 2.0, height / 2.0])
    scale = float(max(width, height))
    v_rows = vanishing_point(rows, np.array([1.0, 0.0]), centre, scale)
    v_cols = vanishing_point(cols, np.array([0.0, 1.0]), centre, scale)
    to_crop = _frame_from_vanishing_points(v_rows, v_cols, centre)
    if to_crop is None:
        return None
    homography = np.linalg.inv(to_crop)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    moved = np.linalg.norm(apply(homography, corners) - corners, axis=1).max()
    if moved < _MIN_EFFECT_PX:
        return None
    if moved > _MAX_EFFECT_SHARE * scale:
        _log.info("rectification would move the crop's corners by %.0f px: not applied", moved)
        return None
    return homography


def _frame_from_vanishing_points(v_rows: np.ndarray, v_cols: np.ndarray, centre: np.ndarray) -> np.ndarray | None:
    """The homography from rectified to crop pixels whose x axis runs to `v_rows` and y axis to
    `v_cols`, with the crop's `centre` fixed and unit scale along both axes there."""
    origin = np.array([centre[0], centre[1], 1.0])
    axes = []
    for v, axis in ((v_rows, 0), (v_cols, 1)):
        # The direction in which the rule through the centre runs towards the vanishing point.
        d = v[:2] - centre * v[2]
        norm = np.hypot(d[0], d[1])
        if norm < 1e-12:
            return None
        sign = 1.0 if d[axis] > 0 else -1.0
        axes.append(v * sign / norm)
    # Columns: where the rectified x axis, y axis and origin go (homogeneous); then shift so that
    # rectified (cx, cy) is the crop's centre: the copy keeps the crop's own coordinates there.
    to_crop = np.column_stack([axes[0], axes[1], origin])
    shift = np.array([[1.0, 0.0, -centre[0]], [0.0, 1.0, -centre[1]], [0.0, 0.0, 1.0]])
    return to_crop @ shift


def apply(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (n, 2) points through a 3x3 homography."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = np.hstack([pts, np.ones((len(pts), 1))]) @ homography.T
    return mapped[:, :2] / mapped[:, 2:]
