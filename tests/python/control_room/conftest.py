"""The control room's tests read a copy of the session's demo warehouse (never rebuilt here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests.python.cli_runner import PROJECT_DIR, PipelineRun

APP = PROJECT_DIR / "control_room" / "app.py"


@pytest.fixture(scope="module")
def ui_warehouse(demo_run: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo warehouse: the app must only read it, and a test may lock it."""
    copy = tmp_path_factory.mktemp("control_room") / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


@pytest.fixture
def ui_env(ui_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment `outreach ui` gives the app (control_room/launch.py)."""
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(ui_warehouse))
    monkeypatch.setenv("OUTREACH_PROJECT_DIR", str(PROJECT_DIR))
    monkeypatch.delenv("DBT_TARGET", raising=False)
    monkeypatch.delenv("PIPELINE_MODE", raising=False)
    monkeypatch.delenv("OUTREACH_UI_PASSWORD", raising=False)
    return ui_warehouse


@pytest.fixture
def model(ui_warehouse: Path) -> Callable[..., pd.DataFrame]:
    """The models, read directly: what every figure the app shows must equal. A connection per
    query: one held open beside the app's (another configuration) would refuse the app's."""

    def read(sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with duckdb.connect(str(ui_warehouse), read_only=True) as connection:
            return connection.execute(sql, list(params)).df()

    return read


HOLD_THE_WAREHOUSE = """
import sys
from warehouse_layer import WarehouseTarget, connect
from warehouse_layer.run_lock import Claimant, holding_run_lock
target = WarehouseTarget.duckdb_file(sys.argv[1])
with holding_run_lock(target, Claimant("build")), connect(target) as warehouse:
    print("holding", flush=True)
    sys.stdin.read()
"""


@contextmanager
def stage_holding(warehouse: Path) -> Iterator[None]:
    """A stage that holds the run lock and has the DuckDB file open for writing, as `outreach build` does."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WAREHOUSE, str(warehouse)],
        cwd=PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as stage:
        assert stage.stdout is not None and stage.stdout.readline().strip() == "holding"
        try:
            yield
        finally:
            assert stage.stdin is not None
            stage.stdin.close()
            stage.wait(timeout=30)
