"""Evaluate the classifier on held-out generated *scans*, beside the rule-based matcher.

The digital evaluation (:func:`models.run.evaluate_artifacts`) reads cell text from the PDF's
text layer, so it never sees OCR errors. Here the same side-by-side runs on rasterised,
degraded reports (``extractor.synth`` levels clean / typical / hard) that go through the full
scan path (upright, layout, grid, OCR of cell crops), and the field confidence written into
each prediction is checked against whether its value is right: calibration against real OCR
errors rather than simulated noise. Read-only for the artifacts: the shipped calibration is
not refitted (a few scans are too few to fit it).

OCR costs ~6 s per page on this machine, so the default set is small (6 reports).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from extractor.datamodel import DocumentResult
from extractor.evaluation.compare import compare_fields, truth_values
from extractor.stages.classify import ClassifyOptions, ClassifyStage, CombineMode
from models.data import render
from models.evaluate import gather_truth, reliability, reliability_markdown, run_modes, side_by_side, side_by_side_markdown

_log = logging.getLogger(__name__)

# Seed of the held-out scans: distinct from the training (1000) and digital held-out (91000) seeds.
SCAN_SEED = 93000
# The scan evaluation written beside the weights (Markdown).
SCAN_REPORT = "EVAL-scans.md"
# Key of the scan results inside the manifest's metrics.
SCAN_METRICS_KEY = "heldout_scans"


def value_reliability(truth_dir: Path, pred_dir: Path) -> tuple[list[float], list[bool]]:
    """Confidence and correctness of every predicted field that has a true value.

    Args:
        truth_dir: ``<id>.truth.json`` files.
        pred_dir: ``<id>.json`` predictions of one mode.

    Returns:
        Per predicted field (with a confidence) its confidence and whether its value equals the
        truth. Unlike :func:`models.evaluate.field_outcomes` this scores the value, so OCR
        misreads count as errors, which is what a review threshold has to catch.
    """
    scores: list[float] = []
    right: list[bool] = []
    for truth_path in sorted(Path(truth_dir).glob("*.truth.json")):
        doc_id = truth_path.name.removesuffix(".truth.json")
        pred_path = Path(pred_dir) / f"{doc_id}.json"
        if not pred_path.is_file():
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        prediction = DocumentResult.model_validate_json(pred_path.read_bytes())
        confidence = {k: f.confidence for k, f in prediction.fields.items()}
        for outcome in compare_fields(truth_values(truth), prediction, truth.get("template")):
            score = confidence.get(outcome.field_id)
            if outcome.predicted and score is not None:
                scores.append(float(score))
                right.append(outcome.correct)
    return scores, right


def evaluate_scans(artifacts: Path, data: Path, n: int = 6, seed: int = SCAN_SEED, level: str = "typical") -> dict:
    """Side-by-side of every combination mode on `n` generated scans, and confidence reliability.

    Args:
        artifacts: trained classifier folder (read only).
        data: working folder; the scans and their cached page records go to
            ``data/heldout-<level>-<seed>/`` (OCR runs once, later runs reuse the cache).
        n, seed, level: which generated scans.

    Returns:
        ``{"level", "seed", "n", "fields": mode → scores, "reliability": mode → bins}``.
    """
    pdfs = render(data / f"heldout-{level}-{seed}", n, seed, level=level)
    stage = ClassifyStage(ClassifyOptions(artifacts_path=artifacts))
    runs = run_modes(pdfs, stage, data / f"pred-{level}-{seed}", list(CombineMode))
    truth = gather_truth(pdfs, pdfs[0].parent, data / f"truth-{level}-{seed}-{n}")
    return {
        "level": level, "seed": seed, "n": n,
        "fields": side_by_side(truth, runs),
        "reliability": {mode: reliability(*value_reliability(truth, Path(run["pred"]))) for mode, run in runs.items()},
    }


def scans_markdown(result: dict) -> str:
    """The scan evaluation as Markdown (tables per mode)."""
    md = ["# Cell classifier: evaluation on generated scans", "",
          f"{result['n']} held-out generated scans, level `{result['level']}` (seed {result['seed']}), through the "
          "full scan path (upright, layout, grid, OCR of cell crops); every mode reads the same cached pages.", "",
          side_by_side_markdown(result["fields"]), "",
          "Reliability of the field confidence written into the output (right = the value equals the truth, so "
          "OCR misreads count as errors):"]
    for mode, rows in result["reliability"].items():
        md += ["", f"{mode}:", "", reliability_markdown(rows)]
    return "\n".join(md) + "\n"


def record_scans(artifacts: Path, result: dict) -> None:
    """Write EVAL-scans.md beside the weights and add the result to the manifest's metrics."""
    (artifacts / SCAN_REPORT).write_text(scans_markdown(result), encoding="utf-8")
    path = artifacts / "manifest.json"
    if path.is_file():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest.setdefault("metrics", {})[SCAN_METRICS_KEY] = result
        manifest["evaluated_scans"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
