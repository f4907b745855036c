"""Reading the warehouse for the control room: read-only, one short connection per query.

DuckDB lets one process write a file, or any number read it, never both: a connection held open
by the app would stop the next `outreach` stage. So every query opens its own read-only
connection and closes it at once; while a stage writes, the open is retried briefly and then
reported as `WarehouseBusyError`, naming the run that holds the file (warehouse_layer/run_lock.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from warehouse_layer import DUCKDB, WarehouseError, WarehouseTarget, connect, resolve_target
from warehouse_layer.run_lock import RunLockedError, os_lock_holder

PROJECT_DIR = Path(__file__).resolve().parent.parent
# a stage's short write (a lock row, a ledger batch) ends within a second: wait that long, no more
DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_SECONDS = 0.2


class WarehouseBusyError(WarehouseError):
    """A pipeline stage has the DuckDB file open for writing: nothing can be read until it ends."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"pipeline running ({holder})")
        self.holder = holder


def active_target() -> WarehouseTarget:
    """The target `outreach` uses with the same environment: OUTREACH_DUCKDB_PATH (what `outreach
    ui --duckdb` passes on) and DBT_TARGET, rendered from the project's profiles.yml."""
    project_dir = Path(os.environ.get("OUTREACH_PROJECT_DIR") or PROJECT_DIR)
    duckdb_path = Path(os.environ.get("OUTREACH_DUCKDB_PATH") or project_dir / "warehouse" / "outreach.duckdb")
    if not duckdb_path.is_absolute():
        duckdb_path = project_dir / duckdb_path
    return resolve_target(project_dir, duckdb_path, os.environ.get("DBT_TARGET") or None)


@dataclass(frozen=True)
class WarehouseReader:
    target: WarehouseTarget
    attempts: int = DEFAULT_ATTEMPTS
    retry_seconds: float = DEFAULT_RETRY_SECONDS
    sleep: Callable[[float], None] = time.sleep  # injectable: tests do not wait

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """The result of one `select`, columns lower case (as on every warehouse)."""
        for attempt in range(1, self.attempts + 1):
            try:
                with connect(self.target, read_only=True) as warehouse:
                    rows = warehouse.execute(sql, list(params))
                    columns = warehouse._columns()  # kept even when no row came back
                return pd.DataFrame(rows, columns=columns)
            except RunLockedError:  # a stage writes the DuckDB file right now
                if attempt == self.attempts:
                    raise WarehouseBusyError(self.lock_holder()) from None
                self.sleep(self.retry_seconds * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def lock_holder(self) -> str:
        """Who writes the warehouse, from the run lock's file beside a DuckDB warehouse."""
        if self.target.kind == DUCKDB and self.target.duckdb_path is not None:
            holder = os_lock_holder(self.target.duckdb_path)
            if holder:
                return holder
        return "another process has the warehouse file open for writing"
