"""The grid stage: one table region of a page image + its tokens -> a Table of cells."""

from __future__ import annotations

import logging
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from extractor.datamodel import BBox, Cell, Table, TextToken
from extractor.stages.grid.aligned import aligned_grid
from extractor.stages.grid.assign import WorkToken, assign_tokens, join_text
from extractor.stages.grid.lines import binarise, estimate_skew, faint_rules, line_masks, line_params, to_gray
from extractor.stages.grid.rectify import apply, rectifying_homography
from extractor.stages.grid.ruled import RuledGrid, ruled_grid

_log = logging.getLogger(__name__)


# The most columns a report's table has: section 四, 15 value columns and a label column or two.
MAX_TABLE_COLUMNS = 20


class GridOptions(BaseModel):
    """Tunables of the OpenCV grid engine. Pixel lengths are given at 200 dpi and scaled."""

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[Literal["opencv"]] = "opencv"

    h_kernel_200: int = Field(45, description="horizontal opening length at 200 dpi; shorter ink runs are text")
    v_kernel_200: int = Field(40, description="vertical opening length at 200 dpi")
    gap_200: int = Field(12, description="gaps in a rule up to this long (200 dpi) are closed")
    margin_200: int = Field(20, description="pixels (200 dpi) added around the table region before line search")
    deskew: bool = Field(True, description="straighten the crop by the angle of its row rules")
    rectify: bool = Field(
        True, description="once straightened, undo the table's perspective (rules that converge) by a homography "
        "fitted to its rules (`rectify.rectifying_homography`); the column rules' shear otherwise"
    )
    min_skew_degrees: float = Field(0.1, description="skew below this is left alone")
    min_lean_degrees: float = Field(
        0.2, description="column rules leaning less than this from vertical (once the rows are level) are left alone"
    )
    max_outside_tokens: float = Field(
        0.2, description="fraction of the region's tokens outside the ruled grid above which the grid is "
        "treated as partial and token alignment is used instead"
    )
    aligned_score: float = Field(0.5, description="Table.score of a grid recovered from token alignment")


class _Frame:
    """Page <-> working coordinates: crop offset, then a projective map (rotation, shear, perspective)."""

    def __init__(self, ox: float, oy: float, matrix: np.ndarray) -> None:
        self.ox, self.oy = ox, oy
        self.m = matrix if matrix.shape == (3, 3) else np.vstack([matrix, [0, 0, 1]])
        self.inv = np.linalg.inv(self.m)

    def _map(self, m: np.ndarray, pts: np.ndarray) -> np.ndarray:
        return apply(m, pts)

    def box_to_work(self, b: BBox) -> tuple[float, float, float, float]:
        pts = np.array([[b.x1, b.y1], [b.x2, b.y1], [b.x1, b.y2], [b.x2, b.y2]]) - [self.ox, self.oy]
        w = self._map(self.m, pts)
        # Keep the token's own size, so the rotation does not inflate its box.
        cx, cy = w.mean(axis=0)
        return cx - b.width / 2, cy - b.height / 2, cx + b.width / 2, cy + b.height / 2

    def box_to_page(self, x1: float, y1: float, x2: float, y2: float) -> BBox:
        pts = self._map(self.inv, np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]])) + [self.ox, self.oy]
        return BBox(x1=float(pts[:, 0].min()), y1=float(pts[:, 1].min()), x2=float(pts[:, 0].max()), y2=float(pts[:, 1].max()))


class GridStage:
    """Recover a table's grid from ruling lines, with a token-alignment fallback."""

    def __init__(self, options: GridOptions | None = None) -> None:
        self.options = options or GridOptions()

    @classmethod
    def get_options_type(cls) -> type[GridOptions]:
        return GridOptions

    def predict(
        self, image: np.ndarray, table_region: BBox, tokens: list[TextToken], page_index: int, dpi: float = 200.0,
        faint: bool = False,
    ) -> Table:
        """Build the grid of the table in `table_region`.

        Steps:
            1. Crop the region (plus a margin) and find its rule masks; if the row rules are
               skewed, rotate the crop straight; if its rules converge (perspective), rectify
               it by a homography fitted to them, else stand leaning column rules upright by a
               shear; find the masks again.
            2. Recover boundaries and merged cells from the rules (:func:`ruled_grid`).
            3. Map the region's tokens into the working frame. If the rules gave no grid, or too
               many tokens fall outside it (a half-ruled table), build the grid from token
               alignment instead (``ruled=False``, lower score).
            4. Assign tokens to cells, join their text, and map cell boxes back to the page.

        Args:
            image: the page, RGB (or greyscale) uint8, in page pixels.
            table_region: the table's box on the page (from the layout stage).
            tokens: the page's tokens (any outside the region are ignored).
            page_index: 0-based page number, stored on every cell.
            dpi: resolution of `image`; pixel lengths scale with it.
            faint: the table was found on faint rules (:func:`faint_rules`): its rules are
                taken from them too, not only from the threshold, which keeps broken pieces.

        Returns:
            The table; a table with no rules and no tokens has zero rows and columns.
        """
        opts = self.options
        params = line_params(dpi, opts.h_kernel_200, opts.v_kernel_200, opts.gap_200)
        margin = int(round(opts.margin_200 * dpi / 200))
        h, w = image.shape[:2]
        x0, y0 = max(0, int(table_region.x1) - margin), max(0, int(table_region.y1) - margin)
        x1, y1 = min(w, int(np.ceil(table_region.x2)) + margin), min(h, int(np.ceil(table_region.y2)) + margin)
        crop = to_gray(image[y0:y1, x0:x1])

        def masks(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            ink = binarise(gray, params)
            return (ink, *line_masks(ink | faint_rules(gray, params) if faint else ink, params))

        gray = crop
        ink, horizontal, vertical = masks(gray)
        matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        if opts.deskew:
            size = (crop.shape[1], crop.shape[0])
            angle = estimate_skew(horizontal, max(params.h_kernel, crop.shape[1] // 4), min_pixels=params.h_kernel)
            if abs(angle) >= opts.min_skew_degrees:
                _log.debug("deskewing table crop by %.2f degrees", angle)
                matrix = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), angle, 1.0)
                gray = cv2.warpAffine(crop, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                ink, horizontal, vertical = masks(gray)
            # Seen in perspective, the rules of a page-long table converge: no rotation levels
            # the top and bottom rows at once, and no shear stands every column upright. The
            # homography fitted to all the rules does both (None: nothing to correct, or the
            # rules too few to tell).
            homography = rectifying_homography(horizontal, vertical, params.h_kernel, params.v_kernel) if opts.rectify else None
            if homography is not None:
                _log.debug("rectifying table crop in perspective")
                matrix = homography @ np.vstack([matrix, [0.0, 0.0, 1.0]])
                gray = cv2.warpPerspective(crop, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                ink, horizontal, vertical = masks(gray)
            # A sheared copy leaves the column rules leaning once the row rules are level: over a
            # page-long table they drift further than a boundary's tolerance, and each column
            # becomes two or three sliver columns. They are stood upright by a shear.
            lean = 0.0 if homography is not None else estimate_skew(
                np.ascontiguousarray(vertical.T), max(params.v_kernel, crop.shape[0] // 8), min_pixels=params.v_kernel
            )
            if abs(lean) >= opts.min_lean_degrees:
                _log.debug("unshearing table crop: column rules lean %.2f degrees", lean)
                k = float(np.tan(np.radians(lean)))
                shear = np.array([[1.0, -k, k * size[1] / 2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
                matrix = (shear @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
                gray = cv2.warpAffine(crop, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                ink, horizontal, vertical = masks(gray)
        frame = _Frame(x0, y0, matrix)

        region_tokens = [t for t in tokens if table_region.contains_point(*t.bbox.center)]
        work = [WorkToken(t.text, *frame.box_to_work(t.bbox), t.score) for t in region_tokens]

        grid = ruled_grid(horizontal, vertical, params, ink)
        if grid is None and not faint:
            # Rules too faint for the threshold (as the page's table finder looks for them too).
            horizontal, vertical = line_masks(ink | faint_rules(gray, params), params)
            grid = ruled_grid(horizontal, vertical, params, ink)
        if grid is not None and len(grid.xs) - 1 > MAX_TABLE_COLUMNS:
            # No report's table has so many: streaks or stripes taken for column rules, whose
            # slivers of cells would read as blanks (values of 0 that nothing checks).
            _log.info("ruled grid of %d columns is no report table", len(grid.xs) - 1)
            grid = None
        ruled = grid is not None
        if grid is not None and work:
            outside = sum(
                1 for t in work if not (grid.xs[0] <= t.cx <= grid.xs[-1] and grid.ys[0] <= t.cy <= grid.ys[-1])
            )
            if outside > opts.max_outside_tokens * len(work):
                _log.info("ruled grid leaves %d of %d tokens outside: using token alignment", outside, len(work))
                grid, ruled = None, False
        if grid is None:
            ruled = False
            grid = aligned_grid(work)
        if grid is None:
            return Table(n_rows=0, n_cols=0, cells=[], pages=[page_index], bbox=table_region, ruled=False, score=0.0)
        return self._table(grid, work, frame, page_index, ruled)

    def _table(self, grid: RuledGrid, work: list[WorkToken], frame: _Frame, page_index: int, ruled: bool) -> Table:
        per_cell, left_out = assign_tokens(work, grid.cells)
        cells = [
            Cell(
                row=g.row,
                col=g.col,
                row_span=g.row_span,
                col_span=g.col_span,
                text=join_text(toks),
                bbox=frame.box_to_page(g.x1, g.y1, g.x2, g.y2),
                page=page_index,
                score=min((t.score for t in toks), default=1.0),
                token_texts=[t.text for t in toks],
            )
            for g, toks in zip(grid.cells, per_cell)
        ]
        n_positions = (len(grid.ys) - 1) * (len(grid.xs) - 1)
        score = 1.0 if ruled else self.options.aligned_score
        # Repairs and lost tokens each lower trust in the structure.
        score -= 0.5 * grid.repaired / max(1, n_positions)
        score -= 0.5 * left_out / max(1, len(work))
        return Table(
            n_rows=len(grid.ys) - 1,
            n_cols=len(grid.xs) - 1,
            cells=cells,
            pages=[page_index],
            bbox=frame.box_to_page(grid.xs[0], grid.ys[0], grid.xs[-1], grid.ys[-1]),
            ruled=ruled,
            score=max(0.0, min(1.0, score)),
        )
