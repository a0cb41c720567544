"""The layout stage: page image -> regions (tables first of all) in reading order."""

from __future__ import annotations

import logging
import re

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import TextToken
from extractor.datamodel.page import LayoutRegion
from extractor.stages.layout.rapid_cdla import RapidCdlaEngine, RapidCdlaOptions, regions_from_raw
from extractor.stages.layout.ruled_tables import find_faint_ruled_tables, find_ruled_tables
from extractor.stages.pixels import blank_out
from extractor.stages.registry import create_instance

_log = logging.getLogger(__name__)

# Model labels that may really be a ruled table (CDLA calls some small tables "figure").
_TABLE_LIKE = frozenset({"table", "figure"})
# A model box and a ruled table are the same object above this overlap (of the smaller box).
_SAME_OBJECT = 0.5
# A text-like region this much inside a table is part of the table, not a page element.
_INSIDE_TABLE = 0.8
# Text of a token that is a bare number, as a table cell prints it (12, 3.5, 1,234).
_BARE_NUMBER = re.compile(r"[\d.,，．]+")
# Bare numbers outside the ruled tables of a born-digital page that suggest a table without
# rules: this many on one text line, or this many in one column (see `looks_tabular`).
_TABLE_ROW_NUMBERS = 4
_TABLE_COLUMN_NUMBERS = 3


class LayoutOptions(BaseModel):
    """Options of the layout stage."""

    model_config = ConfigDict(extra="forbid")

    engine: RapidCdlaOptions = Field(default_factory=RapidCdlaOptions, description="layout model options")
    ruled_tables: bool = Field(True, description="also find tables from their ruling lines")
    fast_path: bool = Field(
        True,
        description="skip the layout model when the ruling lines account for every table, i.e. the page's "
        "text (a born-digital page's text layer, or a scan's OCR outside its ruled tables) has no row or "
        "column of bare numbers outside the ruled tables",
    )


def _overlap_of_smaller(a: LayoutRegion, b: LayoutRegion) -> float:
    smaller = min(a.bbox.area, b.bbox.area)
    return a.bbox.intersection(b.bbox) / smaller if smaller > 0 else 0.0


def merge_regions(model: list[LayoutRegion], ruled: list[LayoutRegion]) -> list[LayoutRegion]:
    """Combine model regions with tables found from rules.

    Steps:
        0. A ruled table mostly inside a larger ruled table is a part of it: the larger takes in
           its box.
        1. A ruled table is kept with its own (line-exact) box; it takes the highest score of
           the model's table or figure boxes on the same object, and those boxes are dropped.
           So a ruled table the model called "figure" comes out as a table.
        2. Model tables with no ruled table on them (borderless tables) are kept, one per
           object: a model table mostly over a table already kept is dropped.
        3. Other model regions mostly inside a table (cell text seen as paragraphs) are dropped.
    """
    out: list[LayoutRegion] = []
    used: set[int] = set()
    ruled = _join_parts(ruled)
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


def _join_parts(tables: list[LayoutRegion]) -> list[LayoutRegion]:
    """Tables with every part found on its own joined to the table it is mostly inside.

    A block of rows whose rules broke away from the rest on a scan is found as a table of its
    own, mostly over the whole; it may reach out of it (the first rows of a continued table,
    cut off by a broken rule), so the whole takes in its box.
    """
    kept: list[LayoutRegion] = []
    for table in sorted(tables, key=lambda t: -t.bbox.area):
        whole = next((i for i, k in enumerate(kept) if _overlap_of_smaller(table, k) > _SAME_OBJECT), None)
        if whole is None:
            kept.append(table)
        else:
            kept[whole] = kept[whole].model_copy(update={"bbox": kept[whole].bbox.union(table.bbox)})
    return sorted(kept, key=lambda t: (t.bbox.y1, t.bbox.x1))


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


# Half a thick rule and its blur on a scan, inches (4 px at 200 dpi).
_RULE_EDGE_IN = 0.02


class LayoutStage:
    """Find the regions of a page: the CDLA model plus the ruling-line table detector."""

    def __init__(self, options: LayoutOptions | None = None, engine: RapidCdlaEngine | None = None) -> None:
        """Set the stage up; the layout model is loaded when a page first needs it.

        Args:
            options: stage options; the model engine is built from ``options.engine``.
            engine: an engine to use instead (tests pass a recorded one).
        """
        self.options = options or LayoutOptions()
        self._engine = engine  # None until a page needs the model: digital runs may never load it

    @property
    def engine(self) -> RapidCdlaEngine:
        if self._engine is None:
            self._engine = create_instance(self.options.engine)
        return self._engine

    def ruled_tables(self, image: np.ndarray, dpi: float, follow_faint: bool = False) -> list[LayoutRegion]:
        """The page's tables found from their ruling lines alone, parts joined, in reading order
        (`follow_faint`: see :func:`find_ruled_tables`)."""
        if not self.options.ruled_tables:
            return []
        return merge_regions([], find_ruled_tables(image, dpi, follow_faint=follow_faint))

    def faint_tables(self, image: np.ndarray, dpi: float, tokens: list[TextToken], found: list[LayoutRegion]) -> list[LayoutRegion]:
        """Ruled tables beside `found` whose rules are too faint for the threshold (part of a
        page in a shadow, a light copy), looked for only where the page's text (`tokens`, read
        outside `found`) shows bare numbers lined up as a table's are, and kept only where they
        hold such numbers.

        The search runs on the page with `found` painted white, so that the faint rules of its
        neighbours do not join a table already read; where a rule it left out still does, the
        table found holds it (the caller keeps that reading for both).
        """
        if not self.options.ruled_tables:
            return []
        numbers = loose_numbers(tokens, found)
        if not looks_tabular(numbers):
            return []
        # Widened by a rule's width about the line through it.
        rest = blank_out(image, [r.bbox for r in found], margin=int(round(dpi * _RULE_EDGE_IN)))
        faint = [
            r for r in find_faint_ruled_tables(rest, dpi)
            if any(r.bbox.contains_point(*n.bbox.center) for n in numbers)
        ]
        _log.debug("layout: %d tables on faint rules beside %d ruled", len(faint), len(found))
        return faint

    def predict(
        self,
        image: np.ndarray,
        dpi: float,
        tokens: list[TextToken] | None = None,
        ruled: list[LayoutRegion] | None = None,
    ) -> list[LayoutRegion]:
        """Regions of one page in reading order.

        Steps:
            1. Tables from their ruling lines (unless given as `ruled`).
            2. Fast path: with the page's text (`tokens`) and no row or column of bare numbers
               outside the ruled tables, the ruled tables are the page's tables and the model is
               not run. The model costs more than the rest of a digital page together, and on
               these pages it only confirms the rules; its text and title regions are used by no
               later stage.
            3. Otherwise the layout model, merged with the ruled tables (:func:`merge_regions`).

        Args:
            image: the page, RGB (or greyscale) uint8.
            dpi: resolution of `image` (the line detector's kernel lengths scale with it).
            tokens: the page's text: a born-digital page's text layer, or a scan's OCR tokens
                outside its ruled tables (a table whose rules were lost is read there). None
                always runs the model.
            ruled: the ruled tables of `image`, when :meth:`ruled_tables` gave them already.

        Returns:
            Layout regions with CDLA labels (``text``, ``title``, ``table``, ``figure``, ...),
            boxes in page pixels. On the fast path only the ruled tables.
        """
        if ruled is None:
            ruled = self.ruled_tables(image, dpi)
        if tokens is not None and self.options.fast_path and self.options.ruled_tables:
            if not looks_tabular(loose_numbers(tokens, ruled)):
                _log.debug("layout: %d ruled tables, model skipped", len(ruled))
                return merge_regions([], ruled)
        model = regions_from_raw(self.engine.raw(image))
        _log.debug("layout: %d model regions, %d ruled tables", len(model), len(ruled))
        return merge_regions(model, ruled)


def loose_numbers(tokens: list[TextToken], tables: list[LayoutRegion]) -> list[TextToken]:
    """Bare numbers with their centre outside every one of `tables`.

    A token holding several words (an OCR text line: "0 0 3 12") gives one per word, each with
    its share of the token's width.
    """
    loose = []
    for token in tokens:
        words = token.text.split()
        step = token.bbox.width / max(1, len(token.text))
        start = 0
        for word in words:
            at = token.text.index(word, start)
            start = at + len(word)
            if not _BARE_NUMBER.fullmatch(word) or not any(c.isdigit() for c in word):
                continue
            box = token.bbox.model_copy(
                update={"x1": token.bbox.x1 + at * step, "x2": token.bbox.x1 + start * step}
            )
            if not any(t.bbox.contains_point(*box.center) for t in tables):
                loose.append(token.model_copy(update={"text": word, "bbox": box}))
    return loose


def looks_tabular(numbers: list[TextToken]) -> bool:
    """Whether bare numbers line up as a table's do: several on one line, or a column of them.

    Prose embeds its numbers in words, and when it spaces them (共办理 12 件) gives one or two
    per line at no particular x; a table without rules prints a row of values side by side
    (section 四 is one row of 15) or a column of them under each other.
    """
    for a in numbers:
        height = max(a.bbox.height, 1.0)
        same_row = sum(1 for b in numbers if abs(b.bbox.center[1] - a.bbox.center[1]) < height / 2)
        same_col = sum(
            1
            for b in numbers
            if abs(b.bbox.center[0] - a.bbox.center[0]) < height and abs(b.bbox.center[1] - a.bbox.center[1]) >= height
        )
        if same_row >= _TABLE_ROW_NUMBERS or same_col + 1 >= _TABLE_COLUMN_NUMBERS:
            return True
    return False
