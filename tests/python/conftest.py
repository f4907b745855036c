"""Shared fixtures: the whole pipeline run once on the bundled sample data, into a temp DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.python.cli_runner import PipelineRun, run_outreach
from tests.python.fakes.destinations import Destinations, running_destinations


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    duckdb_path = tmp_path_factory.mktemp("demo") / "outreach.duckdb"
    run = run_outreach(duckdb_path, "run-all")
    assert run.returncode == 0, f"run-all failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    return run


@pytest.fixture
def demo_db(demo_run: PipelineRun) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(demo_run.duckdb_path), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def destinations() -> Iterator[Destinations]:
    with running_destinations() as running:
        yield running
