"""Shared fixtures: the whole pipeline run once on the bundled sample data, into a temp DuckDB file.

The suite runs on every core (pytest-xdist): each worker gets its own dbt target path (its
artifacts and partial parse are its own), the demo warehouse is built once for all workers and
copied to each, and the tests of one module (all portability modules: they share one fakesnow
build) stay on one worker so a module's fixtures are built once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.python.cli_runner import PipelineRun, run_outreach
from tests.python.fakes.destinations import Destinations, running_destinations

PORTABILITY_TESTS = "tests/python/portability/"


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # relative to the project: dbt's artifacts of this worker only (git-ignored with target/)
    os.environ["DBT_TARGET_PATH"] = f"target/pytest-{worker}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for `--dist loadgroup`: one per module, one for every portability module."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        group = "portability" if module.startswith(PORTABILITY_TESTS) else module
        item.add_marker(pytest.mark.xdist_group(group))


DEMO_RUN_RESULTS = "dbt_run_results.json"  # beside the demo warehouse: its last build's results


def _run_all(warehouse_dir: Path) -> PipelineRun:
    """`make demo`: the only run of the tests that runs dbt's unit tests."""
    run = run_outreach(warehouse_dir / "outreach.duckdb", "run-all", unit_tests=True)
    results = Path(__file__).resolve().parents[2] / os.environ["DBT_TARGET_PATH"] / "run_results.json"
    if results.exists():
        shutil.copyfile(results, warehouse_dir / DEMO_RUN_RESULTS)
    return run


def _shared_demo(shared_dir: Path) -> tuple[Path, int, str, str]:
    """The demo run of every worker: the first worker to get here builds it, the others wait."""
    shared_dir.mkdir(exist_ok=True)
    with (shared_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        outcome = shared_dir / "run.json"
        if not outcome.exists():
            run = _run_all(shared_dir / "warehouse")
            outcome.write_text(json.dumps({"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}))
        done = json.loads(outcome.read_text())
    return shared_dir / "warehouse", int(done["returncode"]), str(done["stdout"]), str(done["stderr"])


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> PipelineRun:
    if worker_id == "master":  # not distributed
        run = _run_all(tmp_path_factory.mktemp("demo"))
    else:
        built, returncode, stdout, stderr = _shared_demo(tmp_path_factory.getbasetemp().parent / "demo_shared")
        own = tmp_path_factory.mktemp("demo")
        # a copy per worker: a test may open the demo warehouse for writing (summary, copies)
        shutil.copytree(built, own, dirs_exist_ok=True, ignore=shutil.ignore_patterns("dlt_pipelines"))
        run = PipelineRun(own / "outreach.duckdb", returncode, stdout, stderr)
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
    with running_destinations() as destinations_running:
        yield destinations_running
