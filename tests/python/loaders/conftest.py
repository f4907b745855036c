"""Fixtures for the loader tests: a real DuckDB file and dlt pipelines dir per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
# The editable install only maps packages that existed when it was made; make sure the
# repository's `loaders` package is importable even if it was installed before `loaders/`.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from loader_test_support import FIXTURES, Warehouse  # noqa: E402


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    yield Warehouse(tmp_path / "warehouse" / "outreach.duckdb", tmp_path / "dlt_pipelines")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
