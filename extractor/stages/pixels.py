"""Pixel work the stages share: connected components of a mask, grey levels in integers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from extractor.datamodel import BBox

# Largest label a 16-bit label image holds (label 0 is the background).
_MAX_16_BIT = 65535


def connected_components(mask: np.ndarray, min_pixels: int = 1) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats(mask, connectivity=8)``: count, labels, stats, centroids.

    OpenCV computes the stats about three times faster with 16-bit labels than with 32-bit ones
    (11 against 30 ms on the rules of a 200 dpi page, 4 against 13 on a table's), so they are
    used whenever the count surely fits. It is at most one per 2 x 2 block (8-connected
    components do not touch), and at most the mask's ink over `min_pixels` (the fewest pixels a
    component can hold: a rule opened with a k-pixel kernel holds k) plus the pieces a crop's
    edge cut smaller, which touch the edge (at most one per two pixels of it).

    Args:
        mask: non-zero is foreground; bool or uint8.
        min_pixels: every component of `mask`, but those cut by its edge, holds at least this
            many pixels.
    """
    mask = mask.astype(np.uint8) if mask.dtype != np.uint8 else mask
    h, w = mask.shape
    most = min(cv2.countNonZero(mask) // max(1, min_pixels) + h + w, ((h + 1) // 2) * ((w + 1) // 2))
    ltype = cv2.CV_16U if most < _MAX_16_BIT else cv2.CV_32S
    return cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=ltype)


def grey_sum(image: np.ndarray) -> tuple[np.ndarray, int]:
    """The grey level of each pixel times `k`, as uint16, and `k`: the sum of R, G and B (k = 3),
    or a greyscale image as it is (k = 1).

    A threshold of so many grey levels is compared as `k` times as many. Kept in integers: a
    float mean of a 200 dpi page cost 0.19 s, more than the OCR's own preprocessing.
    """
    if image.ndim == 2:
        return image.astype(np.uint16), 1
    return image[..., 0].astype(np.uint16) + image[..., 1] + image[..., 2], 3


# A pixel whose red exceeds its green and blue by this much is seal ink (as `grid.lines` judges it).
_SEAL_RED_EXCESS = 40
# Seal ink is paler than this share of the paper in the red channel; print under a seal darker.
_SEAL_RED = 0.6


def without_seals(image: np.ndarray) -> np.ndarray:
    """An RGB page with the red seals' own ink made paper, the print under them kept.

    Seals are stamped over the signature, the date and sometimes the title: in colour they are
    as dark as print, and the text detector cuts a date line where a seal's ring crosses it.
    Black print under red ink stays dark in the red channel (ink multiplies); the seal alone is
    pale there. A greyscale page is returned as it is.
    """
    if image.ndim != 3 or image.shape[2] < 3:
        return image
    red = np.ascontiguousarray(image[:, :, 0])
    seal = cv2.subtract(red, np.maximum(image[:, :, 1], image[:, :, 2])) > _SEAL_RED_EXCESS
    if not seal.any():
        return image
    paper = float(np.percentile(red[::4, ::4], 90))
    out = image.copy()
    out[seal & (red > _SEAL_RED * paper)] = 255
    return out


# A scan whose dark ink (1st percentile of grey) lies less than `_LOW_CONTRAST` grey levels below
# its paper (90th percentile) is stretched to `_STRETCHED_CONTRAST`. A dark photocopy on grey
# paper has 60-90 here, where rules come out 10-20 grey levels from the paper and the
# thresholds, set in grey levels, lose them (Augraphy's typical scans, development seed 123003:
# two table pages with no table found or one in three pieces, all found whole at 200); an
# office scan of white paper has 160-200 and is left alone (the second reading costs 0.2 s).
_LOW_CONTRAST = 150
_STRETCHED_CONTRAST = 200


def stretch_contrast(image: np.ndarray) -> np.ndarray:
    """The page with its ink darkened away from the paper where the scan has little contrast.

    Every pixel's darkness below the paper level is multiplied by one gain, the same in every
    channel (a seal stays red), so that the dark ink lies `_STRETCHED_CONTRAST` grey levels below
    the paper. A page with `_LOW_CONTRAST` or more is returned as it is.
    """
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    ink, paper = np.percentile(gray, (1, 90))
    if paper - ink >= _LOW_CONTRAST:
        return image
    gain = _STRETCHED_CONTRAST / max(1.0, paper - ink)
    stretched = paper - (paper - image.astype(np.float32)) * gain
    return np.clip(stretched, 0, 255).astype(np.uint8)


def blank_out(image: np.ndarray, boxes: list[BBox], margin: int = 0) -> np.ndarray:
    """A copy of `image` with `boxes` painted white (their text read already, or their tables
    found), each widened by `margin` pixels on every side."""
    out = image.copy()
    for box in boxes:
        y1, x1 = max(0, int(box.y1) - margin), max(0, int(box.x1) - margin)
        out[y1 : int(np.ceil(box.y2)) + margin, x1 : int(np.ceil(box.x2)) + margin] = 255
    return out
