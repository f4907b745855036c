"""Fixtures of the reverse-ETL tests: a copy of the demo warehouse, relabelled as built from live data."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.python.cli_runner import PipelineRun


@pytest.fixture
def sample_warehouse(demo_run: PipelineRun, tmp_path: Path) -> Path:
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


@pytest.fixture
def warehouse(sample_warehouse: Path) -> Path:
    """The demo's warehouse, relabelled as built from live data: the fakes stand in for the vendors."""
    with duckdb.connect(str(sample_warehouse)) as connection:
        connection.execute("update pipeline_ops.source_modes set source_mode = 'live'")
    return sample_warehouse
