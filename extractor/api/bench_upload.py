"""`nianbao bench-upload`: the API's peak memory while it refuses an oversized upload.

A real ``uvicorn`` process serves the API; an uploader's token sends ``POST /batches`` with a
multipart body far over ``max_upload_bytes``, once streamed without a length (chunked: the
limit is counted as it arrives) and once declaring its length (refused before the body is
read). The server's peak RSS (``VmHWM`` of ``/proc/<pid>/status``) is read after a warm-up
request and after the two refusals; the difference is what the refusals cost.
"""

from __future__ import annotations

import http.client
import logging
import select
import socket
import time
from pathlib import Path

from extractor.api.served import served_api

_log = logging.getLogger(__name__)

# Bytes sent per chunk of the streamed upload.
_CHUNK = 1024 * 1024
# Multipart boundary of the generated body.
_BOUNDARY = "nianbao-bench-boundary"


def run_upload_bench(db_url: str, store_root: Path, upload_mib: int = 256, limit_mib: int = 8) -> dict:
    """Start the API on `db_url`, send the two oversized uploads, report statuses and memory.

    Args:
        db_url: a database the API may use (migrated here; an account is added).
        store_root: the API's file store.
        upload_mib: size of the streamed upload, MiB (it is cut off long before).
        limit_mib: ``max_upload_bytes`` of the served API, MiB.

    Returns:
        statuses, bytes the client got to send before the refusal, baseline and peak RSS (MiB),
        files left in the store's upload folder.
    """
    import secrets
    import uuid

    from extractor.review.accounts import create_user, issue_token
    from extractor.settings import DbSettings
    from extractor.storage import UserRole, make_engine, make_sessionmaker, upgrade_database

    upgrade_database(db_url)
    engine = make_engine(DbSettings(url=db_url))
    with make_sessionmaker(engine)() as session:
        user = create_user(session, f"bench-{uuid.uuid4().hex[:8]}@example.org", secrets.token_urlsafe(12),
                           UserRole.UPLOADER)
        _, token = issue_token(session, user, "bench-upload")
        session.commit()
    engine.dispose()

    env = {"NIANBAO_DB__URL": db_url, "NIANBAO_STORAGE__ROOT": str(store_root),
           "NIANBAO_STORAGE__MAX_UPLOAD_BYTES": str(limit_mib * 1024 * 1024),
           "NIANBAO_REVIEW__SECRET_KEY": secrets.token_hex(32)}
    with served_api(env) as (server, port):
        auth = {"Authorization": f"Bearer {token}"}
        # Warm-up: import, connect to the database, answer once, so the baseline holds all of that.
        _request(port, "GET", "/batches", headers=auth)
        baseline = _rss_mib(server.pid, "VmHWM")
        streamed_status, sent = _stream_upload(port, token, upload_mib * _CHUNK)
        declared_status = _declared_upload(port, token, upload_mib * _CHUNK)
        time.sleep(0.2)
        peak = _rss_mib(server.pid, "VmHWM")
        uploads = store_root / "uploads"
        left = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    return {
        "limit_mib": limit_mib,
        "upload_mib": upload_mib,
        "streamed_status": streamed_status,
        "streamed_sent_mib": round(sent / _CHUNK, 1),
        "declared_status": declared_status,
        "baseline_peak_rss_mib": round(baseline, 1),
        "peak_rss_mib": round(peak, 1),
        "peak_rss_growth_mib": round(peak - baseline, 1),
        "files_left_in_uploads": left,
    }


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _multipart_head() -> bytes:
    return (f"--{_BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.zip\"\r\n"
            "Content-Type: application/zip\r\n\r\n").encode()


def _stream_upload(port: int, token: str, size: int) -> tuple[int | None, int]:
    """Send a chunked multipart upload of `size` bytes until the server answers; (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST /batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={_BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    sent = 0
    try:
        sock.sendall(head)
        part = _multipart_head()
        sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        chunk = b"\0" * _CHUNK
        while sent < size:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered (and will close)
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        return _read_status(sock), sent
    finally:
        sock.close()


def _declared_upload(port: int, token: str, size: int) -> int | None:
    """Announce a `size`-byte body and send only its first bytes; the status the server answers."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        head = (f"POST /batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: multipart/form-data; boundary={_BOUNDARY}\r\nContent-Length: {size}\r\n\r\n").encode()
        sock.sendall(head + _multipart_head())
        return _read_status(sock)
    finally:
        sock.close()


def _read_status(sock: socket.socket) -> int | None:
    data = b""
    try:
        while b"\r\n" not in data:
            more = sock.recv(4096)
            if not more:
                break
            data += more
    except (ConnectionResetError, TimeoutError):
        pass
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def _rss_mib(pid: int, key: str) -> float:
    """A memory figure of `pid` from /proc (VmHWM: peak resident set), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for process {pid}")
