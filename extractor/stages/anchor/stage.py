"""Section 三's grid from its printed labels, anchored to the template (see the package docstring).

Coordinates are page pixels of the uprighted page, top-left origin, as every token's box.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from itertools import combinations
from statistics import median

from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import BBox, Cell, Table, TextToken
from extractor.stages.assemble.matching import align, similarity
from extractor.stages.assemble.readings import ANCHORED
from extractor.stages.assemble.sections import row_scores
from extractor.stages.assemble.text import label_key
from extractor.templates import get_template

_log = logging.getLogger(__name__)

# Headers over several value columns: a token alike to them anchors no column ("法人或其他组织"
# holds 其他).
_GROUP_HEADERS = ("申请人情况", "法人或其他组织")


class AnchorOptions(BaseModel):
    """Tunables of template-anchored placement."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="build section 三's grid from its labels where no table grid holds them")
    row_match: float = Field(0.6, description="a token anchors a template row at this label similarity or more")
    col_match: float = Field(0.6, description="a token anchors a template column at this header similarity or more")
    min_rows: int = Field(3, description="fewest rows anchored for a grid: fewer labels read are no table")
    header_reach: float = Field(
        8.0, description="headers are looked for this many text lines above the first anchored row"
    )


@dataclass(frozen=True)
class _Row:
    """A template row located on the page."""

    label: str  # the printed label's text (its lines joined)
    top: float  # y of the row's top, page px
    bottom: float  # y of its bottom
    left: float  # x of its label's left edge


class AnchorStage:
    """Builds section 三's grid from the page's text where its rules were lost."""

    def __init__(self, options: AnchorOptions | None = None) -> None:
        self.options = options or AnchorOptions()

    def predict(self, tokens: list[TextToken], page_index: int, covered: list[BBox]) -> Table | None:
        """Section 三's grid on this page from its labels, or None where they do not make one.

        Steps:
            1. Tokens alike to section 三's row labels, outside the tables already read
               (`covered`), are aligned with the template's rows in the template's order
               (`matching.align`); a row's extent is its label's lines.
            2. Tokens above the first row alike to the column headers give the columns' centres;
               a straight line fitted to them against the template's column order (Theil-Sen,
               the headers misread off it left out) places all seven value columns.
            3. The grid: a header row holding the template's column labels, one row per anchored
               row with its printed label, the value cells empty (read from their crops after).

        Args:
            tokens: the page's text (OCR of what no ruled table holds).
            page_index: 0-based page number, stored on every cell.
            covered: boxes of the tables found on the page: their text is theirs.
        """
        if not self.options.enabled:
            return None
        free = [t for t in tokens if not any(box.contains_point(*t.bbox.center) for box in covered)]
        if not _headers_present(free):
            return None  # most pages: no section 三 header outside the tables found (cheap to tell)
        rows = self._rows(free)
        if len(rows) < self.options.min_rows:
            return None
        columns = self._columns(free, rows)
        if columns is None:
            return None
        return _grid(rows, columns, page_index)

    def _rows(self, tokens: list[TextToken]) -> list[_Row]:
        official = _official_rows()
        candidates = sorted(
            (t for t in tokens if len(label_key(t.text)) >= 2 and _has_cjk(t.text)),
            key=lambda t: (t.bbox.center[1], t.bbox.x1),
        )
        if not candidates:
            return []
        # Two characters match too much by containment ("公开" is in six labels): they anchor a
        # row only as its whole label ("总计").
        scores = [
            [s if len(label_key(t.text)) > 2 or s == 1.0 else 0.0 for s in row_scores(t.text, t.text, official)]
            for t in candidates
        ]
        matches = align(scores, self.options.row_match)
        anchors = [candidates[i] for i in sorted(matches)]
        line = median(t.bbox.height for t in anchors) if anchors else 0.0
        rows = []
        for k, anchor in enumerate(anchors):
            below = anchors[k + 1].bbox.y1 if k + 1 < len(anchors) else float("inf")
            # The label's further lines: in its column, before the next row's label.
            block = [
                t for t in candidates
                if anchor.bbox.y1 < t.bbox.center[1] < below and t not in anchors
                and min(t.bbox.x2, anchor.bbox.x2) - max(t.bbox.x1, anchor.bbox.x1) > 0.5 * min(t.bbox.width, anchor.bbox.width)
            ]
            bottom = max([anchor.bbox.y2] + [t.bbox.y2 for t in block if t.bbox.y1 - anchor.bbox.y2 < 1.5 * line])
            text = "".join(t.text for t in [anchor, *block] if t.bbox.y2 <= bottom)
            pad = 0.3 * line
            rows.append(_Row(text, anchor.bbox.y1 - pad, min(bottom + pad, below - pad), anchor.bbox.x1))
        return rows

    def _columns(self, tokens: list[TextToken], rows: list[_Row]) -> tuple[float, float] | None:
        """(centre of the first value column, spacing) of the seven value columns, page px."""
        labels = _column_labels()
        line = median(r.bottom - r.top for r in rows)
        top = rows[0].top
        found: dict[int, tuple[float, float]] = {}  # column index -> (score, x centre)
        for t in tokens:
            if not (top - self.options.header_reach * line <= t.bbox.center[1] < top) or not _has_cjk(t.text):
                continue
            if _is_group_header(t.text):
                continue
            for j, label in enumerate(labels):
                score = similarity(t.text, label)
                if score >= self.options.col_match and score > found.get(j, (0.0, 0.0))[0]:
                    found[j] = (score, t.bbox.center[0])
        anchors = sorted((j, x) for j, (_, x) in found.items())
        fit = _line_fit(anchors)
        if fit is None:
            return None
        first, spacing = fit
        label_right = max(r.left for r in rows)
        if spacing < line or first - spacing / 2 < label_right:
            return None  # no value columns that close together, nor over the labels
        return fit


def _grid(rows: list[_Row], columns: tuple[float, float], page_index: int) -> Table:
    first, spacing = columns
    labels = _column_labels()
    xs = [first + (j - 0.5) * spacing for j in range(len(labels) + 1)]
    left = min(r.left for r in rows) - 0.2 * spacing
    header_top = rows[0].top - (rows[0].bottom - rows[0].top)
    cells = [Cell(row=0, col=0, text="", bbox=BBox(x1=left, y1=header_top, x2=xs[0], y2=rows[0].top), page=page_index,
                  evidence=[ANCHORED])]
    cells += [
        Cell(row=0, col=j + 1, text=label, bbox=BBox(x1=xs[j], y1=header_top, x2=xs[j + 1], y2=rows[0].top),
             page=page_index, evidence=[ANCHORED])
        for j, label in enumerate(labels)
    ]
    for r, row in enumerate(rows, start=1):
        cells.append(Cell(row=r, col=0, text=row.label, bbox=BBox(x1=left, y1=row.top, x2=xs[0], y2=row.bottom),
                          page=page_index, evidence=[ANCHORED]))
        cells += [
            Cell(row=r, col=j + 1, text="", bbox=BBox(x1=xs[j], y1=row.top, x2=xs[j + 1], y2=row.bottom),
                 page=page_index, evidence=[ANCHORED])
            for j in range(len(labels))
        ]
    _log.info("page %d: section 三 placed by %d anchored rows", page_index, len(rows))
    return Table(
        n_rows=len(rows) + 1, n_cols=len(labels) + 1, cells=cells, pages=[page_index],
        bbox=BBox(x1=left, y1=header_top, x2=xs[-1], y2=rows[-1].bottom), ruled=False, score=0.5,
    )


def _line_fit(anchors: list[tuple[int, float]]) -> tuple[float, float] | None:
    """(x at index 0, spacing) of the line x = a + b·j through the anchors (Theil-Sen), refitted
    without the anchors that miss it by a third of the spacing or more; None below two."""
    for _ in range(2):
        if len({j for j, _ in anchors}) < 2:
            return None
        slope = median((x2 - x1) / (j2 - j1) for (j1, x1), (j2, x2) in combinations(anchors, 2) if j2 != j1)
        if slope <= 0:
            return None
        intercept = median(x - slope * j for j, x in anchors)
        kept = [(j, x) for j, x in anchors if abs(x - intercept - slope * j) < slope / 3]
        if kept == anchors:
            return intercept, slope
        anchors = kept
    return None


def _headers_present(tokens: list[TextToken]) -> bool:
    """Whether two of section 三's column headers have a pair of their characters among the
    short tokens (header cells; a line of prose is long, and names them too)."""
    short = [key for t in tokens if len(key := label_key(t.text)) <= _HEADER_CHARS]
    return sum(1 for pairs in _header_pairs() if any(p in key for key in short for p in pairs)) >= 2


# Longest header cell text, characters (社会公益组织), with room for a misread character or two.
_HEADER_CHARS = 8


@functools.cache
def _header_pairs() -> list[set[str]]:
    """Each column header's pairs of neighbouring characters ("自然人": 自然, 然人)."""
    return [{key[i : i + 2] for i in range(len(key) - 1)} for key in map(label_key, _column_labels())]


def _is_group_header(text: str) -> bool:
    """Whether a token is a header over several columns (not one of the words it contains)."""
    key = label_key(text)
    return any(len(key) >= 0.7 * len(label_key(g)) and similarity(text, g) >= 0.7 for g in _GROUP_HEADERS)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@functools.cache
def _official_rows() -> list[str]:
    """Section 三's row labels in printed order (gov-2021's, which holds gov-2019's but its
    single （六） row, found as the group's own label)."""
    template = get_template("gov-2021")
    return [template.fields[f"apply.{r}.total"].row_label for r in template.rows("apply")]


@functools.cache
def _column_labels() -> list[str]:
    template = get_template("gov-2021")
    return [template.fields[f"apply.new_received.{c}"].col_label for c in template.cols("apply")]
