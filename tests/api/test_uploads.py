"""Uploads and server-side paths as an attacker sends them: oversized, over quota, too many
members, anonymous, climbing out of the import root or out of the store."""

from __future__ import annotations

import io
import os
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# A report file's first bytes are enough for the API (it stores archives without opening members).
_PDF = b"%PDF-1.4\n%fake report for the upload tests\n"


def _uploader(sessions, role: str = "uploader") -> dict[str, str]:
    from extractor.review.accounts import create_user, issue_token
    from extractor.storage import UserRole

    with sessions() as session:
        user = create_user(session, f"up-{uuid.uuid4().hex[:8]}@example.org", "correct horse 1", UserRole(role))
        _, token = issue_token(session, user, "uploads")
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def _stored_uploads(settings) -> set[str]:
    folder = Path(settings.storage.root) / "uploads"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_an_upload_declared_larger_than_the_limit_is_refused_before_its_body(app, sessions, attack_settings):
    # An uploader announces a body one byte over the limit (and sends it).
    # 413 from the middleware; nothing is stored.
    from extractor.api.uploads import FORM_OVERHEAD_BYTES

    headers = _uploader(sessions)
    before = _stored_uploads(attack_settings)
    body = b"x" * (attack_settings.storage.max_upload_bytes + FORM_OVERHEAD_BYTES + 1)
    response = TestClient(app).post("/batches", content=body,
                                    headers={**headers, "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413
    assert _stored_uploads(attack_settings) == before


def test_an_upload_without_a_length_is_refused_past_the_limit(app, sessions, attack_settings, dispatcher):
    # An uploader sends a multipart body without a Content-Length (chunked), far past the limit.
    # 413 from the byte count, whatever the form parser made of the cut-off body; nothing queued.
    # (The test client hands the app the body at once; that the rest of a real stream is never
    # read is measured on a real server in test_refusing_an_oversized_upload_keeps_the_servers_memory_flat.)
    headers = _uploader(sessions)
    before = _stored_uploads(attack_settings)

    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n\r\n'
        for _ in range(8):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    enqueued = len(dispatcher.enqueued)
    response = TestClient(app).post("/batches", content=body(),
                                    headers={**headers, "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413, response.text
    assert len(dispatcher.enqueued) == enqueued
    assert _stored_uploads(attack_settings) == before


def test_anonymous_and_reviewer_uploads_store_nothing(app, sessions, attack_settings):
    # An anonymous client and a reviewer each upload a small archive.
    # 401 and 403; the form is not even read, nothing is stored.
    before = _stored_uploads(attack_settings)
    files = {"file": ("a.zip", _zip({"a.pdf": _PDF}), "application/zip")}
    assert TestClient(app).post("/batches", files=files).status_code == 401
    assert TestClient(app).post("/batches", files=files, headers=_uploader(sessions, "reviewer")).status_code == 403
    assert _stored_uploads(attack_settings) == before


def test_uploads_stop_at_the_accounts_quota(app, sessions, attack_settings):
    # One uploader sends distinct 1.5 MiB files until its 6 MiB quota is used up.
    # The first four are accepted; the fifth is refused with 413 naming the quota.
    headers = _uploader(sessions)
    client = TestClient(app)
    size = 3 * 1024 * 1024 // 2
    statuses = []
    for _ in range(5):
        data = _PDF + os.urandom(size - len(_PDF))
        statuses.append(client.post("/batches", files={"file": ("r.pdf", data, "application/pdf")},
                                    headers=headers))
    assert [r.status_code for r in statuses] == [202, 202, 202, 202, 413]
    assert "quota" in statuses[-1].json()["detail"]


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_an_archive_with_too_many_members_is_refused(app, sessions, attack_settings, kind):
    # An uploader sends an archive of limit + 1 members, then one of exactly limit members.
    # 413 for the first, 202 for the second.
    limit = attack_settings.storage.max_archive_members
    headers = _uploader(sessions)
    client = TestClient(app)
    for n, expected in ((limit + 1, 413), (limit, 202)):
        members = {f"m{i}-{uuid.uuid4().hex[:6]}.pdf": _PDF for i in range(n)}
        if kind == "zip":
            data = _zip(members)
        else:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                for name, payload in members.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
            data = buf.getvalue()
        response = client.post("/batches", files={"file": (f"a.{kind}", data, "application/octet-stream")},
                               headers=headers)
        assert response.status_code == expected, (n, response.text)


def test_server_paths_cannot_leave_the_import_root(app, sessions, attack_settings, tmp_path):
    # An uploader names server paths: climbing with '..', absolute, through a symbolic link
    # inside the import root that points outside, a missing path outside; then a folder inside.
    # Every path outside is refused with the same 403 (existing or not); the folder inside is accepted.
    root = Path(attack_settings.storage.import_root)
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.pdf").write_bytes(_PDF)
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    inside = root / f"reports-{uuid.uuid4().hex[:6]}"
    inside.mkdir()
    (inside / "a.pdf").write_bytes(_PDF)
    headers = _uploader(sessions)
    client = TestClient(app)
    for path in ("../../../../etc", "/etc/passwd", str(outside), "link-out", "link-out/x.pdf",
                 f"{inside.name}/../../secret", "/no/such/place"):
        response = client.post("/batches", data={"path": path}, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert "outside the import root" in response.json()["detail"]
    accepted = client.post("/batches", data={"path": inside.name}, headers=headers)
    assert accepted.status_code == 202, accepted.text


def _run_ingest(settings, batch_id: str):
    """The worker's ingest step, in this process, on the suite's settings."""
    from extractor.settings import scoped
    from workers import runtime, steps

    with scoped(settings):
        runtime.sessions.cache_clear()
        runtime.store.cache_clear()
        try:
            return steps.ingest(batch_id)
        finally:
            runtime.sessions().kw["bind"].dispose()
            runtime.sessions.cache_clear()
            runtime.store.cache_clear()


def test_a_link_inside_an_accepted_folder_is_not_followed_out_by_the_worker(app, sessions, attack_settings,
                                                                           tmp_path, helpers_pdf):
    # A folder inside the import root holds one report and a symbolic link to a report outside.
    # The API accepts the folder; the worker reads the report inside and refuses the link.
    root = Path(attack_settings.storage.import_root)
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(helpers_pdf(1))
    folder = root / f"mixed-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    (folder / "inside.pdf").write_bytes(helpers_pdf(2))
    (folder / "sneaky.pdf").symlink_to(outside)
    headers = _uploader(sessions)
    client = TestClient(app)
    batch_id = client.post("/batches", data={"path": folder.name}, headers=headers).json()["batch_id"]
    _run_ingest(attack_settings, batch_id)
    errors = client.get(f"/batches/{batch_id}/errors", headers=headers).json()
    items = client.get(f"/batches/{batch_id}/documents", headers=headers).json()
    assert [i["source"].rsplit("/", 1)[-1] for i in items] == ["inside.pdf"]
    assert [(e["source"].rsplit("/", 1)[-1], "outside the import root" in e["reason"]) for e in errors] == [
        ("sneaky.pdf", True)]


def test_archive_members_cannot_climb_out_of_the_store(app, sessions, attack_settings, tmp_path, helpers_pdf):
    # An uploaded zip holds members named '../../escape.pdf', '/abs/escape.pdf',
    # 'a/../../escape.pdf' and one good report; the worker unpacks it.
    # The three are input errors (unsafe path); only the good one is a document; no file
    # named escape.pdf exists anywhere under the suite's folders.
    bad = ["../../escape.pdf", "/abs/escape.pdf", "a/../../escape.pdf"]
    archive = _zip({**{name: helpers_pdf(3) for name in bad}, "good/report.pdf": helpers_pdf(4)})
    headers = _uploader(sessions)
    client = TestClient(app)
    response = client.post("/batches", files={"file": ("evil.zip", archive, "application/zip")}, headers=headers)
    batch_id = response.json()["batch_id"]
    _run_ingest(attack_settings, batch_id)
    errors = client.get(f"/batches/{batch_id}/errors", headers=headers).json()
    items = client.get(f"/batches/{batch_id}/documents", headers=headers).json()
    assert sorted(e["source"].split("!", 1)[1] for e in errors) == sorted(bad)
    assert all("unsafe path" in e["reason"] for e in errors)
    assert [i["source"] for i in items] == ["evil.zip!good/report.pdf"]
    top = Path(attack_settings.storage.root).parent.parent
    assert not list(top.rglob("escape.pdf"))


def test_refusing_an_oversized_upload_keeps_the_servers_memory_flat(attack_settings, tmp_path):
    # A real uvicorn process on the suite's PostgreSQL, limit 2 MiB; a 64 MiB upload is streamed
    # (chunked) and another announced with its length.
    # Both get 413; the server's peak RSS grows by less than 16 MiB; nothing is left stored.
    from extractor.api.bench_upload import run_upload_bench

    report = run_upload_bench(attack_settings.db.url, tmp_path / "store", upload_mib=64, limit_mib=2)
    assert report["streamed_status"] == 413 and report["declared_status"] == 413, report
    assert report["streamed_sent_mib"] < 16, report
    assert report["peak_rss_growth_mib"] < 16, report
    assert report["files_left_in_uploads"] == []


@pytest.fixture(scope="session")
def helpers_pdf(tmp_path_factory):
    """helpers_pdf(i): the bytes of distinct real one-report PDFs (born-digital synthetic)."""
    from extractor.synth import generate

    pdfs = [p for p in generate(n=5, out=tmp_path_factory.mktemp("upload-pdfs"), seed=907, level="digital")]
    return lambda i: pdfs[i].read_bytes()
