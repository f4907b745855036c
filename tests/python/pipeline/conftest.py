"""dbt's manifest of the project, parsed once for every test that reads it (no warehouse needed)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).with_name("dbt"))


def _parse(target: Path) -> None:
    env = {**os.environ, "DBT_TARGET": "duckdb", "OUTREACH_DUCKDB_PATH": str(target / "unused.duckdb")}
    if not (PROJECT_DIR / "profiles.yml").exists():
        env["DBT_PROFILES_DIR"] = str(target)
        (target / "profiles.yml").write_text((PROJECT_DIR / "profiles.yml.example").read_text())
    completed = subprocess.run(
        [DBT, "parse", "--target-path", str(target), "--log-path", str(target), "--no-partial-parse"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    if worker_id == "master":  # not distributed
        target = tmp_path_factory.mktemp("dbt_parse")
        _parse(target)
        return dict(json.loads((target / "manifest.json").read_text()))
    # one parse (about 9 s) for every xdist worker of this session: the first parses, the others wait
    target = tmp_path_factory.getbasetemp().parent / "dbt_parse_shared"
    target.mkdir(exist_ok=True)
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "manifest.json").exists():
            _parse(target)
    return dict(json.loads((target / "manifest.json").read_text()))
