"""Make a clean rendered page look printed and then scanned.

The geometric part of the degradation is one projective map (rotation, scale, a little shear and a
shift; on hard pages also a perspective tilt, the page not flat on the glass or photographed),
returned with the image so that ground-truth boxes can follow it exactly. Everything else (toner,
paper, light, optics, sensor, compression) is photometric and leaves coordinates alone. The scan's
resolution (:func:`scan_dpi`, :func:`at_scan_resolution`) is the scanner's, whichever simulator
degraded the page.

Coordinates are continuous page pixels with the origin at the top-left corner of the top-left
pixel, the same convention as `extractor.datamodel.BBox`: pixel (i, j) covers [i, i+1) x [j, j+1).
"""

from __future__ import annotations

import io
import logging
import math
import pathlib
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np
from PIL import Image

_log = logging.getLogger(__name__)


class ScanLevel(str, Enum):
    """How badly a page was printed and scanned."""

    CLEAN = "clean"  # a good office scanner: grey-ish paper, faint noise, no visible skew
    TYPICAL = "typical"  # an ordinary archive scan: ~1° skew, soft focus, uneven light, JPEG 60-80
    HARD = "hard"  # a poor copy: 2.5° skew, blur, specks, broken rules, gutter shadow, JPEG 40-60


@dataclass(frozen=True)
class ScanResult:
    """A degraded page and the map from input to output pixels."""

    image: Image.Image  # RGB, same size as the input page
    matrix: np.ndarray  # float64 (3, 3) homography: input (x, y, 1) -> output (x'w, y'w, w), continuous pixel coords


@dataclass(frozen=True)
class _LevelParams:
    """Strength of every effect for one ScanLevel; (lo, hi) pairs are uniform ranges."""

    max_angle_deg: float  # skew drawn uniformly from [-max, max]
    max_shift_px: float  # translation per axis, at 200 dpi
    scale: tuple[float, float]  # isotropic scale of the scanner/copier
    max_shear: float  # x-shear from uneven paper feed, dimensionless
    max_perspective: float  # each page corner moved up to this fraction of the page width per axis
    black_level: tuple[float, float]  # what solid black prints as, 0-255 (low contrast when high)
    paper: tuple[float, float]  # paper brightness as a fraction of white
    light_amplitude: tuple[float, float]  # relative swing of the low-frequency illumination
    shadow_prob: float  # chance of a dark band along the binding edge
    fade_prob: float  # chance of patchy, faded toner
    thicken_prob: float  # chance of toner spread making strokes about a pixel thicker
    dropout_prob: float  # chance of local toner dropouts that break thin ruling lines
    specks: tuple[int, int]  # number of dust/toner specks
    blur_sigma: tuple[float, float]  # optics blur in pixels; 0 means none
    noise_sigma: tuple[float, float]  # sensor noise std on the 0-255 scale
    jpeg_quality: tuple[int, int]  # inclusive range


# Per-level strengths, tuned by eye on 200 dpi A4 renders with a table and body text.
_PARAMS: dict[ScanLevel, _LevelParams] = {
    ScanLevel.CLEAN: _LevelParams(
        max_angle_deg=0.2,
        max_shift_px=3.0,
        scale=(1.0, 1.0),
        max_shear=0.0,
        max_perspective=0.0,
        black_level=(0.0, 12.0),
        paper=(0.95, 0.98),
        light_amplitude=(0.0, 0.015),
        shadow_prob=0.0,
        fade_prob=0.0,
        thicken_prob=0.0,
        dropout_prob=0.0,
        specks=(0, 0),
        blur_sigma=(0.0, 0.35),
        noise_sigma=(1.0, 2.5),
        jpeg_quality=(85, 92),
    ),
    ScanLevel.TYPICAL: _LevelParams(
        max_angle_deg=1.0,
        max_shift_px=12.0,
        scale=(0.99, 1.01),
        max_shear=0.0,
        max_perspective=0.0,
        black_level=(10.0, 35.0),
        paper=(0.89, 0.95),
        light_amplitude=(0.03, 0.06),
        shadow_prob=0.15,
        fade_prob=0.3,
        thicken_prob=0.25,
        dropout_prob=0.15,
        specks=(0, 150),
        blur_sigma=(0.5, 0.8),
        noise_sigma=(3.0, 6.0),
        jpeg_quality=(60, 80),
    ),
    ScanLevel.HARD: _LevelParams(
        max_angle_deg=2.5,
        max_shift_px=25.0,
        scale=(0.97, 1.015),
        max_shear=0.012,
        # A page not flat on the glass, or photographed: its corners ~1.6% of the width off.
        max_perspective=0.016,
        black_level=(35.0, 80.0),
        paper=(0.80, 0.90),
        light_amplitude=(0.06, 0.12),
        shadow_prob=0.6,
        fade_prob=0.6,
        thicken_prob=0.3,
        dropout_prob=0.8,
        specks=(400, 2000),
        blur_sigma=(0.9, 1.4),
        noise_sigma=(6.0, 11.0),
        jpeg_quality=(40, 60),
    ),
}

# Off-white outside the paper after rotation: a scanner lid, slightly darker than the paper.
_BORDER_RGB = (238, 238, 236)
# Slight warm tint of recycled office paper, multiplied into the paper brightness per channel.
_PAPER_TINT = np.array([1.0, 0.99, 0.965], dtype=np.float32)
# Fraction of the page area hit by toner dropouts when they happen.
_DROPOUT_AREA = 0.08
# Typical size of one dropout blob in pixels: gaps of roughly 10-40 px in a rule.
_DROPOUT_CELL_PX = 20
# Grey level below which a pixel counts as ink when looking for ruling lines.
_INK_THRESHOLD = 128
# Shortest run that counts as a ruling line at 200 dpi; ~45 px keeps CJK strokes out (FINDINGS).
_RULE_MIN_PX = 45


def scan_page(image: Image.Image, level: ScanLevel, rng: np.random.Generator) -> ScanResult:
    """Degrade a clean page render so it looks printed and scanned.

    Steps:
        1. Print: toner effects on the clean page (thicker or faded strokes, local dropouts that
           break or fade table rules but never glyphs, reduced contrast).
        2. Place: warp by one random affine map (skew, shift, scale, shear), on hard pages
           followed by a perspective tilt.
        3. Scan: paper tone, low-frequency illumination, a gutter shadow, dust specks, optics
           blur, sensor noise and a JPEG round trip.

    Args:
        image: The clean page, any mode (converted to RGB), typically A4 at 200 dpi.
        level: How strong the degradation is.
        rng: Source of all randomness; the same seed gives the same page.

    Returns:
        The degraded RGB page (same size as the input) and the exact 3x3 projective matrix that
        maps input pixel coordinates to output pixel coordinates.
    """
    level = ScanLevel(level)
    params = _PARAMS[level]
    page = np.asarray(image.convert("RGB"), dtype=np.uint8)
    height, width = page.shape[:2]

    page = _print_page(page, params, rng)
    matrix = np.vstack([_random_affine(width, height, params, rng), [0.0, 0.0, 1.0]])
    if params.max_perspective > 0:
        matrix = _random_tilt(width, height, params.max_perspective, rng) @ matrix
    # An affine map is warped as such (the same pixels as before perspective was simulated).
    warp = cv2.warpPerspective if params.max_perspective > 0 else cv2.warpAffine
    opencv_matrix = _to_opencv_convention(matrix)
    warped = warp(
        page,
        opencv_matrix if params.max_perspective > 0 else opencv_matrix[:2],
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_BORDER_RGB,
    )
    scanned = _scan_page(warped, params, rng)
    quality = int(rng.integers(params.jpeg_quality[0], params.jpeg_quality[1] + 1))
    result = _jpeg_round_trip(scanned, quality)
    _log.debug("scanned page %dx%d at level %s, jpeg %d", width, height, level.value, quality)
    return ScanResult(image=result, matrix=matrix)


def transform_box(bbox: list[float] | tuple, matrix) -> list[float]:
    """Map an axis-aligned box through an affine (2x3) or projective (3x3) matrix.

    Args:
        bbox: [x1, y1, x2, y2] in input pixel coordinates.
        matrix: e.g. `ScanResult.matrix`.

    Returns:
        [x1, y1, x2, y2], the smallest axis-aligned box enclosing the four transformed corners.
    """
    x1, y1, x2, y2 = (float(v) for v in bbox)
    corners = np.array([[x1, y1, 1.0], [x2, y1, 1.0], [x2, y2, 1.0], [x1, y2, 1.0]])
    mapped = corners @ np.asarray(matrix, dtype=np.float64).T
    if mapped.shape[1] == 3:
        mapped = mapped[:, :2] / mapped[:, 2:]
    lo = mapped.min(axis=0)
    hi = mapped.max(axis=0)
    return [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]


# Resolution a document is scanned at, per level (dpi, inclusive). Pages are rendered and
# degraded at 200 dpi, then resampled to it: office archives are often scanned at 150 dpi.
_SCAN_DPI: dict[ScanLevel, tuple[int, int]] = {
    ScanLevel.CLEAN: (200, 200),
    ScanLevel.TYPICAL: (200, 200),
    ScanLevel.HARD: (150, 190),
}


def scan_dpi(level: ScanLevel | str, rng: np.random.Generator) -> int:
    """The resolution a document of `level` is scanned at (one per document: one scanner setting)."""
    lo, hi = _SCAN_DPI[ScanLevel(level)]
    return lo if lo == hi else int(rng.integers(lo, hi + 1))


def at_scan_resolution(image: Image.Image, dpi: int, render_dpi: int = 200) -> Image.Image:
    """A page rendered at `render_dpi` as a scanner at `dpi` would sample it (area averaging).

    Written into a PDF at `dpi`, the page keeps its physical size, so a reader rendering it at
    `render_dpi` finds every box where it was, within a pixel, only blurrier.
    """
    if dpi == render_dpi:
        return image
    width, height = image.size
    size = (max(1, round(width * dpi / render_dpi)), max(1, round(height * dpi / render_dpi)))
    return Image.fromarray(cv2.resize(np.asarray(image.convert("RGB")), size, interpolation=cv2.INTER_AREA))


def images_to_pdf(
    images: list[Image.Image], path: pathlib.Path, dpi: int = 200, jpeg_quality: int = 70
) -> None:
    """Write an image-only PDF, one JPEG-compressed page per image, like a scanner does.

    Args:
        images: Pages in order; each page's size in points is its pixel size at `dpi`.
        path: Where to write the PDF (overwritten).
        dpi: Resolution the images were scanned at.
        jpeg_quality: JPEG quality of the embedded page images.

    Raises:
        ValueError: If `images` is empty.
    """
    if not images:
        raise ValueError("images_to_pdf needs at least one image")
    # Copies, because Pillow's PDF writer stores its options on every appended image.
    pages = [im.convert("RGB") for im in images]
    pages[0].save(
        pathlib.Path(path),
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(dpi),
        quality=int(jpeg_quality),
    )


def _print_page(page: np.ndarray, params: _LevelParams, rng: np.random.Generator) -> np.ndarray:
    """Toner effects, applied in page coordinates before the page is placed on the scanner."""
    ink = 255.0 - page.astype(np.float32)
    if rng.random() < params.thicken_prob:
        # Toner spread: a boosted blur of the ink widens every stroke by about half a pixel on
        # each side, symmetrically, so glyph and box centres stay put.
        spread = cv2.GaussianBlur(ink, (0, 0), 0.8) * 1.8
        ink = np.maximum(ink, np.minimum(spread, 255.0))
    if rng.random() < params.dropout_prob:
        # Only ruling lines drop out: erased glyphs would make the text labels wrong.
        lines = _ruling_line_mask(page)
        blobs = _blob_mask(page.shape[:2], rng, cell_px=_DROPOUT_CELL_PX, area=_DROPOUT_AREA)
        # Inside a dropout the line keeps 0-35% of its ink: from broken to faint.
        remaining = rng.uniform(0.0, 0.35)
        ink[lines & blobs] *= remaining
    black = rng.uniform(*params.black_level)
    density = (255.0 - black) / 255.0
    if rng.random() < params.fade_prob:
        # Patchy toner: ink density varies smoothly between 60% and 100% across the page.
        density = density * (0.6 + 0.4 * _smooth_field(page.shape[:2], rng, grid=(6, 4))[..., None])
    ink *= density
    return 255.0 - ink


def _ruling_line_mask(page: np.ndarray) -> np.ndarray:
    """Pixels of long horizontal/vertical dark lines (table rules), a little widened."""
    dark = (cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) < _INK_THRESHOLD).astype(np.uint8)
    horizontal = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, _RULE_MIN_PX), np.uint8))
    vertical = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((_RULE_MIN_PX, 1), np.uint8))
    # Widen by a pixel to take the anti-aliased fringe of each rule along.
    return cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8)).astype(bool)


def _random_affine(width: int, height: int, params: _LevelParams, rng: np.random.Generator) -> np.ndarray:
    """A random skew/shift/scale/shear about the page centre, in continuous pixel coordinates."""
    angle = math.radians(rng.uniform(-params.max_angle_deg, params.max_angle_deg))
    scale = rng.uniform(*params.scale)
    shear = rng.uniform(-params.max_shear, params.max_shear)
    shift = rng.uniform(-params.max_shift_px, params.max_shift_px, size=2)
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    # Positive angle turns the page counter-clockwise on screen (y points down).
    linear = np.array([[cos, sin], [-sin, cos]]) @ np.array([[1.0, shear], [0.0, 1.0]])
    centre = np.array([width / 2.0, height / 2.0])
    offset = centre - linear @ centre + shift
    return np.hstack([linear, offset[:, None]])


def _random_tilt(width: int, height: int, max_corner: float, rng: np.random.Generator) -> np.ndarray:
    """A random perspective map: each page corner moved up to `max_corner` x the width per axis."""
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    moved = corners + rng.uniform(-max_corner, max_corner, size=(4, 2)).astype(np.float32) * width
    return cv2.getPerspectiveTransform(corners, moved).astype(np.float64)


def _to_opencv_convention(matrix: np.ndarray) -> np.ndarray:
    """Re-express a continuous-coordinate 3x3 matrix for OpenCV, whose pixel centres are integers."""
    to_continuous = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    return np.linalg.inv(to_continuous) @ matrix @ to_continuous


def _scan_page(page: np.ndarray, params: _LevelParams, rng: np.random.Generator) -> np.ndarray:
    """Paper, light, dust, optics and sensor effects, in output coordinates; returns uint8."""
    height, width = page.shape[:2]
    paper = rng.uniform(*params.paper)
    light = 1.0 + rng.uniform(*params.light_amplitude) * (
        2.0 * _smooth_field((height, width), rng, grid=(4, 3)) - 1.0
    )
    # Fine paper mottling, a fraction of a percent, so flat paper is not perfectly flat.
    light *= 1.0 + 0.008 * (2.0 * _smooth_field((height, width), rng, grid=(60, 42)) - 1.0)
    if rng.random() < params.shadow_prob:
        light *= _gutter_shadow(width, rng)[None, :]
    # The warp returned a fresh float32 array, so it can be modified in place.
    page *= (paper * light)[..., None]
    page *= _PAPER_TINT
    _add_specks(page, params, rng)
    sigma = rng.uniform(*params.blur_sigma)
    if sigma >= 0.3:
        page = cv2.GaussianBlur(page, (0, 0), sigma)
    noise_sigma = rng.uniform(*params.noise_sigma)
    # Luminance noise shared by the channels: colour noise would tint the grey paper.
    page += rng.standard_normal((height, width, 1), dtype=np.float32) * noise_sigma
    np.clip(page, 0.0, 255.0, out=page)
    return page.astype(np.uint8)


def _gutter_shadow(width: int, rng: np.random.Generator) -> np.ndarray:
    """Per-column brightness factor darkening one side, where a bound report lifts off the glass."""
    depth = rng.uniform(0.15, 0.4)
    band = rng.uniform(0.03, 0.08) * width
    x = np.arange(width, dtype=np.float32) + 0.5
    if rng.random() < 0.5:
        x = x[::-1]
    return (1.0 - depth * np.exp(-x / band)).astype(np.float32)


def _add_specks(page: np.ndarray, params: _LevelParams, rng: np.random.Generator) -> None:
    """Dark dust and toner specks (and a few white drop-outs), 1-2 px, in place."""
    count = int(rng.integers(params.specks[0], params.specks[1] + 1))
    if count == 0:
        return
    height, width = page.shape[:2]
    ys = rng.integers(0, height - 1, size=count)
    xs = rng.integers(0, width - 1, size=count)
    # A third of the specks are 2x2 so they survive blur and JPEG as visible dots.
    big = rng.random(count) < 0.33
    ys = np.concatenate([ys, ys[big] + 1, ys[big], ys[big] + 1])
    xs = np.concatenate([xs, xs[big], xs[big] + 1, xs[big] + 1])
    # One speck in five is a white drop-out instead of a dark dot.
    is_white = rng.random(count) < 0.2
    white = np.concatenate([is_white, is_white[big], is_white[big], is_white[big]])
    page[ys[~white], xs[~white]] *= 0.25
    page[ys[white], xs[white]] = 250.0


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator, grid: tuple[int, int]) -> np.ndarray:
    """A smooth random field in [0, 1] of `shape` (h, w), from a coarse (cols, rows) grid."""
    coarse = rng.random((grid[1], grid[0]), dtype=np.float32)
    field = cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return np.clip(field, 0.0, 1.0)


def _blob_mask(shape: tuple[int, int], rng: np.random.Generator, cell_px: int, area: float) -> np.ndarray:
    """Random blobs about `cell_px` across covering roughly `area` of the page."""
    grid = (max(2, shape[1] // cell_px), max(2, shape[0] // cell_px))
    field = _smooth_field(shape, rng, grid)
    return field > np.quantile(field[::8, ::8], 1.0 - area)


def _jpeg_round_trip(page: np.ndarray, quality: int) -> Image.Image:
    """Encode and decode as JPEG, keeping its block and ringing artefacts."""
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")
