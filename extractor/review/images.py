"""An image for every review item, cached: the crop around what the item asks about, or the
whole page.

What is drawn (:class:`ItemPicture`, built by :func:`item_picture`):

- a located field: the page around its cell, the cell outlined;
- a field no table cell gave: the table region, the expected row and column shaded (the other
  cells of its row and column show where it should be printed);
- an identity: the region of its cells, the doubtful ones outlined in red, the others in orange;
- a metadata value: the line it was read from, or the whole page (title page for the agency
  and year, last page for the date) when it was not found.

Rendering a PDF page is the slow part (100–500 ms), so each uprighted page is rendered once
and kept as a PNG under ``<store>/cache/pages/``, and each finished picture under
``<store>/cache/review/`` named by the hash of what it shows; later requests read the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from extractor.datamodel import PageRecord
from extractor.review.crop import page_image

_log = logging.getLogger(__name__)

# Bump when the drawing changes, so cached pictures are not reused across versions.
_DRAWING_VERSION = 1
# Context around the focus box: this many box widths left/right and heights above/below,
# and the smallest crop side in page pixels.
_CONTEXT_WIDTHS = 2.5
_CONTEXT_HEIGHTS = 3.0
_MIN_SIDE = 360
# Outline colours (RGB) and width in pixels; shading of the expected row and column (RGBA).
_RED = (220, 30, 30)
_ORANGE = (240, 150, 20)
_OUTLINE_WIDTH = 4
_BAND = (255, 214, 0, 90)


@dataclass(frozen=True)
class ItemPicture:
    """What to draw for one item, in page pixels of the record (top-left origin)."""

    page: int  # 0-based page
    focus: list[float] | None  # box the crop centres on; None: the whole page
    outlines: list[list[float]] = field(default_factory=list)  # outlined in red (the doubtful cells)
    context: list[list[float]] = field(default_factory=list)  # outlined in orange (the rest of an identity)
    bands: list[list[float]] = field(default_factory=list)  # shaded (the expected row and column)
    what: str = "cell"  # cell | expected | identity | meta | page: what the picture shows, for the page's caption


def render_picture(store_root: Path, document_path: Path, document_sha: str, record: PageRecord,
                   picture: ItemPicture, full_page: bool = False) -> bytes:
    """PNG of `picture` on the page of `record` (cached on disk, see the module docstring)."""
    spec = {"v": _DRAWING_VERSION, "sha": document_sha, "page": record.index, "dpi": record.dpi,
            "rotation": record.rotation, "skew": record.skew_degrees, "full": full_page, **asdict(picture)}
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    cached = store_root / "cache" / "review" / f"{key[:2]}" / f"{key}.png"
    if cached.exists():
        return cached.read_bytes()
    png = _draw(_page_pixels(store_root, document_path, document_sha, record), picture, full_page)
    _write_atomic(cached, png)
    return png


def _page_pixels(store_root: Path, document_path: Path, sha: str, record: PageRecord) -> np.ndarray:
    from PIL import Image

    name = f"{sha}-{record.index}-{record.dpi:g}-{record.rotation}-{record.skew_degrees:g}.png"
    cached = store_root / "cache" / "pages" / sha[:2] / name
    if cached.exists():
        return np.asarray(Image.open(cached).convert("RGB"))
    image = page_image(document_path, record)
    out = io.BytesIO()
    Image.fromarray(image).convert("RGB").save(out, format="PNG", compress_level=1)
    _write_atomic(cached, out.getvalue())
    return image


def _draw(image: np.ndarray, picture: ItemPicture, full_page: bool) -> bytes:
    from PIL import Image, ImageDraw

    page = Image.fromarray(image).convert("RGBA")
    if picture.bands:
        overlay = Image.new("RGBA", page.size, (0, 0, 0, 0))
        shade = ImageDraw.Draw(overlay)
        for band in picture.bands:
            shade.rectangle(band, fill=_BAND)
        page = Image.alpha_composite(page, overlay)
    draw = ImageDraw.Draw(page)
    for colour, boxes in ((_ORANGE, picture.context), (_RED, picture.outlines)):
        for x1, y1, x2, y2 in boxes:
            draw.rectangle([x1 - 2, y1 - 2, x2 + 2, y2 + 2], outline=colour, width=_OUTLINE_WIDTH)
    if picture.focus is not None and not full_page:
        page = page.crop(_crop_box(picture.focus, page.width, page.height))
    out = io.BytesIO()
    page.convert("RGB").save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _crop_box(focus: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = focus
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    # Wide boxes (a whole row) get less context sideways, so the numbers stay legible.
    pad_x = max(min(_CONTEXT_WIDTHS * w, 0.25 * width), (_MIN_SIDE - w) / 2)
    pad_y = max(min(_CONTEXT_HEIGHTS * h, 0.15 * height), (_MIN_SIDE / 2 - h) / 2)
    return (int(max(0, x1 - pad_x)), int(max(0, y1 - pad_y)), int(min(width, x2 + pad_x)),
            int(min(height, y2 + pad_y)))


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def union(boxes: list[list[float]]) -> list[float]:
    """The smallest box holding every box of `boxes` (not empty)."""
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
