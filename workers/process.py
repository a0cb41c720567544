"""Start and stop worker processes from Python (for the benchmark and the service tests)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_log = logging.getLogger(__name__)

# Seconds a worker gets to finish its current task after SIGTERM before it is killed.
_STOP_GRACE_SECONDS = 30


def start_worker(queues: list[str], env: dict[str, str], log_path: Path, name: str = "w1",
                 ready_timeout: float = 60.0, beat: bool = False) -> subprocess.Popen:
    """Start ``celery -A workers.app worker --pool=solo`` and wait until it is consuming.

    Args:
        queues: queues to consume.
        env: environment of the worker (the NIANBAO_* settings it must share with the caller).
        log_path: file that receives the worker's output.
        name: node name, unique per host.
        ready_timeout: seconds to wait for "ready" in the log.
        beat: also run Celery beat inside the worker (``-B``: the reconciler's sweeps), its
            schedule file beside the log.

    Raises:
        RuntimeError: the worker exited or was not ready in time.
    """
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed when it is stopped
    cmd = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool=solo", "-Q", ",".join(queues),
           "-n", f"{name}@%h", "--loglevel=info", "--without-mingle", "--without-gossip"]
    if beat:
        cmd += ["-B", f"--schedule={log_path.with_suffix('.beat-schedule')}"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    proc._nianbao_log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}; see {log_path}")
        if b" ready." in log_path.read_bytes():
            return proc
        time.sleep(0.2)
    stop_worker(proc)
    raise RuntimeError(f"worker not ready after {ready_timeout} s; see {log_path}")


def peak_rss_mib(pid: int) -> float | None:
    """Peak resident memory of a live process (VmHWM), MiB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stop_worker(proc: subprocess.Popen, kill: bool = False) -> None:
    """Stop a worker: warm shutdown (SIGTERM), or SIGKILL at once when `kill` (a crash)."""
    if proc.poll() is None:
        if kill:
            proc.kill()
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = getattr(proc, "_nianbao_log", None)
    if log is not None:
        log.close()
