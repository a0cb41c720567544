"""The bad-input corpus through the API and a real worker: per-document errors, the rest done.

The corpus (tests/data/bad/make_bad_inputs.py) is uploaded as one tar, as a user would send a
folder; the two bombs and an archive sent twice are uploaded on their own too. Every bad input
is reported with its reason (GET /batches/{id}/errors, or the document's error), the good
reports are done, the batch finishes, and nothing is written outside the store.
"""

from __future__ import annotations

import importlib.util
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.badinputs

GENERATOR = Path(__file__).resolve().parents[1] / "data" / "bad" / "make_bad_inputs.py"


def _generator():
    spec = importlib.util.spec_from_file_location("make_bad_inputs_api", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_bad_inputs_api"] = module
    spec.loader.exec_module(module)
    return module


def test_bad_inputs_uploaded_get_their_errors_and_the_batch_finishes(service_env, sessions, start_worker, helpers,
                                                                    tmp_path):
    # The corpus as one uploaded tar, then bomb.zip, bomb.tar.gz and twice-a.zip (twice) as uploads of their own.
    # Each case's reason is reported; the good reports are done; every batch finishes; the store holds
    # only content-addressed files and no member escaped.
    from fastapi.testclient import TestClient

    from extractor.api import create_app
    from extractor.review.accounts import create_user, issue_token
    from extractor.storage import UserRole

    good = [p for p in helpers.make_reports(tmp_path / "good", 2, seed=4243) if p.suffix == ".pdf"]
    folder = tmp_path / "corpus"
    cases = _generator().build(folder, good)
    upload = tmp_path / "corpus.tar"
    with tarfile.open(upload, "w", format=tarfile.GNU_FORMAT) as tf:
        for path in sorted(folder.iterdir()):
            tf.add(path, arcname=path.name)

    with sessions() as session:
        uploader = create_user(session, "bad-inputs@example.org", "correct horse 1", UserRole.UPLOADER)
        _, token = issue_token(session, uploader, "bad inputs")
        session.commit()
    client = TestClient(create_app(), headers={"Authorization": f"Bearer {token}"})

    def submit(path: Path) -> str:
        with path.open("rb") as fh:
            response = client.post("/batches", files={"file": (path.name, fh, "application/octet-stream")})
        assert response.status_code == 202, response.text
        return response.json()["batch_id"]

    corpus_batch = submit(upload)
    singles = {name: submit(folder / name) for name in ("bomb.zip", "bomb.tar.gz", "twice-a.zip")}
    again = submit(folder / "twice-a.zip")
    start_worker("w1")
    for batch_id in (corpus_batch, *singles.values(), again):
        helpers.wait_finished(sessions, batch_id)

    errors = client.get(f"/batches/{corpus_batch}/errors").json()
    items = client.get(f"/batches/{corpus_batch}/documents").json()
    reported = [{"source": e["source"], "reason": e["reason"]} for e in errors]
    reported += [{"source": i["source"], "reason": i["error"] or ""} for i in items if i["error"]]
    for name, case in cases.items():
        if case.words == "template":
            continue  # a PDF that is no report is a document without a template (checked below)
        hits = [e for e in reported if case.source in e["source"]]
        assert len(hits) == 1, (name, case.source, [e["source"] for e in reported])
        assert case.words.lower() in hits[0]["reason"].lower(), (name, hits[0])
    by_source = {i["source"].split("!", 1)[1]: i for i in items}
    for i in range(len(good)):
        assert by_source[f"good-{i}.pdf"]["state"] == "done" and by_source[f"good-{i}.pdf"]["template"]
    not_report = by_source["not-a-report.pdf"]
    assert not_report["template"] is None
    with sessions() as session:
        from extractor.storage import Document

        result = session.get(Document, not_report["document_id"]).result
    assert any("template not recognised" in e for e in result["errors"]), result["errors"]
    progress = client.get(f"/batches/{corpus_batch}").json()
    assert progress["finished"] and progress["pages_done"] == progress["pages_total"]

    for name, batch_id in singles.items():
        if name.startswith("bomb"):
            bomb_errors = client.get(f"/batches/{batch_id}/errors").json()
            assert bomb_errors and "zip bomb" in bomb_errors[0]["reason"], bomb_errors
    first, second = (client.get(f"/batches/{b}/documents").json() for b in (singles["twice-a.zip"], again))
    assert [d["document_id"] for d in first] == [d["document_id"] for d in second] and first[0]["state"] == "done"

    root = Path(service_env["NIANBAO_STORAGE__ROOT"])
    assert not list(root.rglob("escaped.pdf")) and not list(tmp_path.rglob("escaped.pdf"))
    assert not Path("/tmp/absolute-escaped.pdf").exists()
