"""Dependencies of the endpoints: settings, a database session per request, the file store,
the queue.

Authentication: :func:`get_current_user` reads a sign-in cookie (the reviewer page) or an
``Authorization: Bearer`` API token (scripts) and returns the :class:`extractor.storage.User`;
the review endpoints require it, :func:`require_admin` on top for account management. The batch
endpoints are open, as the service runs inside a research group's network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from extractor.settings import Settings
from extractor.storage import ContentStore, User, UserRole

# Name of the sign-in cookie of the reviewer page.
SESSION_COOKIE = "nianbao_session"

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


def get_secret(request: Request) -> str:
    """The key that signs sign-in cookies (the configured one, else a random one per process)."""
    return request.app.state.secret_key


def get_current_user(
    request: Request,
    session: Annotated[Session, Depends(get_db_session)],
    secret: Annotated[str, Depends(get_secret)],
) -> User:
    """The signed-in user: an ``Authorization: Bearer`` token, else the sign-in cookie.

    Raises:
        HTTPException: 401 without valid credentials.
    """
    from extractor.review.accounts import AuthError, session_user_id, user_for_token

    header = request.headers.get("authorization", "")
    try:
        if header.lower().startswith("bearer "):
            user = user_for_token(session, header[7:].strip())
            session.commit()  # keeps the token's last use
            return user
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthError("not signed in")
        user = session.get(User, session_user_id(cookie, secret))
        if user is None or not user.active:
            raise AuthError("account disabled")
        return user
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


def require_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    if user.role != UserRole.ADMIN.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return user
