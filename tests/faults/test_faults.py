"""Nothing lost, nothing repeated: a batch of six reports survives a worker, Redis and PostgreSQL failing.

Each test submits the same six born-digital reports to real Celery workers on private Redis and
PostgreSQL servers (tests/faults/conftest.py), injects one fault once some pages are stored and
before the batch is done, and checks that the batch finishes with every document done exactly
once: one page record per page, one value per field, values and export equal to the in-process
``extract`` of the same files. The first worker runs the reconciler's beat (every 2 s, deadline
STUCK_AFTER s): a batch that finishes has nothing left ``processing``, and none may take longer
than BATCH_TIMEOUT.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.faults


def _midway(progress) -> bool:
    # Some pages stored, the batch not done: the fault lands in the middle of the work.
    return progress.pages_done >= 3 and not progress.finished


def test_worker_killed(fault_batch, reports, embedded_values):
    # kill -9 of the only worker mid-batch, then a new worker.
    from workers.process import stop_worker

    fault_batch.submit(reports)
    first = fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    stop_worker(first, kill=True)
    assert first.returncode == -9
    fault_batch.start_worker("w2")
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and counts["documents"] == 6
    assert "succeeded" in fault_batch.log("w2")  # the new worker did the rest
    fault_batch.report("worker kill -9", at, counts)


def test_redis_restarted(fault_batch, reports, embedded_values, private_redis):
    # Redis killed (SIGKILL) mid-batch and started again 2 s later; the worker is left running.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    private_redis.restart()
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and counts["documents"] == 6
    assert "Connection to broker lost" in fault_batch.log("w1")  # the worker saw Redis go
    fault_batch.report("Redis SIGKILL + restart", at, counts)


def test_redis_restarted_gracefully(fault_batch, reports, embedded_values, private_redis):
    # Redis shut down (SIGTERM: it writes its files, closes every connection) mid-batch, started 2 s later.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    private_redis.restart(graceful=True)
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and counts["documents"] == 6
    assert "Connection to broker lost" in fault_batch.log("w1")
    fault_batch.report("Redis SIGTERM (graceful) + restart", at, counts)


def test_redis_restarted_empty(fault_batch, reports, embedded_values, private_redis):
    # Redis killed mid-batch and started again with its data files deleted: every queued task and chord
    # counter is gone. Nobody runs `nianbao resume`: the reconciler finds the documents without progress.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    private_redis.restart(wipe=True)
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and counts["documents"] == 6
    assert fault_batch.logs("reconciler: ") >= 1  # the sweep queued the stalled documents again
    fault_batch.report("Redis wiped + restart (no resume: the reconciler)", at, counts)


def test_upload_during_outage(fault_batch, reports, embedded_values, private_redis, tmp_path):
    # Redis is down when the six reports are uploaded as one zip through the API. The API answers 503
    # naming the stored batch (not 500); Redis comes back; the reconciler queues the batch; it finishes.
    import zipfile

    from fastapi.testclient import TestClient

    from extractor.api import create_app
    from extractor.review.accounts import create_user, issue_token
    from extractor.storage import Batch, UserRole

    with fault_batch.sessions() as session:
        uploader = create_user(session, "up@example.org", "correct horse 1", UserRole.UPLOADER)
        _, token = issue_token(session, uploader, "faults")
        session.commit()
    archive = tmp_path / "reports.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for pdf in reports:
            zf.write(pdf, pdf.name)
    private_redis.kill()
    client = TestClient(create_app(fault_batch.settings, dispatcher=fault_batch),
                        headers={"Authorization": f"Bearer {token}"})
    started = time.monotonic()
    with archive.open("rb") as fh:
        response = client.post("/batches", files={"file": ("reports.zip", fh, "application/zip")})
    answered = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] and answered < 20
    detail = response.json()["detail"]
    fault_batch.batch_id = detail["batch_id"]
    assert "will be queued automatically" in detail["message"]
    with fault_batch.sessions() as session:
        assert session.get(Batch, fault_batch.batch_id).state == "received"  # stored, not lost
    at = fault_batch.progress()
    private_redis.start()
    fault_batch.start_worker("w1")
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert counts["documents"] == 6 and fault_batch.logs("reconciler: ") >= 1
    fault_batch.report(f"upload while Redis is down (503 in {answered:.1f} s, batch stored), Redis back",
                       at, counts)


def test_postgres_backends_terminated(fault_batch, reports, embedded_values, private_pg):
    # Every connection of the batch's database terminated (pg_terminate_backend), twice, mid-batch.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    killed = private_pg.terminate_backends(fault_batch.database)
    fault_batch.wait(lambda p: p.pages_done >= at.pages_done + 3 or p.finished)
    killed += private_pg.terminate_backends(fault_batch.database)
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and killed >= 1 and counts["documents"] == 6
    fault_batch.report(f"pg_terminate_backend ×2 ({killed} connections)", at, counts)


def test_postgres_restarted(fault_batch, reports, embedded_values, private_pg):
    # The PostgreSQL server stopped in immediate mode (every backend killed) mid-batch, started 6 s later.
    # The worker's tasks retry for 3 s only (1 + 2 s), so some run out of retries during the outage, as
    # they did with the old policy: the chord's error callback and the reconciler must finish the batch.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1", NIANBAO_CELERY__RETRIES__MAX_RETRIES="2")
    at = fault_batch.wait(_midway)
    private_pg.restart(down_seconds=6)
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and counts["documents"] == 6
    assert "OperationalError" in fault_batch.log("w1")  # tasks met the dead server and retried
    fault_batch.report("PostgreSQL immediate stop, 6 s down, retries for 3 s only", at, counts)
