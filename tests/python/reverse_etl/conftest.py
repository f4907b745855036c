"""Fixtures of the reverse-ETL tests: a copy of the demo warehouse, relabelled as built from live data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.python.cli_runner import PipelineRun
from tests.python.gate_support import relabel_as_live
from warehouse_layer import connect


@pytest.fixture
def sample_warehouse(demo_run: PipelineRun, tmp_path: Path) -> Path:
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


@pytest.fixture
def warehouse(sample_warehouse: Path) -> Path:
    """The demo's warehouse, relabelled as built from live data with its events just polled: the
    fakes stand in for the vendors."""
    with connect(sample_warehouse) as warehouse:
        relabel_as_live(warehouse)
    return sample_warehouse
