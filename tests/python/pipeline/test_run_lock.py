"""One `outreach` stage at a time per warehouse (issue 14): the run lock, its holder in every
refusal, stale locks of killed runs taken over, and DuckDB's one-writer rule as a one-line error."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import EXIT_BUSY
from tests.python.cli_runner import run_outreach
from warehouse_layer import WarehouseTarget, connect
from warehouse_layer.fault_injection import KILL_AT_ENV
from warehouse_layer.run_lock import (
    Claimant,
    RunLockedError,
    acquire_run_lock,
    current_holders,
    holding_run_lock,
    release_run_lock,
)

T0 = datetime(2026, 12, 8, 9, 0, 0)
MAX_AGE = timedelta(hours=24)


def claimant(stage: str, *, host: str = "etl-1", pid: int = 100, at: datetime = T0, alive: bool = True) -> Claimant:
    return Claimant(stage, host=host, pid=pid, now=lambda: at, is_alive=lambda _pid: alive)


@pytest.fixture
def warehouse_file(tmp_path: Path) -> WarehouseTarget:
    return WarehouseTarget.duckdb_file(tmp_path / "outreach.duckdb")


def test_a_held_lock_refuses_a_second_run_naming_its_holder_until_released(warehouse_file: WarehouseTarget) -> None:
    with connect(warehouse_file) as warehouse:
        first = acquire_run_lock(warehouse, claimant("ingest"), MAX_AGE)
        with pytest.raises(RunLockedError) as refused:
            acquire_run_lock(warehouse, claimant("build", pid=200), MAX_AGE)
        assert str(refused.value) == (
            "the warehouse is busy: `outreach ingest` (host etl-1, pid 100, since 2026-12-08 09:00:00 UTC) holds "
            "its run lock; wait for it to finish, or, if that process is gone, clear its lock with `outreach unlock`"
        )
        release_run_lock(warehouse, "not-mine")  # only its holder releases a lock
        assert [holder.pid for holder in current_holders(warehouse)] == [100]
        release_run_lock(warehouse, first.holder.lock_id)
        assert acquire_run_lock(warehouse, claimant("build", pid=200), MAX_AGE).taken_over is None


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (claimant("build", pid=200, alive=False), "its process is gone"),  # same host, pid dead
        (claimant("build", host="etl-2", at=T0 + timedelta(hours=25)), "older than OUTREACH_RUN_LOCK_MAX_AGE_HOURS=24"),
    ],
)
def test_a_stale_lock_is_taken_over_and_said_so(warehouse_file: WarehouseTarget, second: Claimant, reason: str) -> None:
    with connect(warehouse_file) as warehouse:
        acquire_run_lock(warehouse, claimant("ingest"), MAX_AGE)
        acquired = acquire_run_lock(warehouse, second, MAX_AGE)
        assert acquired.taken_over is not None and acquired.takeover_reason == reason
        assert [holder.stage for holder in current_holders(warehouse)] == ["build"]


def test_a_live_holder_on_another_host_is_not_stale_before_the_max_age(warehouse_file: WarehouseTarget) -> None:
    with connect(warehouse_file) as warehouse:
        acquire_run_lock(warehouse, claimant("ingest"), MAX_AGE)
        # its pid means nothing here: another host's process cannot be checked
        with pytest.raises(RunLockedError, match="host etl-1, pid 100"):
            acquire_run_lock(
                warehouse, claimant("build", host="etl-2", alive=False, at=T0 + timedelta(hours=23)), MAX_AGE
            )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_a_second_command_on_a_busy_warehouse_exits_busy_with_one_line_naming_the_holder(
    warehouse_file: WarehouseTarget,
) -> None:
    assert warehouse_file.duckdb_path is not None
    with holding_run_lock(warehouse_file, Claimant("ingest", host="etl-1")):
        busy = run_outreach(warehouse_file.duckdb_path, "ingest")
    assert busy.returncode == EXIT_BUSY
    line = one_error_line(busy.stderr)
    assert line.startswith("error: the warehouse is busy: `outreach ingest` (host etl-1, pid ") and "since" in line
    with connect(warehouse_file) as warehouse:
        assert current_holders(warehouse) == [], "released on leaving the block"


def test_a_duckdb_file_open_in_another_process_is_named_also_for_the_read_only_summary(tmp_path: Path) -> None:
    path = tmp_path / "outreach.duckdb"
    with duckdb.connect(str(path)):  # this test process has the file open for writing
        for command in ("ingest", "summary"):
            busy = run_outreach(path, command)
            assert busy.returncode == EXIT_BUSY, busy.stderr
            line = one_error_line(busy.stderr)
            assert f"DuckDB file {path} is open in process " in line and "wait for it to finish" in line


def test_a_run_killed_holding_the_lock_leaves_it_stale_the_next_takes_it_over_and_releases_it_on_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outreach.duckdb"
    env = {"OUTREACH_SAMPLE_DATA_DIR": str(tmp_path / "no_sample_data")}  # the stage fails at once
    killed = run_outreach(path, "ingest", env={**env, KILL_AT_ENV: "run_lock:acquired"})
    assert killed.returncode == -signal.SIGKILL
    with connect(path) as warehouse:
        [left] = current_holders(warehouse)
    assert left.stage == "ingest"

    failed = run_outreach(path, "ingest", env=env)

    assert failed.returncode == 1 and "no sample data found" in one_error_line(failed.stderr)
    assert f"took over the stale lock of `outreach ingest` (host {left.host}, pid {left.pid}," in failed.stdout
    with connect(path) as warehouse:
        assert current_holders(warehouse) == [], "released on error"
