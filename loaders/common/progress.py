"""Progress of a long load (pages, rows, rate), for the loaders of every source.

A loader reports `LoadProgress` snapshots to a callback; which callback decides where they go:

- `log_progress`: an INFO log line (the library default: silent unless logging is configured);
- `StderrProgress`: one line on stderr, at most every few seconds, and always the last one
  (the `outreach` CLI uses it: its log level is WARNING);
- `ProgressCounter` keeps the running totals for a loader that counts page by page and hands
  them to any of those callbacks.

Throttling lives in the callback, so a loader may report after every page.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

logger = logging.getLogger(__name__)

# seconds between two progress lines on stderr (the last line is always printed)
PROGRESS_SECONDS_ENV = "OUTREACH_PROGRESS_SECONDS"
DEFAULT_PROGRESS_SECONDS = 2.0


@dataclass(frozen=True)
class LoadProgress:
    """Where a running load is: pages and rows so far, and the rate."""

    source: str
    pages: int  # fetched in this run
    rows: int  # rows parsed in this run
    rejected: int
    seconds: float
    done: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        state = "done" if self.done else "loading"
        return (
            f"{self.source}: {state}, {self.pages} pages, {self.rows} rows, "
            f"{self.rejected} rejected, {self.rows_per_second:.0f} rows/s"
        )


ProgressCallback = Callable[[LoadProgress], None]


def log_progress(progress: LoadProgress) -> None:
    """Progress as an INFO log line."""
    logger.info("%s", progress)


def print_progress(progress: LoadProgress) -> None:
    """Every progress report as one line on stderr (unthrottled)."""
    print(f"[progress] {progress}", file=sys.stderr, flush=True)


def progress_seconds_from_env() -> float:
    """OUTREACH_PROGRESS_SECONDS (default 2); not a number or negative: the default."""
    raw = os.environ.get(PROGRESS_SECONDS_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_PROGRESS_SECONDS
    except ValueError:
        return DEFAULT_PROGRESS_SECONDS
    return seconds if seconds >= 0 else DEFAULT_PROGRESS_SECONDS


class StderrProgress:
    """A progress callback for a terminal: `[progress] <source>: loading, N pages, ...` on
    stderr, at most one line per source every `min_interval_seconds`; a final (`done`) report is
    always printed, so every load shows at least its end."""

    def __init__(
        self,
        min_interval_seconds: float | None = None,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval_seconds = (
            progress_seconds_from_env() if min_interval_seconds is None else max(0.0, min_interval_seconds)
        )
        self._stream = stream
        self._clock = clock
        self._last_printed: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, progress: LoadProgress) -> None:
        now = self._clock()
        with self._lock:
            last = self._last_printed.get(progress.source)
            if not progress.done and last is not None and now - last < self.min_interval_seconds:
                return
            self._last_printed[progress.source] = now
        print(f"[progress] {progress}", file=self._stream or sys.stderr, flush=True)


class ProgressCounter:
    """Running totals of one load, reported to `callback` after every page and at the end."""

    def __init__(self, source: str, callback: ProgressCallback | None) -> None:
        self.source = source
        self.callback = callback
        self.pages = 0
        self.rows = 0
        self.rejected = 0
        self._start = time.perf_counter()

    def page(self, rows: int = 0, rejected: int = 0) -> None:
        self.pages += 1
        self.rows += rows
        self.rejected += rejected
        self._report(done=False)

    def finish(self) -> None:
        self._report(done=True)

    def _report(self, *, done: bool) -> None:
        if self.callback is not None:
            seconds = time.perf_counter() - self._start
            self.callback(LoadProgress(self.source, self.pages, self.rows, self.rejected, seconds, done))
