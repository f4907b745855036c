"""Runs dbt as a subprocess against the configured target and summarizes run_results.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import Settings


class DbtFailedError(RuntimeError):
    """dbt reported errors or failing tests."""


@dataclass(frozen=True)
class DbtSummary:
    command: str
    statuses: dict[str, int]
    seconds: float

    def __str__(self) -> str:
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


def run_dbt(settings: Settings, *args: str) -> DbtSummary:
    profiles_dir = ensure_profiles(settings.project_dir)
    env = dict(os.environ)
    env["OUTREACH_DUCKDB_PATH"] = str(settings.duckdb_path)
    command = [dbt_executable(), *args, "--profiles-dir", str(profiles_dir)]
    completed = subprocess.run(command, cwd=settings.project_dir, env=env, capture_output=True, text=True, check=False)
    summary = _read_run_results(settings.project_dir / "target" / "run_results.json", args[0])
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-40:])
        raise DbtFailedError(f"`dbt {' '.join(args)}` failed ({summary}):\n{tail}")
    return summary


def _read_run_results(path: Path, command: str) -> DbtSummary:
    if not path.exists():
        return DbtSummary(command=command, statuses={}, seconds=0.0)
    results = json.loads(path.read_text())
    statuses: dict[str, int] = {}
    for result in results.get("results", []):
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return DbtSummary(command=command, statuses=statuses, seconds=float(results.get("elapsed_time", 0.0)))
