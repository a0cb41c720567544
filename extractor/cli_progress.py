"""The progress bar of `nianbao extract`: documents done, pages/s and time left, on stderr.

On a terminal it is a live bar (rich); in a log (stderr not a terminal) one line per document.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from extractor.bulk import Progress as RunProgress


class ExtractProgressBar:
    """Use as a context manager; pass :meth:`update` as `run_extract`'s `progress`."""

    def __init__(self) -> None:
        self._console = Console(stderr=True)
        self._bar: Progress | None = None
        self._task = None

    def __enter__(self) -> ExtractProgressBar:
        if self._console.is_terminal:
            self._bar = Progress(
                TextColumn("[bold]extract"), BarColumn(), MofNCompleteColumn(), TextColumn("documents"),
                TextColumn("{task.fields[pages]} pages, {task.fields[rate]} pages/s"),
                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                console=self._console, transient=False,
            )
            self._bar.start()
        return self

    def update(self, progress: RunProgress) -> None:
        rate = f"{progress.pages_per_second:.2f}"
        if self._bar is None:
            if not progress.done:
                return
            print(f"[{progress.done}/{progress.total}] {progress.source} ({progress.pages} pages, {rate} pages/s)",
                  file=sys.stderr, flush=True)
            return
        if self._task is None:
            self._task = self._bar.add_task("extract", total=progress.total, pages=0, rate="-")
        self._bar.update(self._task, completed=progress.done, pages=progress.pages, rate=rate)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
