"""Fixtures for the portability tests.

`raw_duckdb_path` is the seam: any DuckDB file with a `raw` schema works. By default it is a
private copy of the warehouse the whole pipeline produced on the bundled sample data (the
`demo_run` fixture), so both warehouses build from exactly the RAW data the demo uses;
PORTABILITY_RAW_DUCKDB points the tests at another file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.python.cli_runner import PipelineRun

from .copy_raw import copy_duckdb_file
from .harness import Builds, build_both


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


@pytest.fixture(scope="session")
def builds(raw_duckdb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """The project built on a fakesnow server and on DuckDB from the same RAW; the server lives
    until the test session ends (every portability module shares it)."""
    with build_both(raw_duckdb_path, tmp_path_factory.mktemp("portability")) as both:
        yield both
