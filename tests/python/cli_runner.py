"""Running the real `outreach` CLI from tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PipelineRun:
    duckdb_path: Path
    returncode: int
    stdout: str
    stderr: str


# dbt's unit tests check models on mocked inputs, the same in every warehouse: the session's demo
# run (tests/python/conftest.py) runs them all, every other build in the tests skips them
WITHOUT_UNIT_TESTS = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
# for a build that only sets a scene (a fixture's warehouse, a step before the check under test),
# not a build under test: the same models, without dbt's data tests (the demo run and the builds
# under test run them)
SETUP_BUILD = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test test"}


def run_outreach(
    duckdb_path: Path, *args: str, env: dict[str, str] | None = None, unit_tests: bool = False
) -> PipelineRun:
    """Runs the real CLI in a subprocess, exactly as `make demo` does."""
    # a PIPELINE_MODE from the developer's shell must never leak into a test run
    full_env = {key: value for key, value in os.environ.items() if key != "PIPELINE_MODE"}
    if unit_tests:
        full_env.pop("DBT_EXCLUDE_RESOURCE_TYPES", None)
    else:
        full_env.update(WITHOUT_UNIT_TESTS)
    full_env.update(env or {})
    completed = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "--duckdb", str(duckdb_path), *args],
        cwd=PROJECT_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    return PipelineRun(duckdb_path, completed.returncode, completed.stdout, completed.stderr)


PLAN_ID = re.compile(r"outreach sync --plan (\S+)")


def plan_id_in(run: PipelineRun) -> str:
    """The plan id a dry run prints."""
    found = PLAN_ID.findall(run.stdout)
    assert run.returncode == 0 and found, f"the dry run made no plan:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    return str(found[-1])


def make_plan(duckdb_path: Path, env: dict[str, str] | None = None) -> str:
    """A dry run in the production run's environment; returns its plan id."""
    return plan_id_in(run_outreach(duckdb_path, "sync", env={**(env or {}), "PIPELINE_MODE": "dry_run"}))


def sync_production(duckdb_path: Path, env: dict[str, str] | None = None) -> PipelineRun:
    """`outreach sync` as an operator goes live: a dry run makes the plan, production applies it."""
    env = {"PIPELINE_MODE": "production", **(env or {})}
    return run_outreach(duckdb_path, "sync", "--plan", make_plan(duckdb_path, env), env=env)
