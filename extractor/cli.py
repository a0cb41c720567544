"""The `nianbao` command line."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Government information-disclosure annual reports → dataset.")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="PDFs, images, folders or zip/tar archives", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="output folder: <doc-id>.json per report + dataset.csv")],
    template: Annotated[str | None, typer.Option(help="force a template (gov-2021 or gov-2019) instead of detecting it")] = None,
    dpi: Annotated[int, typer.Option(help="resolution for rendering and OCR")] = 200,
    matcher: Annotated[
        str, typer.Option(help="rules | classifier | rules_first | classifier_first: who maps cells to fields")
    ] = "rules_first",
    store: Annotated[
        bool,
        typer.Option(help="also record the batch in the store of the settings (NIANBAO_DB__URL, default the "
                          "SQLite file var/nianbao/nianbao.db), to review it with `nianbao serve`"),
    ] = True,
    batch: Annotated[str | None, typer.Option(help="name of the recorded batch; default the first path's name")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="documents read at once, each in a worker process "
                                 "with one model thread; default the cores available; 1 reads in this process")
    ] = None,
    redo: Annotated[
        bool, typer.Option(help="read every document again, also those whose result from the same file and "
                                "pipeline is in --out already (a second run skips them)")
    ] = False,
    allow_errors: Annotated[bool, typer.Option("--allow-errors", help="exit 0 even when documents failed")] = False,
) -> None:
    """Run the whole pipeline in-process (no servers), write the results and record them for review."""
    from extractor.bulk import default_jobs, run_extract
    from extractor.cli_progress import ExtractProgressBar
    from extractor.pipeline import PipelineOptions, pipeline_fingerprint
    from extractor.stages.classify import ClassifyOptions, CombineMode

    out.mkdir(parents=True, exist_ok=True)
    options = PipelineOptions(dpi=dpi, template=template, classify=ClassifyOptions(mode=CombineMode(matcher)))
    recorder = _open_recorder(paths, batch or paths[0].resolve().name, pipeline_fingerprint(options)) if store else None
    try:
        with ExtractProgressBar() as bar:
            summary = run_extract(paths, out, options, progress=bar.update,
                                  on_document=recorder.record if recorder else None,
                                  jobs=jobs or default_jobs(), redo=redo,
                                  is_done=recorder.holds if recorder else None)
    finally:
        if recorder is not None:
            recorder.close()
    typer.echo(summary.describe())
    if recorder is not None:
        from extractor.settings import get_settings

        typer.echo(recorder.describe(get_settings().db.url))
    if summary.documents == 0:
        raise typer.Exit(code=1)
    from extractor.exit_status import exit_on_failed_documents

    exit_on_failed_documents(summary, allow_errors)


def _open_recorder(paths: list[Path], name: str, options_json: str):
    """The store recorder of `extract` (:mod:`extractor.storage.embedded`); exits on a schema mismatch."""
    from extractor.settings import get_settings
    from extractor.storage.embedded import EmbeddedRecorder

    try:
        return EmbeddedRecorder.open(get_settings(), paths, name, options_json)
    except RuntimeError as exc:
        typer.echo(f"{exc} (or pass --no-store)", err=True)
        raise typer.Exit(code=1) from None


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="output folder for <id>.pdf and <id>.truth.json")],
    n: Annotated[int, typer.Option("--n", help="number of reports")] = 10,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same reports)")] = 0,
    template: Annotated[list[str] | None, typer.Option(help="template(s) to use; default both")] = None,
    level: Annotated[str, typer.Option(help="clean | typical | hard | digital | mixed | html | docx | ofd")] = "typical",
    scanner: Annotated[
        str, typer.Option(help="scan simulator of scanned levels: ours (extractor.synth.degrade) | augraphy")
    ] = "ours",
) -> None:
    """Render synthetic annual reports with ground truth."""
    from extractor.synth import Scanner, generate

    try:
        chosen = Scanner(scanner)
    except ValueError:
        raise typer.BadParameter(f"unknown scanner {scanner!r}; known: ours, augraphy", param_hint="--scanner") from None
    out.mkdir(parents=True, exist_ok=True)
    paths = generate(n=n, out=out, seed=seed, templates=template or None, level=level, scanner=chosen)
    typer.echo(f"wrote {len(paths)} reports to {out}")


@app.command("make-samples")
def make_samples_command(
    out: Annotated[Path, typer.Option("--out", help="folder for the sample reports")] = Path("samples"),
) -> None:
    """Regenerate the committed sample reports (deterministic)."""
    from extractor.synth import make_samples

    out.mkdir(parents=True, exist_ok=True)
    paths = make_samples(out)
    typer.echo(f"wrote {len(paths)} samples to {out}")


@app.command("eval")
def evaluate_command(
    truth: Annotated[Path, typer.Option("--truth", exists=True, help="folder of <id>.truth.json")],
    pred: Annotated[Path, typer.Option("--pred", exists=True, help="folder of <id>.json from `extract`")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Score extraction results against ground truth."""
    from extractor.evaluation import evaluate, format_report

    report = evaluate(truth, pred)
    typer.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=1) if as_json else format_report(report))


@app.command()
def bench(
    n: Annotated[int, typer.Option("--n", help="generated reports per level")] = 3,
    seed: Annotated[
        int, typer.Option(help="seed of the generated reports (level i uses seed + i); see the README for held-out seeds")
    ] = 90_000,
    level: Annotated[list[str] | None, typer.Option(help="levels to generate (default digital, typical, hard)")] = None,
    scanner: Annotated[
        str, typer.Option(help="scan simulator of the scanned sets: ours | augraphy | both (side by side)")
    ] = "ours",
    real: Annotated[Path | None, typer.Option(help="folder of real report PDFs")] = Path("../shared/real-reports"),
    real_truth: Annotated[Path, typer.Option(help="hand-read labels of the real reports")] = Path("tests/data/real/truth"),
    threads: Annotated[int, typer.Option(help="CPU threads for the models (1 = one core)")] = 1,
    out: Annotated[Path | None, typer.Option(help="keep inputs and predictions here (default: a temp folder)")] = None,
    as_json: Annotated[Path | None, typer.Option("--json", help="also write the report as JSON here")] = None,
) -> None:
    """Measure page understanding and extraction: grid, cell text, fields, seconds per page."""
    from extractor.benchmark import format_bench, run_bench
    from extractor.synth import Scanner

    if scanner not in ("ours", "augraphy", "both"):
        raise typer.BadParameter(f"unknown scanner {scanner!r}; known: ours, augraphy, both", param_hint="--scanner")
    report = run_bench(
        n=n,
        seed=seed,
        levels=tuple(level or ("digital", "typical", "hard")),
        scanners=tuple(Scanner) if scanner == "both" else (Scanner(scanner),),
        real_dir=real if real and real.is_dir() else None,
        real_truth=real_truth,
        threads=threads,
        work=out,
    )
    if as_json:
        as_json.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    typer.echo(format_bench(report))


@app.command("bench-jobs")
def bench_jobs(
    docs: Annotated[int, typer.Option(help="generated reports")] = 8,
    level: Annotated[str, typer.Option(help="digital | clean | typical | hard")] = "typical",
    scanner: Annotated[str, typer.Option(help="scan simulator: ours | augraphy")] = "ours",
    jobs: Annotated[list[int] | None, typer.Option("--jobs", help="worker counts to compare (default 1 and 2)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the generated reports (speed only: any seed will do)")] = 90_000,
) -> None:
    """Pages/s of `extract --jobs N` for each N, on the same documents in the same run."""
    from extractor.bench_jobs import format_jobs, run_jobs_bench

    typer.echo(format_jobs(run_jobs_bench(docs, level, scanner, jobs or [1, 2], seed)))


def _register_service_commands() -> None:
    from extractor.cli_models import register as register_models
    from extractor.cli_review import register as register_review
    from extractor.cli_service import register as register_service
    from extractor.cli_training import register as register_training

    register_service(app)
    register_review(app)
    register_models(app)
    register_training(app)


_register_service_commands()

if __name__ == "__main__":
    app()
