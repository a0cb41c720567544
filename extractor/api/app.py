"""The FastAPI application factory: ``uvicorn --factory extractor.api.app:create_app``."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from extractor.api import batches, documents, health, review
from extractor.api.deps import Dispatcher, get_current_user
from extractor.api.uploads import FORM_OVERHEAD_BYTES, BodySizeLimit
from extractor.settings import Settings, get_settings
from extractor.storage import ContentStore, User, make_engine, make_sessionmaker

_log = logging.getLogger(__name__)

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
    _add_docs(app)
    app.add_middleware(BodySizeLimit, upload_limit=settings.storage.max_upload_bytes + FORM_OVERHEAD_BYTES)
    return app


def _add_docs(app: FastAPI) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: Annotated[User, Depends(get_current_user)]) -> dict:
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(_user: Annotated[User, Depends(get_current_user)]) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="nianbao API")
