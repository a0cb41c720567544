"""Measure the classifier: cell roles, and fields end to end side by side with the baseline.

Every combination mode runs the same cached page records through the real
:meth:`Pipeline.finish` (join, assemble, validate), with the assemble step swapped for
:class:`ClassifiedAssembleStage`; predictions are scored by :func:`extractor.evaluation.evaluate`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import numpy as np

from extractor.datamodel import BBox, DocumentInfo, DocumentResult, Table
from extractor.evaluation import evaluate
from extractor.output import write_document
from extractor.pipeline import Pipeline
from extractor.stages.classify import ClassifiedAssembleStage, ClassifyStage, CombineMode, read_fields
from extractor.stages.classify.labels import OTHER, VALUE
from extractor.templates import get_template
from models.data import LabelledDocument, understand
from models.noise import ocr_noise

_log = logging.getLogger(__name__)

# Confidence bins of the reliability table (upper edges).
RELIABILITY_EDGES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


def cell_scores(stage: ClassifyStage, docs: list[LabelledDocument]) -> dict[str, float]:
    """Share of cells whose predicted role is the truth role: all cells, and label cells alone."""
    right = total = label_right = label_total = 0
    seconds = 0.0
    for doc in docs:
        started = time.perf_counter()
        predictions = stage.predict(doc.tables)
        seconds += time.perf_counter() - started
        for pred, labels in zip(predictions, doc.labels):
            for p, truth in zip(pred.cells, labels):
                right += p.label == truth
                total += 1
                if truth not in (OTHER, VALUE):
                    label_right += p.label == truth
                    label_total += 1
    return {
        "cell_accuracy": round(right / max(total, 1), 4),
        "label_cell_accuracy": round(label_right / max(label_total, 1), 4),
        "seconds_per_document": round(seconds / max(len(docs), 1), 3),
    }


def run_modes(pdfs: list[Path], stage: ClassifyStage, out: Path, modes: list[CombineMode],
              cache_dir: Path | None = None, noise: float = 0.0, seed: int = 0) -> dict[str, dict]:
    """Extract every PDF once per mode (page records cached) into ``out/<mode>/``.

    Args:
        noise: OCR noise scale applied to the text of every table cell first (0: none), the
            same noisy text for every mode.
        seed: seed of that noise.

    Returns:
        mode → the prediction folder's path (as a string) and the seconds spent assembling.
    """
    pipeline = Pipeline()
    rules = pipeline.assemble
    pages = {pdf: understand(pdf, pipeline, cache_dir) for pdf in pdfs}
    if noise > 0:
        rng = np.random.default_rng(seed)
        pages = {pdf: [p.model_copy(update={"tables": [_noisy(t, rng, noise) for t in p.tables or []]}) for p in records]
                 for pdf, records in pages.items()}
    done = {}
    for mode in modes:
        folder = out / mode.value
        folder.mkdir(parents=True, exist_ok=True)
        pipeline.assemble = ClassifiedAssembleStage(rules, stage, mode)
        started = time.perf_counter()
        for pdf, records in pages.items():
            result = DocumentResult(document=DocumentInfo(
                id=pdf.stem, source=str(pdf), sha256=hashlib.sha256(pdf.read_bytes()).hexdigest(), pages=len(records), dpi=200,
            ))
            write_document(pipeline.finish(result, records), folder)
        done[mode.value] = {"pred": str(folder), "seconds": round(time.perf_counter() - started, 2)}
    return done


def gather_truth(pdfs: list[Path], truth_dir: Path, out: Path) -> Path:
    """A folder holding the truth files of exactly `pdfs` (links), so evaluation scores only them."""
    out.mkdir(parents=True, exist_ok=True)
    for pdf in pdfs:
        src = (Path(truth_dir) / f"{pdf.stem}.truth.json").resolve()
        link = out / src.name
        if not link.exists():
            link.symlink_to(src)
    return out


def side_by_side(truth_dir: Path, runs: dict[str, dict]) -> dict[str, dict]:
    """`nianbao eval` of every mode's predictions: overall, per section, documents, template."""
    table = {}
    for mode, run in runs.items():
        report = evaluate(truth_dir, Path(run["pred"]))
        table[mode] = {
            "field_accuracy": round(report.overall.accuracy or 0.0, 4),
            "by_section": {k: round(v.accuracy or 0.0, 4) for k, v in sorted(report.by_section.items())},
            "documents_all_right": f"{report.documents_all_right}/{report.documents}",
            "template_accuracy": round(report.template.rate or 0.0, 4),
            "silent_errors": report.overall.silent_errors,
            "missing": report.overall.missing,
        }
    return table


def field_outcomes(stage: ClassifyStage, docs: list[LabelledDocument], calibrated: bool, noise: float = 0.0,
                   seed: int = 0) -> tuple[list[float], list[bool]]:
    """Score and placement of every field the classifier reads from `docs`.

    Args:
        stage: the classifier.
        docs: labelled reports.
        calibrated: map the label score through the stage's calibration.
        noise: OCR noise scale applied to every cell text first (:func:`models.noise.ocr_noise`).
        seed: seed of that noise.

    Returns:
        Per field read, its score (label score × text score) and whether it was placed right: its
        cell is the truth cell of that field (box IoU at least 0.5). Placement is what the
        classifier decides; the digits themselves are the OCR's.
    """
    rng = np.random.default_rng(seed)
    scores, right = [], []
    for doc in docs:
        template = get_template(doc.truth.template)
        tables = doc.tables if noise <= 0 else [_noisy(t, rng, noise) for t in doc.tables]
        calibration = stage.calibration if calibrated else None
        for r in read_fields(tables, stage.predict(tables), template, calibration):
            truth = doc.truth.fields.get(r.field_id)
            placed = (truth is not None and truth.bbox is not None and r.bbox is not None and r.page == truth.page
                      and r.bbox.iou(BBox.from_list(truth.bbox)) >= 0.5)
            scores.append(r.match_score * r.text_score)
            right.append(placed)
    return scores, right


def _noisy(table: Table, rng: np.random.Generator, scale: float) -> Table:
    cells = [c.model_copy(update={"text": ocr_noise(c.text, rng, scale)}) for c in table.cells]
    return table.model_copy(update={"cells": cells})


def reliability(scores: list[float], right: list[bool]) -> list[dict]:
    """Reliability table: per confidence bin its range, fields, mean confidence and accuracy."""
    conf_a, ok_a = np.array(scores), np.array(right, dtype=float)
    rows, low = [], 0.0
    for high in RELIABILITY_EDGES:
        sel = (conf_a > low) & (conf_a <= high) if low > 0 else conf_a <= high
        if sel.any():
            rows.append({"bin": f"{low:.2f}–{high:.2f}", "fields": int(sel.sum()),
                         "mean_confidence": round(float(conf_a[sel].mean()), 4), "accuracy": round(float(ok_a[sel].mean()), 4)})
        low = high
    return rows


def reliability_markdown(rows: list[dict]) -> str:
    lines = ["| confidence | fields | mean confidence | accuracy |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {r['bin']} | {r['fields']} | {r['mean_confidence']:.3f} | {r['accuracy']:.3f} |" for r in rows]
    return "\n".join(lines)


def side_by_side_markdown(table: dict[str, dict]) -> str:
    sections = sorted({s for row in table.values() for s in row["by_section"]})
    head = "| mode | fields | " + " | ".join(sections) + " | documents all right | template | silent errors |"
    lines = [head, "| --- " * (len(sections) + 5) + "|"]
    for mode, row in table.items():
        secs = " | ".join(f"{100 * row['by_section'].get(s, 0):.2f}%" for s in sections)
        lines.append(f"| {mode} | {100 * row['field_accuracy']:.2f}% | {secs} | {row['documents_all_right']} | "
                     f"{100 * row['template_accuracy']:.0f}% | {row['silent_errors']} |")
    return "\n".join(lines)
