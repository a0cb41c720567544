"""The sign-in rate limit: failed sign-ins counted per account and per address in the database,
so every API process (and every restart) sees the same counts."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from extractor.settings import ReviewSettings
from extractor.storage import LoginFailure

_log = logging.getLogger(__name__)


def retry_after(session: Session, email: str, address: str, settings: ReviewSettings) -> int | None:
    """Seconds until a sign-in of `email` from `address` may be tried again; None: it may now.

    Refused while the account has `login_max_per_account` failures, or the address
    `login_max_per_address`, within the last `login_window_seconds`; the right password does
    not lift it (otherwise a guesser would learn when it hit).
    """
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(seconds=settings.login_window_seconds)
    waits = []
    for column, key, limit in ((LoginFailure.email, _email(email), settings.login_max_per_account),
                               (LoginFailure.address, address, settings.login_max_per_address)):
        recent = select(LoginFailure.at).where(column == key, LoginFailure.at > since)
        count = session.scalar(select(func.count()).select_from(recent.subquery()))
        if count >= limit:
            # The window reopens when the oldest failure that keeps the count at the limit leaves it.
            times = sorted(_aware(t) for t in session.scalars(recent))
            oldest = times[count - limit]
            waits.append(max(1, int((oldest - since).total_seconds()) + 1))
    return max(waits) if waits else None


def record_failure(session: Session, email: str, address: str) -> None:
    """Count a failed sign-in (does not commit)."""
    session.add(LoginFailure(email=_email(email)[:320], address=address[:64], at=dt.datetime.now(dt.UTC)))


def clear_account(session: Session, email: str, settings: ReviewSettings) -> None:
    """After a successful sign-in: forget the account's failures, and every row past the window."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.login_window_seconds)
    session.execute(delete(LoginFailure).where((LoginFailure.email == _email(email)) | (LoginFailure.at <= since)))


def _email(email: str) -> str:
    return email.strip().lower()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
