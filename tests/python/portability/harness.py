"""Builds the dbt project on a fakesnow server and on a DuckDB copy of the same RAW data.

Shared by every portability test through the session fixture `builds` (conftest.py), so the
server starts and the project builds once per test run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .copy_raw import connect, copy_duckdb_file, copy_raw_schema
from .fakesnow_server import fakesnow_server, fresh_database_name

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
DBT_TIMEOUT_SECONDS = 600
OUTPUT_TAIL_LINES = 60


@dataclass
class DbtRun:
    args: list[str]
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-OUTPUT_TAIL_LINES:])
        return f"`dbt {' '.join(self.args)}` exited with {self.returncode}; last lines:\n{tail}"


@dataclass
class WarehouseBuild:
    name: str
    runs: list[DbtRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(run.ok for run in self.runs)

    def failure(self) -> str:
        failed = next((run for run in self.runs if not run.ok), None)
        return failed.describe() if failed else f"no dbt run on {self.name}"


def run_dbt(args: list[str], env_overrides: dict[str, str]) -> DbtRun:
    env = {**os.environ, **env_overrides}
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [str(DBT_EXECUTABLE), *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=DBT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.output if isinstance(exc.output, str) else (exc.output or b"").decode(errors="replace")
        return DbtRun(args, -1, f"{output}\n<timed out after {DBT_TIMEOUT_SECONDS}s>", time.monotonic() - started)
    return DbtRun(args, completed.returncode, completed.stdout, time.monotonic() - started)


def seed_and_build(name: str, target: str, work_dir: Path, env_overrides: dict[str, str]) -> WarehouseBuild:
    """`dbt seed` then `dbt build` (unit tests excluded) with a private profiles dir, target and log path."""
    profiles_dir = work_dir / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    # profiles.yml.example is itself a template dbt renders (env_var(...)): copying it is rendering it.
    shutil.copyfile(PROJECT_DIR / "profiles.yml.example", profiles_dir / "profiles.yml")
    common = [
        "--target",
        target,
        "--profiles-dir",
        str(profiles_dir),
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--no-use-colors",
    ]
    env = {"DBT_TARGET": target, **env_overrides}
    build = WarehouseBuild(name)
    for command in (["seed"], ["build", "--exclude", "resource_type:unit_test"]):
        run = run_dbt([*command, *common], env)
        build.runs.append(run)
        if not run.ok:
            break
    return build


@dataclass
class Builds:
    port: int
    database: str
    work_dir: Path
    raw_rows: dict[str, int]
    fakesnow: WarehouseBuild
    duckdb: WarehouseBuild
    duckdb_path: Path
    snowflake_cursor: Any
    timings: dict[str, float]


@contextmanager
def build_both(raw_duckdb_path: Path, work: Path) -> Iterator[Builds]:
    """Build on fakesnow and (concurrently) on a DuckDB copy; the server lives until the context ends."""
    duckdb_path = copy_duckdb_file(raw_duckdb_path, work / "duckdb_build.duckdb")
    timings: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        duckdb_future = pool.submit(
            seed_and_build, "duckdb", "duckdb", work / "duckdb", {"OUTREACH_DUCKDB_PATH": str(duckdb_path)}
        )
        with fakesnow_server(log_path=work / "fakesnow.log") as port:
            database = fresh_database_name()
            started = time.monotonic()
            raw_rows = copy_raw_schema(raw_duckdb_path, port, database)
            timings["copy_raw"] = time.monotonic() - started
            fakesnow_build = seed_and_build(
                "fakesnow",
                "fakesnow",
                work / "fakesnow",
                {"FAKESNOW_PORT": str(port), "FAKESNOW_DATABASE": database},
            )
            duckdb_build = duckdb_future.result()
            for build in (fakesnow_build, duckdb_build):
                for run in build.runs:
                    timings[f"{build.name} dbt {run.args[0]}"] = run.seconds
            with connect(port, database) as snowflake_connection:
                yield Builds(
                    port=port,
                    database=database,
                    work_dir=work,
                    raw_rows=raw_rows,
                    fakesnow=fakesnow_build,
                    duckdb=duckdb_build,
                    duckdb_path=duckdb_path,
                    snowflake_cursor=snowflake_connection.cursor(),
                    timings=timings,
                )
