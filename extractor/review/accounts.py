"""Accounts: users with roles, password hashes, signed sign-in cookies and API tokens.

Passwords are hashed with the standard library's scrypt; a sign-in cookie is
``<user id>.<expiry unix time>.<HMAC-SHA256>`` under the review secret key; an API token is a
random string of which only the SHA-256 is stored. No third-party crypto is needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.storage import ApiToken, BatchAssignment, User, UserRole

_log = logging.getLogger(__name__)

# scrypt cost parameters (n, r, p): ~16 MB and ~50 ms per hash, OWASP's minimum is n=2**17 at r=8;
# n=2**14 keeps a sign-in fast on the 2-core API hosts while staying far from a plain hash.
_SCRYPT = (2**14, 8, 1)
# Prefix of API tokens, so a leaked one is recognisable in logs and secret scanners.
TOKEN_PREFIX = "nbt_"


class AuthError(Exception):
    """Credentials are wrong, expired or belong to a disabled account."""


def hash_password(password: str) -> str:
    """A self-describing scrypt hash ``scrypt$n$r$p$salt$hash`` (salt and hash base64)."""
    n, r, p = _SCRYPT
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(computed, _unb64(digest))


def create_user(session: Session, email: str, password: str | None, role: UserRole = UserRole.REVIEWER,
                name: str = "") -> User:
    """Add an account (does not commit).

    Raises:
        ValueError: an account with this e-mail exists.
    """
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ValueError(f"an account {email} exists already")
    user = User(email=email, name=name, role=role.value,
                password_hash=hash_password(password) if password else None, active=True)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with these credentials.

    Raises:
        AuthError: unknown e-mail, wrong password or a disabled account (one message for all,
            so the answer does not reveal which accounts exist).
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthError("wrong e-mail or password")
    return user


def sign_session(user_id: int, secret: str, hours: float, now: float | None = None) -> str:
    """A cookie value naming the user until `hours` from now."""
    expires = int((now or time.time()) + hours * 3600)
    payload = f"{user_id}.{expires}"
    return f"{payload}.{_mac(payload, secret)}"


def session_user_id(cookie: str, secret: str, now: float | None = None) -> int:
    """The user id of a valid, unexpired cookie.

    Raises:
        AuthError: forged, malformed or expired.
    """
    try:
        user_id, expires, mac = cookie.split(".")
    except ValueError:
        raise AuthError("malformed session") from None
    if not hmac.compare_digest(mac, _mac(f"{user_id}.{expires}", secret)):
        raise AuthError("bad session signature")
    if int(expires) < (now or time.time()):
        raise AuthError("session expired")
    return int(user_id)


def issue_token(session: Session, user: User, name: str = "") -> str:
    """Create an API token for `user`; the token is returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_sha256(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User:
    """The active user owning an unrevoked token (its last use is recorded).

    Raises:
        AuthError: unknown or revoked token, or a disabled account.
    """
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(token)))
    if row is None or row.revoked_at is not None:
        raise AuthError("unknown or revoked token")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthError("account disabled")
    row.last_used_at = dt.datetime.now(dt.UTC)
    return user


def assign(session: Session, batch_id: str, user: User) -> None:
    """Let `user` review batch `batch_id` (idempotent; does not commit)."""
    exists = session.scalar(
        select(BatchAssignment).where(BatchAssignment.batch_id == batch_id, BatchAssignment.user_id == user.id)
    )
    if exists is None:
        session.add(BatchAssignment(batch_id=batch_id, user_id=user.id))
        session.flush()


def visible_batches(session: Session, user: User) -> list[str] | None:
    """Ids of the batches `user` may review; None means every batch (an admin)."""
    if user.role == UserRole.ADMIN.value:
        return None
    return list(session.scalars(select(BatchAssignment.batch_id).where(BatchAssignment.user_id == user.id)))


def _mac(payload: str, secret: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())
