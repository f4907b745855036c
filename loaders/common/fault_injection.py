"""Fault injection for tests: `OUTREACH_TEST_KILL_AT=<point>[:<n>]` kills the process with SIGKILL
the n-th time (default: the first) it reaches the named point, as `kill -9` would. Unset (always,
outside tests) it does nothing."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

KILL_AT_ENV = "OUTREACH_TEST_KILL_AT"

_reached: Counter[str] = Counter()
_lock = threading.Lock()


def kill_point(name: str) -> None:
    wanted = os.environ.get(KILL_AT_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _reached[name] += 1
        due = _reached[name] == (int(nth) if nth.isdigit() else 1)
    if due:
        os.kill(os.getpid(), signal.SIGKILL)
