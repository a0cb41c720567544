"""Settings of the bulk service: database, Celery, storage, in one object.

Every value can be set from the environment with the ``NIANBAO_`` prefix and ``__`` between a
group and its key, e.g. ``NIANBAO_DB__URL=postgresql+psycopg://...`` or
``NIANBAO_CELERY__BROKER_URL=redis://redis:6379/0``. Nothing reads ``os.environ`` at import
time: :func:`get_settings` builds the object on first use, and :func:`scoped` swaps it for a
test or a benchmark.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_log = logging.getLogger(__name__)


class DbSettings(BaseModel):
    """Where the records live: PostgreSQL for the service, SQLite for one machine."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        "sqlite:///var/nianbao/nianbao.db",
        description="SQLAlchemy URL; postgresql+psycopg://user@host/db for the service",
    )
    echo: bool = Field(False, description="log every SQL statement")
    pool_size: int = Field(
        10, gt=0,
        description="connections kept per process (PostgreSQL only); the API also caps its request threads at "
        "pool_size + max_overflow, so no request thread ever waits for a connection held by another",
    )
    max_overflow: int = Field(10, ge=0, description="connections opened beyond pool_size under load, closed after")
    pool_timeout: float = Field(
        3.0, gt=0,
        description="seconds a request waits for a free connection before the API answers 503 with Retry-After "
        "(SQLAlchemy's default, 30 s, held every client half a minute under load)",
    )


class QueueNames(BaseModel):
    """Names of the queues; every one is declared and no other is created."""

    model_config = ConfigDict(extra="forbid")

    batches: str = Field("nianbao.batches", description="unpacking uploaded archives into documents")
    documents: str = Field("nianbao.documents", description="splitting documents into pages, assembling them")
    pages: str = Field("nianbao.pages", description="pages with a text layer (cheap, ~1 s)")
    ocr: str = Field("nianbao.ocr", description="scanned pages that need OCR (heavy, 5-10 s, CPU bound)")

    def all(self) -> list[str]:
        return [self.batches, self.documents, self.pages, self.ocr]


class RetryPolicy(BaseModel):
    """Exponential backoff of a task meeting a transient error (database or broker down).

    The default is 2, 4, 8, 16, 32, then 60 s ten times: about 11 minutes in all, so a database
    or broker restart, or an outage of several minutes, costs retries, not documents. No jitter:
    Celery's jitter is "full" (a random countdown between 0 and the backoff), which made the
    window of the six retries before a matter of luck (7 s seen against the minute intended).
    """

    model_config = ConfigDict(extra="forbid")

    factor: int = Field(2, gt=0, description="seconds before the first retry; each next countdown doubles")
    backoff_max: int = Field(60, gt=0, description="longest countdown between two tries, seconds")
    max_retries: int = Field(15, ge=0, description="retries before the task fails for good")

    def countdowns(self) -> list[int]:
        """Seconds waited before each retry (Celery's exponential backoff, jitter off)."""
        return [min(self.backoff_max, self.factor * 2**n) for n in range(self.max_retries)]

    def window(self) -> int:
        """Seconds of outage a task rides out before it fails: the sum of its countdowns."""
        return sum(self.countdowns())


class CelerySettings(BaseModel):
    """Broker, result backend and delivery guarantees of the workers."""

    model_config = ConfigDict(extra="forbid")

    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Redis broker")
    result_backend: str = Field(
        "redis://127.0.0.1:6379/0", description="where page task results wait for their chord to join"
    )
    queues: QueueNames = Field(default_factory=QueueNames)
    model_threads: int = Field(
        1, ge=1, description="CPU threads of each worker process's models (OCR, layout, classifier): one per "
        "process, and as many worker processes as cores, scales further than fewer processes with more threads",
    )
    retries: RetryPolicy = Field(default_factory=RetryPolicy)
    visibility_timeout: int = Field(
        420, gt=0,
        description="seconds before Redis hands an unacknowledged task (its worker was killed) to another worker; "
        "must exceed task_time_limit plus the longest retry countdown (a retried task waits unacknowledged "
        "for its countdown, then runs)",
    )
    task_time_limit: int = Field(
        300, gt=0,
        description="seconds after which a task's process is killed (prefork pool) and the task handed back: "
        "the longest page task (a scanned page takes 5-10 s, a page at the pixel limit about a minute)",
    )
    publish_timeout: float = Field(
        3.0, gt=0,
        description="seconds the API and the CLI try to reach the broker to queue work before giving up "
        "(503; the reconciler queues it once the broker is back)",
    )
    reconcile_interval: int = Field(
        60, gt=0, description="seconds between the reconciler's sweeps (`nianbao beat` schedules it)"
    )
    stuck_after: int = Field(
        900, gt=0,
        description="seconds without progress (no page stored, no new attempt) after which a queued or "
        "processing document, or a batch never unpacked, is queued again by the reconciler",
    )
    max_attempts: int = Field(
        5, gt=0,
        description="times the reconciler queues a stuck document again before marking it failed "
        "(so no document stays unfinished for good)",
    )
    restore_interval: int = Field(
        10, description="seconds between sweeps that hand back tasks of dead workers once visibility_timeout has passed"
    )
    result_expires: int = Field(86400, description="seconds a task result is kept in the backend")

    @model_validator(mode="after")
    def _visibility_covers_tasks(self) -> CelerySettings:
        # Below this, Redis hands a task that is still running (or waiting out its retry countdown)
        # to a second worker: wasted work at best.
        needed = self.task_time_limit + self.retries.backoff_max
        if self.visibility_timeout <= needed:
            raise ValueError(f"visibility_timeout ({self.visibility_timeout} s) must exceed task_time_limit + the "
                             f"longest retry countdown ({needed} s)")
        return self

    def as_celery_config(self) -> dict[str, Any]:
        """The Celery configuration, keys in the ``CELERY_`` namespace (``config_from_object``)."""
        from kombu import Exchange, Queue

        q = self.queues
        conf = {
            "broker_url": self.broker_url,
            "result_backend": self.result_backend,
            "broker_transport_options": {
                "visibility_timeout": self.visibility_timeout,
                # Sweep every restore_interval seconds (kombu's default throttle makes it ~100 s).
                "unacked_restore_interval": self.restore_interval,
                "unacked_restore_throttle": 1,
                # A worker killed while it holds the sweep's lock keeps every other worker from
                # handing tasks back until the lock expires (kombu: 300 s); never longer than the
                # visibility timeout, so a dead holder at most doubles the wait for redelivery.
                "unacked_mutex_expire": min(300, self.visibility_timeout),
                "socket_connect_timeout": self.publish_timeout,
            },
            "result_backend_transport_options": {"visibility_timeout": self.visibility_timeout},
            "broker_connection_retry_on_startup": True,
            # Queuing work from the API or the CLI gives up after publish_timeout seconds when the
            # broker is down, instead of kombu's default of retrying for a long while (a hanging
            # upload); what was not queued is picked up by the reconciler.
            "broker_connection_timeout": self.publish_timeout,
            "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                          "interval_max": 1},
            "task_time_limit": self.task_time_limit,
            # Read by workers.tasks.base.NianbaoTask (its from_config) when a task is bound.
            "nianbao_retry_factor": self.retries.factor,
            "nianbao_retry_backoff_max": self.retries.backoff_max,
            "nianbao_max_retries": self.retries.max_retries,
            "beat_schedule": {
                "reconcile": {"task": "workers.tasks.batches.reconcile", "schedule": float(self.reconcile_interval)},
            },
            # Each queue with its own direct exchange and routing key, so a message reaches
            # exactly the queue it was routed to.
            "task_queues": [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in q.all()],
            # A typo in a queue name fails at once instead of creating a queue nobody reads.
            "task_create_missing_queues": False,
            "task_default_queue": q.documents,
            "task_routes": {
                "workers.tasks.batches.*": {"queue": q.batches},
                "workers.tasks.documents.*": {"queue": q.documents},
                "workers.tasks.pages.*": {"queue": q.pages},
                "workers.tasks.ocr.*": {"queue": q.ocr},
            },
            # A task is acknowledged when it ends, so a worker killed mid-task loses nothing; one
            # message at a time, so a long OCR task does not hold back others on the same worker.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_serializer": "json",
            "result_serializer": "json",
            "accept_content": ["json"],
            "result_expires": self.result_expires,
            "task_track_started": True,
            "worker_send_task_events": True,
            "task_send_sent_event": True,
        }
        return {f"CELERY_{key.upper()}": value for key, value in conf.items()}


# One mebibyte, for readable defaults.
_MIB = 1024 * 1024


class StorageSettings(BaseModel):
    """Files: uploaded archives and report files, by content hash; exports."""

    model_config = ConfigDict(extra="forbid")

    root: Path = Field(
        Path("var/nianbao/store"),
        description="content-addressed file store shared by the API and every worker (a volume in compose)",
    )
    import_root: Path | None = Field(
        None,
        description="folder under which POST /batches may name a server-side path (checked after resolving "
        "symbolic links, at submission and again when the worker reads it); None refuses server-side paths",
    )
    max_upload_bytes: int = Field(
        512 * _MIB, gt=0,
        description="largest archive POST /batches accepts, bytes; a longer request body is cut off with 413 "
        "while it streams in",
    )
    max_archive_members: int = Field(
        10_000, gt=0, description="most members an uploaded or server-side archive may hold (413 / input error)"
    )
    max_page_pixels: int = Field(
        30_000_000, gt=0,
        description="largest page a worker renders, in pixels at the pipeline's dpi (A3 at 300 dpi is 17 Mpx); a "
        "document with a bigger page fails at once with the page's size (each megapixel costs a worker ~18 MB)",
    )
    user_quota_bytes: int = Field(
        5 * 1024 * _MIB, gt=0, description="total bytes of the archives one account may upload (admins too)"
    )


class ReviewSettings(BaseModel):
    """The review loop: sign-in sessions and document leases."""

    model_config = ConfigDict(extra="forbid")

    secret_key: str | None = Field(
        None,
        description="key that signs sign-in cookies; `nianbao serve` refuses to start without it when it "
        "listens beyond localhost or runs more than one process (None: a random key per process, so "
        "sign-ins end when the process restarts)",
    )
    session_hours: float = Field(12.0, description="hours a sign-in stays valid")
    secure_cookies: bool | None = Field(
        None,
        description="mark cookies Secure (sent over HTTPS only); None: when the request came over HTTPS "
        "(behind a TLS proxy, run uvicorn with --forwarded-allow-ips so X-Forwarded-Proto counts)",
    )
    login_window_seconds: int = Field(900, gt=0, description="window of the sign-in rate limit, seconds")
    login_max_per_account: int = Field(
        5, gt=0, description="failed sign-ins of one account in the window before it is refused (429)"
    )
    login_max_per_address: int = Field(
        20, gt=0, description="failed sign-ins from one address in the window before it is refused (429)"
    )
    lease_seconds: int = Field(
        900, description="seconds a reviewer holds a document after last touching it; then others may take it"
    )


class ApiSettings(BaseModel):
    """How much work the API takes on at once (per API process)."""

    model_config = ConfigDict(extra="forbid")

    max_in_flight: int = Field(
        14, gt=0, description="requests at work at once; the rest wait (queue_seconds) on the event loop"
    )
    max_uploads: int = Field(4, gt=0, description="uploads (POST /batches) at work at once, apart from the others")
    queue_seconds: float = Field(
        10.0, gt=0, description="longest a request waits for its turn before 503 with Retry-After"
    )


class Settings(BaseSettings):
    """All settings of the service."""

    model_config = SettingsConfigDict(env_prefix="NIANBAO_", env_nested_delimiter="__", extra="ignore")

    db: DbSettings = Field(default_factory=DbSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @model_validator(mode="after")
    def _pool_covers_requests(self) -> Settings:
        # A request at work must never wait for a connection (see extractor.api.concurrency).
        needed = self.api.max_in_flight + self.api.max_uploads
        if not self.db.url.startswith("sqlite") and self.db.pool_size + self.db.max_overflow < needed:
            raise ValueError(f"db.pool_size + db.max_overflow ({self.db.pool_size + self.db.max_overflow}) must "
                             f"be at least api.max_in_flight + api.max_uploads ({needed})")
        return self


# The settings in force; built from the environment on first use.
_current: Settings | None = None


def get_settings() -> Settings:
    """The settings in force (read from the environment the first time)."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


@contextmanager
def scoped(settings: Settings) -> Iterator[Settings]:
    """Use `settings` inside the block, then restore the previous ones."""
    global _current
    previous = _current
    _current = settings
    try:
        yield settings
    finally:
        _current = previous
