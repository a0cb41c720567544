"""`nianbao pretrain`, `nianbao train-check`, `nianbao eval-classifier-scans`: classifier research commands.

Kept apart from :mod:`extractor.cli_models` (``train``, ``eval-classifier``), which they build on.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

_log = logging.getLogger(__name__)

# Where generated data and cached page records go by default (shared with `nianbao train`).
_DEFAULT_DATA = Path(".cache/classifier")
# The shipped weights.
_DEFAULT_ARTIFACTS = Path("models/cell_classifier")
# Real reports and their hand-read truth, as `nianbao train` uses them.
_REAL = Path("../shared/real-reports")
_REAL_TRUTH = Path("tests/data/real/truth")


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""

    @app.command("pretrain")
    def pretrain_command(
        out: Annotated[Path, typer.Option(help="checkpoint folder to write (then: nianbao train --base-model OUT)")],
        data: Annotated[Path, typer.Option(help="working folder for generated reports and cached pages")] = _DEFAULT_DATA,
        n: Annotated[int, typer.Option("--n", help="generated reports whose tables are the pre-training text")] = 160,
        seed: Annotated[int, typer.Option(help="seed of those reports and of pre-training")] = 1000,
        steps: Annotated[int, typer.Option(help="pre-training steps (the run's length)")] = 500,
        minutes: Annotated[float, typer.Option(help="safety clock limit; a run it stops is not reproducible")] = 120.0,
        threads: Annotated[int, typer.Option(help="torch CPU threads")] = 1,
        hidden: Annotated[int, typer.Option(help="hidden size")] = 128,
        layers: Annotated[int, typer.Option(help="transformer layers")] = 2,
    ) -> None:
        """Masked-language-model pre-training of the classifier's encoder on generated table text."""
        from extractor.pipeline import Pipeline
        from models.data import load_documents, render
        from models.pretrain import PretrainConfig, pretrain

        docs = load_documents(render(data / f"train-{seed}", n, seed), Pipeline())
        config = PretrainConfig(seed=seed, hidden=hidden, layers=layers, steps=steps, minutes=minutes, threads=threads)
        result = pretrain(docs, out, config)
        typer.echo(json.dumps(result.__dict__, indent=1))
        typer.echo(f"wrote {out}")

    @app.command("train-check")
    def train_check_command(
        out: Annotated[Path, typer.Option(help="folder for the fresh model (never the shipped one)")] = Path(".cache/train-check"),
        artifacts: Annotated[Path, typer.Option(help="the shipped classifier whose manifest is re-run")] = _DEFAULT_ARTIFACTS,
        data: Annotated[Path, typer.Option(help="working folder for generated reports")] = _DEFAULT_DATA,
        fresh: Annotated[Path | None, typer.Option(help="compare this finished run's folder instead of training")] = None,
        tolerance: Annotated[float, typer.Option(help="largest absolute difference of an accuracy")] = 0.002,
        real: Annotated[Path | None, typer.Option(help="folder of real report PDFs")] = _REAL,
        real_truth: Annotated[Path, typer.Option(help="hand-read truth of the real reports")] = _REAL_TRUTH,
    ) -> None:
        """Re-run the shipped model's training from its manifest and compare metrics (exit 1 if they differ)."""
        from models.reproduce import compare_manifests, comparison_text, reproduce

        if fresh is not None:
            reference = json.loads((artifacts / "manifest.json").read_text(encoding="utf-8"))
            result = compare_manifests(reference, json.loads((fresh / "manifest.json").read_text(encoding="utf-8")),
                                       tolerance=tolerance)
        else:
            result = reproduce(artifacts, out, data, real if real and real.is_dir() else None, real_truth, tolerance)
        typer.echo(comparison_text(result))
        if not result["ok"]:
            raise typer.Exit(1)

    @app.command("eval-classifier-scans")
    def eval_scans_command(
        artifacts: Annotated[Path, typer.Option(help="trained classifier folder")] = _DEFAULT_ARTIFACTS,
        data: Annotated[Path, typer.Option(help="working folder for generated scans and cached pages")] = _DEFAULT_DATA,
        n: Annotated[int, typer.Option("--n", help="held-out scans (OCR: ~6 s per page)")] = 6,
        seed: Annotated[int, typer.Option(help="seed of the held-out scans")] = 93000,
        level: Annotated[str, typer.Option(help="scan level: clean | typical | hard")] = "typical",
        record: Annotated[bool, typer.Option(help="write EVAL-scans.md and the manifest's heldout_scans")] = True,
    ) -> None:
        """Every matcher mode on held-out generated scans, and the field confidence against value errors."""
        from models.scans import evaluate_scans, record_scans, scans_markdown

        result = evaluate_scans(artifacts, data, n=n, seed=seed, level=level)
        if record:
            record_scans(artifacts, result)
        typer.echo(scans_markdown(result))
