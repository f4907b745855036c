"""A runner setting that cannot be read is one line naming it, never a traceback, and no stage runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.python.cli_runner import run_outreach


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OUTREACH_EVENTS_MAX_AGE_HOURS", "a day"),
        ("OUTREACH_EVENTS_MAX_AGE_HOURS", "nan"),
        ("OUTREACH_EVENTS_MAX_AGE_HOURS", "-3"),
        ("OUTREACH_SOURCE_MODE", "production"),
    ],
)
def test_a_bad_runner_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str) -> None:
    duckdb_path = tmp_path / "outreach.duckdb"
    run = run_outreach(duckdb_path, "summary", env={variable: value})
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and variable in lines[0], run.stderr
    assert not duckdb_path.exists()  # nothing ran
