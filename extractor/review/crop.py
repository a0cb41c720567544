"""The page crop around a cell, rendered from the stored document (page images are not stored).

The cell box refers to the page as the pipeline saw it: rendered at the record's dpi, then,
for scans, turned a quarter (``rotation``), straightened (``skew_degrees``) and possibly turned
upside down. The same steps are replayed here so the outline lands on the cell.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from extractor.datamodel import PageRecord
from extractor.stages.rasterise import open_document, render_page
from extractor.stages.rasterise.orientation import rotate_small

_log = logging.getLogger(__name__)

# Context around the cell: this many cell widths left/right and cell heights above/below.
_CONTEXT_WIDTHS = 2.5
_CONTEXT_HEIGHTS = 3.0
# Smallest crop side in pixels at the record's dpi, so a tiny cell still shows its neighbours.
_MIN_SIDE = 360
# Outline colour (RGB) and width in pixels.
_OUTLINE = (220, 30, 30)
_OUTLINE_WIDTH = 4


def page_image(path: Path, record: PageRecord) -> np.ndarray:
    """The page image the record's boxes refer to (RGB or grey uint8)."""
    with open_document(path) as source:
        image = render_page(source, record.index, dpi=record.dpi).image
    turns = record.rotation % 360
    # upright_page applies the sideways quarter turn before the skew and the half turn after it.
    if turns in (90, 270):
        image = np.ascontiguousarray(np.rot90(image, k=-1))
    if record.skew_degrees:
        image = rotate_small(image, record.skew_degrees)
    if turns in (180, 270):
        image = np.ascontiguousarray(np.rot90(image, k=2))
    return image


def cell_crop_png(path: Path, record: PageRecord, bbox: list[float]) -> bytes:
    """PNG of the page around `bbox` with the cell outlined."""
    from PIL import Image, ImageDraw

    image = page_image(path, record)
    height, width = image.shape[:2]
    x1, y1, x2, y2 = bbox
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    pad_x = max(_CONTEXT_WIDTHS * w, (_MIN_SIDE - w) / 2)
    pad_y = max(_CONTEXT_HEIGHTS * h, (_MIN_SIDE / 2 - h) / 2)
    left, top = int(max(0, x1 - pad_x)), int(max(0, y1 - pad_y))
    right, bottom = int(min(width, x2 + pad_x)), int(min(height, y2 + pad_y))
    crop = Image.fromarray(image[top:bottom, left:right]).convert("RGB")
    draw = ImageDraw.Draw(crop)
    draw.rectangle([x1 - left - 2, y1 - top - 2, x2 - left + 2, y2 - top + 2], outline=_OUTLINE, width=_OUTLINE_WIDTH)
    out = io.BytesIO()
    crop.save(out, format="PNG", optimize=False)
    return out.getvalue()
