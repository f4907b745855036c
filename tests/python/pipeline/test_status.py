"""The control room (issue 15): `pipeline_ops.run_log` (a row per stage run, `running` first) and
`outreach status` (text and --json, exit codes), through the real CLI on copies of the demo
warehouse: cheap stages only (a dry-run sync, a failing ingest, a killed build)."""

from __future__ import annotations

import json
import re
import shutil
import signal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.status import EXIT_NEEDS_PERSON, EXIT_OK, snapshot_path
from tests.python.cli_runner import PipelineRun, plan_id_in, run_outreach
from warehouse_layer import WarehouseTarget, connect
from warehouse_layer.fault_injection import KILL_AT_ENV
from warehouse_layer.run_lock import Claimant, current_holders, holding_run_lock

RUN_FIELDS = {
    "run_id",
    "command",
    "status",
    "started_at",
    "finished_at",
    "rows_in",
    "rows_out",
    "rejections",
    "requests_sent",
    "plan_id",
    "message",
}
REPORT_FIELDS = {
    "shape_version",
    "mode",
    "pipeline_mode",
    "target",
    "source_mode",
    "as_of",
    "read_from",
    "running",
    "note",
    "stages",
    "run_lock",
    "warnings",
    "needs_person",
    "exit_code",
}


@pytest.fixture
def warehouse_copy(demo_run: PipelineRun, tmp_path: Path) -> Path:
    """The demo warehouse file alone (no saved status report beside it)."""
    return Path(shutil.copyfile(demo_run.duckdb_path, tmp_path / "outreach.duckdb"))


def status_json(path: Path, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    run = run_outreach(path, "status", "--json", env=env)
    assert run.stderr.strip() == "", run.stderr
    return run.returncode, json.loads(run.stdout)


def last_runs_in_sql(path: Path) -> dict[str, dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        cursor = connection.execute(
            "select stage, run_id, command, status, rows_in, rows_out, rejections, requests_sent, plan_id, message "
            "from pipeline_ops.run_log qualify row_number() over (partition by stage order by started_at desc) = 1"
        )
        columns = [column[0] for column in cursor.description]
        return {row[0]: dict(zip(columns[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def test_run_all_logs_each_stage_with_the_figures_it_printed(demo_run: PipelineRun, demo_db: Any) -> None:
    rows = demo_db.execute(
        "select stage, status, finished_at is not null, rows_out, rejections, requests_sent, plan_id "
        "from pipeline_ops.run_log where command = 'run-all' order by started_at"
    ).fetchall()
    assert [(stage, status, finished) for stage, status, finished, *_ in rows] == [
        (stage, "succeeded", True) for stage in ("ingest", "build", "enrich", "build", "sync", "summary")
    ]
    ingest, sync = rows[0], rows[4]
    loaded = re.findall(r"^\[ingest\] .*?: (\d+) rows loaded, (\d+) rejected", demo_run.stdout, re.MULTILINE)
    assert loaded, demo_run.stdout
    assert ingest[3:6] == (sum(int(rows) for rows, _ in loaded), sum(int(bad) for _, bad in loaded), 0)
    assert sync[6] == plan_id_in(demo_run), "the plan the dry run printed"
    assert demo_db.execute(
        "select count(*) from pipeline_ops.run_log where stage = 'sync' and rows_in = "
        "(select count(*) from reverse_etl.sync_plan_rows where plan_id = ?)",
        [sync[6]],
    ).fetchone() == (1,)


def test_status_reports_the_run_log_and_the_row_counts_as_sql_reads_them(warehouse_copy: Path) -> None:
    dry_run = run_outreach(warehouse_copy, "sync")
    plan_id = plan_id_in(dry_run)

    code, report = status_json(warehouse_copy)

    assert code == EXIT_OK and report["exit_code"] == EXIT_OK and report["needs_person"] is False
    assert set(report) == REPORT_FIELDS and report["shape_version"] == 1
    assert (report["mode"], report["pipeline_mode"], report["read_from"]) == ("dry run", "dry_run", "warehouse")
    assert str(warehouse_copy) in report["target"] and report["run_lock"] is None and report["running"] is None
    stages = {stage["stage"]: stage["last_run"] for stage in report["stages"]}
    assert list(stages)[:5] == ["ingest", "build", "enrich", "sync", "summary"]
    in_sql = last_runs_in_sql(warehouse_copy)
    assert set(stages) == set(in_sql)
    for stage, run in stages.items():
        assert set(run) == RUN_FIELDS
        assert {key: run[key] for key in in_sql[stage]} == in_sql[stage], stage
    assert (stages["sync"]["command"], stages["sync"]["plan_id"]) == ("sync", plan_id)
    with duckdb.connect(str(warehouse_copy), read_only=True) as connection:
        quarantined = dict(
            connection.execute(
                "select 'clean.' || table_name, 0 from information_schema.tables "
                "where table_schema = 'clean' and table_name like '%_quarantine'"
            ).fetchall()
        )
        for table in quarantined:
            quarantined[table] = connection.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
    noted = {
        re.match(r"(\S+): (\d+) rows quarantined", warning["message"]).groups()  # type: ignore[union-attr]
        for warning in report["warnings"]
        if warning["check"] == "quarantine"
    }
    assert noted == {(table, str(count)) for table, count in quarantined.items() if count}
    assert all(not warning["needs_person"] for warning in report["warnings"])

    text = run_outreach(warehouse_copy, "status")
    assert text.returncode == EXIT_OK
    assert text.stdout.startswith("mode: dry run (PIPELINE_MODE=dry_run); source mode: sample\n")
    assert re.search(rf"^  sync +succeeded .*\(`outreach sync`\); rows in \d+, .*plan {plan_id}$", text.stdout, re.M)
    assert text.stdout.rstrip().endswith("nothing needs a person (exit 0)")


def test_a_failed_refused_or_killed_stage_and_unconfirmed_sends_need_a_person(warehouse_copy: Path) -> None:
    failed = run_outreach(warehouse_copy, "ingest", env={"OUTREACH_SAMPLE_DATA_DIR": str(warehouse_copy.parent / "no")})
    refused = run_outreach(warehouse_copy, "sync", env={"PIPELINE_MODE": "production"})  # no --plan
    killed = run_outreach(warehouse_copy, "build", env={KILL_AT_ENV: "run_log:started"})
    assert (failed.returncode, refused.returncode, killed.returncode) == (1, 3, -signal.SIGKILL)  # failed, refused
    with duckdb.connect(str(warehouse_copy)) as connection:
        connection.execute(
            "insert into reverse_etl.sync_ledger (destination, record_key, status, attempts, updated_at) "
            "values ('smartlead_leads', 'someone@example.com', 'unconfirmed', 1, now())"
        )
    in_sql = last_runs_in_sql(warehouse_copy)
    assert (in_sql["ingest"]["status"], in_sql["sync"]["status"], in_sql["build"]["status"]) == (
        "failed",
        "refused",
        "running",  # killed: never finished
    )
    assert "no sample data found" in in_sql["ingest"]["message"]

    code, report = status_json(warehouse_copy)

    assert code == EXIT_NEEDS_PERSON and report["needs_person"] is True
    stages = {stage["stage"]: stage["last_run"] for stage in report["stages"]}
    assert (stages["ingest"]["status"], stages["sync"]["status"], stages["build"]["status"]) == (
        "failed",
        "refused",
        "interrupted",  # `running`, and nobody holds the run lock
    )
    assert stages["build"]["finished_at"] is None
    needs_person = {
        (warning["check"], warning["message"].split(":")[0])
        for warning in report["warnings"]
        if warning["needs_person"]
    }
    assert {
        ("last_run", "ingest"),
        ("last_run", "sync"),
        ("last_run", "build"),
        ("unconfirmed_sends", "smartlead_leads"),
    } <= needs_person
    text = run_outreach(warehouse_copy, "status")
    assert text.returncode == EXIT_NEEDS_PERSON and "Traceback" not in text.stderr
    assert "NEEDS A PERSON: build: last run interrupted (`outreach build`" in text.stdout
    assert "NEEDS A PERSON: smartlead_leads: 1 rows unconfirmed in the sync ledger" in text.stdout
    assert text.stdout.rstrip().endswith("need a person (exit 1)")


def test_status_while_a_stage_holds_the_duckdb_file_shows_the_last_saved_report(warehouse_copy: Path) -> None:
    target = WarehouseTarget.duckdb_file(warehouse_copy)
    with holding_run_lock(target, Claimant("build", host="etl-1")):
        unsaved = run_outreach(warehouse_copy, "status")
    assert unsaved.returncode == EXIT_OK and "Traceback" not in unsaved.stderr
    assert "pipeline running (`outreach build` (host etl-1, pid" in unsaved.stdout
    assert "no status saved yet" in unsaved.stdout

    plan_id = plan_id_in(run_outreach(warehouse_copy, "sync"))  # saves the report at its end
    assert snapshot_path(warehouse_copy).exists()
    with holding_run_lock(target, Claimant("build", host="etl-1")) as held:
        code, report = status_json(warehouse_copy)
        text = run_outreach(warehouse_copy, "status")
        with connect(target) as warehouse:  # status did not touch the lock
            assert [holder.lock_id for holder in current_holders(warehouse)] == [held.holder.lock_id]

    assert code == EXIT_OK and report["read_from"] == "saved"
    assert report["running"].startswith("`outreach build` (host etl-1, pid")
    stages = {stage["stage"]: stage["last_run"] for stage in report["stages"]}
    assert stages["sync"]["status"] == "succeeded" and stages["sync"]["plan_id"] == plan_id
    assert report["run_lock"] is None, "the saving command's own lock is not reported"
    first_lines = text.stdout.splitlines()[:3]
    assert any(
        line.startswith("pipeline running (`outreach build` (host etl-1") and line.endswith("status as of the last run")
        for line in first_lines
    ), text.stdout


def test_status_on_a_new_or_empty_warehouse_says_so(tmp_path: Path) -> None:
    missing = run_outreach(tmp_path / "new" / "outreach.duckdb", "status")
    assert missing.returncode == EXIT_OK and "Traceback" not in missing.stderr
    assert "new warehouse: nothing has run yet" in missing.stdout
    assert not (tmp_path / "new" / "outreach.duckdb").exists(), "status creates nothing"

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    code, report = status_json(empty)
    assert code == EXIT_OK and report["read_from"] == "warehouse" and report["warnings"] == []
    assert [stage["last_run"] for stage in report["stages"]] == [None] * 5
