"""`run_extract` over worker processes: the same results as in-process, a crashed or hung
worker costs only its document, and a second run keeps what the first one finished."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from extractor.bulk import _read_in_workers, run_extract
from extractor.ingest import iter_inputs
from extractor.pipeline import PipelineOptions

_SAMPLES = Path(__file__).resolve().parents[2] / "samples"
# Born-digital inputs: read in a second or two each.
_FAST = ("sample-gov-2021-web.html", "sample-gov-2019-word.docx")


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in _FAST:
        shutil.copy(_SAMPLES / name, folder / name)
    return folder


def _fields(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))["fields"]
            for p in sorted(out.glob("*.json")) if p.name != "input-errors.json"}


def test_two_workers_give_what_one_process_gives(inputs, tmp_path):
    here = run_extract([inputs], tmp_path / "one", jobs=1)
    there = run_extract([inputs], tmp_path / "two", jobs=2)
    assert here.documents == there.documents == 2 and not there.failed
    assert _fields(tmp_path / "one") == _fields(tmp_path / "two")
    assert (tmp_path / "one" / "dataset.csv").read_bytes() == (tmp_path / "two" / "dataset.csv").read_bytes()


def test_a_second_run_keeps_finished_documents_and_redo_reads_them_again(inputs, tmp_path):
    out = tmp_path / "out"
    first = run_extract([inputs], out, jobs=1)
    assert first.skipped == 0 and first.pages > 0
    again = run_extract([inputs], out, jobs=1)
    assert again.skipped == 2 and again.pages == 0 and again.documents == 2
    assert _fields(out) and (out / "dataset.csv").read_text(encoding="utf-8").count("\n") == 3
    # A result written by other code (another pipeline id) or for another file is read again.
    path = out / "sample-gov-2021-web.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["document"]["pipeline"] = "0" * 16
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    third = run_extract([inputs], out, jobs=1)
    assert third.skipped == 1
    assert json.loads(path.read_text(encoding="utf-8"))["document"]["pipeline"] != "0" * 16
    assert run_extract([inputs], out, jobs=1, redo=True).skipped == 0


def _die_on_word_files(doc):
    """A worker task that kills its own process on the Word file (a crash in native code)."""
    if doc.format == "docx":
        os.kill(os.getpid(), signal.SIGKILL)
    from extractor.bulk import _extract_in_worker

    return _extract_in_worker(doc)


def _hang_on_word_files(doc):
    if doc.format == "docx":
        time.sleep(60)
    from extractor.bulk import _extract_in_worker

    return _extract_in_worker(doc)


@pytest.mark.parametrize(("task", "timeout", "reason"), [
    (_die_on_word_files, 600.0, "the worker reading it died (signal SIGKILL)"),
    (_hang_on_word_files, 5.0, "stopped after 5 s (document timeout)"),
])
def test_a_worker_that_dies_or_hangs_costs_only_its_document(inputs, tmp_path, task, timeout, reason, monkeypatch):
    # The workers are spawned: they find this module (the task) on the path this process has.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    docs = iter_inputs([inputs], tmp_path / "work").unique_documents()
    read = {doc.format: (result, pages) for doc, result, pages in
            _read_in_workers(docs, PipelineOptions(), jobs=2, timeout=timeout, task=task)}
    word, _ = read["docx"]
    assert word.template is None and word.errors == [f"{docs[[d.format for d in docs].index('docx')].source}: {reason}"]
    assert word.document.pipeline is None  # read again by the next run
    html, pages = read["html"]
    assert html.template == "gov-2021" and html.fields and pages
