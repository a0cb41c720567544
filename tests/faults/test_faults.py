"""Nothing lost, nothing repeated: a batch of six reports survives a worker, Redis and PostgreSQL failing.

Each test submits the same six born-digital reports to real Celery workers on private Redis and
PostgreSQL servers (tests/faults/conftest.py), injects one fault once some pages are stored and
before the batch is done, and checks that the batch finishes with every document done exactly
once: one page record per page, one value per field, values and export equal to the in-process
``extract`` of the same files.
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


def test_redis_restarted_empty_then_resumed(fault_batch, reports, embedded_values, private_redis):
    # Redis killed mid-batch and started again with its data files deleted: every queued task and chord
    # counter is gone. Once the worker is back, `nianbao resume` queues the unfinished documents again.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    private_redis.restart(wipe=True)
    # The worker reconnects (and declares its queues again) before anything is sent.
    deadline = time.monotonic() + 60
    while fault_batch.log("w1").count("Connected to redis") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    stalled = fault_batch.wait(lambda p: True)
    resumed = fault_batch.resume()
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and resumed and counts["documents"] == 6
    fault_batch.report(f"Redis wiped + restart, then resume ({len(resumed)} documents queued again; "
                       f"{stalled.pages_done} pages stored when resumed)", at, counts)


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
    # The PostgreSQL server stopped in immediate mode (every backend killed) mid-batch, started 2 s later.
    fault_batch.submit(reports)
    fault_batch.start_worker("w1")
    at = fault_batch.wait(_midway)
    private_pg.restart()
    fault_batch.wait()
    counts = fault_batch.check_exactly_once(embedded_values)
    assert not at.finished and counts["documents"] == 6
    assert "OperationalError" in fault_batch.log("w1")  # tasks met the dead server and retried
    fault_batch.report("PostgreSQL immediate stop + restart", at, counts)
