"""The FastAPI application factory: ``uvicorn --factory extractor.api.app:create_app``."""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI

from extractor.api import batches, documents, health, review
from extractor.api.deps import Dispatcher
from extractor.settings import Settings, get_settings
from extractor.storage import ContentStore, make_engine, make_sessionmaker

_log = logging.getLogger(__name__)

# Routers of the JSON API, one per area; the review area adds its own here.
ROUTERS = (health.router, batches.router, documents.router, review.router)


def create_app(settings: Settings | None = None, dispatcher: Dispatcher | None = None) -> FastAPI:
    """Build the API.

    Args:
        settings: the settings in force when None.
        dispatcher: what enqueues batches; ``workers.dispatch`` (Celery over the configured
            broker) when None.
    """
    settings = settings or get_settings()
    if dispatcher is None:
        # Imported here: the Celery client is only needed by a running API, not by the library.
        from workers import dispatch as dispatcher  # type: ignore[no-redef]

    app = FastAPI(title="nianbao", version="0.1.0",
                  description="Annual information-disclosure reports in, a research dataset out.")
    app.state.settings = settings
    app.state.sessions = make_sessionmaker(make_engine(settings.db))
    app.state.store = ContentStore(settings.storage.root)
    app.state.dispatcher = dispatcher
    app.state.secret_key = settings.review.secret_key or secrets.token_hex(32)
    if settings.review.secret_key is None:
        _log.warning("no NIANBAO_REVIEW__SECRET_KEY: sign-ins last until this process restarts")
    review.mount_static(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
