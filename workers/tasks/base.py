"""Retry policy shared by every task: transient errors retry with backoff, nothing else does."""

from __future__ import annotations

import logging

import redis.exceptions
from celery import Task
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

_log = logging.getLogger(__name__)

# Errors that go away by themselves: the database or broker restarting, a dropped connection.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
    DisconnectionError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class NianbaoTask(Task):
    """Base of all tasks: acknowledged late, retried on transient errors only."""

    abstract = True
    acks_late = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True  # 1 s, 2 s, 4 s … between tries
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6  # about a minute of backoff in all: enough for a database or broker restart


class DocumentTask(NianbaoTask):
    """A task whose first argument is a document id: a final failure is recorded on it."""

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        from workers import steps

        document_id = args[0] if args else kwargs.get("document_id")
        _log.error("task %s on document %s failed: %r", self.name, document_id, exc)
        if document_id is not None:
            steps.record_failure(int(document_id), f"{self.name}: {type(exc).__name__}: {exc}")
