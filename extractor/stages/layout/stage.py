"""The layout stage: page image -> regions (tables first of all) in reading order."""

from __future__ import annotations

import logging

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel.page import LayoutRegion
from extractor.stages.layout.rapid_cdla import RapidCdlaEngine, RapidCdlaOptions, regions_from_raw
from extractor.stages.layout.ruled_tables import find_ruled_tables

_log = logging.getLogger(__name__)

# Model labels that may really be a ruled table (CDLA calls some small tables "figure").
_TABLE_LIKE = frozenset({"table", "figure"})
# A model box and a ruled table are the same object above this overlap (of the smaller box).
_SAME_OBJECT = 0.5
# A text-like region this much inside a table is part of the table, not a page element.
_INSIDE_TABLE = 0.8


# Options kind -> layout model engine class.
_REGISTRY: dict[str, type[RapidCdlaEngine]] = {RapidCdlaOptions.kind: RapidCdlaEngine}


def get_layout_registry() -> dict[str, type[RapidCdlaEngine]]:
    """Known layout model engines by kind."""
    return dict(_REGISTRY)


def create_layout_engine(options: RapidCdlaOptions) -> RapidCdlaEngine:
    """The layout model engine for `options`.

    Raises:
        ValueError: the options' kind has no engine (the message lists the known kinds).
    """
    try:
        return _REGISTRY[options.kind](options)
    except KeyError:
        raise ValueError(f"unknown layout engine {options.kind!r}; known: {sorted(_REGISTRY)}") from None


class LayoutOptions(BaseModel):
    """Options of the layout stage."""

    model_config = ConfigDict(extra="forbid")

    engine: RapidCdlaOptions = Field(default_factory=RapidCdlaOptions, description="layout model options")
    ruled_tables: bool = Field(True, description="also find tables from their ruling lines")


def _overlap_of_smaller(a: LayoutRegion, b: LayoutRegion) -> float:
    smaller = min(a.bbox.area, b.bbox.area)
    return a.bbox.intersection(b.bbox) / smaller if smaller > 0 else 0.0


def merge_regions(model: list[LayoutRegion], ruled: list[LayoutRegion]) -> list[LayoutRegion]:
    """Combine model regions with tables found from rules.

    Steps:
        0. A ruled table mostly inside a larger ruled table is a part of it and is dropped.
        1. A ruled table is kept with its own (line-exact) box; it takes the highest score of
           the model's table or figure boxes on the same object, and those boxes are dropped.
           So a ruled table the model called "figure" comes out as a table.
        2. Model tables with no ruled table on them (borderless tables) are kept, one per
           object: a model table mostly over a table already kept is dropped.
        3. Other model regions mostly inside a table (cell text seen as paragraphs) are dropped.
    """
    out: list[LayoutRegion] = []
    used: set[int] = set()
    ruled = _drop_nested(ruled)
    for table in ruled:
        score = table.score
        for i, region in enumerate(model):
            if region.label in _TABLE_LIKE and _overlap_of_smaller(region, table) > _SAME_OBJECT:
                used.add(i)
                if region.label == "table":
                    score = max(score, region.score)
        out.append(table.model_copy(update={"score": score}))
    tables = list(out)
    for i, region in enumerate(model):
        if i in used:
            continue
        if region.label == "table":
            if any(_overlap_of_smaller(region, t) > _SAME_OBJECT for t in tables):
                continue  # a second box on a table already kept (a part of it, or the whole)
            out.append(region)
            tables.append(region)
    for i, region in enumerate(model):
        if i in used or region.label == "table":
            continue
        inside = max((region.bbox.intersection(t.bbox) / region.bbox.area for t in tables), default=0.0)
        if region.bbox.area > 0 and inside > _INSIDE_TABLE:
            continue
        out.append(region)
    return reading_order(out)


def _drop_nested(tables: list[LayoutRegion]) -> list[LayoutRegion]:
    """Tables with no other table mostly over them: a part of a table found on its own (a
    block of rows whose outer rule is broken on a scan) is dropped for the whole table."""
    ordered = sorted(tables, key=lambda t: -t.bbox.area)
    kept: list[LayoutRegion] = []
    for table in ordered:
        if any(_overlap_of_smaller(table, k) > _SAME_OBJECT for k in kept):
            continue
        kept.append(table)
    return [t for t in tables if any(t is k for k in kept)]


def reading_order(regions: list[LayoutRegion]) -> list[LayoutRegion]:
    """Sort regions top to bottom; regions side by side (overlapping vertically) left to right.

    Steps:
        1. Sort by top edge.
        2. Group a region with the previous one when their vertical extents overlap by half of
           the shorter one (a band of side-by-side regions).
        3. Order each band left to right.
    """
    bands: list[list[LayoutRegion]] = []
    for region in sorted(regions, key=lambda r: (r.bbox.y1, r.bbox.x1)):
        if bands:
            last = bands[-1]
            top = min(r.bbox.y1 for r in last)
            bottom = max(r.bbox.y2 for r in last)
            overlap = min(bottom, region.bbox.y2) - max(top, region.bbox.y1)
            if overlap > 0.5 * min(bottom - top, region.bbox.height):
                last.append(region)
                continue
        bands.append([region])
    return [r for band in bands for r in sorted(band, key=lambda r: r.bbox.x1)]


class LayoutStage:
    """Find the regions of a page: the CDLA model plus the ruling-line table detector."""

    def __init__(self, options: LayoutOptions | None = None) -> None:
        self.options = options or LayoutOptions()
        self._engine = create_layout_engine(self.options.engine)

    def predict(self, image: np.ndarray, dpi: float) -> list[LayoutRegion]:
        """Regions of one page in reading order.

        Args:
            image: the page, RGB (or greyscale) uint8.
            dpi: resolution of `image` (the line detector's kernel lengths scale with it).

        Returns:
            Layout regions with CDLA labels (``text``, ``title``, ``table``, ``figure``, ...),
            boxes in page pixels.
        """
        model = regions_from_raw(self._engine.raw(image))
        ruled = find_ruled_tables(image, dpi) if self.options.ruled_tables else []
        _log.debug("layout: %d model regions, %d ruled tables", len(model), len(ruled))
        return merge_regions(model, ruled)
