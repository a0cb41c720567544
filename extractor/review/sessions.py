"""Sign-in sessions of the reviewer page and their CSRF tokens.

The session cookie is an itsdangerous timed signature over a random session id; the database
keeps the SHA-256 of that id with its expiry, so logout (or an admin) revokes a session at once
and every API process honours it. The CSRF token is a second signature of the same id under
another salt: the page sends it back in a header (double submit), and a token from another
session, or one an attacker set as a cookie, does not match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import update
from sqlalchemy.orm import Session

from extractor.review.accounts import AuthError
from extractor.storage import User, WebSession

_log = logging.getLogger(__name__)

# Salts keep a session cookie from being accepted as a CSRF token and the other way round.
_SESSION_SALT = "nianbao.session"
_CSRF_SALT = "nianbao.csrf"


def open_session(session: Session, user: User, secret: str, hours: float) -> tuple[str, str]:
    """Record a new sign-in of `user` (does not commit).

    Returns:
        (the session cookie value, the CSRF token of that session).
    """
    sid = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    session.add(WebSession(id=_sha256(sid), user_id=user.id, created_at=now,
                           expires_at=now + dt.timedelta(hours=hours)))
    session.flush()
    return URLSafeTimedSerializer(secret, salt=_SESSION_SALT).dumps(sid), csrf_token(sid, secret)


def session_for_cookie(session: Session, cookie: str, secret: str, hours: float) -> tuple[User, str]:
    """The user and session id of a valid, unexpired, unrevoked session cookie.

    Raises:
        AuthError: forged, malformed, expired or revoked, or the account is disabled.
    """
    try:
        sid = URLSafeTimedSerializer(secret, salt=_SESSION_SALT).loads(cookie, max_age=int(hours * 3600))
    except BadSignature:  # SignatureExpired is a BadSignature
        raise AuthError("bad or expired session") from None
    row = session.get(WebSession, _sha256(str(sid)))
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= dt.datetime.now(dt.UTC):
        raise AuthError("session ended")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthError("account disabled")
    return user, str(sid)


def revoke_session(session: Session, sid: str) -> None:
    """End one sign-in (logout); does not commit."""
    session.execute(update(WebSession).where(WebSession.id == _sha256(sid)).values(revoked_at=dt.datetime.now(dt.UTC)))


def revoke_user_sessions(session: Session, user: User) -> int:
    """End every sign-in of `user` (a disabled or compromised account); does not commit."""
    stmt = update(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
    return session.execute(stmt.values(revoked_at=dt.datetime.now(dt.UTC))).rowcount


def csrf_token(sid: str, secret: str) -> str:
    """The CSRF token of session `sid`."""
    return URLSafeSerializer(secret, salt=_CSRF_SALT).dumps(sid)


def csrf_matches(token: str | None, sid: str, secret: str) -> bool:
    """Whether `token` is the CSRF token of session `sid`."""
    if not token:
        return False
    try:
        return URLSafeSerializer(secret, salt=_CSRF_SALT).loads(token) == sid
    except BadSignature:
        return False


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for timezone columns; they are UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
