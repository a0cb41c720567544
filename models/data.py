"""Training data: synthetic reports run through the real page path, cells labelled from the truth.

1. :func:`render` writes digital synthetic reports (``extractor.synth``).
2. :func:`understand` runs :meth:`Pipeline.understand_page` on every page (text layer, layout,
   grid) and caches the page records as ``<id>.pages.json``, so training and evaluation reuse
   the exact tables the pipeline would see.
3. :func:`label_cells` gives each grid cell the role of the truth label or field whose box it
   overlaps best (see :mod:`extractor.stages.classify.labels`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from extractor.datamodel import BBox, PageRecord, Table
from extractor.pipeline import Pipeline
from extractor.stages.classify.labels import OTHER, VALUE, label_of
from extractor.stages.grid import join_continued
from extractor.stages.rasterise import open_document
from extractor.synth import SynthTruth, generate

_log = logging.getLogger(__name__)

# Minimum intersection-over-union of a grid cell and a truth box for the cell to take its label.
MIN_IOU = 0.5
# Suffix of the cached page records beside each PDF.
PAGES_SUFFIX = ".pages.json"
# Label of a cell whose role is not known (reviewer decisions fix a few cells of a real report):
# left out of the loss, never guessed. Not a role: the classifier never predicts it.
UNLABELLED = "[unlabelled]"


@dataclass
class LabelledDocument:
    """One training report as the classifier sees it (generated, or a reviewed real one)."""

    doc_id: str
    truth: SynthTruth | None  # None for a real report labelled from reviewer decisions
    pages: list[PageRecord]  # what Pipeline.understand_page returned, in page order
    tables: list[Table]  # pages' tables joined across page breaks, as Pipeline.finish joins them
    labels: list[list[str]]  # per table, per cell (table.cells order) its label, or UNLABELLED


def render(out: Path, n: int, seed: int, level: str = "digital") -> list[Path]:
    """Render `n` reports (skipping those already on disk: a run can resume)."""
    out.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(n) if not (out / f"synth-{seed}-{i:04d}.truth.json").is_file()]
    if missing:
        _log.info("rendering %d of %d reports into %s", len(missing), n, out)
        generate(n=n, out=out, seed=seed, level=level)
    return [out / f"synth-{seed}-{i:04d}.pdf" for i in range(n)]


def understand(pdf: Path, pipeline: Pipeline, cache_dir: Path | None = None) -> list[PageRecord]:
    """Page records of one PDF, from the cache (beside it, or in `cache_dir`) when present."""
    cache = (Path(cache_dir) if cache_dir else pdf.parent) / (pdf.stem + PAGES_SUFFIX)
    if cache.is_file():
        return [PageRecord.model_validate(p) for p in json.loads(cache.read_text(encoding="utf-8"))]
    with open_document(pdf) as source:
        pages = [pipeline.understand_page(source, i) for i in range(len(source))]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([p.model_dump(mode="json") for p in pages], ensure_ascii=False), encoding="utf-8")
    return pages


def join_tables(pages: list[PageRecord]) -> list[Table]:
    """The document's tables as :meth:`Pipeline.finish` sees them."""
    return join_continued([t for page in sorted(pages, key=lambda p: p.index) for t in page.tables or []])


def label_cells(tables: list[Table], truth: SynthTruth) -> list[list[str]]:
    """The truth role of every grid cell.

    Value cells (template fields and the cells of a single-row （六）) are ``value``; printed
    labels map through :func:`label_of`; a cell that overlaps no truth box by :data:`MIN_IOU`
    is ``O``.
    """
    boxes: list[tuple[int, BBox, str]] = []
    for f in list(truth.fields.values()) + list(truth.other_row.values()):
        if f.page is not None and f.bbox is not None:
            boxes.append((f.page, BBox.from_list(f.bbox), VALUE))
    for lab in truth.labels:
        boxes.append((lab.page, BBox.from_list(lab.bbox), label_of(lab.role, lab.key)))
    out = []
    for table in tables:
        labels = []
        for cell in table.cells:
            best, best_iou = OTHER, MIN_IOU
            for page, box, label in boxes:
                if page == cell.page:
                    iou = cell.bbox.iou(box)
                    if iou >= best_iou:
                        best, best_iou = label, iou
            labels.append(best)
        out.append(labels)
    return out


def load_documents(pdfs: list[Path], pipeline: Pipeline) -> list[LabelledDocument]:
    """Understand and label every report (cached page records are reused)."""
    docs = []
    for k, pdf in enumerate(pdfs):
        truth = SynthTruth.load(pdf.with_name(pdf.stem + ".truth.json"))
        pages = understand(pdf, pipeline)
        tables = join_tables(pages)
        docs.append(LabelledDocument(pdf.stem, truth, pages, tables, label_cells(tables, truth)))
        if (k + 1) % 20 == 0:
            _log.info("understood %d/%d reports", k + 1, len(pdfs))
    return docs
