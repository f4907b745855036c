"""A crash at a chosen point, for tests only: `OUTREACH_TEST_KILL_AT=<point>` (or `<point>#<n>`: the
n-th time the point is reached in this process) makes `kill_point(<point>)` SIGKILL its own process,
as the OOM killer or a closed laptop would: no cleanup, no `finally`, no flush. Unset (always,
outside tests) it does nothing. The points are named where they are called (`grep kill_point`)."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

KILL_AT_ENV = "OUTREACH_TEST_KILL_AT"

_reached: Counter[str] = Counter()
_counting = threading.Lock()  # Apollo's lookups run in threads


def kill_point(point: str) -> None:
    """SIGKILL this process here when OUTREACH_TEST_KILL_AT names `point` (and this is its n-th time)."""
    wanted = os.environ.get(KILL_AT_ENV, "").strip()
    if not wanted:
        return
    name, _, nth = wanted.partition("#")
    if name != point:
        return
    with _counting:
        _reached[point] += 1
        due = _reached[point] == (int(nth) if nth.isdigit() else 1)
    if due:
        os.kill(os.getpid(), signal.SIGKILL)
