"""`nianbao bench-jobs`: pages/s of `extract --jobs N` for several N, on the same documents, same run.

Each count reads every document again (`redo`) into a folder of its own, with models loaded in
each worker (their loading is part of the run, as it is for a user) and no store.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from extractor.bulk import run_extract
from extractor.pipeline import PipelineOptions


class JobsRun(BaseModel):
    jobs: int
    documents: int
    pages: int
    seconds: float
    pages_per_second: float
    speedup: float  # against the first count of the run


class JobsReport(BaseModel):
    level: str
    scanner: str
    runs: list[JobsRun]


def run_jobs_bench(docs: int, level: str, scanner: str, jobs: list[int], seed: int, work: Path | None = None) -> JobsReport:
    """Generate `docs` reports and extract them with each count of `jobs`."""
    from extractor.synth import Scanner, generate

    work = Path(work or tempfile.mkdtemp(prefix="nianbao-bench-jobs-"))
    inputs = work / "in"
    generate(n=docs, out=inputs, seed=seed, level=level, scanner=Scanner(scanner))
    for truth in inputs.glob("*.truth.json"):
        truth.unlink()
    runs: list[JobsRun] = []
    for count in jobs:
        started = time.perf_counter()
        # One model thread per document in every run, so the counts compare cores, not threads.
        summary = run_extract([inputs], work / f"out-{count}", _one_thread(), jobs=count, redo=True)
        seconds = time.perf_counter() - started
        rate = summary.pages / seconds
        runs.append(JobsRun(jobs=count, documents=summary.documents, pages=summary.pages, seconds=round(seconds, 1),
                            pages_per_second=round(rate, 3),
                            speedup=round(rate / runs[0].pages_per_second, 2) if runs else 1.0))
    return JobsReport(level=level, scanner=scanner, runs=runs)


def _one_thread() -> PipelineOptions:
    from extractor.bulk import one_thread

    return one_thread(PipelineOptions())


def format_jobs(report: JobsReport) -> str:
    lines = [f"level {report.level}, scanner {report.scanner}", "",
             "| jobs | documents | pages | seconds | pages/s | speed-up |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.jobs} | {r.documents} | {r.pages} | {r.seconds} | {r.pages_per_second:.3f} | {r.speedup:.2f}× |"
              for r in report.runs]
    return "\n".join(lines)
