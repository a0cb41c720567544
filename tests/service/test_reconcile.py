"""The reconciler, the retry policy and the upload's 503: work that stopped moving is queued again
(real PostgreSQL, Redis and a Celery worker; a broker that is down is a closed port)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from sqlalchemy import select, update


def test_the_retry_policy_rides_out_minutes_and_reaches_the_tasks():
    # The default backoff, as Celery's autoretry computes it without jitter, and the task class reading it.
    # More than ten minutes of outage in all; each countdown shorter than the visibility timeout's margin.
    from celery import Celery

    from extractor.settings import CelerySettings, RetryPolicy
    from workers.tasks.base import NianbaoTask

    policy, celery_settings = RetryPolicy(), CelerySettings()
    assert policy.countdowns()[:6] == [2, 4, 8, 16, 32, 60] and policy.window() >= 600
    assert celery_settings.visibility_timeout > celery_settings.task_time_limit + max(policy.countdowns())
    app = Celery("retry-policy-test", set_as_current=False)
    app.config_from_object(celery_settings.as_celery_config(), namespace="CELERY")

    @app.task(base=NianbaoTask)
    def probe() -> None: ...

    assert (probe.retry_backoff, probe.retry_backoff_max, probe.max_retries, probe.retry_jitter) == (2, 60, 15, False)
    with pytest.raises(ValueError, match="visibility_timeout"):
        CelerySettings(visibility_timeout=60)
    # A worker killed holding the redelivery sweep's lock delays redelivery by at most the visibility timeout.
    short = CelerySettings(visibility_timeout=10, task_time_limit=5, retries=RetryPolicy(backoff_max=4))
    assert short.as_celery_config()["CELERY_BROKER_TRANSPORT_OPTIONS"]["unacked_mutex_expire"] == 10
    assert celery_settings.as_celery_config()["CELERY_BROKER_TRANSPORT_OPTIONS"]["unacked_mutex_expire"] == 300


def _backdate(sessions, batch_id: str, seconds: float) -> None:
    from extractor.storage import Batch, BatchDocument, Document

    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    with sessions() as session:
        session.execute(update(Batch).where(Batch.id == batch_id).values(created_at=past))
        ids = select(BatchDocument.document_id).where(BatchDocument.batch_id == batch_id).scalar_subquery()
        session.execute(update(Document).where(Document.id.in_(ids)).values(created_at=past))
        session.commit()


def _dead_broker_dispatcher():
    """The API's dispatcher on a broker nobody listens to (a closed port): a Redis outage."""
    from celery import Celery

    from extractor.settings import get_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = get_settings().celery.model_copy(update={"broker_url": f"redis://127.0.0.1:{port}/0",
                                                        "result_backend": f"redis://127.0.0.1:{port}/0"})
    app = Celery("dead-broker", set_as_current=False)
    app.config_from_object(settings.as_celery_config(), namespace="CELERY")

    class Dispatcher:
        def enqueue_batch(self, batch_id: str) -> None:
            app.send_task("workers.tasks.batches.ingest_batch", args=[batch_id], ignore_result=True)

    return Dispatcher()


def test_an_upload_while_the_broker_is_down_answers_503_and_the_reconciler_queues_it(
        sessions, start_worker, helpers, tmp_path):
    # POST /batches with the broker unreachable: 503 with Retry-After naming the stored batch, which stays
    # `received`. A sweep past the deadline queues it, once (a second sweep finds nothing); a worker finishes it.
    import time

    from fastapi.testclient import TestClient

    from extractor.api import create_app
    from extractor.settings import get_settings
    from extractor.storage import Batch
    from workers.reconcile import reconcile

    pdfs = helpers.make_reports(tmp_path / "in", 1, seed=2101)
    archive = helpers.zip_files(tmp_path / "one.zip", {p.name: p.read_bytes() for p in pdfs})
    token = helpers.uploader_token(sessions, "reconcile@example.org")
    client = TestClient(create_app(get_settings(), dispatcher=_dead_broker_dispatcher()),
                        headers={"Authorization": f"Bearer {token}"})
    started = time.monotonic()
    with archive.open("rb") as fh:
        response = client.post("/batches", files={"file": ("one.zip", fh, "application/zip")})
    assert response.status_code == 503 and response.headers["Retry-After"], response.text
    assert time.monotonic() - started < 15
    batch_id = response.json()["detail"]["batch_id"]
    with sessions() as session:
        assert session.get(Batch, batch_id).state == "received"
        # Not stuck yet: the deadline has not passed.
        assert reconcile(session, get_settings().celery).batches == []
    _backdate(sessions, batch_id, get_settings().celery.stuck_after + 1)
    with sessions() as session:
        first = reconcile(session, get_settings().celery)
        again = reconcile(session, get_settings().celery)
    assert batch_id in first.batches and first.error is None
    assert batch_id not in again.batches  # queued once: the next sweep waits for the deadline again
    start_worker()
    progress = helpers.wait_finished(sessions, batch_id)
    assert progress.by_state["done"] == 1


def test_a_document_without_progress_is_queued_again_then_failed_after_max_attempts(
        sessions, start_worker, helpers, tmp_path):
    # Two documents registered and committed, but their messages lost (never sent). Past the deadline one
    # is queued again and finished by a worker; the other had used every attempt and is failed with why.
    from extractor.settings import get_settings
    from extractor.storage import ContentStore, Document, create_batch, register_inputs
    from workers.reconcile import reconcile

    settings = get_settings()
    pdfs = helpers.make_reports(tmp_path / "in", 2, seed=2102)
    with sessions() as session:
        batch = create_batch(session, "lost", source_path=str(tmp_path / "in"))
        todo = register_inputs(session, ContentStore(settings.storage.root), batch, pdfs)
        session.get(Document, todo[1]).attempts = settings.celery.max_attempts
        session.commit()
        batch_id = batch.id
    _backdate(sessions, batch_id, settings.celery.stuck_after + 1)
    with sessions() as session:
        report = reconcile(session, settings.celery)
    assert todo[0] in report.documents and report.failed == [todo[1]]
    start_worker()
    progress = helpers.wait_finished(sessions, batch_id)
    assert (progress.by_state["done"], progress.by_state["failed"]) == (1, 1)
    with sessions() as session:
        error = session.get(Document, todo[1]).error
    assert f"no progress after {settings.celery.max_attempts} attempts" in error


def test_status_wait_gives_up_after_its_timeout(sessions, helpers, tmp_path):
    # A batch nobody works on: `status --wait --timeout 2` ends with exit 3 and says so, instead of waiting forever.
    import time

    from typer.testing import CliRunner

    from extractor.cli import app
    from extractor.storage import create_batch

    with sessions() as session:
        batch = create_batch(session, "never-worked")
        session.commit()
        batch_id = batch.id
    started = time.monotonic()
    result = CliRunner().invoke(app, ["status", batch_id, "--wait", "--timeout", "2"])
    assert result.exit_code == 3 and "not finished when the wait timed out" in result.output, result.output
    assert time.monotonic() - started < 10
