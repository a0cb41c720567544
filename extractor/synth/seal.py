"""Stamp a red round official seal (公章) onto a page.

The seal is drawn as an ink-coverage mask (ring, five-pointed star, agency name along the upper
arc), roughened like a real rubber stamp and then multiplied into the page: ink only darkens, so
black text under the seal stays black, as it does on paper.
"""

from __future__ import annotations

import functools
import logging
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

_log = logging.getLogger(__name__)

# Stamp-pad red, as RGB 0-255.
_INK_RGB = np.array([220.0, 30.0, 30.0], dtype=np.float32)
# CJK fonts to try in order, as (path, face index); bold serif/sans looks most like seal lettering.
_FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
# Ring stroke width as a fraction of the diameter (~1.3 mm on a 4 cm seal).
_RING_WIDTH = 0.033
# Star circumradius as a fraction of the diameter.
_STAR_RADIUS = 0.15
# Seal characters are cut narrower than they are tall.
_CHAR_SQUEEZE = 0.8
# Largest angle the agency name may span along the upper arc, in degrees.
_MAX_TEXT_SPAN_DEG = 250.0


def draw_seal(
    image: Image.Image,
    center: tuple[float, float],
    diameter_px: float,
    agency: str,
    rng: np.random.Generator,
) -> None:
    """Stamp a red round seal onto an RGB page, in place.

    Steps:
        1. Draw the ink mask: outer ring, a star in the middle, the agency name along the upper
           arc with each character's top pointing outwards.
        2. Turn it by a small random angle, soften it, and vary the ink: smooth patchy opacity
           plus a few gaps where the stamp did not touch.
        3. Multiply red ink into the page where it overlaps the image.

    Args:
        image: Page to stamp; must be RGB. Modified in place.
        center: Seal centre (x, y) in page pixels, top-left origin.
        diameter_px: Outer diameter in pixels (a 4 cm seal is ~315 px at 200 dpi).
        agency: Name set along the upper arc, e.g. "某某市人民政府办公室".
        rng: Source of all randomness.

    Raises:
        ValueError: If the image is not RGB.
    """
    if image.mode != "RGB":
        raise ValueError(f"draw_seal needs an RGB image, got {image.mode}")
    size = int(math.ceil(diameter_px)) + 8
    mask = _seal_mask(size, diameter_px, agency)
    mask = _rotate(mask, rng.uniform(-12.0, 12.0))
    coverage = _ink_coverage(mask, rng)
    _multiply_ink(image, coverage, center)


def _seal_mask(size: int, diameter: float, agency: str) -> np.ndarray:
    """Ink mask in [0, 1] of shape (size, size), seal centred, upright."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    c = size / 2.0
    radius = diameter / 2.0
    ring = max(2.0, diameter * _RING_WIDTH)
    draw.ellipse([c - radius, c - radius, c + radius, c + radius], outline=255, width=round(ring))
    draw.polygon(_star_points(c, c, diameter * _STAR_RADIUS), fill=255)
    _draw_arc_text(canvas, agency, c, radius - ring, diameter)
    return np.asarray(canvas, dtype=np.float32) / 255.0


def _star_points(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """The ten vertices of an upright five-pointed star."""
    inner = r * math.sin(math.radians(18)) / math.sin(math.radians(54))
    points = []
    for i in range(10):
        rad = r if i % 2 == 0 else inner
        theta = math.radians(-90 + 36 * i)
        points.append((cx + rad * math.cos(theta), cy + rad * math.sin(theta)))
    return points


def _draw_arc_text(canvas: Image.Image, text: str, c: float, inner_radius: float, diameter: float) -> None:
    """Set `text` clockwise along the upper arc, just inside the ring, tops pointing outwards."""
    text = text.strip()
    if not text:
        return
    n = len(text)
    # Characters get smaller as the name gets longer, and the span grows up to its limit.
    char_px = min(diameter * 0.14, diameter * 0.95 * math.pi * (_MAX_TEXT_SPAN_DEG / 360) / n)
    text_radius = inner_radius - char_px * 0.62
    pitch = min(char_px * 1.02 / text_radius, math.radians(_MAX_TEXT_SPAN_DEG) / max(n - 1, 1))
    font = _font(max(8, round(char_px)))
    cell = int(char_px * 1.6) + 2
    for i, ch in enumerate(text):
        # Angle from straight up, clockwise positive (y points down).
        theta = (i - (n - 1) / 2.0) * pitch
        glyph = Image.new("L", (cell, cell), 0)
        ImageDraw.Draw(glyph).text((cell / 2, cell / 2), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.resize((max(1, round(cell * _CHAR_SQUEEZE)), cell), Image.Resampling.BICUBIC)
        glyph = glyph.rotate(-math.degrees(theta), resample=Image.Resampling.BICUBIC, expand=True)
        gx = c + text_radius * math.sin(theta) - glyph.width / 2.0
        gy = c - text_radius * math.cos(theta) - glyph.height / 2.0
        canvas.paste(255, (round(gx), round(gy)), glyph)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """The first installed CJK font from the candidates, at `size` px."""
    for path, index in _FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size, index=index)
    raise FileNotFoundError(
        "no CJK font for seals; install fonts-noto-cjk or fonts-wqy-zenhei (tried "
        + ", ".join(p for p, _ in _FONT_CANDIDATES)
        + ")"
    )


def _rotate(mask: np.ndarray, angle_deg: float) -> np.ndarray:
    """Turn the mask about its centre; stamps are rarely pressed perfectly upright."""
    h, w = mask.shape
    m = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle_deg, 1.0)
    return cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)


def _ink_coverage(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Opacity in [0, 1]: softened mask times patchy pressure, with a few un-inked gaps."""
    h, w = mask.shape
    mask = cv2.GaussianBlur(mask, (0, 0), 0.7)
    # Uneven pressure: smooth opacity between ~55% and ~95% across the seal.
    coarse = rng.uniform(0.55, 0.95, size=(5, 5)).astype(np.float32)
    pressure = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    # Fine grain of the ink on paper fibres.
    grain = 1.0 - 0.25 * rng.random((h, w), dtype=np.float32)
    coverage = mask * pressure * grain
    for _ in range(int(rng.integers(2, 6))):
        # Gaps: small ellipses where the stamp barely touched the paper.
        gap = np.zeros((h, w), np.float32)
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(w // 30 + 1, w // 10 + 2)), int(rng.integers(h // 40 + 1, h // 14 + 2)))
        cv2.ellipse(gap, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        gap = cv2.GaussianBlur(gap, (0, 0), 2.0)
        coverage *= 1.0 - 0.85 * gap
    return np.clip(coverage, 0.0, 1.0)


def _multiply_ink(image: Image.Image, coverage: np.ndarray, center: tuple[float, float]) -> None:
    """Multiply red ink with opacity `coverage` (centred on `center`) into the page, in place."""
    h, w = coverage.shape
    x0 = round(center[0] - w / 2.0)
    y0 = round(center[1] - h / 2.0)
    # Clip the seal to the page; a seal hanging off the edge is only partly visible.
    px0, py0 = max(0, x0), max(0, y0)
    px1, py1 = min(image.width, x0 + w), min(image.height, y0 + h)
    if px1 <= px0 or py1 <= py0:
        _log.debug("seal at %s lies outside the %dx%d page", center, image.width, image.height)
        return
    box = (px0, py0, px1, py1)
    region = np.asarray(image.crop(box), dtype=np.float32)
    alpha = coverage[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0, None]
    # Multiply blend: white paper becomes red, black stays black.
    tinted = region * (1.0 - alpha * (1.0 - _INK_RGB / 255.0))
    image.paste(Image.fromarray(np.clip(tinted + 0.5, 0, 255).astype(np.uint8)), box)
