"""The FastAPI application factory: ``uvicorn --factory extractor.api.app:create_app``."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from extractor.api import batches, documents, health, review
from extractor.api.concurrency import AdmissionLimit
from extractor.api.deps import Dispatcher, get_current_user
from extractor.api.uploads import FORM_OVERHEAD_BYTES, BodySizeLimit
from extractor.settings import Settings, get_settings
from extractor.storage import ContentStore, User, make_engine, make_sessionmaker

_log = logging.getLogger(__name__)

# Seconds a client is told to wait when every database connection was busy.
_BUSY_RETRY_AFTER = 1
# Seconds a client is told to wait when the database could not be reached.
_DOWN_RETRY_AFTER = 5

# Routers of the JSON API, one per area; the review area adds its own here.
ROUTERS = (health.router, batches.router, documents.router, review.router)
# Routes anyone may call: the health probe, the sign-in, and the page holding the sign-in form
# (it shows no data until its script has signed in). The attacker tests read this set.
PUBLIC_ROUTES = frozenset({("GET", "/health"), ("POST", "/review/api/login"), ("GET", "/review")})
# Mounted static files anyone may fetch: the page's script and style sheet.
PUBLIC_MOUNTS = frozenset({"/review/static"})


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

    # The API description and its browsable docs are served below, behind sign-in like the rest.
    app = FastAPI(title="nianbao", version="0.1.0", openapi_url=None, docs_url=None, redoc_url=None,
                  description="Annual information-disclosure reports in, a research dataset out.",
                  lifespan=_lifespan)
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
    _add_docs(app)
    app.add_middleware(BodySizeLimit, upload_limit=settings.storage.max_upload_bytes + FORM_OVERHEAD_BYTES)
    # Outermost: a request waiting for its turn holds nothing (no thread, no connection).
    app.add_middleware(AdmissionLimit, max_in_flight=settings.api.max_in_flight,
                       max_uploads=settings.api.max_uploads, queue_seconds=settings.api.queue_seconds)
    _add_unavailable_handlers(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # Sync endpoints run in AnyIO's thread pool (40 threads by default): one thread for each
    # request AdmissionLimit lets in, so a request at work never waits for a thread either.
    import anyio.to_thread

    api = app.state.settings.api
    anyio.to_thread.current_default_thread_limiter().total_tokens = api.max_in_flight + api.max_uploads
    yield


def _add_unavailable_handlers(app: FastAPI) -> None:
    """503 with Retry-After, not 500, when the database is saturated or unreachable."""

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, exc: PoolTimeout) -> JSONResponse:
        _log.warning("no free database connection: %s", exc)
        return JSONResponse({"detail": "the server is busy (every database connection in use); retry shortly"},
                            status_code=503, headers={"Retry-After": str(_BUSY_RETRY_AFTER)})

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
        _log.error("database unreachable: %s", exc)
        return JSONResponse({"detail": "the database is unreachable; retry shortly"},
                            status_code=503, headers={"Retry-After": str(_DOWN_RETRY_AFTER)})


def _add_docs(app: FastAPI) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: Annotated[User, Depends(get_current_user)]) -> dict:
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(_user: Annotated[User, Depends(get_current_user)]) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="nianbao API")
