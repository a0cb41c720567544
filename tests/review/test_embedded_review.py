"""Review after an embedded run: `nianbao extract` records into a SQLite store, then the reviewer
API served from that store alone (no PostgreSQL, no Redis, no worker) reviews and exports it."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

# The planted report of the review fixtures (seed 901, document 7): one printed cell is wrong,
# so its queue starts with that cell and the value the identities imply.
PLANTED = 7


@pytest.fixture
def embedded(tmp_path, synth_reports):
    """Settings of a fresh SQLite store and an input folder: the planted report and a copy of it."""
    from extractor.settings import DbSettings, ReviewSettings, Settings, StorageSettings, scoped

    inputs = tmp_path / "in"
    inputs.mkdir()
    report = synth_reports[PLANTED]
    (inputs / report.name).write_bytes(report.read_bytes())
    (inputs / f"zz-copy-{report.name}").write_bytes(report.read_bytes())  # sorts after the original
    settings = Settings(
        db=DbSettings(url=f"sqlite:///{tmp_path / 'var' / 'nianbao.db'}"),
        storage=StorageSettings(root=tmp_path / "var" / "store"),
        review=ReviewSettings(secret_key="embedded-test-key"),
    )
    with scoped(settings):
        yield settings, inputs, report.stem


def _cli(*args: str) -> str:
    from extractor.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _batch_id(sessions, name: str) -> str:
    from extractor.storage import Batch

    with sessions() as session:
        return session.scalars(select(Batch.id).where(Batch.name == name)).one()


def test_extract_then_serve_reviews_and_exports_without_servers(embedded, tmp_path):
    # A research team runs extract on a folder (one report twice), adds a reviewer and assigns
    # the printed batch, then the reviewer signs in, corrects the first item and exports.
    # One document is stored for the two copies; the export shows the value and status `reviewed`.
    from fastapi.testclient import TestClient

    from extractor.api import create_app
    from extractor.storage import Document, make_engine, make_sessionmaker

    settings, inputs, stem = embedded
    output = _cli("extract", str(inputs), "--out", str(tmp_path / "out"), "--batch", "county-2025")
    assert (tmp_path / "out" / "dataset.csv").exists() and (tmp_path / "out" / f"{stem}.json").exists()
    sessions = make_sessionmaker(make_engine(settings.db))
    batch_id = _batch_id(sessions, "county-2025")
    assert f"batch {batch_id}" in output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1
    _cli("user-add", "student@example.org", "--password", "correct horse 1")
    _cli("assign", batch_id, "student@example.org")

    client = TestClient(create_app(settings, dispatcher=_NoDispatch()))
    login = client.post("/review/api/login", json={"email": "student@example.org", "password": "correct horse 1"})
    assert login.status_code == 200
    # The page's script sends the sign-in's CSRF token with every change; so does this client.
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    item = client.post(f"/review/api/batches/{batch_id}/next").json()
    assert item["suggestion"] is not None and item["suggestion"] != item["value"]
    assert client.get(item["crop_url"]).headers["content-type"] == "image/png"
    decision = client.post(f"/review/api/items/{item['id']}/decision", json={"value": item["suggestion"]})
    assert decision.status_code == 200, decision.text
    export = client.get(f"/batches/{batch_id}/export", params={"statuses": True})
    assert export.status_code == 200

    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("dataset-wide.csv").decode("utf-8"))))
    assert [r["document_id"] for r in rows] == [stem]
    assert rows[0][f"{item['field_id']}.status"] == "reviewed"
    assert float(rows[0][item["field_id"]]) == item["suggestion"]
    sessions.kw["bind"].dispose()


def test_extract_again_reuses_the_batch_and_keeps_the_review(embedded, tmp_path):
    # Extract runs twice on the same folder; between the runs a reviewer corrected a field.
    # The second run adds no batch, document or page and leaves the correction in place.
    from extractor.review.accounts import assign, create_user
    from extractor.review.corrections import decide
    from extractor.review.queue import next_item
    from extractor.storage import Batch, Document, FieldRow, PageRow, UserRole, make_engine, make_sessionmaker

    settings, inputs, _ = embedded
    _cli("extract", str(inputs), "--out", str(tmp_path / "out"))
    sessions = make_sessionmaker(make_engine(settings.db))
    batch_id = _batch_id(sessions, inputs.name)
    with sessions() as session:
        user = create_user(session, "admin@example.org", "correct horse 1", UserRole.ADMIN)
        assign(session, batch_id, user)
        item = next_item(session, user, batch_id, 120)
        decide(session, user, item, 4321, "typed")
        session.commit()
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (Batch, Document, PageRow)]

    output = _cli("extract", str(inputs), "--out", str(tmp_path / "out"))

    assert "0 documents recorded, 1 already there" in output
    with sessions() as session:
        assert [session.scalar(select(func.count()).select_from(t)) for t in (Batch, Document, PageRow)] == counts
        row = session.scalar(select(FieldRow).where(FieldRow.field_id == item.field_id, FieldRow.batch_id == batch_id))
        assert (row.value, row.status) == (4321, "reviewed")
    sessions.kw["bind"].dispose()


def test_no_store_writes_the_files_only(embedded, tmp_path):
    # Extract with --no-store.
    # The JSON and the dataset are written; no database file is created.
    settings, inputs, stem = embedded
    _cli("extract", str(inputs), "--out", str(tmp_path / "out"), "--no-store")
    assert (tmp_path / "out" / f"{stem}.json").exists()
    assert not Path(settings.db.url.split("///", 1)[1]).exists()


class _NoDispatch:
    """Review never enqueues; without a broker an enqueue would be a bug."""

    def enqueue_batch(self, batch_id: str) -> None:
        raise AssertionError(f"unexpected enqueue of {batch_id}")
