"""What a worker process keeps between tasks: one Pipeline (models load once), one engine.

Everything is created on first use inside the process that uses it, so a prefork child never
inherits a parent's database connections or ONNX sessions.
"""

from __future__ import annotations

import logging
import os
import socket
from functools import cache

from celery import signals
from sqlalchemy.orm import Session, sessionmaker

from extractor.bulk import with_threads
from extractor.pipeline import Pipeline, PipelineOptions, pipeline_fingerprint
from extractor.settings import get_settings
from extractor.storage import ContentStore, make_engine, make_sessionmaker
from extractor.storage.results import PAGE_STAGE, finish_input_hash
from extractor.storage.results import page_input_hash as _page_key

__all__ = ["PAGE_STAGE", "finish_input_hash", "page_input_hash", "pipeline", "sessions", "store", "worker_name"]

_log = logging.getLogger(__name__)


@cache
def pipeline() -> Pipeline:
    """The process's pipeline; OCR and layout models load on its first page."""
    _log.info("loading pipeline in process %d", os.getpid())
    return Pipeline(with_threads(PipelineOptions(), get_settings().celery.model_threads))


@cache
def sessions() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(get_settings().db))


@cache
def store() -> ContentStore:
    return ContentStore(get_settings().storage.root)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def page_input_hash(sha256: str, index: int) -> str:
    """Key of a page's output under this process's code, models and pipeline options."""
    return _page_key(sha256, index, pipeline_fingerprint(pipeline().options))


@signals.worker_process_init.connect
def _fresh_process(**_kwargs) -> None:
    # A forked child must open its own connections, never share the parent's sockets.
    if sessions.cache_info().currsize:
        sessions().kw["bind"].dispose(close=False)
    sessions.cache_clear()
