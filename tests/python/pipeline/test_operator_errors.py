"""Errors an operator can act on: one line naming the file or setting, what is wrong and the fix,
and an exit code that says something failed. Each case stops before any dbt or dlt work, or
right after one small load."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loaders.common.http import resolve_secret
from pipeline import cli, require_supported_python
from pipeline.dbt_runner import DbtFailedError, run_dbt
from pipeline.settings import Settings
from tests.python.cli_runner import PROJECT_DIR, run_outreach
from warehouse_layer import duckdb_lock_holder

CLI = [sys.executable, "-m", "pipeline.cli"]


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def locked_warehouse(tmp_path: Path) -> Iterator[Path]:
    """A warehouse file another process holds open for writing (as a running `outreach` would)."""
    duckdb_path = tmp_path / "outreach.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute('create schema raw'); "
            "print('ready', flush=True); sys.stdin.read()",
            str(duckdb_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    try:
        yield duckdb_path
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("command", ["summary", "build", "ingest"])
def test_a_warehouse_in_use_by_another_process_is_one_line(locked_warehouse: Path, command: str) -> None:
    run = run_outreach(locked_warehouse, command)
    assert run.returncode == 75  # busy, not failed (README "Troubleshooting")
    line = _one_line(run.stderr)
    assert f"the warehouse is busy: DuckDB file {locked_warehouse} is open in process " in line
    assert "wait for it to finish" in line


def test_dbt_lock_errors_are_recognised() -> None:
    dbt_output = (
        '  IO Error: Could not set lock on file "/w/outreach.duckdb": Conflicting lock is held in '
        "/usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs/current/connect/concurrency"
    )
    assert duckdb_lock_holder(dbt_output) == "PID 4242, python3.11"
    assert duckdb_lock_holder("Catalog Error: Table with name x does not exist") is None


def test_a_failed_dbt_invocation_never_reports_the_previous_run_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a project folder where dbt stops at once (no dbt_project.yml), with an earlier run's results
    shutil.copyfile(PROJECT_DIR / "profiles.yml.example", tmp_path / "profiles.yml.example")
    (tmp_path / "target").mkdir()
    earlier = {"results": [{"status": "success", "unique_id": "model.x.y"}] * 7, "elapsed_time": 99.0}
    (tmp_path / "target" / "run_results.json").write_text(json.dumps(earlier))
    monkeypatch.setenv("OUTREACH_PROJECT_DIR", str(tmp_path))
    settings = Settings.from_env(str(tmp_path / "outreach.duckdb"))
    with pytest.raises(DbtFailedError) as failed:
        run_dbt(settings, "build")
    assert "success=7" not in str(failed.value) and "99.0s" not in str(failed.value)
    assert "no results (dbt stopped before running any node)" in str(failed.value)


def test_webhook_receiver_without_a_secret_is_one_line(tmp_path: Path) -> None:
    run = run_outreach(tmp_path / "outreach.duckdb", "webhook-receiver", env={"SMARTLEAD_WEBHOOK_SECRET": ""})
    assert run.returncode == 2
    assert "SMARTLEAD_WEBHOOK_SECRET" in _one_line(run.stderr)


def test_webhook_receiver_spools_where_ingest_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = tmp_path / "my_spool"
    env = {
        **os.environ,
        "SMARTLEAD_WEBHOOK_SECRET": "test-secret",
        "OUTREACH_WEBHOOK_SPOOL_DIR": str(spool),
    }
    receiver = subprocess.Popen(
        [*CLI, "--duckdb", str(tmp_path / "outreach.duckdb"), "webhook-receiver", "--port", "0"],
        cwd=PROJECT_DIR,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stderr is not None
        started = receiver.stderr.readline()
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
    assert f"spool {spool}" in started, started
    assert spool.is_dir()
    monkeypatch.setenv("OUTREACH_WEBHOOK_SPOOL_DIR", str(spool))
    assert Settings.from_env(str(tmp_path / "outreach.duckdb")).webhook_spool_dir == spool  # ingest's


def test_a_broken_secrets_file_is_named_not_reported_as_no_key(tmp_path: Path) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[sources.smartscout]\napi_key = "abc\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SOURCES__", "PIPELINE_MODE"))}
    env |= {"OUTREACH_SOURCE_MODE": "live", "PYTHONPATH": str(PROJECT_DIR)}
    completed = subprocess.run(  # the real CLI, run from a folder whose .dlt/secrets.toml is broken
        [*CLI, "--duckdb", str(tmp_path / "outreach.duckdb"), "ingest"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2  # a setting that cannot be read: nothing ran
    line = _one_line(completed.stderr)
    assert ".dlt/secrets.toml cannot be read (" in line and "line 2" in line and "fix its TOML syntax" in line
    assert "abc" not in line  # never a value
    assert not (tmp_path / "outreach.duckdb").exists()


def test_the_example_files_placeholders_are_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__SMARTSCOUT__API_KEY", "<smartscout-api-key>")
    assert resolve_secret("SOURCES__SMARTSCOUT__API_KEY") is None
    (tmp_path / ".dlt").mkdir()
    shutil.copyfile(PROJECT_DIR / ".dlt" / "secrets.toml.example", tmp_path / ".dlt" / "secrets.toml")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SOURCES__", "DESTINATION__"))}
    completed = subprocess.run(  # dlt reads .dlt/ of the working folder
        [
            sys.executable,
            "-c",
            "from loaders.common.http import resolve_secret as r; "
            "print(r('SOURCES__SMARTLEAD__API_KEY', 'sources.smartlead.api_key'), "
            "r('DESTINATION__HUBSPOT__ACCESS_TOKEN', 'destination.hubspot.access_token'))",
        ],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "None None"


def test_a_csv_export_of_which_no_row_can_be_read_fails_naming_it(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "garbage.csv").write_bytes(b"hello world\x00\x01garbage\n\xff\xfe")
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOURCES__")}
    env |= {"OUTREACH_SOURCE_MODE": "live", "OUTREACH_CSV_EXPORTS_DIR": str(exports)}
    run = run_outreach(tmp_path / "live" / "outreach.duckdb", "ingest", env=env)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    failed = [line for line in run.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 1, run.stdout
    assert f"{exports / 'garbage.csv'}: no brand row could be read (1 rejected: no header row" in failed[0]
    assert "Fix or remove the file" in failed[0]
    assert "smartscout export garbage.csv failed" in _one_line(run.stderr)


def test_another_python_is_one_line_from_the_entry_point() -> None:
    with pytest.raises(SystemExit) as exited:
        require_supported_python((3, 12, 1), "/usr/bin/python3.12")
    message = str(exited.value.code)
    assert "\n" not in message and "needs Python 3.11" in message and "Python 3.12.1 (/usr/bin/python3.12)" in message
    require_supported_python((3, 11, 7), "/usr/bin/python3.11")  # the pinned version passes


def test_help_does_not_call_run_alls_sync_a_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "sync (dry run)" not in help_text
    assert "PIPELINE_MODE=production refuses a sync without --plan" in help_text
