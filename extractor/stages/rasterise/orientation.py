"""Put scanned pages upright: quarter turns, upside-down pages and small skew.

Three cheap, separate decisions on the binarised page (the reports are horizontal Chinese text,
mostly ruled tables):

1. **Sideways (90° / 270°)**: smear the ink horizontally with a short kernel; horizontal text
   lines become long thin blobs. The page is sideways when the transposed page has far more of
   them (measured on the real reports: ratio ≥ 11 one way, never below 11 the other).
2. **Skew (≤ 5°)**: the angle at which the row profile of the ink is sharpest (text lines and
   ruling lines both line up with the rows), coarse-to-fine search.
3. **Upside down (180°)**: text cannot tell up from down by shape, so a few text-line crops are
   recognised as they are and turned 180°, and the reading with the higher recognition score
   wins. This needs a recogniser (the OCR stage's `recognise_crops`); without one the 180°
   check is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from extractor.datamodel import PageRecord
from extractor.stages.pixels import connected_components
from extractor.stages.rasterise.source import PageImage

_log = logging.getLogger(__name__)

# A recogniser reads text-line crops (RGB uint8) and returns (text, score) per crop.
Recogniser = Callable[[list[np.ndarray]], Sequence[tuple[str, float]]]

# Resolution of the working copy the geometric decisions are made on: inter-character gaps
# vanish, inter-line gaps remain, and every morphology step is ~4× cheaper than at 200 dpi.
_WORK_DPI = 100.0

# Horizontal smear kernel length at `_WORK_DPI` (px): wider than gaps between characters of a
# line, narrower than the gap between lines.
_SMEAR_PX = 7

# Ruling lines are removed before measuring text lines: runs at least this long (px, `_WORK_DPI`).
_RULE_PX = 40

# Text-line blob height range (px at `_WORK_DPI`): 6 px ≈ 4 pt type, 40 px ≈ 29 pt headings.
_LINE_HEIGHT_RANGE = (6, 40)

# A page is sideways when the transposed page has this many times more text-line length.
_SIDEWAYS_RATIO = 3.0

# Skew search: coarse step and the fine step around the best coarse angle (degrees).
_COARSE_STEP = 0.25
_FINE_STEP = 0.05

# Skews below this (degrees) are left alone: rotating costs sharpness for no gain.
_MIN_SKEW = 0.1

# Text-line crops recognised both ways for the 180° decision.
_FLIP_SAMPLE = 6

# Longest text-line crop read for the 180° check, in line heights. The recogniser's cost grows
# with the width. Measured on 100 generated (digital, typical, hard) and degraded real pages, each
# read as it is and turned, by PP-OCRv6 small: an upright page read best as it is by at least 0.16
# in mean score at 12 (0.22 at 16, only 0.05 at 8), against the 0.05 a turn needs; at every width
# one turned page was missed, a signature page whose few words lie under a red seal. The pipeline
# reads these lines with its prose recogniser (PP-OCRv6 tiny, 5x faster here): the `nianbao bench`
# column "180° turns found" checks the decision on every scanned page, upright and turned.
_FLIP_LINE_HEIGHTS = 12

# The flipped reading must beat the upright one by this much mean score to turn the page.
_FLIP_MARGIN = 0.05

# ...and be legible: a mean score of at least this. Nearly every page of an archive is upright, so
# a page whose lines read badly both ways (streaks and noise taken for lines on a poor copy, a
# table page without prose) gives no evidence against that and stays as it is. On Augraphy's hard
# scans (development seed 123002) two of 28 upright pages were turned on turned readings of mean
# 0.14 and 0.21; a turned page that is legible reads 0.8-1.0 (the bench's "180° turns found").
_FLIP_LEGIBLE = 0.5


def upright_page(
    page: PageImage, recognise: Recogniser | None = None, max_skew: float = 5.0
) -> PageImage:
    """Detect and undo a quarter turn, an upside-down scan and a small skew.

    Steps:
        1. Sideways check on a 100 dpi binarised copy; turn 90° clockwise if sideways.
        2. Skew search in ±`max_skew` degrees; rotate the image back (white fill) if above 0.1°.
        3. With a recogniser: recognise a few text lines upright and turned 180°; turn the page
           if the turned reading scores clearly better.

    Args:
        page: the rendered page (its record is copied, not changed).
        recognise: text-line recogniser for the 180° check; None skips that check.
        max_skew: largest skew searched, in degrees.

    Returns:
        A new `PageImage`; `record.rotation` is the clockwise quarter-turn applied (0/90/180/270),
        `record.skew_degrees` the clockwise rotation applied to straighten the page (so a scan
        tilted 1.5° counter-clockwise gets +1.5), width/height those of the new image.
    """
    image = page.image
    rotation = 0
    if is_sideways(image, page.record.dpi):
        image = np.ascontiguousarray(np.rot90(image, k=-1))
        rotation = 90

    skew = estimate_skew(image, page.record.dpi, max_skew=max_skew)
    if abs(skew) >= _MIN_SKEW:
        image = rotate_small(image, skew)
    else:
        skew = 0.0

    if recognise is not None and is_upside_down(image, page.record.dpi, recognise):
        image = np.ascontiguousarray(np.rot90(image, k=2))
        rotation = (rotation + 180) % 360

    if rotation or skew:
        _log.info("page %d uprighted: rotation %d°, skew %.2f°", page.record.index, rotation, skew)
    record = page.record.model_copy(
        update={
            "width": image.shape[1],
            "height": image.shape[0],
            "rotation": (page.record.rotation + rotation) % 360,
            "skew_degrees": skew,
        }
    )
    return PageImage(image=image, record=record)


def to_upright(record: PageRecord, x: float, y: float) -> tuple[float, float]:
    """Where a point of the page as rendered lies on the page as `upright_page` left it.

    The same steps in the same order: the sideways quarter turn, the skew about the centre,
    then the half turn. `record` is the uprighted page's record (its size is the new image's).
    """
    width, height = record.width, record.height
    turns = record.rotation % 360
    if turns in (90, 270):
        # np.rot90(k=-1) of an image `width` wide after the turn (so `width` high before it).
        x, y = width - 1 - y, x
    if record.skew_degrees:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -record.skew_degrees, 1.0)
        x, y = (float(v) for v in matrix @ np.array([x, y, 1.0]))
    if turns in (180, 270):
        x, y = width - 1 - x, height - 1 - y
    return x, y


def is_sideways(image: np.ndarray, dpi: float) -> bool:
    """Whether the page's text lines run vertically (page turned by 90° or 270°)."""
    ink = _work_ink(image, dpi)
    along = _line_length(ink)
    across = _line_length(np.ascontiguousarray(ink.T))
    _log.debug("text-line length: rows %d, columns %d", along, across)
    return across > _SIDEWAYS_RATIO * max(along, 1)


def estimate_skew(image: np.ndarray, dpi: float, max_skew: float = 5.0) -> float:
    """Clockwise rotation in degrees (within ±`max_skew`) that makes the lines horizontal."""
    ink = _work_ink(image, dpi)
    ys, xs = np.nonzero(ink)
    if not len(ys):
        return 0.0
    height, width = ink.shape
    # Ink pixel centres about the page centre: each angle's row profile is where they land.
    xs = xs - (width - 1) / 2
    ys = ys - (height - 1) / 2

    def best(angles: np.ndarray) -> float:
        scores = [_row_sharpness(xs, ys, width, height, a) for a in angles]
        return float(angles[int(np.argmax(scores))])

    coarse = best(np.arange(-max_skew, max_skew + 1e-9, _COARSE_STEP))
    fine = best(np.arange(coarse - _COARSE_STEP, coarse + _COARSE_STEP + 1e-9, _FINE_STEP))
    return round(fine, 2)


def rotate_small(image: np.ndarray, clockwise_degrees: float) -> np.ndarray:
    """Rotate about the centre, same canvas size, white where the page moved away."""
    h, w = image.shape[:2]
    # OpenCV angles are counter-clockwise.
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -clockwise_degrees, 1.0)
    fill = (255,) * (image.shape[2] if image.ndim == 3 else 1)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def is_upside_down(image: np.ndarray, dpi: float, recognise: Recogniser) -> bool:
    """Whether a few text lines read better turned by 180° than as they are."""
    crops = text_line_crops(image, dpi, limit=_FLIP_SAMPLE)
    if not crops:
        return False
    up = float(np.mean([score for _, score in recognise(crops)]))
    if up + _FLIP_MARGIN >= 1.0:
        # Scores are at most 1: the turned reading cannot win, so it is not read (half the cost
        # of this check on a page that is upright, as nearly all are).
        _log.debug("180° check on %d lines: upright %.3f, turned reading not needed", len(crops), up)
        return False
    flipped = [score for _, score in recognise([np.ascontiguousarray(np.rot90(c, k=2)) for c in crops])]
    down = float(np.mean(flipped))
    _log.debug("180° check on %d lines: upright %.3f, flipped %.3f", len(crops), up, down)
    return down > up + _FLIP_MARGIN and down >= _FLIP_LEGIBLE


def text_line_crops(image: np.ndarray, dpi: float, limit: int = _FLIP_SAMPLE) -> list[np.ndarray]:
    """Crops (page resolution) of up to `limit` horizontal text lines, longest first.

    Lines are cut to at most `_FLIP_LINE_HEIGHTS` line-heights wide: enough characters to
    judge, cheap to read.
    """
    ink = _strip_rules(_work_ink(image, dpi))
    blobs = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (_SMEAR_PX, 1)))
    _, _, stats, _ = connected_components(blobs)
    lo, hi = _LINE_HEIGHT_RANGE
    lines = [s for s in stats[1:] if lo <= s[3] <= hi and s[2] >= 3 * s[3]]
    lines.sort(key=lambda s: -int(s[2]))
    factor = image.shape[1] / ink.shape[1]
    crops = []
    for x, y, w, h, _ in lines[:limit]:
        pad = 0.25 * h
        x1, y1 = int(max(0, (x - pad) * factor)), int(max(0, (y - pad) * factor))
        x2 = int(min(image.shape[1], (x + min(w, _FLIP_LINE_HEIGHTS * h) + pad) * factor))
        y2 = int(min(image.shape[0], (y + h + pad) * factor))
        crops.append(np.ascontiguousarray(image[y1:y2, x1:x2]))
    return crops


def _work_ink(image: np.ndarray, dpi: float) -> np.ndarray:
    """Binary ink mask (255 = ink) of the page at `_WORK_DPI`."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    factor = _WORK_DPI / dpi
    if abs(factor - 1) > 0.05:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def _strip_rules(ink: np.ndarray) -> np.ndarray:
    h_rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (_RULE_PX, 1)))
    v_rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, _RULE_PX)))
    return cv2.subtract(ink, cv2.bitwise_or(h_rules, v_rules))


def _line_length(ink: np.ndarray) -> int:
    """Total width of horizontal text-line blobs (ruling lines removed)."""
    blobs = cv2.morphologyEx(
        _strip_rules(ink), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (_SMEAR_PX, 1))
    )
    _, _, stats, _ = connected_components(blobs)
    w, h = stats[1:, 2], stats[1:, 3]
    lo, hi = _LINE_HEIGHT_RANGE
    return int(w[(h >= lo) & (h <= hi) & (w >= 3 * h)].sum())


def _row_sharpness(xs: np.ndarray, ys: np.ndarray, width: int, height: int, clockwise_degrees: float) -> float:
    """How sharply the ink's row profile alternates once the page is turned by the given angle.

    `xs`, `ys` are the ink pixels about the page centre. Rotating the points, not the image,
    gives the same profile as rotating the mask (ink turned off the canvas is lost either way)
    at a fraction of the cost: only the ink moves, not the paper.
    """
    angle = np.radians(clockwise_degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    turned_x = np.rint(xs * cos - ys * sin + (width - 1) / 2)
    turned_y = np.rint(xs * sin + ys * cos + (height - 1) / 2)
    on_page = (turned_x >= 0) & (turned_x < width) & (turned_y >= 0) & (turned_y < height)
    profile = np.bincount(turned_y[on_page].astype(np.intp), minlength=height).astype(np.float64)
    return float(np.square(np.diff(profile)).sum())
