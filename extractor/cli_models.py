"""`nianbao train` and `nianbao eval-classifier`: the cell classifier's commands."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

_log = logging.getLogger(__name__)

# Where generated training data and cached page records go by default.
_DEFAULT_DATA = Path(".cache/classifier")
# The shipped weights.
_DEFAULT_OUT = Path("models/cell_classifier")


def register(app: typer.Typer) -> None:
    """Add the classifier commands to the CLI."""

    @app.command("train")
    def train_command(
        out: Annotated[Path, typer.Option(help="artifacts folder (weights, vocab, manifest)")] = _DEFAULT_OUT,
        data: Annotated[Path, typer.Option(help="working folder for generated reports and cached pages")] = _DEFAULT_DATA,
        n: Annotated[int, typer.Option("--n", help="training reports to generate")] = 80,
        seed: Annotated[int, typer.Option(help="seed of the training reports and of training")] = 1000,
        heldout_n: Annotated[int, typer.Option(help="held-out reports for evaluation")] = 40,
        heldout_seed: Annotated[int, typer.Option(help="seed of the held-out reports")] = 91000,
        steps: Annotated[int, typer.Option(help="training steps at most")] = 1500,
        minutes: Annotated[float, typer.Option(help="safety clock limit; a run it stops is recorded as not reproducible")] = 120.0,
        threads: Annotated[int, typer.Option(help="torch CPU threads")] = 1,
        hidden: Annotated[int, typer.Option(help="hidden size")] = 128,
        layers: Annotated[int, typer.Option(help="transformer layers")] = 2,
        base_model: Annotated[Path | None, typer.Option(help="fine-tune from this local checkpoint folder")] = None,
        pretrain_steps: Annotated[int, typer.Option(help="first pre-train the encoder (masked LM on the training tables) this many steps")] = 0,
        real: Annotated[Path | None, typer.Option(help="folder of real report PDFs to evaluate on")] = Path("../shared/real-reports"),
        real_truth: Annotated[Path, typer.Option(help="hand-read truth of the real reports")] = Path("tests/data/real/truth"),
        with_corrections: Annotated[list[Path] | None, typer.Option(
            "--with-corrections", help="JSONL of `nianbao export-corrections` to learn from (repeatable)")] = None,
        corrections_repeat: Annotated[int, typer.Option(min=1, help="times each corrected report enters the training set")] = 10,
    ) -> None:
        """Generate data, train the cell classifier, evaluate it beside the rule-based matcher.

        --heldout-n 0 skips the evaluation (a trial run). Reviewer decisions that cannot be used
        (no location, document file missing, cell not found) are counted in the manifest.
        """
        from models.corrections import CorrectionsError
        from models.run import train_and_evaluate
        from models.train import TrainConfig

        config = TrainConfig(seed=seed, hidden=hidden, layers=layers, steps=steps, minutes=minutes,
                             threads=threads, base_model=base_model)
        try:
            manifest = train_and_evaluate(out, data, n, seed, heldout_n, heldout_seed, config,
                                          real if real and real.is_dir() else None, real_truth,
                                          corrections=with_corrections or (), corrections_repeat=corrections_repeat,
                                          pretrain_steps=pretrain_steps)
        except CorrectionsError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        if "corrections" in manifest["data"]:
            typer.echo(json.dumps(manifest["data"]["corrections"], ensure_ascii=False, indent=1))
        typer.echo(json.dumps(manifest["metrics"], ensure_ascii=False, indent=1))
        typer.echo(f"wrote {out}")

    @app.command("eval-classifier")
    def eval_classifier_command(
        artifacts: Annotated[Path, typer.Option(help="trained classifier folder")] = _DEFAULT_OUT,
        data: Annotated[Path, typer.Option(help="working folder for generated reports and cached pages")] = _DEFAULT_DATA,
        heldout_n: Annotated[int, typer.Option(help="held-out reports")] = 40,
        heldout_seed: Annotated[int, typer.Option(help="seed of the held-out reports")] = 91000,
        real: Annotated[Path | None, typer.Option(help="folder of real report PDFs")] = Path("../shared/real-reports"),
        real_truth: Annotated[Path, typer.Option(help="hand-read truth of the real reports")] = Path("tests/data/real/truth"),
    ) -> None:
        """Score a trained classifier and every combination mode beside the baseline.

        Refits the calibration, writes EVAL.md and updates the manifest's metrics.
        """
        from models.data import render
        from models.run import evaluate_artifacts, update_manifest_metrics

        pdfs = render(data / f"heldout-{heldout_seed}", heldout_n, heldout_seed)
        metrics = evaluate_artifacts(artifacts, data, pdfs, real if real and real.is_dir() else None, real_truth)
        update_manifest_metrics(artifacts, metrics)
        typer.echo(json.dumps(metrics, ensure_ascii=False, indent=1))
