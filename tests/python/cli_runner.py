"""Running the real `outreach` CLI from tests."""

from __future__ import annotations

import os
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


def run_outreach(duckdb_path: Path, *args: str, env: dict[str, str] | None = None) -> PipelineRun:
    """Runs the real CLI in a subprocess, exactly as `make demo` does."""
    # a PIPELINE_MODE from the developer's shell must never leak into a test run
    full_env = {key: value for key, value in os.environ.items() if key != "PIPELINE_MODE"}
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
