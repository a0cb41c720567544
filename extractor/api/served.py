"""A real API process on a free local port, for the benchmarks that measure one (`bench-upload`,
`bench-load`)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Longest the API may take to answer its first /health, seconds.
_START_TIMEOUT = 60


@contextmanager
def served_api(env: dict[str, str], workers: int = 1) -> Iterator[tuple[subprocess.Popen, int]]:
    """``uvicorn`` serving the app with `env` added to this process's environment, once it answers
    /health: (the process, its port); stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "--factory", "extractor.api.app:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]
    if workers > 1:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, env={**os.environ, **env})
    try:
        _wait_up(port, server)
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the API exited with code {server.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError("the API did not start")
