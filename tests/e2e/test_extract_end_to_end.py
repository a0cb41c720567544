"""The whole path, as a user runs it: `nianbao extract` on files, then `nianbao eval`."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from extractor.cli import app
from extractor.evaluation import evaluate
from extractor.bulk import run_extract
from extractor.settings import scoped
from extractor.storage import BatchDocument, Document, InputErrorRow, make_engine, make_sessionmaker
from extractor.synth import generate

_REPO = Path(__file__).resolve().parents[2]
_SAMPLES = _REPO / "samples"
_REAL = _REPO / ".." / "shared" / "real-reports"
_REAL_TRUTH = _REPO / "tests" / "data" / "real" / "truth"


def _sqlite_settings(root: Path):
    """Settings of an embedded store (SQLite file and content store) under `root`."""
    from extractor.settings import DbSettings, ReviewSettings, Settings, StorageSettings

    return Settings(db=DbSettings(url=f"sqlite:///{root / 'nianbao.db'}"), storage=StorageSettings(root=root / "store"),
                    review=ReviewSettings(secret_key="e2e-test-key"))


@pytest.fixture(scope="module")
def samples_store(tmp_path_factory):
    """The store the samples' extraction is recorded into, as `nianbao extract` records it."""
    return _sqlite_settings(tmp_path_factory.mktemp("samples-store"))


@pytest.fixture(scope="module")
def samples_result(tmp_path_factory, samples_store):
    from extractor.pipeline import PipelineOptions
    from extractor.storage.embedded import EmbeddedRecorder

    out = tmp_path_factory.mktemp("samples-out")
    recorder = EmbeddedRecorder.open(samples_store, [_SAMPLES], "samples", PipelineOptions().model_dump_json())
    try:
        # Two worker processes, as `extract` runs by default on this 2-core machine.
        summary = run_extract([_SAMPLES], out, on_document=recorder.record, jobs=2, is_done=recorder.holds)
    finally:
        recorder.close()
    return summary, out, evaluate(_SAMPLES, out)


@pytest.mark.ml
def test_every_sample_gets_its_template_and_year_and_most_agencies(samples_result):
    # The six committed scans (both templates, clean to hard, two with real seed values), an
    # HTML page and a Word file. Format and year are always right; an agency name can carry
    # one OCR misread character.
    summary, _, report = samples_result
    assert summary.documents == 8 and not summary.failed
    assert report.template.correct == report.template.total == 8
    assert report.year.correct == 8
    assert report.agency.correct >= 7


@pytest.mark.ml
def test_html_and_docx_samples_are_read_exactly_and_record_their_format(samples_result):
    # The web page (GBK, inside a site's frame) and the Word file carry their text: every field,
    # the agency and the date exactly, and the document records the format it came in.
    _, out, report = samples_result
    for doc_id, fmt in (("sample-gov-2021-web", "html"), ("sample-gov-2019-word", "docx")):
        score = next(d for d in report.per_document if d.id == doc_id)
        assert score.all_right and score.agency_ok and score.year_ok, doc_id
        assert json.loads((out / f"{doc_id}.json").read_text(encoding="utf-8"))["document"]["format"] == fmt
    assert report.by_level["html"].fields.accuracy == report.by_level["docx"].fields.accuracy == 1.0


@pytest.mark.ml
def test_samples_fields_are_mostly_right_and_errors_are_flagged(samples_result):
    # Scans are read by OCR: some cells come out wrong, and those must be flagged, not silent.
    # Bounds are set below what the pipeline measures today (README), so a regression fails here.
    _, _, report = samples_result
    assert report.overall.accuracy >= 0.93
    assert report.overall.silent_error_rate <= 0.005
    assert report.overall.missing_rate <= 0.03


@pytest.mark.ml
def test_zhaosu_sample_keeps_the_agencys_inconsistent_totals(samples_result):
    # 昭苏 prints 自然人 1 + 其他 1 but 总计 1: the dataset keeps the printed 1 and flags the row.
    # The broken identity is named in the document's checks.
    _, out, _ = samples_result
    doc = json.loads((out / "sample-zhaosu-2025.json").read_text(encoding="utf-8"))
    total = doc["fields"]["apply.new_received.total"]
    assert total["value"] == 1 and total["status"] == "flagged"
    broken = {c["identity"] for c in doc["checks"] if not c["ok"]}
    assert "apply.row_total.new_received" in broken


@pytest.mark.ml
def test_samples_extracted_in_process_are_reviewed_from_their_sqlite_store(samples_result, samples_store):
    # The samples were extracted without servers into a SQLite store; an admin signs in to the
    # reviewer API, corrects the first item of the batch and exports: the value is `reviewed`.
    import csv

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from extractor.api import create_app
    from extractor.review.accounts import create_user
    from extractor.storage import Batch, UserRole, make_engine, make_sessionmaker

    engine = make_engine(samples_store.db)
    with make_sessionmaker(engine)() as session:
        create_user(session, "admin@example.org", "correct horse 1", UserRole.ADMIN)
        session.commit()
        batch_id = session.scalars(select(Batch.id).where(Batch.name == "samples")).one()
    engine.dispose()
    client = TestClient(create_app(samples_store, dispatcher=_NoDispatch()))
    login = client.post("/review/api/login", json={"email": "admin@example.org", "password": "correct horse 1"})
    assert login.status_code == 200
    # Changes made with the sign-in cookie carry its CSRF token, as the page's script sends it.
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]

    item = client.post(f"/review/api/batches/{batch_id}/next").json()
    value = item["suggestion"] if item["suggestion"] is not None else (item["value"] or 0) + 1
    assert client.post(f"/review/api/items/{item['id']}/decision", json={"value": value}).status_code == 200
    export = client.get(f"/batches/{batch_id}/export", params={"statuses": True})

    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        rows = {r["document_id"]: r for r in csv.DictReader(io.StringIO(zf.read("dataset-wide.csv").decode()))}
    assert len(rows) == 8
    row = next(r for r in rows.values() if r["source"] == item["source"])
    assert row[f"{item['field_id']}.status"] == "reviewed" and float(row[item["field_id"]]) == value


@pytest.mark.ml
def test_dataset_csv_has_one_row_per_report(samples_result):
    # dataset.csv: a header, then one row per processed report, with the field ids as columns.
    _, out, _ = samples_result
    lines = (out / "dataset.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 9
    assert "apply.denied.state_secret.natural_person" in lines[0].split(",")


@pytest.mark.ml
@pytest.mark.skipif(not _REAL.is_dir(), reason="../shared/real-reports is not beside this checkout")
def test_real_digital_reports_are_extracted_exactly(tmp_path):
    # Three reports as their agencies published them (WPS PDFs with a text layer).
    # Every one of their 600 hand-read values comes out exactly, with template and meta.
    run_extract([_REAL], tmp_path)
    report = evaluate(_REAL_TRUTH, tmp_path)
    assert report.documents == 3 and not report.missing_predictions
    assert report.overall.accuracy == 1.0
    assert report.template.correct == 3 and report.agency.correct == 3 and report.year.correct == 3


def test_bad_inputs_get_clear_errors_and_lose_nothing(tmp_path):
    # A batch with a good digital report, its duplicate, a corrupt PDF and an archive whose member
    # tries to escape: the good report is extracted, the others are recorded with a reason.
    inputs = tmp_path / "in"
    generate(n=1, out=inputs, seed=5, level="digital")
    good = next(inputs.glob("*.pdf"))
    (inputs / "zz-copy.pdf").write_bytes(good.read_bytes())  # sorts after the original
    (inputs / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not really a pdf")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../escape.pdf", good.read_bytes())
    (inputs / "batch.zip").write_bytes(buffer.getvalue())
    out = tmp_path / "out"
    settings = _sqlite_settings(tmp_path / "var")

    with scoped(settings):
        failed = CliRunner().invoke(app, ["extract", str(inputs), "--out", str(tmp_path / "out-first")])
        result = CliRunner().invoke(app, ["extract", str(inputs), "--out", str(out), "--allow-errors"])

    # broken.pdf failed: exit status 1, unless errors are allowed.
    assert failed.exit_code == 1 and "1 of 2 documents failed" in failed.output, failed.output
    assert result.exit_code == 0, result.output
    good_doc = json.loads((out / f"{good.stem}.json").read_text(encoding="utf-8"))
    assert good_doc["template"] and len(good_doc["fields"]) > 150
    broken = json.loads((out / "broken.json").read_text(encoding="utf-8"))
    assert broken["errors"] and "not a PDF or corrupted" in broken["errors"][0]
    copy = json.loads((out / "zz-copy.json").read_text(encoding="utf-8"))
    assert "duplicate of" in copy["errors"][0]
    refused = json.loads((out / "input-errors.json").read_text(encoding="utf-8"))
    assert any("escape" in e["source"] for e in refused)
    # The store has the same story: the copy is the original's document, the corrupt file failed.
    engine = make_engine(settings.db)
    with make_sessionmaker(engine)() as session:
        items = {i.item_id: i for i in session.scalars(select(BatchDocument))}
        assert items["zz-copy"].document_id == items[good.stem].document_id
        assert items["zz-copy"].duplicate_of == good.stem
        assert "not a PDF or corrupted" in session.get(Document, items["broken"].document_id).error
        assert any("escape" in e.source for e in session.scalars(select(InputErrorRow)))
    engine.dispose()


class _NoDispatch:
    """Reviewing never enqueues; without a broker an enqueue would be a bug."""

    def enqueue_batch(self, batch_id: str) -> None:
        raise AssertionError(f"unexpected enqueue of {batch_id}")
