"""HTML, Word and OFD reports through the service: an uploaded archive of them, a real worker, the export."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from fastapi.testclient import TestClient

from extractor.evaluation.compare import truth_values, values_match
from extractor.synth import render_document


def test_an_archive_of_html_docx_and_ofd_reports_is_processed_like_pdfs(service_env, sessions, start_worker, helpers,
                                                                        tmp_path):
    # A zip of three reports, one per format (the web page in GBK), uploaded to the API.
    # A real worker plans their pages without OCR and processes them; the export holds the printed values.
    from extractor.api import create_app

    made = {level: render_document(f"r-{level}", tmp_path / "made", 600 + i, "gov-2021", level, html_encoding="gbk")
            for i, level in enumerate(("html", "docx", "ofd"))}
    archive = helpers.zip_files(tmp_path / "upload.zip", {f"web/{p.name}": p.read_bytes() for p in made.values()})
    token = helpers.uploader_token(sessions, "formats-uploader@example.org")
    client = TestClient(create_app(), headers={"Authorization": f"Bearer {token}"})
    with archive.open("rb") as fh:
        response = client.post("/batches", files={"file": ("upload.zip", fh, "application/zip")})
    assert response.status_code == 202
    batch_id = response.json()["batch_id"]

    start_worker("w1")
    helpers.wait_finished(sessions, batch_id)
    progress = client.get(f"/batches/{batch_id}").json()
    assert progress["finished"] and progress["documents"] == 3 and progress["by_state"]["done"] == 3
    assert progress["pages_done"] == progress["pages_total"]

    export = client.get(f"/batches/{batch_id}/export", params={"format": "csv", "layout": "wide"})
    bundle = zipfile.ZipFile(io.BytesIO(export.content))
    rows = {r["document_id"]: r for r in csv.DictReader(io.StringIO(bundle.read("dataset-wide.csv").decode()))}
    for level, path in made.items():
        row = rows[f"upload__web__r-{level}"]
        truth = truth_values(json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8")))
        wrong = [fid for fid, value in truth.items() if value is not None
                 and not values_match(value, float(row[fid]) if row[fid] != "" else None, True)]
        assert wrong == [], (level, wrong[:5])
