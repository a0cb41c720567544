"""Admission control: no more requests at work than the database pool can serve at once.

Why: sync endpoints run in a thread pool, and a request holds its database connection from
its first query until its session closes, across several thread hops (the dependencies, the
endpoint, the response's validation). With more requests at work than connections, threads
waiting for a connection held every thread that the holders needed to finish: 200 concurrent
status requests deadlocked the API until the pool's 30 s timeout (issue 21).

:class:`AdmissionLimit` lets at most ``max_in_flight`` requests (and, apart, ``max_uploads``
uploads, whose bodies may stream in for long) past it; the pool holds at least as many
connections and the thread pool as many threads, so a request at work never waits for a
connection. The others wait on the event loop, holding nothing, for up to ``queue_seconds``,
then get 503 with ``Retry-After``.
"""

from __future__ import annotations

import json
import logging

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

_log = logging.getLogger(__name__)


class AdmissionLimit:
    """ASGI middleware bounding the requests at work; 503 + Retry-After past a bounded wait.

    Args:
        app: the application.
        max_in_flight: requests at work at once (every route but the upload).
        max_uploads: uploads (``POST /batches``) at work at once.
        queue_seconds: longest wait for a slot before 503.
        retry_after: seconds the 503 tells the client to wait.
    """

    def __init__(self, app: ASGIApp, max_in_flight: int, max_uploads: int, queue_seconds: float,
                 retry_after: int = 1) -> None:
        self.app, self.queue_seconds, self.retry_after = app, queue_seconds, retry_after
        self._requests = anyio.CapacityLimiter(max_in_flight)
        self._uploads = anyio.CapacityLimiter(max_uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"].rstrip("/") == "/batches"
        limiter = self._uploads if upload else self._requests
        admitted = False
        with anyio.move_on_after(self.queue_seconds):
            await limiter.acquire()
            admitted = True
        if not admitted:
            _log.warning("%s %s refused: %d requests at work", scope["method"], scope["path"],
                         limiter.borrowed_tokens)
            await _busy(send, self.retry_after)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            limiter.release()


async def _busy(send: Send, retry_after: int) -> None:
    body = json.dumps({"detail": "the server is busy; retry shortly"}).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})
