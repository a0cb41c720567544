"""Service fixtures: the real PostgreSQL and Redis on localhost, real Celery worker processes.

Each test session gets its own database (nianbao_test), its own Redis database number and its
own queue names, so it never reads another run's messages.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Where the local Redis is (CI starts it; see .ci/run).
REDIS_URL = os.environ.get("NIANBAO_TEST_REDIS", "redis://127.0.0.1:6379/14")
# Database created (and dropped first) for the service tests.
TEST_DB = os.environ.get("NIANBAO_TEST_DB", "nianbao_test")  # another name keeps parallel runs apart
# Longest wait for a batch to finish, seconds (digital reports take ~1 s a page).
BATCH_TIMEOUT = 240


@pytest.fixture(scope="session")
def service_env(tmp_path_factory, fresh_pg_database) -> Iterator[dict[str, str]]:
    """Settings shared by this process and the worker processes, through NIANBAO_* variables."""
    import redis

    from extractor import settings as settings_module
    from extractor.storage import upgrade_database

    db_url = fresh_pg_database(TEST_DB)
    redis.Redis.from_url(REDIS_URL).flushdb()
    prefix = f"test{os.getpid()}"
    env = {
        "NIANBAO_DB__URL": db_url,
        "NIANBAO_CELERY__BROKER_URL": REDIS_URL,
        "NIANBAO_CELERY__RESULT_BACKEND": REDIS_URL,
        # Short, so a task whose worker was killed is handed out again within the test.
        "NIANBAO_CELERY__VISIBILITY_TIMEOUT": "10",
        "NIANBAO_CELERY__RESTORE_INTERVAL": "2",
        # visibility_timeout must exceed the time limit plus the longest retry countdown: both short here
        # (a digital page takes ~1 s), with retries for about two minutes of outage (1, 2, then 4 s).
        "NIANBAO_CELERY__TASK_TIME_LIMIT": "5",
        "NIANBAO_CELERY__RETRIES__FACTOR": "1",
        "NIANBAO_CELERY__RETRIES__BACKOFF_MAX": "4",
        "NIANBAO_CELERY__RETRIES__MAX_RETRIES": "30",
        "NIANBAO_STORAGE__ROOT": str(tmp_path_factory.mktemp("store")),
        **{f"NIANBAO_CELERY__QUEUES__{q.upper()}": f"{prefix}.{q}" for q in ("batches", "documents", "pages", "ocr")},
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    with settings_module.scoped(settings_module.Settings()):
        upgrade_database(db_url)
        yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def sessions(service_env):
    from extractor.settings import get_settings
    from extractor.storage import make_engine, make_sessionmaker

    engine = make_engine(get_settings().db)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def start_worker(service_env, tmp_path):
    """Start real Celery workers (solo pool, every test queue); all are stopped after the test."""
    from extractor.settings import get_settings
    from workers.process import start_worker as start, stop_worker

    started = []

    def _start(name: str = "w1"):
        proc = start(get_settings().celery.queues.all(), {}, tmp_path / f"{name}.log", name=name)
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        stop_worker(proc)


def make_reports(out: Path, n: int, seed: int) -> list[Path]:
    """`n` born-digital synthetic reports (fast to process) with their truth files."""
    from extractor.synth import generate

    return generate(n=n, out=out, seed=seed, level="digital")


def zip_files(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def wait_finished(sessions, batch_id: str, timeout: float = BATCH_TIMEOUT, until=None, sweep=None):
    """Poll the batch's progress until it is finished (or `until(progress)` holds).

    `sweep(session)`, when given, runs before each poll (the reconciler, as beat runs it in a deployment).
    """
    from extractor.storage import batch_progress

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            if sweep is not None:
                sweep(session)
            progress = batch_progress(session, batch_id)
        if progress is not None and (until(progress) if until else progress.finished):
            return progress
        time.sleep(0.5)
    raise AssertionError(f"batch {batch_id} not finished in {timeout} s: {progress}")


def inprocess_values(pdfs: list[Path]) -> dict[str, dict[str, float | None]]:
    """Field values of each report from the embedded pipeline (Pipeline.extract), by file stem."""
    from extractor.ingest import iter_inputs
    from extractor.pipeline import Pipeline

    pipeline = Pipeline()
    out = {}
    for pdf in pdfs:
        doc = iter_inputs([pdf], pdf.parent / "work").documents[0]
        out[pdf.stem] = {fid: f.value for fid, f in pipeline.extract(doc).fields.items()}
    return out


def uploader_token(sessions, email: str) -> str:
    """An API token of a new uploader account (every route needs credentials; an uploader sees its own batches)."""
    from extractor.review.accounts import create_user, issue_token
    from extractor.storage import UserRole

    with sessions() as session:
        uploader = create_user(session, email, "correct horse 1", UserRole.UPLOADER)
        _, token = issue_token(session, uploader, email)
        session.commit()
    return token


@pytest.fixture
def helpers():
    """The helpers above, for test modules (test files cannot import conftest under importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(make_reports=make_reports, zip_files=zip_files, wait_finished=wait_finished,
                           inprocess_values=inprocess_values, uploader_token=uploader_token)
