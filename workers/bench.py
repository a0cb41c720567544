"""Throughput of the service against the in-process pipeline on this machine.

Not a test: numbers for the README. Uses the configured database, broker and store.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from extractor.settings import get_settings
from extractor.storage import (
    batch_progress,
    create_batch,
    make_engine,
    make_sessionmaker,
    register_inputs,
    upgrade_database,
)
from extractor.storage.blobs import ContentStore
from workers.process import peak_rss_mib, start_worker, stop_worker

_log = logging.getLogger(__name__)

# Longest a benchmark run may take before it is abandoned, seconds.
_RUN_TIMEOUT = 3600


def run_bench(docs: int, worker_counts: list[int], level: str = "digital") -> dict:
    """Measure the in-process run and one service run per worker count.

    1. Render `docs` synthetic reports per run, each run with its own seed (new bytes, so the
       cross-batch dedupe does not skip them).
    2. In-process: ``Pipeline.extract`` over run 0's reports, models loaded once.
    3. Service: start N solo workers on all queues, submit, wait for the batch to finish; wall
       time from submission, pages/min, peak RSS of each worker.
    4. Queue overhead per page: (1-worker wall time − in-process time) / pages.

    Returns:
        The measures, flat, for printing.
    """
    from extractor.ingest import iter_inputs
    from extractor.bulk import with_threads
    from extractor.pipeline import Pipeline, PipelineOptions
    from extractor.synth import generate

    settings = get_settings()
    upgrade_database(settings.db.url)
    factory = make_sessionmaker(make_engine(settings.db))
    store = ContentStore(settings.storage.root)
    base_seed = int(time.time()) % 1_000_000
    report: dict = {"docs_per_run": docs, "level": level}
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        tmp_path = Path(tmp)
        runs = [tmp_path / f"run{i}" for i in range(len(worker_counts) + 1)]
        for i, folder in enumerate(runs):
            generate(docs, folder / "in", seed=base_seed + i, level=level)
            for truth in (folder / "in").glob("*.truth.json"):
                truth.unlink()

        ingest = iter_inputs([runs[0] / "in"], tmp_path / "work")
        # One model thread, as each worker has (`celery.model_threads`).
        pipeline = Pipeline(with_threads(PipelineOptions(), settings.celery.model_threads))
        started = time.perf_counter()
        pages = sum(pipeline.extract(doc).document.pages or 0 for doc in ingest.unique_documents())
        inproc = time.perf_counter() - started
        report["inprocess_pages"] = pages
        report["inprocess_seconds"] = round(inproc, 1)
        report["inprocess_pages_per_min"] = round(pages / inproc * 60, 1)

        env = {}
        queues = settings.celery.queues.all()
        for n, folder in zip(worker_counts, runs[1:], strict=True):
            procs = [start_worker(queues, env, tmp_path / f"worker-{n}-{k}.log", name=f"bench{n}-{k}")
                     for k in range(n)]
            try:
                wall, run_pages = _submit_and_wait(factory, store, folder / "in")
                rss = [peak_rss_mib(p.pid) for p in procs]
            finally:
                for p in procs:
                    stop_worker(p)
            report[f"workers{n}_pages"] = run_pages
            report[f"workers{n}_seconds"] = round(wall, 1)
            report[f"workers{n}_pages_per_min"] = round(run_pages / wall * 60, 1)
            report[f"workers{n}_peak_rss_mib"] = [round(r, 0) if r is not None else None for r in rss]
            if n == 1:
                report["queue_overhead_s_per_page"] = round((wall - inproc * run_pages / pages) / run_pages, 3)
        rates = {n: report[f"workers{n}_pages_per_min"] for n in worker_counts}
        if 1 in rates and rates[1]:
            for n in worker_counts:
                if n != 1:
                    report[f"scaling_{n}_workers_over_1"] = round(rates[n] / rates[1], 2)
    return report


def _submit_and_wait(factory, store: ContentStore, folder: Path) -> tuple[float, int]:
    from workers.dispatch import enqueue_documents

    started = time.perf_counter()
    with factory() as session:
        batch = create_batch(session, folder.name, source_path=str(folder))
        todo = register_inputs(session, store, batch, [folder])
        session.commit()
        batch_id = batch.id
    enqueue_documents(todo)
    while time.perf_counter() - started < _RUN_TIMEOUT:
        with factory() as session:
            progress = batch_progress(session, batch_id)
        if progress is not None and progress.finished:
            return time.perf_counter() - started, progress.pages_done
        time.sleep(0.5)
    raise TimeoutError(f"batch {batch_id} not finished after {_RUN_TIMEOUT} s")
