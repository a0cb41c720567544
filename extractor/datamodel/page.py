"""What the page-understanding stages know about one page."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from extractor.datamodel.geometry import BBox
from extractor.datamodel.table import Table


class TokenSource(str, Enum):
    """Where a piece of text came from."""

    TEXT_LAYER = "text_layer"  # read from the PDF's own text layer (born-digital)
    OCR = "ocr"  # recognised from the page image


class TextToken(BaseModel):
    """A line or word of text with its box, in page pixels."""

    text: str
    bbox: BBox
    score: float = Field(1.0, description="recognition confidence in [0, 1]; 1.0 for a text layer")
    source: TokenSource = TokenSource.OCR


def reading_lines(tokens: list[TextToken]) -> list[list[TextToken]]:
    """Tokens grouped into printed lines, top to bottom, each line left to right.

    A token continues a line when its centre lies within the vertical extent of the line's first
    token. Rounding centres to a grid of line heights would not do: digits and CJK glyphs of one
    line have different boxes, and a detector's boxes move by a few pixels between resolutions,
    which is enough to put a title's second line above its first.
    """
    lines: list[list[TextToken]] = []
    for token in sorted(tokens, key=lambda t: t.bbox.center[1]):
        if lines and lines[-1][0].bbox.y1 <= token.bbox.center[1] <= lines[-1][0].bbox.y2:
            lines[-1].append(token)
        else:
            lines.append([token])
    return [sorted(line, key=lambda t: t.bbox.x1) for line in lines]


class LayoutRegion(BaseModel):
    """A region found by the layout model (table, text, title, ...)."""

    label: str
    bbox: BBox
    score: float


class PageRecord(BaseModel):
    """One page, with an optional slot per stage.

    A slot that is ``None`` means its stage has not run on this page; an empty list means it
    ran and found nothing.
    """

    index: int = Field(description="0-based page number within the document")
    width: int = Field(description="page image width in pixels")
    height: int = Field(description="page image height in pixels")
    dpi: float = Field(description="pixels per inch of the page image the boxes refer to")
    image_key: str | None = Field(None, description="storage key of the page image, if kept")
    rotation: int = Field(0, description="clockwise rotation (0/90/180/270) applied to upright the page")
    skew_degrees: float = Field(0.0, description="small skew angle corrected before OCR")
    tokens: list[TextToken] | None = None
    layout: list[LayoutRegion] | None = None
    tables: list[Table] | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="seconds spent per stage on this page")
