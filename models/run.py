"""`nianbao train` end to end: data, training, evaluation, manifest.

The manifest (``manifest.json`` beside the weights) records what a run was: the data seeds and
sizes, the hyper-parameters, the measured numbers and the SHA-256 of the weights, so a shipped
model can be traced to the command that made it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from extractor.pipeline import Pipeline
from extractor.stages.classify import ClassifyOptions, ClassifyStage, CombineMode
from extractor.stages.classify.calibration import Calibration
from models.corrections import load_corrected_documents
from models.data import load_documents, render
from models.evaluate import (
    cell_scores,
    field_outcomes,
    gather_truth,
    reliability,
    reliability_markdown,
    run_modes,
    side_by_side,
    side_by_side_markdown,
)
from models.reproduce import code_version, data_fingerprint
from models.train import TrainConfig, train

_log = logging.getLogger(__name__)

# The manifest file of an artifacts folder.
MANIFEST = "manifest.json"
# OCR noise scale of the calibration data (training drew scales 0.3–1.5).
CALIBRATION_NOISE = 1.5
# The evaluation summary written beside the manifest (Markdown, for the README).
REPORT = "EVAL.md"
# Times each report labelled from reviewer decisions enters the training set: it labels a few
# cells where a generated report labels hundreds, so a handful of corrections must count.
CORRECTIONS_REPEAT = 10


def train_and_evaluate(out: Path, data: Path, n: int, seed: int, heldout_n: int, heldout_seed: int,
                       config: TrainConfig, real: Path | None = None, real_truth: Path | None = None,
                       corrections: Sequence[Path] = (), corrections_repeat: int = CORRECTIONS_REPEAT,
                       pretrain_steps: int = 0) -> dict:
    """Generate data, train, evaluate against the baseline, write weights and manifest into `out`.

    Args:
        out: artifacts folder for the weights, vocabulary, manifest and EVAL.md.
        data: working folder for the generated reports and their cached page records.
        n, seed: training reports (digital synthetic, documents 0..n-1 of `seed`).
        heldout_n, heldout_seed: held-out reports for evaluation (a different seed); 0 skips the
            evaluation (a trial run: the manifest's metrics are null and no calibration is written).
        config: training hyper-parameters.
        real, real_truth: optional folder of real report PDFs and of their hand-read truth.
        corrections: ``nianbao export-corrections`` files; their reviewed cells are added to the
            training set, `corrections_repeat` times (:mod:`models.corrections`).
        pretrain_steps: above 0, first pre-train the encoder by masked language modelling on the
            generated training reports' tables for that many steps (:mod:`models.pretrain`; the
            checkpoint goes to ``data/pretrain-<seed>-<steps>/``), then fine-tune from it.

    Returns:
        The manifest.

    Raises:
        CorrectionsError: a corrections file is unreadable or not one of its decisions is usable.
    """
    pipeline = Pipeline()
    train_pdfs = render(data / f"train-{seed}", n, seed)
    heldout_pdfs = render(data / f"heldout-{heldout_seed}", heldout_n, heldout_seed)
    train_docs = load_documents(train_pdfs, pipeline)
    used = None
    if corrections:
        corrected, used = load_corrected_documents(corrections, pipeline, data / "corrections")
        used.repeat = corrections_repeat
        train_docs = train_docs + corrected * corrections_repeat
    if not train_docs:
        raise ValueError("nothing to train on: give --n above 0 or --with-corrections FILE")
    pretraining = None
    if pretrain_steps > 0:
        pretraining = pretrain_encoder(train_docs[: len(train_pdfs)], data / f"pretrain-{seed}-{pretrain_steps}",
                                       config, pretrain_steps)
        config = replace(config, base_model=Path(pretraining["checkpoint"]))
    result = train(train_docs, out, config)
    manifest = {
        "model": "LayoutLMForTokenClassification (transformers), character vocabulary, grid-cell boxes",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {"train": {"seed": seed, "n": n, "level": "digital", "ocr_noise": "models/noise.py",
                           "sha256": data_fingerprint(train_docs[: len(train_pdfs)])},
                 "heldout": {"seed": heldout_seed, "n": heldout_n, "level": "digital"}},
        "code": code_version(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "training": asdict(result),
    }
    if pretraining is not None:
        manifest["pretraining"] = pretraining
    if used is not None:
        manifest["data"]["corrections"] = used.as_dict()
    manifest["metrics"] = evaluate_artifacts(out, data, heldout_pdfs, real, real_truth) if heldout_pdfs else None
    weights = out / "model.safetensors"
    manifest["weights"] = {"file": weights.name, "bytes": weights.stat().st_size,
                           "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}
    manifest["packages"] = {p: _version(p) for p in ("torch", "transformers", "numpy")} | {"python": platform.python_version()}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def pretrain_encoder(docs: list, checkpoint: Path, config: TrainConfig, steps: int) -> dict:
    """MLM pre-training with the encoder shape, seed and threads of `config`; returns its record."""
    from models.pretrain import PretrainConfig, pretrain

    pre = PretrainConfig(seed=config.seed, hidden=config.hidden, layers=config.layers, heads=config.heads,
                         batch=config.batch, steps=steps, threads=config.threads)
    result = pretrain(docs, checkpoint, pre)
    return {"checkpoint": str(checkpoint), "config": asdict(pre), "result": asdict(result)}


def evaluate_artifacts(artifacts: Path, data: Path, heldout_pdfs: list[Path], real: Path | None = None,
                       real_truth: Path | None = None) -> dict:
    """Score a trained classifier on held-out reports (and real ones) beside the baseline; write EVAL.md."""
    stage = ClassifyStage(ClassifyOptions(artifacts_path=artifacts))
    pipeline = Pipeline()
    heldout_docs = load_documents(heldout_pdfs, pipeline)
    metrics: dict = {"heldout_cells": cell_scores(stage, heldout_docs)}
    # Calibrate on the first half of the held-out reports, with OCR noise on the cell text (on
    # clean digital text nearly every field is right, which leaves nothing to calibrate); show
    # reliability on the second half, noised with another seed.
    half = len(heldout_docs) // 2
    calibration = Calibration.fit(*field_outcomes(stage, heldout_docs[:half], False, CALIBRATION_NOISE, seed=1))
    calibration.save(artifacts)
    stage.calibration = calibration
    metrics["calibration"] = {"fitted_on": [d.doc_id for d in heldout_docs[:half]], "ocr_noise": CALIBRATION_NOISE,
                              "scores": calibration.scores, "probs": calibration.probs}
    rest = heldout_docs[half:]
    metrics["reliability_raw"] = reliability(*field_outcomes(stage, rest, False, CALIBRATION_NOISE, seed=2))
    metrics["reliability"] = reliability(*field_outcomes(stage, rest, True, CALIBRATION_NOISE, seed=2))
    metrics["reliability_clean"] = reliability(*field_outcomes(stage, rest, True))
    modes = list(CombineMode)
    runs = run_modes(heldout_pdfs, stage, data / "pred-heldout", modes)
    truth = gather_truth(heldout_pdfs, heldout_pdfs[0].parent, data / "truth-heldout")
    metrics["heldout_fields"] = side_by_side(truth, runs)
    metrics["assemble_seconds"] = {m: r["seconds"] for m, r in runs.items()}
    noisy_runs = run_modes(heldout_pdfs, stage, data / "pred-heldout-noisy", modes, noise=CALIBRATION_NOISE, seed=3)
    metrics["heldout_fields_noisy"] = side_by_side(truth, noisy_runs)
    md = ["# Cell classifier: evaluation", "",
          f"Held-out generated reports: {len(heldout_pdfs)} digital ({heldout_pdfs[0].parent.name}).", "",
          side_by_side_markdown(metrics["heldout_fields"]), "",
          f"The same reports with OCR noise ×{CALIBRATION_NOISE} on every table cell's text (look-alike digits and "
          "characters, dropped characters, stray spaces; models/noise.py), identical for every mode:", "",
          side_by_side_markdown(metrics["heldout_fields_noisy"]), "",
          f"Reliability of the classifier's field score (right = the field is placed in its truth cell) on held-out "
          f"reports {half + 1}–{len(heldout_docs)} with OCR noise ×{CALIBRATION_NOISE} on cell text; calibration "
          f"fitted on reports 1–{half} (noised with another seed). Raw score:", "",
          reliability_markdown(metrics["reliability_raw"]), "", "Calibrated:", "", reliability_markdown(metrics["reliability"]),
          "", "Calibrated, clean digital text:", "", reliability_markdown(metrics["reliability_clean"])]
    if real and real_truth and real.is_dir():
        pdfs = sorted(p for p in real.glob("*.pdf") if (real_truth / f"{p.stem}.truth.json").is_file())
        if pdfs:
            real_runs = run_modes(pdfs, stage, data / "pred-real", modes, cache_dir=data / "real-pages")
            metrics["real_fields"] = side_by_side(gather_truth(pdfs, real_truth, data / "truth-real"), real_runs)
            md += ["", f"Real reports ({len(pdfs)}):", "", side_by_side_markdown(metrics["real_fields"])]
    (artifacts / REPORT).write_text("\n".join(md) + "\n", encoding="utf-8")
    return metrics


def update_manifest_metrics(artifacts: Path, metrics: dict) -> None:
    """Replace the metrics of an existing manifest (after re-evaluating shipped weights)."""
    path = artifacts / MANIFEST
    if path.is_file():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["metrics"] = metrics
        manifest["evaluated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
