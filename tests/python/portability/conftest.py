"""Fixtures for the portability tests.

`raw_duckdb_path` is the seam: any DuckDB file with a `raw` schema works. By default it is a
private copy of the warehouse the whole pipeline produced on the bundled sample data (the
`demo_run` fixture), so both warehouses build from exactly the RAW data the demo uses;
PORTABILITY_RAW_DUCKDB points the tests at another file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.python.cli_runner import PipelineRun

from .copy_raw import copy_duckdb_file


@pytest.fixture(scope="session")
def raw_duckdb_path(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A DuckDB file whose `raw` schema holds the RAW tables (a private copy: the source is never modified)."""
    override = os.environ.get("PORTABILITY_RAW_DUCKDB")
    if override:
        source = Path(override)
        assert source.exists(), f"PORTABILITY_RAW_DUCKDB={source} does not exist"
    else:
        demo_run: PipelineRun = request.getfixturevalue("demo_run")
        source = demo_run.duckdb_path
    return copy_duckdb_file(source, tmp_path_factory.mktemp("raw") / "raw_input.duckdb")
