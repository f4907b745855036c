"""Runs dbt as a subprocess against the configured target and summarizes run_results.json.

When a build fails, the failing tests whose rows dbt stored (`store_failures`, e.g. the seed
configuration tests in tests/sql/seeds) are read back, so the error says what is wrong
("segment_thresholds: thresholds out of order: B (50) >= A (43)"), not only which test failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import Settings
from warehouse_layer import connect, duckdb_lock_holder, in_use_message

# stored failing rows printed per failing test: enough to see the problem, short enough to read
MAX_PROBLEMS_PER_TEST = 3


class DbtFailedError(RuntimeError):
    """dbt reported errors or failing tests."""


@dataclass(frozen=True)
class DbtSummary:
    command: str
    statuses: dict[str, int]
    seconds: float

    def __str__(self) -> str:
        if not self.statuses:
            return f"dbt {self.command}: no results (dbt stopped before running any node)"
        counts = ", ".join(f"{status}={count}" for status, count in sorted(self.statuses.items()))
        return f"dbt {self.command}: {counts} in {self.seconds:.1f}s"


def ensure_profiles(project_dir: Path) -> Path:
    """profiles.yml is git-ignored; create it from the example on a fresh clone."""
    profiles = project_dir / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(project_dir / "profiles.yml.example", profiles)
    return project_dir


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_target_path(project_dir: Path) -> Path:
    """Where dbt writes its artifacts: `target/`, or DBT_TARGET_PATH as dbt itself reads it."""
    return project_dir / os.environ.get("DBT_TARGET_PATH", "target")


def run_dbt(settings: Settings, *args: str) -> DbtSummary:
    profiles_dir = ensure_profiles(settings.project_dir)
    target_path = dbt_target_path(settings.project_dir)
    run_results = target_path / "run_results.json"
    # a failed start must never be reported with the previous invocation's results
    run_results.unlink(missing_ok=True)
    env = dict(os.environ)
    # dbt runs in the DuckDB file's folder and opens it by name: the profile dbt renders is then the
    # same for every warehouse file of that name, so its partial parsing (which a changed profile
    # invalidates) is kept across warehouses instead of re-parsing the whole project each time
    duckdb_path = settings.duckdb_path.resolve()
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    env["OUTREACH_DUCKDB_PATH"] = duckdb_path.name
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(settings.project_dir.resolve()),
        "--profiles-dir",
        str(profiles_dir.resolve()),
        "--target-path",
        str(target_path.resolve()),
        "--log-path",
        str((settings.project_dir / "logs").resolve()),
    ]
    completed = subprocess.run(command, cwd=duckdb_path.parent, env=env, capture_output=True, text=True, check=False)
    summary = _read_run_results(run_results, args[0])
    if completed.returncode != 0:
        output = completed.stdout + completed.stderr
        if (held_by := duckdb_lock_holder(output)) is not None:  # not 40 lines of dbt internals
            raise DbtFailedError(f"`dbt {args[0]}` did not run: {in_use_message(settings.duckdb_path, held_by)}")
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-40:])
        problems = describe_failed_tests(settings, failed_tests(run_results))
        raise DbtFailedError(f"`dbt {' '.join(args)}` failed ({summary}):\n{tail}{problems}")
    return summary


def _read_run_results(path: Path, command: str) -> DbtSummary:
    if not path.exists():  # dbt stopped before running anything
        return DbtSummary(command=command, statuses={}, seconds=0.0)
    results = json.loads(path.read_text())
    statuses: dict[str, int] = {}
    for result in results.get("results", []):
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return DbtSummary(command=command, statuses=statuses, seconds=float(results.get("elapsed_time", 0.0)))


@dataclass(frozen=True)
class FailedTest:
    name: str
    failing_rows: int | None
    # where dbt stored the failing rows (tests configured with store_failures), else None
    failures_relation: str | None


def failed_tests(run_results: Path) -> list[FailedTest]:
    """The tests of the last dbt invocation that found rows (status `fail`)."""
    if not run_results.exists():
        return []
    failed = []
    for result in json.loads(run_results.read_text()).get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith("test.") or result.get("status") != "fail":
            continue
        failed.append(
            FailedTest(
                # test.<project>.<name>[.<hash of a generic test's arguments>]
                name=unique_id.split(".")[2],
                failing_rows=result.get("failures"),
                failures_relation=result.get("relation_name"),
            )
        )
    return failed


def describe_failed_tests(settings: Settings, tests: list[FailedTest]) -> str:
    """Per failing test, the first stored failing rows: the `problem` column when the test has
    one, else every column. Empty when no test failed."""
    if not tests:
        return ""
    lines = ["", "Failing tests and what they found:"]
    for test in sorted(tests, key=lambda failed: failed.name):
        rows = f"{test.failing_rows} row{'' if test.failing_rows == 1 else 's'}" if test.failing_rows else "rows"
        if test.failures_relation is None:
            lines.append(f"  {test.name}: {rows} (not stored; `dbt test --select {test.name} --store-failures`)")
            continue
        lines.append(f"  {test.name}: {rows}")
        try:
            lines += [f"    {problem}" for problem in stored_problems(settings, test)]
        except Exception as exc:  # the dbt failure is the error: reading its details must not hide it
            lines.append(f"    (could not read {test.failures_relation}: {exc})")
    return "\n".join(lines)


def stored_problems(settings: Settings, test: FailedTest) -> list[str]:
    with connect(settings.warehouse, read_only=True) as warehouse:
        rows = warehouse.fetch_dicts(f"select * from {test.failures_relation} limit {MAX_PROBLEMS_PER_TEST + 1}")
    problems = [
        str(row["problem"]) if row.get("problem") is not None else ", ".join(f"{k}={v}" for k, v in row.items())
        for row in rows[:MAX_PROBLEMS_PER_TEST]
    ]
    if len(rows) > MAX_PROBLEMS_PER_TEST:
        problems.append(f"... (all of them: select * from {test.failures_relation})")
    return problems
