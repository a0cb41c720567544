"""Commands of the bulk service, added to the `nianbao` app by :func:`register`.

``serve`` and ``worker`` run the service on bare metal; ``submit``, ``status`` and ``export``
talk to its database and queue directly (run them where the store is reachable);
``codebook`` needs neither.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated

import typer

_log = logging.getLogger(__name__)

# Seconds between progress polls of `submit --wait` / `status --wait`.
_POLL_SECONDS = 1.0


def register(app: typer.Typer) -> None:
    """Add the service commands to `app`."""
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("migrate")(migrate)
    app.command("submit")(submit)
    app.command("status")(status)
    app.command("resume")(resume)
    app.command("reconcile")(reconcile)
    app.command("beat")(beat)
    app.command("export")(export)
    app.command("codebook")(codebook)
    app.command("bench-service")(bench_service)
    app.command("bench-upload")(bench_upload)
    app.command("bench-load")(bench_load)


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
    forwarded_allow_ips: Annotated[str, typer.Option(
        help="addresses of the TLS proxy whose X-Forwarded-For/-Proto are trusted (client address for the "
             "sign-in rate limit, https for Secure cookies)")] = "127.0.0.1",
) -> None:
    """Run the HTTP API (FastAPI under uvicorn).

    Refuses to start without NIANBAO_REVIEW__SECRET_KEY when it listens beyond localhost or runs
    more than one process: each process would sign cookies with its own random key, and a
    sign-in made on one would be refused by the others.
    """
    import uvicorn

    from extractor.settings import get_settings

    problem = secret_key_problem(get_settings().review.secret_key, host, workers)
    if problem is not None:
        typer.echo(problem, err=True)
        raise typer.Exit(code=2)
    uvicorn.run("extractor.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips)


# Interfaces that only this machine reaches; a random per-process key is acceptable there.
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def secret_key_problem(secret_key: str | None, host: str, workers: int) -> str | None:
    """Why `serve` must not start with this key, host and process count; None: it may."""
    if secret_key:
        if secret_key == "change-me":
            return "NIANBAO_REVIEW__SECRET_KEY is the placeholder 'change-me'; set a random value"
        return None
    if host not in _LOOPBACK or workers > 1:
        return ("set NIANBAO_REVIEW__SECRET_KEY (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`): "
                f"serving on {host} with {workers} process(es) needs one key shared by every API process")
    return None


def worker(
    queues: Annotated[str | None, typer.Option(help="comma-separated queues; default all of them")] = None,
    concurrency: Annotated[int, typer.Option(help="worker processes (one pipeline each)")] = 1,
    pool: Annotated[str, typer.Option(help="prefork | solo | threads")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "info",
) -> None:
    """Run a Celery worker on the configured broker."""
    from extractor.settings import get_settings
    from workers.app import app as celery

    names = queues or ",".join(get_settings().celery.queues.all())
    celery.worker_main(["worker", "-Q", names, f"--concurrency={concurrency}", f"--pool={pool}",
                        f"--loglevel={loglevel}"])


def beat(
    schedule: Annotated[Path, typer.Option(help="file where beat keeps when each periodic task last ran")] = Path(
        "var/nianbao/celerybeat-schedule"),
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "info",
) -> None:
    """Run Celery beat: sends the reconciler's sweep every NIANBAO_CELERY__RECONCILE_INTERVAL seconds.

    Run exactly one beat per deployment (two would only sweep twice as often: a sweep is idempotent).
    """
    from workers.app import app as celery

    schedule.parent.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", f"--schedule={schedule}", f"--loglevel={loglevel}"])


def reconcile(
    stuck_after: Annotated[int | None, typer.Option(
        help="seconds without progress; default NIANBAO_CELERY__STUCK_AFTER")] = None,
) -> None:
    """Queue again, once, every batch and document stuck past the deadline (what beat runs periodically)."""
    from extractor.settings import get_settings
    from extractor.storage import make_engine, make_sessionmaker
    from workers.reconcile import reconcile as sweep

    settings = get_settings().celery
    if stuck_after is not None:
        settings = settings.model_copy(update={"stuck_after": stuck_after})
    factory = make_sessionmaker(make_engine(get_settings().db))
    with factory() as session:
        report = sweep(session, settings)
    typer.echo(report.describe())
    if report.error:
        raise typer.Exit(code=1)


def migrate() -> None:
    """Create or upgrade the database schema (Alembic, to the newest revision)."""
    from extractor.settings import get_settings
    from extractor.storage import upgrade_database

    upgrade_database(get_settings().db.url)
    typer.echo("database is up to date")


def submit(
    paths: Annotated[list[Path], typer.Argument(help="archives, folders, PDFs or images", exists=True)],
    name: Annotated[str | None, typer.Option(help="batch name; default the first path's name")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="show progress until the batch is done")] = False,
    timeout: Annotated[float, typer.Option(help="with --wait: give up (exit 3) after this many seconds; 0: never")] = 0,
    allow_errors: Annotated[bool, typer.Option(
        "--allow-errors", help="with --wait: exit 0 even when documents failed")] = False,
) -> None:
    """Unpack inputs into a new batch (here, into the shared store) and queue its documents.

    With --wait the exit status is 1 when any document failed (unless --allow-errors), 3 when
    the batch did not finish within --timeout.
    """
    from extractor.settings import get_settings
    from extractor.storage import ContentStore, create_batch, make_engine, make_sessionmaker, register_inputs
    from workers.dispatch import enqueue_documents
    from workers.tasks.base import TRANSIENT_ERRORS

    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.db))
    with factory() as session:
        batch = create_batch(session, name or paths[0].name, source_path=", ".join(str(p) for p in paths))
        todo = register_inputs(session, ContentStore(settings.storage.root), batch, paths)
        session.commit()
        batch_id = batch.id
    try:
        enqueue_documents(todo)
    except TRANSIENT_ERRORS as exc:
        # Registered and committed: the reconciler queues them once the broker is back.
        typer.echo(f"batch {batch_id}: {len(todo)} documents recorded but not queued, the broker is unreachable "
                   f"({type(exc).__name__}: {exc}); the reconciler queues them once it is back", err=True)
        raise typer.Exit(code=4) from None
    typer.echo(f"batch {batch_id}: {len(todo)} documents queued")
    if wait:
        _finish_follow(_follow(factory, batch_id, timeout), allow_errors)


def status(
    batch_id: Annotated[str, typer.Argument(help="batch id")],
    wait: Annotated[bool, typer.Option("--wait", help="show a progress bar until the batch is done")] = False,
    timeout: Annotated[float, typer.Option(help="with --wait: give up (exit 3) after this many seconds; 0: never")] = 0,
    allow_errors: Annotated[bool, typer.Option(
        "--allow-errors", help="with --wait: exit 0 even when documents failed")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the progress as JSON")] = False,
) -> None:
    """Show a batch's progress: documents by state, pages done, pages per minute.

    With --wait the exit status is 1 when any document failed (unless --allow-errors), 3 when
    the batch did not finish within --timeout.
    """
    from extractor.settings import get_settings
    from extractor.storage import batch_progress, make_engine, make_sessionmaker

    factory = make_sessionmaker(make_engine(get_settings().db))
    if wait:
        _finish_follow(_follow(factory, batch_id, timeout), allow_errors)
        return
    with factory() as session:
        progress = batch_progress(session, batch_id)
    if progress is None:
        typer.echo(f"no batch {batch_id}", err=True)
        raise typer.Exit(code=1)
    typer.echo(progress.model_dump_json(indent=1) if as_json else _describe(progress))


def resume(batch_id: Annotated[str, typer.Argument(help="batch id")]) -> None:
    """Queue again the unfinished documents of a batch whose tasks the broker lost (safe to repeat)."""
    from extractor.settings import get_settings
    from extractor.storage import make_engine, make_sessionmaker
    from workers.resume import resume_batch

    factory = make_sessionmaker(make_engine(get_settings().db))
    with factory() as session:
        try:
            todo = resume_batch(session, batch_id)
        except KeyError:
            typer.echo(f"no batch {batch_id}", err=True)
            raise typer.Exit(code=1) from None
    typer.echo(f"batch {batch_id}: " + ("ingest queued again" if todo is None else f"{len(todo)} documents queued again"))


def _describe(p) -> str:
    states = ", ".join(f"{k} {v}" for k, v in p.by_state.items())
    rate = f"{p.pages_per_minute:.1f} pages/min" if p.pages_per_minute is not None else "no page yet"
    pages = f"{p.pages_done}/{p.pages_total if p.pages_total is not None else '?'} pages"
    done = "finished" if p.finished else "running"
    return (f"batch {p.batch_id} ({p.name}): {done}; {p.documents} documents ({states}); {pages}; {rate}; "
            f"{p.input_errors} input errors")


# Exit status of `status --wait` / `submit --wait` when the batch did not finish in time.
EXIT_TIMEOUT = 3


def _finish_follow(progress, allow_errors: bool) -> None:
    """Exit as the waited-for batch ended: 3 unfinished (timed out), 1 with failed documents."""
    from extractor.exit_status import failed_exit_code

    if not progress.finished:
        typer.echo(f"batch {progress.batch_id} not finished when the wait timed out: {_describe(progress)}", err=True)
        raise typer.Exit(code=EXIT_TIMEOUT)
    code = failed_exit_code(progress.by_state.get("failed", 0) + (progress.state == "failed"), allow_errors)
    if code:
        typer.echo(f"{progress.by_state.get('failed', 0)} documents failed (--allow-errors to exit 0)", err=True)
        raise typer.Exit(code=code)


def _follow(factory, batch_id: str, timeout: float = 0):
    """Draw a progress bar over the batch's documents until every one is done or failed.

    Returns:
        The last progress seen: finished, or not when `timeout` seconds (> 0) passed first.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from extractor.storage import batch_progress

    deadline = time.monotonic() + timeout if timeout > 0 else None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[detail]}")) as bar:
        task = bar.add_task("documents", total=None, detail="")
        while True:
            with factory() as session:
                p = batch_progress(session, batch_id)
            if p is None:
                raise typer.BadParameter(f"no batch {batch_id}")
            final = p.by_state.get("done", 0) + p.by_state.get("failed", 0)
            rate = f"{p.pages_per_minute:.1f} pages/min" if p.pages_per_minute else ""
            bar.update(task, total=p.documents or None, completed=final,
                       detail=f"{p.pages_done} pages {rate} failed {p.by_state.get('failed', 0)}")
            if p.finished or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(_POLL_SECONDS)
    typer.echo(_describe(p))
    return p


def export(
    batch_id: Annotated[str, typer.Argument(help="batch id")],
    out: Annotated[Path, typer.Option("--out", help="folder for the files (or the .zip with --zip)")],
    format: Annotated[str, typer.Option("--format", help="csv | parquet | jsonl | dta")] = "csv",  # noqa: A002
    layout: Annotated[str, typer.Option(help="wide | long | both")] = "wide",
    statuses: Annotated[bool, typer.Option("--statuses", help="add a status column per field (wide)")] = False,
    reviewed_only: Annotated[bool, typer.Option("--reviewed-only", help="only fully reviewed reports")] = False,
    as_zip: Annotated[bool, typer.Option("--zip", help="write one zip instead of a folder")] = False,
    excel: Annotated[bool, typer.Option("--excel", help="CSV for Excel: UTF-8 with a byte-order mark, CRLF")] = False,
) -> None:
    """Export a batch's dataset with its codebook and manifest (same data, same bytes)."""
    from extractor.export import ExportFormat, Layout, Selection, export_batch
    from extractor.settings import get_settings
    from extractor.storage import make_engine, make_sessionmaker

    factory = make_sessionmaker(make_engine(get_settings().db))
    selection = Selection.REVIEWED if reviewed_only else Selection.ALL
    with factory() as session:
        try:
            bundle = export_batch(session, batch_id, ExportFormat(format), Layout(layout), statuses, selection, excel)
        except KeyError:
            typer.echo(f"no batch {batch_id}", err=True)
            raise typer.Exit(code=1) from None
    if as_zip:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(bundle.zip_bytes())
        typer.echo(f"{out} ({bundle.manifest['reports']} reports, sha256 {bundle.manifest['sha256']})")
    else:
        for path in bundle.write_dir(out):
            typer.echo(str(path))
        typer.echo(f"{bundle.manifest['reports']} reports, sha256 {bundle.manifest['sha256']}")


def codebook(
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    format: Annotated[str, typer.Option("--format", help="csv | parquet | jsonl | dta")] = "csv",  # noqa: A002
) -> None:
    """Write the codebook: every column and field id with its labels, type, unit and template."""
    from extractor.export import ExportFormat, codebook as build, write_bytes

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_bytes(build(statuses=True), ExportFormat(format)))
    typer.echo(str(out))


def bench_service(
    docs: Annotated[int, typer.Option(help="digital synthetic reports per run")] = 6,
    workers: Annotated[list[int] | None, typer.Option("--workers", help="worker counts to try")] = None,
    level: Annotated[str, typer.Option(help="synthetic level: digital | clean | typical | hard")] = "digital",
    as_json: Annotated[bool, typer.Option("--json", help="print the measures as JSON")] = False,
) -> None:
    """Measure pages/min in-process and with N workers, peak RSS per worker, queue overhead.

    Uses the configured database, broker and store; each run gets reports of its own seed,
    so the cross-batch dedupe does not skip them.
    """
    from workers.bench import run_bench

    report = run_bench(docs=docs, worker_counts=workers or [1, 2], level=level)
    typer.echo(json.dumps(report, indent=1) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))


def bench_upload(
    upload_mib: Annotated[int, typer.Option(help="size of the oversized upload, MiB")] = 256,
    limit_mib: Annotated[int, typer.Option(help="max_upload_bytes of the served API, MiB")] = 8,
    db_url: Annotated[str | None, typer.Option(help="database for the run; default a SQLite file in a temporary folder")] = None,
) -> None:
    """Peak RSS of a real API process while it refuses an oversized upload (streamed and declared)."""
    import tempfile

    from extractor.api.bench_upload import run_upload_bench

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-upload-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        report = run_upload_bench(url, Path(tmp) / "store", upload_mib=upload_mib, limit_mib=limit_mib)
    typer.echo("\n".join(f"{k}: {v}" for k, v in report.items()))


def bench_load(
    status_requests: Annotated[int, typer.Option(help="concurrent GET /batches/{id}")] = 200,
    uploads: Annotated[int, typer.Option(help="concurrent POST /batches alongside them")] = 20,
    api_workers: Annotated[int, typer.Option(help="uvicorn processes of the served API")] = 1,
    db_url: Annotated[str | None, typer.Option(
        help="PostgreSQL database for the run (its schema is migrated); default NIANBAO_DB__URL")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the measures as JSON")] = False,
) -> None:
    """Latency of a real API process under a burst: p50/p95/max of status requests and uploads."""
    import tempfile

    from extractor.api.bench_load import run_load_bench
    from extractor.settings import get_settings

    url = db_url or get_settings().db.url
    if url.startswith("sqlite"):
        typer.echo("bench-load needs PostgreSQL (--db-url or NIANBAO_DB__URL)", err=True)
        raise typer.Exit(code=2)
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-load-") as tmp:
        report = run_load_bench(url, Path(tmp) / "store", status_requests, uploads, api_workers)
    typer.echo(json.dumps(report, indent=1) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))
