"""Dependencies of the endpoints: settings, a database session per request, the file store,
the queue, and who is asking.

Authentication: :func:`get_current_user` reads an ``Authorization: Bearer`` API token
(scripts) or the sign-in cookie (the reviewer page) and returns the
:class:`extractor.storage.User`; every route but ``/health``, the sign-in and the page that
holds the sign-in form depends on it (``tests/api/test_attack.py`` checks every route of the
app). A cookie-authenticated request that changes state (any method but GET/HEAD/OPTIONS) must
also carry the session's CSRF token in ``X-CSRF-Token``. Scope: :func:`require_batch` and
:func:`require_document` answer 404 for anything outside the user's batches, as for an id that
does not exist, so ids do not leak.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Protocol

import kombu.exceptions
import redis.exceptions
from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.settings import Settings
from extractor.storage import Batch, BatchDocument, ContentStore, Document, User, UserRole

# Name of the sign-in cookie of the reviewer page (HttpOnly).
SESSION_COOKIE = "nianbao_session"
# Name of the cookie holding the CSRF token (readable by the page's script) and of the header
# the script sends it back in.
CSRF_COOKIE = "nianbao_csrf"
CSRF_HEADER = "x-csrf-token"
# Methods that change nothing, so need no CSRF token.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_log = logging.getLogger(__name__)

# What sending to an unreachable broker raises (kombu wraps the socket errors; redis-py's own
# errors may come through as they are).
QUEUE_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
    ConnectionError, TimeoutError,
)


class Dispatcher(Protocol):
    """Sends work to the workers (``workers.dispatch`` in the service)."""

    def enqueue_batch(self, batch_id: str) -> None: ...


# The small dependencies are coroutines: a plain function dependency costs a trip through the
# thread pool per request (FastAPI runs sync dependencies there).
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db_session(request: Request) -> AsyncIterator[Session]:
    """A session for one request; the endpoint commits what it wants kept.

    Closing it (a ROLLBACK round trip that hands the connection back) runs in the thread pool,
    not on the event loop, which it held up for a millisecond a request. That this cannot
    deadlock (every thread waiting for a connection held by a request waiting for a thread, as
    the API did past ~50 concurrent requests) is :class:`extractor.api.concurrency.AdmissionLimit`'s
    work: no more requests at work than connections and threads.
    """
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


async def get_store(request: Request) -> ContentStore:
    return request.app.state.store


async def get_dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


async def get_secret(request: Request) -> str:
    """The key that signs sign-in cookies (the configured one, else a random one per process)."""
    return request.app.state.secret_key


def get_current_user(
    request: Request,
    session: Annotated[Session, Depends(get_db_session)],
    secret: Annotated[str, Depends(get_secret)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> User:
    """The signed-in user: an ``Authorization: Bearer`` token, else the sign-in cookie.

    The session id of a cookie sign-in is left in ``request.state.session_id`` (logout revokes it).

    Raises:
        HTTPException: 401 without valid credentials; 403 for a cookie-authenticated change
            without the session's CSRF token.
    """
    safe = request.method in _SAFE_METHODS
    return request_user(request, session, secret, settings, check_csrf=not safe,
                        csrf=request.headers.get(CSRF_HEADER), csrf_from="X-CSRF-Token")


def request_user(
    request: Request, session: Session, secret: str, settings: Settings, check_csrf: bool, csrf: str | None,
    csrf_from: str,
) -> User:
    """The user of a bearer token, else of the sign-in cookie, whose change (`check_csrf`) must
    carry the session's CSRF token (`csrf`, sent in `csrf_from`: named in the error).

    Raises:
        HTTPException: 401 without valid credentials; 403 without the right CSRF token.
    """
    from extractor.review.accounts import AuthError, user_for_token
    from extractor.review.sessions import csrf_matches, session_for_cookie

    header = request.headers.get("authorization", "")
    request.state.session_id = None
    try:
        if header.lower().startswith("bearer "):
            user = user_for_token(session, header[7:].strip())
            if session.dirty:
                session.commit()  # keeps the token's last use (written at most once a minute)
            return user
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthError("not signed in")
        user, sid = session_for_cookie(session, cookie, secret, settings.review.session_hours)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    # Double submit: the token sent must equal the CSRF cookie, and both be this session's token.
    if check_csrf and (csrf is None or csrf != request.cookies.get(CSRF_COOKIE) or not csrf_matches(csrf, sid, secret)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing or wrong CSRF token ({csrf_from})")
    request.state.session_id = sid
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
DbSession = Annotated[Session, Depends(get_db_session)]


async def require_admin(user: CurrentUser) -> User:
    if user.role != UserRole.ADMIN.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return user


async def require_uploader(user: CurrentUser) -> User:
    """An account that may submit batches (admin or uploader)."""
    if user.role not in (UserRole.ADMIN.value, UserRole.UPLOADER.value):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins and uploaders submit batches")
    return user


def require_batch(session: Session, user: User, batch_id: str) -> Batch:
    """The batch, when it exists and is in the user's scope.

    Raises:
        HTTPException: 404 for a batch that does not exist and for one outside the scope alike.
    """
    from extractor.review.accounts import may_see_batch

    batch = session.get(Batch, batch_id)
    if batch is None or not may_see_batch(session, user, batch):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch")
    return batch


def require_document(session: Session, user: User, document_id: int) -> Document:
    """The document, when one of the batches listing it is in the user's scope (else 404).

    A document is shared by every batch holding the same bytes, so it is visible to whoever
    sees any of those batches.
    """
    from extractor.review.accounts import visible_batches

    document = session.get(Document, document_id)
    if document is not None:
        allowed = visible_batches(session, user)
        if allowed is None:
            return document
        listed = select(BatchDocument.id).where(BatchDocument.document_id == document_id,
                                                BatchDocument.batch_id.in_(allowed))
        if session.scalar(listed.limit(1)) is not None:
            return document
    raise HTTPException(status.HTTP_404_NOT_FOUND, "no such document")
