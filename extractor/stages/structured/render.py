"""Draw a structured document's page: its text where its tokens are, its tables' cells and rules.

This is the picture of the page the review page crops around a cell (an HTML page or a Word
file has no page image of its own), and, for OFD, the image whose ruling lines the grid stage
reads.
"""

from __future__ import annotations

import functools
import logging
import subprocess

import numpy as np

from extractor.stages.structured.layout import LaidOutPage

_log = logging.getLogger(__name__)

# Width of the drawn cell borders at 200 dpi, pixels.
_BORDER_200 = 2


@functools.cache
def _cjk_font_path() -> str | None:
    """A font file with Chinese glyphs, from fontconfig; None when there is none."""
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@functools.cache
def _font(size: int):
    from PIL import ImageFont

    path = _cjk_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size=size)
        except OSError:
            _log.warning("cannot load font %s; drawing text without Chinese glyphs", path)
    return ImageFont.load_default(size=size)


def draw_page(page: LaidOutPage, with_text: bool = True) -> np.ndarray:
    """The page as an RGB image (H × W × 3 uint8, white paper).

    Args:
        page: the laid-out page (its record's size and dpi give the image size).
        with_text: draw the tokens' text (off for the grid stage, which only needs the rules).
    """
    from PIL import Image, ImageDraw

    record = page.record
    image = Image.new("RGB", (record.width, record.height), "white")
    draw = ImageDraw.Draw(image)
    border = max(1, round(_BORDER_200 * record.dpi / 200))
    for table in record.tables or []:
        for cell in table.cells:
            b = cell.bbox
            draw.rectangle([b.x1, b.y1, b.x2, b.y2], outline="black", width=border)
    for x1, y1, x2, y2, width in page.rules:
        draw.line([(x1, y1), (x2, y2)], fill="black", width=max(1, round(width)))
    if with_text and record.tokens:
        for token in record.tokens:
            size = max(6, round(token.bbox.height if page.font_px <= 0 else page.font_px))
            draw.text((token.bbox.x1, token.bbox.y1), token.text, fill="black", font=_font(size))
    return np.asarray(image)
