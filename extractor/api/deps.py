"""Dependencies of the endpoints: settings, a database session per request, the file store,
the queue.

Authentication goes here too: a ``get_current_user`` dependency reading the ``users`` table
(:class:`extractor.storage.User`) is what the review endpoints will add; the batch endpoints
are open, as the service runs inside a research group's network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

from fastapi import Request
from sqlalchemy.orm import Session

from extractor.settings import Settings
from extractor.storage import ContentStore

_log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    """Sends work to the workers (``workers.dispatch`` in the service)."""

    def enqueue_batch(self, batch_id: str) -> None: ...


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db_session(request: Request) -> Iterator[Session]:
    """A session for one request; the endpoint commits what it wants kept."""
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def get_store(request: Request) -> ContentStore:
    return request.app.state.store


def get_dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher
