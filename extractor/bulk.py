"""`nianbao extract` on one machine: every document of the inputs through the pipeline, into a folder.

Documents are read in worker processes (`jobs`), one model thread each, so that a machine's
cores are used without the service; a document that crashes or hangs its worker is recorded as
failed and the others go on. A second run over the same inputs and folder skips the documents
whose result is there already, from the same file and the same pipeline (`document.pipeline`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import pebble
from pydantic import ValidationError

from extractor.datamodel import DocumentInfo, DocumentResult, PageRecord
from extractor.ingest import InputDocument, iter_inputs
from extractor.output import INPUT_ERRORS_FILE, read_document, write_dataset, write_document
from extractor.pipeline import Pipeline, PipelineOptions, pipeline_id

_log = logging.getLogger(__name__)

# Refused inputs listed on the terminal; the rest are in the input-errors file.
_ERRORS_SHOWN = 3
# Longest a document may take in a worker before it is stopped and recorded as failed (s): a
# 300-page scan (the page limit) takes about 10 minutes on one core.
DOCUMENT_TIMEOUT = 3600.0

# Called with each processed document, its result and its page records (e.g. to record them in
# the store for review); duplicates and documents skipped as done are not passed.
DocumentSink = Callable[[InputDocument, DocumentResult, list[PageRecord]], None]
# Whether a document whose result is in the output folder already needs nothing more (e.g. the
# store holds it too); without one, the result in the folder is enough.
DoneCheck = Callable[[InputDocument, DocumentResult], bool]


@dataclass(frozen=True)
class Progress:
    """Where a run stands, after each document."""

    done: int  # documents finished (processed, skipped as done, or failed)
    total: int  # documents to process (duplicates excluded)
    pages: int  # pages read so far by this run
    seconds: float  # since the documents started
    source: str  # the document just finished

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ExtractSummary:
    """What a batch run did, for the terminal."""

    out_dir: Path
    documents: int = 0  # documents in the results (duplicates excluded), skipped ones included
    skipped: int = 0  # documents whose result from an earlier run was kept
    duplicates: int = 0  # inputs skipped because the same bytes came earlier
    input_errors: list[str] = field(default_factory=list)  # inputs that never became documents
    failed: list[str] = field(default_factory=list)  # documents with an error and no template
    pages: int = 0  # pages read by this run
    fields: int = 0
    flagged: int = 0
    seconds: float = 0.0
    jobs: int = 1

    def describe(self) -> str:
        rate = f", {self.pages / self.seconds:.2f} pages/s" if self.seconds > 0 and self.pages else ""
        lines = [
            f"{self.documents} documents → {self.out_dir} ({self.seconds:.1f} s, {self.jobs} jobs{rate})",
            f"{self.fields} field values, {self.flagged} flagged for review",
        ]
        if self.skipped:
            lines.append(f"{self.skipped} documents kept from an earlier run (same file, same pipeline)")
        if self.duplicates:
            lines.append(f"{self.duplicates} duplicate inputs skipped (see their JSON)")
        for failure in self.failed:
            lines.append(f"failed: {failure}")
        for error in self.input_errors[:_ERRORS_SHOWN]:
            lines.append(f"input refused: {error}")
        if len(self.input_errors) > _ERRORS_SHOWN:
            lines.append(f"… and {len(self.input_errors) - _ERRORS_SHOWN} more refused inputs (see {INPUT_ERRORS_FILE})")
        return "\n".join(lines)


def default_jobs() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_extract(
    paths: list[Path],
    out_dir: Path,
    options: PipelineOptions | None = None,
    progress: Callable[[Progress], None] | None = None,
    on_document: DocumentSink | None = None,
    jobs: int = 1,
    redo: bool = False,
    is_done: DoneCheck | None = None,
    document_timeout: float = DOCUMENT_TIMEOUT,
) -> ExtractSummary:
    """Run the pipeline over every document found in `paths` and write `out_dir`.

    Writes ``<doc-id>.json`` for every document (duplicates and unreadable files included, with
    their error), ``dataset.csv`` with one row per document, and ``input-errors.json`` listing
    inputs that were refused (unsafe archive members, unsupported files). `on_document` sees
    every document read by this run after its JSON is written (the CLI records it in the store).

    Args:
        jobs: worker processes (1: in this process, the models' threads as `options` say; more:
            one model thread per worker).
        redo: read every document again, even when its result is in `out_dir` already.
        is_done: a further condition for keeping an earlier result (see `DoneCheck`).
        document_timeout: seconds after which a worker's document is stopped (jobs > 1).
    """
    options = options or PipelineOptions()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = ExtractSummary(out_dir=out_dir, jobs=jobs)
    results: list[DocumentResult] = []
    with tempfile.TemporaryDirectory(prefix="nianbao-ingest-") as work:
        ingest = iter_inputs(list(paths), Path(work))
        summary.input_errors = [f"{e.source}: {e.reason}" for e in ingest.errors]
        for doc in ingest.documents:
            if doc.duplicate_of is not None:
                write_document(_duplicate_result(doc), out_dir)
                summary.duplicates += 1
        unique = ingest.unique_documents()
        current = pipeline_id(options)
        todo = []
        for doc in unique:
            earlier = None if redo else _earlier_result(doc, out_dir, current)
            if earlier is not None and (is_done is None or is_done(doc, earlier)):
                results.append(earlier)
                summary.skipped += 1
            else:
                todo.append(doc)
        clock = time.perf_counter()
        if progress is not None:
            progress(Progress(0, len(todo), 0, 0.0, ""))
        read = _read_in_workers(todo, options, jobs, document_timeout) if jobs > 1 else _read_here(todo, options)
        for done, (doc, result, pages) in enumerate(read, start=1):
            write_document(result, out_dir)
            if on_document is not None:
                on_document(doc, result, pages)
            results.append(result)
            summary.pages += len(pages)
            if progress is not None:
                progress(Progress(done, len(todo), summary.pages, time.perf_counter() - clock, doc.source))
    for result in results:
        if result.template is None:
            summary.failed.append(f"{result.document.source}: {'; '.join(result.errors)}")
    write_dataset(results, out_dir / "dataset.csv")
    (out_dir / INPUT_ERRORS_FILE).write_text(
        "[" + ",".join(e.model_dump_json() for e in ingest.errors) + "]\n", encoding="utf-8"
    )
    summary.documents = len(results)
    summary.fields = sum(len(r.fields) for r in results)
    summary.flagged = sum(1 for r in results for f in r.fields.values() if f.status.value == "flagged")
    summary.seconds = time.perf_counter() - started
    return summary


Read = tuple[InputDocument, DocumentResult, list[PageRecord]]


def _read_here(docs: list[InputDocument], options: PipelineOptions) -> Iterator[Read]:
    pipeline = Pipeline(options)
    for doc in docs:
        yield doc, *_extract_guarded(pipeline, doc)


def _read_in_workers(
    docs: list[InputDocument],
    options: PipelineOptions,
    jobs: int,
    timeout: float,
    task: Callable[[InputDocument], tuple[DocumentResult, list[PageRecord]]] | None = None,
) -> Iterator[Read]:
    """Documents read by `jobs` worker processes, yielded as they finish (not in input order).

    A worker that dies (killed, out of memory, a crash in native code) or overruns `timeout`
    costs only its document, which is recorded as failed; the pool starts a new worker. `task`
    (a module-level function) reads one document in a worker; by default the pipeline does.
    """
    # Spawned, not forked: a fork would copy whatever threads and connections this process holds.
    context = multiprocessing.get_context("spawn")
    with pebble.ProcessPool(max_workers=jobs, initializer=_start_worker, initargs=(one_thread(options),),
                            context=context) as pool:
        pending = {pool.schedule(task or _extract_in_worker, args=(doc,), timeout=timeout): doc for doc in docs}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                doc = pending.pop(future)
                try:
                    result, pages = future.result()
                except FutureTimeout:
                    result, pages = _failed(doc, options, f"stopped after {timeout:.0f} s (document timeout)"), []
                except pebble.ProcessExpired as exc:
                    result, pages = _failed(doc, options, f"the worker reading it died ({_exit_reason(exc.exitcode)})"), []
                except Exception as exc:  # noqa: BLE001 - one document's failure must not stop the batch
                    result, pages = _failed(doc, options, f"internal error: {type(exc).__name__}: {exc}"), []
                yield doc, result, pages


def one_thread(options: PipelineOptions) -> PipelineOptions:
    """`options` with every model on one thread (a worker process per core)."""
    return with_threads(options, 1)


def with_threads(options: PipelineOptions, threads: int) -> PipelineOptions:
    """`options` with every model (OCR, layout, classifier) on `threads` CPU threads."""
    data = options.model_dump(by_alias=True)
    data["ocr"]["threads"] = threads
    data["layout"]["engine"]["threads"] = threads
    data["classify"]["threads"] = threads
    return PipelineOptions.model_validate(data)


_WORKER_PIPELINE: Pipeline | None = None


def _start_worker(options: PipelineOptions) -> None:
    global _WORKER_PIPELINE
    import cv2

    cv2.setNumThreads(1)
    _WORKER_PIPELINE = Pipeline(options)


def _extract_in_worker(doc: InputDocument) -> tuple[DocumentResult, list[PageRecord]]:
    assert _WORKER_PIPELINE is not None, "worker started without its pipeline"
    return _extract_guarded(_WORKER_PIPELINE, doc)


def _extract_guarded(pipeline: Pipeline, doc: InputDocument) -> tuple[DocumentResult, list[PageRecord]]:
    """The pipeline's result, or a failed result naming the error: one document never stops a batch."""
    try:
        return pipeline.extract_with_pages(doc)
    except Exception as exc:  # noqa: BLE001
        _log.exception("%s: unexpected error", doc.source)
        return _failed(doc, pipeline.options, f"internal error: {type(exc).__name__}: {exc}"), []


def _failed(doc: InputDocument, options: PipelineOptions, reason: str) -> DocumentResult:
    # No `pipeline` id: a failed document is read again by the next run.
    return DocumentResult(
        document=DocumentInfo(id=doc.id, source=doc.source, sha256=doc.sha256, format=doc.format, dpi=options.dpi),
        errors=[f"{doc.source}: {reason}"],
    )


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _earlier_result(doc: InputDocument, out_dir: Path, current: str) -> DocumentResult | None:
    """The result of `doc` in `out_dir` from an earlier run of the same pipeline on the same file."""
    path = out_dir / f"{doc.id}.json"
    if not path.is_file():
        return None
    try:
        earlier = read_document(path)
    except (OSError, ValueError, ValidationError):
        return None
    info = earlier.document
    if info.sha256 != doc.sha256 or info.pipeline != current:
        return None
    return earlier


def _duplicate_result(doc: InputDocument) -> DocumentResult:
    return DocumentResult(
        document=DocumentInfo(id=doc.id, source=doc.source, sha256=doc.sha256, format=doc.format),
        errors=[f"duplicate of {doc.duplicate_of}: the same file was already processed"],
    )
