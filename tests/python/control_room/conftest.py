"""The control room's tests read a copy of the session's demo warehouse (never rebuilt here)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
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
