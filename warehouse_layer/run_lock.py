"""One `outreach` stage at a time per warehouse: the run lock (docs/pipeline_ops.md).

The lock is one row of `pipeline_ops.run_lock` (plain portable SQL: DuckDB and Snowflake alike)
naming its holder: host, pid, stage and since when. It is taken with a compare-and-set `update`
(Snowflake serializes updates of one table; DuckDB has one writing process), so two runs starting
together cannot both get it. A holder is stale, and its lock is taken over, when it ran on this
host and its process is gone, or when it is older than OUTREACH_RUN_LOCK_MAX_AGE_HOURS.

A DuckDB file also gets an OS lock on a file beside it (`<file>.run-lock`, holding the holder's
description) for the whole run: a second `outreach` never opens the DuckDB file while the first
has it open (DuckDB allows one writing process: either could fail), it reads who holds the lock
from that file instead. The OS drops that lock when its process dies, kill -9 included.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from uuid import uuid4

from warehouse_layer import (
    DUCKDB,
    OPS_SCHEMA,
    Warehouse,
    WarehouseError,
    WarehouseLike,
    WarehouseTarget,
    as_target,
    connect,
)
from warehouse_layer.fault_injection import kill_point

RUN_LOCK_TABLE = f"{OPS_SCHEMA}.run_lock"
LOCK_NAME = "warehouse"
MAX_AGE_ENV = "OUTREACH_RUN_LOCK_MAX_AGE_HOURS"
DEFAULT_MAX_AGE_HOURS = 24.0
CLEAR_HINT = "if that process is gone, clear its lock with `outreach unlock`"
LOCK_COLUMNS = "lock_id, host, pid, stage, acquired_at"


class RunLockedError(WarehouseError):
    """Another run holds the warehouse; nothing was done."""


@dataclass(frozen=True)
class LockHolder:
    lock_id: str
    host: str
    pid: int
    stage: str
    acquired_at: datetime

    def describe(self) -> str:
        return (
            f"`outreach {self.stage}` (host {self.host}, pid {self.pid}, "
            f"since {_naive_utc(self.acquired_at):%Y-%m-%d %H:%M:%S} UTC)"
        )


def max_age_from_env() -> timedelta:
    raw = os.environ.get(MAX_AGE_ENV, "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_MAX_AGE_HOURS
    except ValueError:
        hours = -1.0
    if not hours > 0:
        raise WarehouseError(f"{MAX_AGE_ENV} must be a positive number of hours, got {raw!r}")
    return timedelta(hours=hours)


def process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@dataclass(frozen=True)
class Claimant:
    """Who asks for the lock; host, pid, clock and liveness are injectable for tests."""

    stage: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None)
    is_alive: Callable[[int], bool] = process_is_alive


@dataclass(frozen=True)
class Acquired:
    holder: LockHolder
    taken_over: LockHolder | None = None  # a stale holder whose lock we took
    takeover_reason: str | None = None

    @property
    def note(self) -> str | None:
        if self.taken_over is None:
            return None
        return f"run lock: took over the stale lock of {self.taken_over.describe()}: {self.takeover_reason}"


def stale_reason(holder: LockHolder, claimant: Claimant, max_age: timedelta) -> str | None:
    """Why `holder` no longer holds the lock, or None while it may still be running."""
    if holder.host == claimant.host and not claimant.is_alive(holder.pid):
        return "its process is gone"
    age = claimant.now() - _naive_utc(holder.acquired_at)
    if age > max_age:
        return f"older than {MAX_AGE_ENV}={max_age.total_seconds() / 3600:g}"
    return None


def _ensure_table(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"create table if not exists {RUN_LOCK_TABLE} (lock_name varchar, lock_id varchar, host varchar, "
        "pid bigint, stage varchar, acquired_at timestamp)"
    )
    if warehouse.fetch_one(f"select count(*) from {RUN_LOCK_TABLE} where lock_name = ?", [LOCK_NAME]) == (0,):
        # two first runs may both insert it: every update below sets all rows of the lock alike
        warehouse.insert_rows(RUN_LOCK_TABLE, ["lock_name"], [(LOCK_NAME,)])


def current_holders(warehouse: Warehouse) -> list[LockHolder]:
    if not warehouse.table_exists(OPS_SCHEMA, "run_lock"):
        return []
    rows = warehouse.execute(
        f"select distinct {LOCK_COLUMNS} from {RUN_LOCK_TABLE} where lock_name = ? and lock_id is not null",
        [LOCK_NAME],
    )
    return [LockHolder(str(lock_id), str(host), int(pid), str(stage), at) for lock_id, host, pid, stage, at in rows]


def acquire_run_lock(
    warehouse: Warehouse, claimant: Claimant, max_age: timedelta, *, holder_known_gone: bool = False
) -> Acquired:
    """Takes the lock (or raises RunLockedError naming its holder), taking over a stale holder's.
    `holder_known_gone`: the caller knows no other run is alive (it holds the DuckDB file's OS
    lock), so any row left is a killed run's."""
    _ensure_table(warehouse)
    mine = LockHolder(uuid4().hex, claimant.host, claimant.pid, claimant.stage, claimant.now())
    values = [mine.lock_id, mine.host, mine.pid, mine.stage, mine.acquired_at]
    assignments = "lock_id = ?, host = ?, pid = ?, stage = ?, acquired_at = ?"
    warehouse.execute(
        f"update {RUN_LOCK_TABLE} set {assignments} where lock_name = ? and lock_id is null", [*values, LOCK_NAME]
    )
    others = [holder for holder in current_holders(warehouse) if holder.lock_id != mine.lock_id]
    if not others:
        return Acquired(mine)
    other = others[0]
    reason = "its process is gone (the DuckDB file's OS lock was free)" if holder_known_gone else None
    reason = reason or stale_reason(other, claimant, max_age)
    if reason is None:
        raise RunLockedError(
            f"the warehouse is busy: {other.describe()} holds its run lock; wait for it to finish, or, {CLEAR_HINT}"
        )
    warehouse.execute(
        f"update {RUN_LOCK_TABLE} set {assignments} where lock_name = ? and lock_id = ?",
        [*values, LOCK_NAME, other.lock_id],
    )
    if any(holder.lock_id != mine.lock_id for holder in current_holders(warehouse)):
        raise RunLockedError(f"the warehouse is busy: another run took its stale run lock first; {CLEAR_HINT}")
    return Acquired(mine, other, reason)


def release_run_lock(warehouse: Warehouse, lock_id: str) -> None:
    """Frees the lock if it is still ours (an operator may have cleared it meanwhile)."""
    warehouse.execute(
        f"update {RUN_LOCK_TABLE} set lock_id = null, host = null, pid = null, stage = null, acquired_at = null "
        "where lock_name = ? and lock_id = ?",
        [LOCK_NAME, lock_id],
    )


def clear_run_lock(warehouse: Warehouse) -> list[LockHolder]:
    """`outreach unlock`: frees the lock whoever holds it; returns who held it."""
    holders = current_holders(warehouse)
    for holder in holders:
        release_run_lock(warehouse, holder.lock_id)
    return holders


# --- the DuckDB file's OS lock ---------------------------------------------------------------------

# DuckDB's message when another process has the file open: `... Conflicting lock is held in <exe> (PID 123)`
_DUCKDB_CONFLICT = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def duckdb_conflict_pid(error: BaseException) -> int | None:
    found = _DUCKDB_CONFLICT.search(str(error))
    return int(found["pid"]) if found else None


def os_lock_path(duckdb_path: Path) -> Path:
    return duckdb_path.with_name(duckdb_path.name + ".run-lock")


def os_lock_holder(duckdb_path: Path) -> str | None:
    """The description the holder of the DuckDB file's OS lock wrote, if any."""
    try:
        text = os_lock_path(duckdb_path).read_text().strip()
        return str(json.loads(text)["holder"]) if text else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def os_lock_taken_by(duckdb_path: Path) -> str | None:
    """Who holds the DuckDB file's OS lock now (None: nobody). A probe for `outreach status`: it
    neither waits nor keeps the lock, so the row and the file stay untouched."""
    path = os_lock_path(duckdb_path)
    if not path.exists():
        return None
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os_lock_holder(duckdb_path) or "another `outreach` process (it has not said which yet)"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


@contextmanager
def _os_lock(duckdb_path: Path, claimant: Claimant) -> Iterator[IO[str]]:
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    handle = os_lock_path(duckdb_path).open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os_lock_holder(duckdb_path) or "another `outreach` process (it has not said which yet)"
            raise RunLockedError(
                f"the warehouse is busy: {holder} holds its run lock ({os_lock_path(duckdb_path)}); wait for it "
                "to finish (this lock ends with its process)"
            ) from None
        try:
            yield handle
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _write_holder(handle: IO[str], holder: LockHolder) -> None:
    handle.seek(0)
    handle.truncate(0)
    handle.write(json.dumps({"holder": holder.describe()}))
    handle.flush()


def busy_file_error(error: Exception, duckdb_path: Path) -> Exception:
    """DuckDB's refusal to open a file another process has open, as one line naming that process
    (and the `outreach` run holding the lock, when one does); any other error as it was."""
    pid = duckdb_conflict_pid(error)
    if pid is None:
        return error
    holder = os_lock_holder(duckdb_path)
    running = f": {holder}" if holder else ""
    return RunLockedError(
        f"the warehouse is busy: DuckDB file {duckdb_path} is open in process {pid}{running} (DuckDB allows one "
        "writing process, and no reader beside it); wait for it to finish or close it"
    )


@contextmanager
def holding_run_lock(
    destination: WarehouseLike, claimant: Claimant, max_age: timedelta | None = None
) -> Iterator[Acquired]:
    """Holds the warehouse's run lock for the block. Released on normal exit and on error; a
    killed run's lock is stale (`stale_reason`) and the next run takes it over."""
    target = as_target(destination)
    age_limit = max_age if max_age is not None else max_age_from_env()
    if target.kind != DUCKDB:
        with connect(target) as warehouse:
            acquired = acquire_run_lock(warehouse, claimant, age_limit)
        yield from _held(target, acquired)
        return
    assert target.duckdb_path is not None
    with _os_lock(target.duckdb_path, claimant) as handle:
        with connect(target) as warehouse:
            acquired = acquire_run_lock(warehouse, claimant, age_limit, holder_known_gone=True)
        _write_holder(handle, acquired.holder)
        yield from _held(target, acquired)


def _held(target: WarehouseTarget, acquired: Acquired) -> Iterator[Acquired]:
    kill_point("run_lock:acquired")  # tests: a run killed while it holds the lock
    try:
        yield acquired
    finally:
        with connect(target) as warehouse:
            release_run_lock(warehouse, acquired.holder.lock_id)


def unlock(destination: WarehouseLike) -> list[LockHolder]:
    """Clears the run lock (a killed run's, on a warehouse other hosts use). On DuckDB a live
    holder keeps it: its OS lock proves it is running."""
    target = as_target(destination)
    if target.kind == DUCKDB:
        assert target.duckdb_path is not None
        with _os_lock(target.duckdb_path, Claimant("unlock")), connect(target) as warehouse:
            return clear_run_lock(warehouse) if warehouse.table_exists(OPS_SCHEMA, "run_lock") else []
    with connect(target) as warehouse:
        return clear_run_lock(warehouse) if warehouse.table_exists(OPS_SCHEMA, "run_lock") else []


def _naive_utc(moment: Any) -> datetime:
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment  # type: ignore[no-any-return]
