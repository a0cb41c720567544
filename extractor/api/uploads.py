"""Limits on what a client may send: request body size while it streams in, archive member
count, per-account quota.

:class:`BodySizeLimit` is an ASGI middleware: a request whose ``Content-Length`` is over the
limit of its route is answered 413 before a byte of the body is read; a body without a length
(chunked) is counted as it arrives and cut off with 413 at the limit. Memory stays bounded
either way: Starlette spools multipart files to disk past 1 MiB, and the limit bounds the disk.
"""

from __future__ import annotations

import json
import logging
import tarfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from extractor.storage import Batch, User

_log = logging.getLogger(__name__)

# Bytes of a request body beyond the archive itself: multipart boundaries, part headers and
# the small form fields (name, path).
FORM_OVERHEAD_BYTES = 64 * 1024
# Largest JSON body of any other route (credentials, a decision), bytes.
JSON_BODY_BYTES = 64 * 1024


class _TooLarge(Exception):
    """The request body went over its limit while streaming in."""


class BodySizeLimit:
    """Answer 413 to a request body longer than its route allows.

    Args:
        app: the application.
        upload_limit: bytes allowed to ``POST /batches`` (the archive plus FORM_OVERHEAD_BYTES).
        default_limit: bytes allowed to every other request.
    """

    def __init__(self, app: ASGIApp, upload_limit: int, default_limit: int = JSON_BODY_BYTES) -> None:
        self.app, self.upload_limit, self.default_limit = app, upload_limit, default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].rstrip("/") == "/batches" else self.default_limit
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _reject(send, limit)
            return
        received = 0
        over = started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the app answers to a cut-off body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            pass
        if over and not started:
            _log.warning("request body to %s cut off after %d bytes (limit %d)", scope["path"], received, limit)
            await _reject(send, limit)


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def quota_used(session: Session, user: User) -> int:
    """Bytes of the archives `user` has uploaded (every batch it owns)."""
    return int(session.scalar(select(func.coalesce(func.sum(Batch.upload_bytes), 0)).where(Batch.owner_id == user.id)))


class LimitedReader:
    """A binary stream that raises :class:`UploadTooLarge` once more than `limit` bytes were read."""

    def __init__(self, stream: BinaryIO, limit: int, reason: str) -> None:
        self.stream, self.limit, self.reason, self.read_bytes = stream, limit, reason, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n if n >= 0 else self.limit + 1)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise UploadTooLarge(self.reason)
        return chunk


class UploadTooLarge(Exception):
    """An upload broke a size limit or the account's quota (the message says which)."""


def declared_members(path: Path, limit: int) -> int | None:
    """Members an archive declares, reading at most `limit` + 1 of them; None: not an archive.

    A zip's count is read from its end-of-central-directory record (nothing else is parsed, so a
    forged directory of millions of entries costs nothing here); an uncompressed tar is read
    header by header and stops past `limit`. A compressed tar is not counted here (counting
    would mean inflating it inside the request): the worker's ingest counts every archive again
    as it unpacks, under its size and ratio caps.
    """
    if zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            # The record zipfile itself reads first; private, but unchanged since Python 2.
            end = zipfile._EndRecData(fh)  # type: ignore[attr-defined]
        return int(end[zipfile._ECD_ENTRIES_TOTAL]) if end else None  # type: ignore[attr-defined]
    try:
        count = 0
        # "r|": an uncompressed tar, read as a stream (no member list kept beyond the count).
        with tarfile.open(path, "r|") as tar:
            for _ in tar:
                count += 1
                if count > limit:
                    break
        return count
    except (tarfile.TarError, OSError, EOFError):
        return None
