"""An archive through the service: API upload → real worker → export, against the ground truth."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from extractor.evaluation.compare import truth_values, values_match
from extractor.templates import ValueType, get_template


def _is_amount(field_id: str) -> bool:
    for template_id in ("gov-2021", "gov-2019"):
        fdef = get_template(template_id).fields.get(field_id)
        if fdef is not None:
            return fdef.value_type is ValueType.DECIMAL
    return False


def test_uploaded_archive_is_processed_and_exported_as_the_truth(service_env, sessions, start_worker, helpers, tmp_path):
    # A zip of three digital reports, a copy of one, a text file and a broken PDF, uploaded to the API.
    # A real worker processes it; the export equals the embedded pipeline, and the truth where that is right.
    from extractor.api import create_app

    pdfs = helpers.make_reports(tmp_path / "reports", 3, seed=501)
    archive = helpers.zip_files(tmp_path / "upload.zip", {
        **{f"2024/{p.name}": p.read_bytes() for p in pdfs},
        "copy/again.pdf": pdfs[0].read_bytes(),
        "notes.txt": b"not a report, just notes\n",
        "broken.pdf": b"%PDF-1.4\n this is not really a PDF",
    })
    # Every route needs credentials; an uploader sees the batch it submitted.
    token = helpers.uploader_token(sessions, "bulk-uploader@example.org")
    client = TestClient(create_app(), headers={"Authorization": f"Bearer {token}"})
    with archive.open("rb") as fh:
        response = client.post("/batches", files={"file": ("upload.zip", fh, "application/zip")})
    assert response.status_code == 202
    batch_id = response.json()["batch_id"]

    start_worker("w1")
    helpers.wait_finished(sessions, batch_id)
    progress = client.get(f"/batches/{batch_id}").json()
    assert progress["finished"] and progress["files"] == 5 and progress["documents"] == 4
    assert progress["by_state"]["done"] == 3 and progress["by_state"]["failed"] == 1
    assert progress["pages_done"] == progress["pages_total"] and progress["pages_per_minute"] > 0
    errors = client.get(f"/batches/{batch_id}/errors").json()
    assert [e["source"] for e in errors] == ["upload.zip!notes.txt"]
    items = {i["item_id"]: i for i in client.get(f"/batches/{batch_id}/documents").json()}
    assert items["upload__broken"]["state"] == "failed" and items["upload__broken"]["error"]
    assert items["upload__copy__again"]["duplicate_of"] == "upload__2024__" + pdfs[0].stem

    export = client.get(f"/batches/{batch_id}/export", params={"format": "csv", "layout": "wide", "statuses": True})
    assert export.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(export.content))
    manifest = json.loads(bundle.read("manifest.json"))
    assert export.headers["X-Export-SHA256"] == manifest["sha256"]
    rows = {r["document_id"]: r for r in csv.DictReader(io.StringIO(bundle.read("dataset-wide.csv").decode()))}
    assert set(rows) == {"upload__broken", *(f"upload__2024__{p.stem}" for p in pdfs)}

    embedded = helpers.inprocess_values(pdfs)
    right = total = 0
    for pdf in pdfs:
        row = rows[f"upload__2024__{pdf.stem}"]
        truth = truth_values(json.loads(pdf.with_suffix("").with_suffix(".truth.json").read_text()))
        for fid, expected in embedded[pdf.stem].items():
            exported = float(row[fid]) if row[fid] != "" else None
            assert values_match(expected, exported, _is_amount(fid)), (pdf.stem, fid, expected, row[fid])
            if fid in truth and values_match(truth[fid], expected, _is_amount(fid)):
                total += 1
                right += values_match(truth[fid], exported, True)
        assert row["state"] == "done" and row["template"]
    assert right == total and total >= 0.95 * sum(len(v) for v in embedded.values())


def test_identical_reports_in_a_second_batch_are_not_processed_again(service_env, sessions, start_worker, helpers, tmp_path):
    # One report submitted in a first batch and processed; then the same bytes in a second batch.
    # The second batch reuses the stored document: finished at once, no new page records.
    from extractor.settings import get_settings
    from extractor.storage import ContentStore, PageRow, create_batch, register_inputs
    from workers.dispatch import enqueue_documents

    pdf = helpers.make_reports(tmp_path / "reports", 1, seed=502)[0]
    store = ContentStore(get_settings().storage.root)
    start_worker("w1")
    progress, queued, page_rows = [], [], []
    for _ in range(2):
        with sessions() as session:
            batch = create_batch(session, "again", source_path=str(pdf))
            todo = register_inputs(session, store, batch, [pdf])
            session.commit()
        enqueue_documents(todo)
        queued.append(todo)
        progress.append(helpers.wait_finished(sessions, batch.id))
        with sessions() as session:
            page_rows.append(session.scalar(select(func.count()).select_from(PageRow)))
    assert len(queued[0]) == 1 and queued[1] == []
    assert progress[1].by_state["done"] == 1 and progress[1].pages_done == progress[0].pages_done > 0
    assert page_rows[1] == page_rows[0]
