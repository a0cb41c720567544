"""Accounts: users with roles, password hashes, API tokens, batch assignments and scope.

Passwords are hashed with argon2id (argon2-cffi) at OWASP's parameters; accounts created before
carry a scrypt hash, which is still checked once and replaced by an argon2id hash at the next
successful sign-in. An API token is a random string of which only the SHA-256 is stored (a
token has 256 random bits, so a fast hash is enough; it is not a password). Sign-in sessions
and CSRF tokens are in :mod:`extractor.review.sessions`, the sign-in rate limit in
:mod:`extractor.review.throttle`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from extractor.storage import ApiToken, Batch, BatchAssignment, User, UserRole

_log = logging.getLogger(__name__)

# argon2id at OWASP's Password Storage Cheat Sheet minimum: 19 MiB, 2 iterations, 1 lane
# (~40 ms a hash on this machine's cores).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Hash checked when the e-mail is unknown, so a wrong e-mail takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
# Prefix of API tokens, so a leaked one is recognisable in logs and secret scanners.
TOKEN_PREFIX = "nbt_"


class AuthError(Exception):
    """Credentials are wrong, expired, revoked or belong to a disabled account."""


def hash_password(password: str) -> str:
    """An argon2id PHC string (``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``)."""
    return _HASHER.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored` (argon2id, or an old scrypt hash)."""
    if not stored:
        return False
    if stored.startswith("scrypt$"):
        return _verify_old_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash that is not argon2id at the current parameters."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


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
    """The active user with these credentials; an old hash is replaced (does not commit).

    Raises:
        AuthError: unknown e-mail, wrong password or a disabled account (one message for all,
            and the same work for all, so the answer does not reveal which accounts exist).
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.password_hash:
        verify_password(password, _DUMMY_HASH)
        raise AuthError("wrong e-mail or password")
    if not verify_password(password, user.password_hash) or not user.active:
        raise AuthError("wrong e-mail or password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        _log.info("password of user %d rehashed with argon2id", user.id)
    return user


def issue_token(session: Session, user: User, name: str = "") -> tuple[int, str]:
    """Create an API token for `user`; the token is returned once and only its hash is kept.

    Returns:
        (token id, for revoking it; the token itself).
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_sha256(token))
    session.add(row)
    session.flush()
    return row.id, token


# How stale a token's recorded last use may be (it is written at most this often).
_LAST_USE_PRECISION = dt.timedelta(minutes=1)


def user_for_token(session: Session, token: str) -> User:
    """The active user owning an unrevoked token (its last use is recorded).

    Raises:
        AuthError: unknown or revoked token, or a disabled account.
    """
    found = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == _sha256(token))
    ).first()
    if found is None or found[0].revoked_at is not None:
        raise AuthError("unknown or revoked token")
    row, user = found
    if not user.active:
        raise AuthError("account disabled")
    now = dt.datetime.now(dt.UTC)
    last = row.last_used_at
    if last is None or (last if last.tzinfo else last.replace(tzinfo=dt.UTC)) < now - _LAST_USE_PRECISION:
        # At most one write a minute per token: 200 concurrent requests with one token each wrote
        # the same row, one after the other under its lock.
        row.last_used_at = now
    return user


def revoke_tokens(session: Session, user: User, token_id: int | None = None) -> int:
    """Revoke one token of `user` (or all of them with `token_id` None); does not commit.

    Returns:
        How many tokens were revoked (0: no such live token of this user).
    """
    stmt = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        stmt = stmt.where(ApiToken.id == token_id)
    return session.execute(stmt.values(revoked_at=dt.datetime.now(dt.UTC))).rowcount


def assign(session: Session, batch_id: str, user: User) -> None:
    """Let `user` review batch `batch_id` (idempotent; does not commit)."""
    exists = session.scalar(
        select(BatchAssignment).where(BatchAssignment.batch_id == batch_id, BatchAssignment.user_id == user.id)
    )
    if exists is None:
        session.add(BatchAssignment(batch_id=batch_id, user_id=user.id))
        session.flush()


def may_see_batch(session: Session, user: User, batch: Batch) -> bool:
    """Whether `user` may see and review `batch` (the question of :func:`visible_batches` for one batch,
    in at most one query)."""
    if user.role == UserRole.ADMIN.value or (batch.owner_id is not None and batch.owner_id == user.id):
        return True
    return session.scalar(
        select(BatchAssignment.id).where(BatchAssignment.batch_id == batch.id, BatchAssignment.user_id == user.id)
        .limit(1)
    ) is not None


def visible_batches(session: Session, user: User) -> list[str] | None:
    """Ids of the batches `user` may see and review; None means every batch (an admin).

    An uploader sees the batches it submitted; everyone sees the batches assigned to them.
    """
    if user.role == UserRole.ADMIN.value:
        return None
    assigned = set(session.scalars(select(BatchAssignment.batch_id).where(BatchAssignment.user_id == user.id)))
    owned = set(session.scalars(select(Batch.id).where(Batch.owner_id == user.id)))
    return sorted(assigned | owned)


def _verify_old_scrypt(password: str, stored: str) -> bool:
    """Check a hash written before argon2 (``scrypt$n$r$p$salt$hash``, base64); never written now."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        computed = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                  dklen=len(expected), maxmem=256 * 1024 * 1024)
    except ValueError:
        return False
    return hmac.compare_digest(computed, expected)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
