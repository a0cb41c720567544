"""Layout regions as layoutparser objects (the product card's interchange type)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from extractor.datamodel.page import LayoutRegion

if TYPE_CHECKING:
    import layoutparser


def to_layoutparser(regions: list[LayoutRegion], page_data: dict | None = None) -> layoutparser.Layout:
    """A ``layoutparser.Layout`` of ``TextBlock(Rectangle)`` with each region's label and score.

    Block ids are the regions' positions (reading order). layoutparser is imported here, not at
    module load, because it pulls in pandas and pdfplumber.

    Raises:
        ImportError: layoutparser is not installed (the message names it).
    """
    try:
        from layoutparser.elements import Layout, Rectangle, TextBlock
    except ImportError as exc:
        raise ImportError("to_layoutparser needs the 'layoutparser' package") from exc
    blocks = [
        TextBlock(Rectangle(r.bbox.x1, r.bbox.y1, r.bbox.x2, r.bbox.y2), id=i, type=r.label, score=r.score)
        for i, r in enumerate(regions)
    ]
    return Layout(blocks, page_data=page_data or {})
