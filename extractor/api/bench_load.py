"""`nianbao bench-load`: a real API process under a burst of status requests and uploads.

A ``uvicorn`` process serves the API on the given PostgreSQL database and the configured
broker (queues of the benchmark's own names, which no worker reads and which are deleted
afterwards). One uploader's token fires ``status`` GETs of one batch and uploads of distinct
small files all at once (one HTTP connection each), then one ``/health``. Every request's
latency and status is kept; the report gives p50/p95/max per kind and the statuses seen.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import statistics
import time
import uuid

from extractor.api.served import served_api

_log = logging.getLogger(__name__)

# Longest a client waits for one answer, seconds (a request not answered in this counts as unanswered).
_CLIENT_TIMEOUT = 60.0
# Bytes of each uploaded file (random, so every upload is a distinct file).
_UPLOAD_BYTES = 64 * 1024


def run_load_bench(db_url: str, store_root, status_requests: int = 200, uploads: int = 20,
                   api_workers: int = 1) -> dict:
    """Serve the API on `db_url`, send the burst, report latencies (seconds) and statuses.

    Args:
        db_url: a PostgreSQL database the API may use (migrated here; an account is added).
        store_root: the API's file store.
        status_requests: concurrent ``GET /batches/{id}``.
        uploads: concurrent ``POST /batches`` alongside them.
        api_workers: uvicorn processes.
    """
    import httpx

    from extractor.review.accounts import create_user, issue_token
    from extractor.settings import DbSettings, get_settings
    from extractor.storage import UserRole, create_batch, make_engine, make_sessionmaker, upgrade_database

    upgrade_database(db_url)
    engine = make_engine(DbSettings(url=db_url))
    with make_sessionmaker(engine)() as session:
        user = create_user(session, f"bench-{uuid.uuid4().hex[:8]}@example.org", secrets.token_urlsafe(12),
                           UserRole.UPLOADER)
        _, token = issue_token(session, user, "bench-load")
        batch = create_batch(session, "bench-load")
        batch.owner_id = user.id
        session.commit()
        batch_id = batch.id
    engine.dispose()

    prefix = f"benchload{os.getpid()}"
    queues = {f"NIANBAO_CELERY__QUEUES__{q.upper()}": f"{prefix}.{q}" for q in ("batches", "documents", "pages", "ocr")}
    env = {"NIANBAO_DB__URL": db_url, "NIANBAO_STORAGE__ROOT": str(store_root),
           "NIANBAO_REVIEW__SECRET_KEY": secrets.token_hex(32), **queues}
    try:
        with served_api(env, workers=api_workers) as (server, port):
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {token}"}
            # Warm-up: imports, the first connections, so the burst measures serving only.
            with httpx.Client(base_url=base, headers=auth, timeout=_CLIENT_TIMEOUT) as client:
                client.get(f"/batches/{batch_id}").raise_for_status()
            cpu_before = _tree_cpu_seconds(server.pid)
            started = time.perf_counter()
            results = asyncio.run(_burst(base, auth, batch_id, status_requests, uploads))
            wall = time.perf_counter() - started
            server_cpu = _tree_cpu_seconds(server.pid) - cpu_before
            health_started = time.perf_counter()
            health = httpx.get(f"{base}/health", timeout=_CLIENT_TIMEOUT).status_code
            health_seconds = time.perf_counter() - health_started
    finally:
        _delete_queues(get_settings().celery.broker_url, list(queues.values()))
    report = {"status_requests": status_requests, "uploads": uploads, "api_workers": api_workers,
              "wall_seconds": round(wall, 2),
              # CPU the API processes spent on the burst (PostgreSQL's and the client's not included).
              "api_cpu_ms_per_request": round(server_cpu * 1000 / max(status_requests + uploads, 1), 2)}
    for kind in ("status", "upload"):
        mine = [r for r in results if r[0] == kind]
        seconds = sorted(r[2] for r in mine if r[1] is not None)
        codes: dict[str, int] = {}
        for _, code, _ in mine:
            codes[str(code) if code is not None else "unanswered"] = codes.get(
                str(code) if code is not None else "unanswered", 0) + 1
        report[f"{kind}_answered"] = len(seconds)
        report[f"{kind}_codes"] = codes
        report[f"{kind}_p50_s"] = round(_quantile(seconds, 0.50), 3) if seconds else None
        report[f"{kind}_p95_s"] = round(_quantile(seconds, 0.95), 3) if seconds else None
        report[f"{kind}_max_s"] = round(seconds[-1], 3) if seconds else None
    report["health_after"] = health
    report["health_after_s"] = round(health_seconds, 3)
    return report


async def _burst(base: str, auth: dict[str, str], batch_id: str, n_status: int, n_uploads: int) -> list:
    """Every request at once, one connection each; (kind, status or None, seconds) per request."""
    import httpx

    limits = httpx.Limits(max_connections=n_status + n_uploads, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=_CLIENT_TIMEOUT, limits=limits) as client:
        async def one(kind: str, index: int):
            started = time.perf_counter()
            try:
                if kind == "status":
                    response = await client.get(f"/batches/{batch_id}")
                else:
                    files = {"file": (f"bench-{index}.pdf", os.urandom(_UPLOAD_BYTES), "application/pdf")}
                    response = await client.post("/batches", files=files)
                return kind, response.status_code, time.perf_counter() - started
            except httpx.HTTPError:
                return kind, None, time.perf_counter() - started

        jobs = [one("status", i) for i in range(n_status)] + [one("upload", i) for i in range(n_uploads)]
        return await asyncio.gather(*jobs)


def _quantile(sorted_values: list[float], q: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[round(q * 100) - 1]


def _delete_queues(broker_url: str, names: list[str]) -> None:
    """Drop the benchmark's queues (the uploads' ingest messages) from the Redis broker."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url)
        client.delete(*names)
        client.close()
    except redis.exceptions.RedisError as exc:
        _log.warning("could not delete the benchmark's queues %s: %s", names, exc)


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state, ppid, …; utime and stime are the 12th and 13th fields from there.
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total
