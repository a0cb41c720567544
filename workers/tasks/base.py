"""Retry policy shared by every task: transient errors retry with backoff, nothing else does."""

from __future__ import annotations

import logging

import kombu.exceptions
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
    kombu.exceptions.OperationalError,  # the broker unreachable while sending
)


class NianbaoTask(Task):
    """Base of all tasks: acknowledged late, retried on transient errors only.

    The backoff comes from the settings (``CelerySettings.retries``: 2, 4, … 60 s, about 11
    minutes of outage in all by default), read from the app's configuration when the task is
    bound (Celery's ``from_config``: an attribute left None here is taken from the named key).
    """

    abstract = True
    acks_late = True
    autoretry_for = TRANSIENT_ERRORS
    retry_jitter = False  # Celery's jitter is 0..countdown: it would make the window a matter of luck
    retry_backoff = None
    retry_backoff_max = None
    max_retries = None
    from_config = (
        *Task.from_config,
        ("retry_backoff", "nianbao_retry_factor"),
        ("retry_backoff_max", "nianbao_retry_backoff_max"),
        ("max_retries", "nianbao_max_retries"),
    )


class DocumentTask(NianbaoTask):
    """A task whose first argument is a document id: a final failure is recorded on it.

    A transient error that outlasted every retry (a database down for longer than the window)
    does not fail the document: it stays unfinished and the reconciler queues it again once its
    deadline passes. Any other error fails it, with the task's name and the error.
    """

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        from workers import steps

        document_id = args[0] if args else kwargs.get("document_id")
        _log.error("task %s on document %s failed: %r", self.name, document_id, exc)
        if document_id is None or isinstance(exc, TRANSIENT_ERRORS):
            return
        try:
            steps.record_failure(int(document_id), f"{self.name}: {type(exc).__name__}: {exc}")
        except TRANSIENT_ERRORS as db_exc:
            # The database is down too: the chord's error callback and the reconciler deal with it.
            _log.error("could not record the failure of document %s: %r", document_id, db_exc)
