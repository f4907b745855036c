"""The Python stages follow the active dbt target: with `DBT_TARGET=fakesnow` the enrichment work
list, the reverse ETL (preview, ledger, production sends) and the summary read and write the
Snowflake-compatible server through the same connection layer, and agree with DuckDB.

Uses the session's `builds` (the project built on fakesnow and on DuckDB from the same RAW).
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from pipeline.stages import apollo_work_list
from pipeline.status import collect_status
from tests.python.cli_runner import PROJECT_DIR, PipelineRun, run_outreach, sync_production
from tests.python.fakes.destinations import Destinations
from tests.python.gate_support import relabel_as_live
from warehouse_layer import (
    DUCKDB,
    SNOWFLAKE,
    Warehouse,
    WarehouseTarget,
    connect,
    record_stage_run,
    resolve_target,
)
from warehouse_layer.run_lock import (
    Claimant,
    RunLockedError,
    acquire_run_lock,
    current_holders,
    holding_run_lock,
    release_run_lock,
)
from warehouse_layer.run_log import (
    StageFigures,
    last_run_per_stage,
    record_busy_run,
    record_run_finished,
    record_run_started,
)

from .harness import Builds

SCRATCH_TABLE = "scratch.layer_check"
PREVIEW_COLUMNS = "destination, target, record_key, action, refusal_reason, payload_hash"


def fakesnow_env(builds: Builds) -> dict[str, str]:
    return {"DBT_TARGET": "fakesnow", "FAKESNOW_PORT": str(builds.port), "FAKESNOW_DATABASE": builds.database}


@pytest.fixture
def fakesnow_target(builds: Builds, monkeypatch: pytest.MonkeyPatch) -> WarehouseTarget:
    for name, value in fakesnow_env(builds).items():
        monkeypatch.setenv(name, value)
    target = resolve_target(PROJECT_DIR, builds.duckdb_path)
    assert target.kind == SNOWFLAKE
    return target


@pytest.fixture
def duckdb_copy(builds: Builds, tmp_path: Path) -> Path:
    """A private copy of the DuckDB build: these tests write ledgers and previews into it."""
    return Path(shutil.copyfile(builds.duckdb_path, tmp_path / "duckdb_build.duckdb"))


@pytest.fixture(params=[DUCKDB, SNOWFLAKE])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    target = (
        request.getfixturevalue("fakesnow_target")
        if request.param == SNOWFLAKE
        else WarehouseTarget.duckdb_file(tmp_path / "layer_check.duckdb")
    )
    with connect(target) as warehouse:
        warehouse.execute("create schema if not exists scratch")
        warehouse.execute(f"drop table if exists {SCRATCH_TABLE}")
        warehouse.execute(f"create table {SCRATCH_TABLE} (k varchar, n integer, seen_at timestamp, note varchar)")
        yield warehouse


def test_connection_layer_behaves_the_same_on_both(scratch: Warehouse) -> None:
    table = SCRATCH_TABLE
    moment = datetime(2026, 11, 23, 12, 30, 5)
    columns = ["k", "n", "seen_at", "note"]
    scratch.insert_rows(table, columns, [("a", 1, moment, None), ("b", 2, None, "x")])
    scratch.replace_rows(table, ["k"], columns, [("b", 20, moment, "changed"), ("c", 3, None, None)])
    # NULL-ness asked in SQL: fakesnow returns NULL timestamps as 1970-01-01 (see README.md)
    assert scratch.fetch_dicts(f"select k, n, seen_at is null as no_time, note from {table} order by k") == [
        {"k": "a", "n": 1, "no_time": False, "note": None},
        {"k": "b", "n": 20, "no_time": False, "note": "changed"},
        {"k": "c", "n": 3, "no_time": True, "note": None},
    ]
    assert scratch.execute(f"select seen_at from {table} where seen_at is not null") == [(moment,), (moment,)]
    # a failure inside a transaction leaves nothing behind
    with pytest.raises(RuntimeError), scratch.transaction():
        scratch.execute(f"delete from {table}")
        raise RuntimeError("boom")
    assert scratch.fetch_one(f"select count(*) from {table}") == (3,)
    assert scratch.table_exists("SCRATCH", "LAYER_CHECK")
    assert not scratch.table_exists("scratch", "no_such_table")


def _settings(duckdb_path: Path) -> Settings:
    return Settings.from_env(str(duckdb_path))


def test_enrichment_work_list_reads_the_active_target(
    builds: Builds, duckdb_copy: Path, fakesnow_target: WarehouseTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_fakesnow = _settings(duckdb_copy)
    assert on_fakesnow.warehouse.kind == SNOWFLAKE
    monkeypatch.setenv("DBT_TARGET", "duckdb")
    on_duckdb = _settings(duckdb_copy)
    assert on_duckdb.warehouse.kind == DUCKDB

    with connect(on_duckdb.warehouse) as warehouse:
        last_lookup = warehouse.fetch_one("select max(looked_up_at) from raw.apollo_lookups")
    assert last_lookup and last_lookup[0] is not None, "the demo's RAW holds Apollo lookups"
    soon_after = last_lookup[0] + timedelta(days=1)

    due_snowflake, skipped_snowflake = apollo_work_list(on_fakesnow, 30, soon_after)
    due_duckdb, skipped_duckdb = apollo_work_list(on_duckdb, 30, soon_after)
    assert skipped_snowflake > 0, "brands looked up a day ago are inside the TTL"
    assert (due_snowflake, skipped_snowflake) == (due_duckdb, skipped_duckdb)
    # past the TTL every brand on the list is due again, on both
    later = soon_after + timedelta(days=60)
    assert apollo_work_list(on_fakesnow, 30, later) == apollo_work_list(on_duckdb, 30, later)
    assert apollo_work_list(on_fakesnow, 30, later)[1] == 0


def _ok(run: PipelineRun) -> PipelineRun:
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def _preview(target: WarehouseTarget | Path) -> list[tuple[Any, ...]]:
    with connect(target) as warehouse:
        return warehouse.execute(f"select {PREVIEW_COLUMNS} from reverse_etl.sync_preview order by 1, 2, 3")


@contextmanager
def _suppressed_lead_injected(target: WarehouseTarget | Path) -> Iterator[None]:
    """An unsubscribed address slipped into sync_smartlead__leads, removed again afterwards (the
    fakesnow build is shared with the parity tests)."""
    with connect(target) as warehouse:
        unsubscribed = warehouse.fetch_one(
            "select min(suppression_key) from clean.stg_suppression__keys "
            "where key_type = 'email' and reason = 'unsubscribed'"
        )
        assert unsubscribed and unsubscribed[0], "sample data must contain an unsubscribed email"
        warehouse.execute(
            "insert into segmented.sync_smartlead__leads (campaign_id, brand_id, email, custom_brand_id) "
            "values (1001, 'injected-brand', ?, 'injected-brand')",
            [unsubscribed[0]],
        )
    try:
        yield
    finally:
        with connect(target) as warehouse:
            warehouse.execute("delete from segmented.sync_smartlead__leads where brand_id = 'injected-brand'")


def _summary_lines(run: PipelineRun) -> list[str]:
    """The summary's lines, the id and time of each warehouse's own latest plan masked."""
    return [
        re.sub(r"plan \S+, made [^;]+;", "plan ID, made TIME;", line)
        for line in run.stdout.splitlines()
        if not line.startswith("[summary]")
    ]


def test_reverse_etl_and_summary_run_on_the_active_target(
    builds: Builds, duckdb_copy: Path, fakesnow_target: WarehouseTarget, destinations: Destinations
) -> None:
    on_fakesnow = fakesnow_env(builds)

    # dry run: the same plan from both warehouses, written into each
    with _suppressed_lead_injected(fakesnow_target):  # refused at send time, whatever the model says
        _ok(run_outreach(duckdb_copy, "sync", env=on_fakesnow))
    with _suppressed_lead_injected(duckdb_copy):
        _ok(run_outreach(duckdb_copy, "sync", env={"DBT_TARGET": "duckdb"}))
    planned = _preview(fakesnow_target)
    assert planned and planned == _preview(duckdb_copy)
    assert {row[3] for row in planned} == {"add", "refuse"}
    assert [row[2:5] for row in planned if row[3] == "refuse"] == [
        ("injected-brand", "refuse", "email suppressed: unsubscribed")
    ]

    # the summary reads the same figures from either warehouse
    summaries = [
        _summary_lines(_ok(run_outreach(duckdb_copy, "summary", env=env)))
        for env in ({"DBT_TARGET": "duckdb"}, on_fakesnow)
    ]
    assert summaries[0] == summaries[1] and any("Reverse ETL" in line for line in summaries[0])

    # production: the ledger lives in the Snowflake warehouse
    with connect(fakesnow_target) as warehouse:
        now = datetime.now(UTC).replace(tzinfo=None)  # after the seeds were last edited
        relabel_as_live(warehouse, now)
        record_stage_run(warehouse, "load_raw", now)
        record_stage_run(warehouse, "build", now + timedelta(minutes=5))
    with _suppressed_lead_injected(fakesnow_target):
        _ok(sync_production(duckdb_copy, {**destinations.env, **on_fakesnow}))
    leads_to_add = [row for row in planned if row[0] == "smartlead_leads" and row[3] == "add"]
    campaigns = {row[1] for row in leads_to_add}
    assert destinations.smartlead.path_calls, "Smartlead was called"
    lead_calls = sum(count for path, count in destinations.smartlead.path_calls.items() if path.endswith("/leads"))
    batches = sum(math.ceil(sum(1 for row in leads_to_add if row[1] == campaign) / 100) for campaign in campaigns)
    assert lead_calls == batches
    with connect(fakesnow_target) as warehouse:
        sent = warehouse.execute(
            "select count(*) from reverse_etl.sync_ledger where destination = 'smartlead_leads' and status = 'sent'"
        )
        refused = warehouse.execute("select count(*) from reverse_etl.sync_ledger where status = 'refused'")
    assert sent == [(len(leads_to_add),)]
    assert refused == [(sum(1 for row in planned if row[3] == "refuse"),)]
    with connect(duckdb_copy) as warehouse:  # nothing went to the DuckDB file
        assert not warehouse.execute("select * from reverse_etl.sync_ledger where status = 'sent'")

    # a second production run finds everything in the Snowflake ledger: not one request
    calls_before = destinations.smartlead_calls() + destinations.hubspot.calls
    second = _ok(sync_production(duckdb_copy, {**destinations.env, **on_fakesnow}))
    assert destinations.smartlead_calls() + destinations.hubspot.calls == calls_before
    overview = second.stdout.split("PIPELINE_MODE=production:")[1].splitlines()[0]
    assert " add" not in overview and " change" not in overview and " retry" not in overview, overview


def test_moving_to_snowflake_with_the_ledger_sends_nothing_again(
    builds: Builds, duckdb_copy: Path, fakesnow_target: WarehouseTarget, destinations: Destinations
) -> None:
    on_fakesnow = fakesnow_env(builds)
    on_duckdb = {"DBT_TARGET": "duckdb"}
    with connect(duckdb_copy) as warehouse:  # the DuckDB warehouse went live and sent its leads
        relabel_as_live(warehouse)
    _ok(sync_production(duckdb_copy, {**destinations.env, **on_duckdb}))
    calls_from_duckdb = destinations.smartlead_calls()
    assert calls_from_duckdb > 0
    with connect(duckdb_copy) as warehouse:
        sent_from_duckdb = warehouse.execute("select count(*) from reverse_etl.sync_ledger where status = 'sent'")

    with connect(fakesnow_target) as warehouse:  # a fresh Snowflake warehouse, ready to go live
        warehouse.execute("drop table if exists reverse_etl.sync_ledger")
        now = datetime.now(UTC).replace(tzinfo=None)  # after the seeds were last edited
        relabel_as_live(warehouse, now)
        record_stage_run(warehouse, "load_raw", now)
        record_stage_run(warehouse, "build", now + timedelta(minutes=5))
    copied = _ok(run_outreach(duckdb_copy, "copy-ledger", "--from-duckdb", str(duckdb_copy), env=on_fakesnow))
    assert f"rows copied from {duckdb_copy}" in copied.stdout and "0 already there" in copied.stdout
    with connect(fakesnow_target) as warehouse:
        assert (
            warehouse.execute("select count(*) from reverse_etl.sync_ledger where status = 'sent'") == sent_from_duckdb
        )

    _ok(sync_production(duckdb_copy, {**destinations.env, **on_fakesnow}))
    assert destinations.smartlead_calls() == calls_from_duckdb, "nothing already sent is sent again"
    again = _ok(run_outreach(duckdb_copy, "copy-ledger", "--from-duckdb", str(duckdb_copy), env=on_fakesnow))
    assert " 0 rows copied" in again.stdout


def test_the_run_lock_holds_refuses_and_is_taken_over_on_the_snowflake_server(
    fakesnow_target: WarehouseTarget,
) -> None:
    """pipeline_ops.run_lock on Snowflake (no OS lock there: the row alone decides)."""
    day = timedelta(hours=24)
    with holding_run_lock(fakesnow_target, Claimant("ingest", host="etl-1")) as acquired:
        assert acquired.taken_over is None
        with (
            connect(fakesnow_target) as warehouse,
            pytest.raises(RunLockedError, match=r"`outreach ingest` \(host etl-1"),
        ):
            acquire_run_lock(warehouse, Claimant("build", host="etl-2"), day)
    with connect(fakesnow_target) as warehouse:
        assert current_holders(warehouse) == [], "released on leaving the block"
        acquire_run_lock(warehouse, Claimant("sync", host="etl-1", pid=1), day)  # then killed
        taken = acquire_run_lock(warehouse, Claimant("build", host="etl-1", is_alive=lambda _pid: False), day)
        assert taken.takeover_reason == "its process is gone"
        release_run_lock(warehouse, taken.holder.lock_id)
        assert current_holders(warehouse) == []


def test_the_run_log_and_status_work_on_the_snowflake_server(fakesnow_target: WarehouseTarget, tmp_path: Path) -> None:
    """pipeline_ops.run_log on Snowflake: `running` rows, finished ones with figures, a `busy`
    refusal (recorded there, never on DuckDB), and status telling a live run from a killed one."""
    check_the_run_log_and_status(fakesnow_target, Settings.from_env(str(tmp_path / "unused.duckdb")))


def check_the_run_log_and_status(target: WarehouseTarget, settings: Settings) -> None:
    assert settings.warehouse.kind == SNOWFLAKE
    at = datetime(2026, 12, 8, 9, 0, 0)
    with holding_run_lock(target, Claimant("enrich", host="etl-1")) as held:
        with connect(target) as warehouse:
            for run_id, stage, lock_id in (("run-a", "zz_done", held.holder.lock_id), ("run-b", "zz_live", None)):
                record_run_started(warehouse, run_id, "run-all", stage, at, host="etl-1", pid=1, lock_id=lock_id)
            record_run_started(
                warehouse,
                "run-c",
                "enrich",
                "zz_live",
                at + timedelta(minutes=1),
                host="etl-1",
                pid=2,
                lock_id=held.holder.lock_id,
            )
            record_run_started(warehouse, "run-d", "build", "zz_killed", at, host="etl-1", pid=3, lock_id="gone")
            figures = StageFigures(rows_in=5, rows_out=4, rejections=1, requests_sent=2, plan_id="plan-1")
            record_run_finished(warehouse, "run-a", "succeeded", at + timedelta(seconds=30), figures, "done")
            record_busy_run(warehouse, "run-e", "zz_busy", at, "the warehouse is busy", host="etl-2", pid=4)
            runs = {row.stage: row for row in last_run_per_stage(warehouse) if row.stage.startswith("zz_")}
        assert {stage: (row.run_id, row.status) for stage, row in runs.items()} == {
            "zz_done": ("run-a", "succeeded"),
            "zz_live": ("run-c", "running"),
            "zz_killed": ("run-d", "running"),
            "zz_busy": ("run-e", "busy"),
        }
        done = runs["zz_done"]
        assert (done.started_at, done.finished_at, done.message) == (at, at + timedelta(seconds=30), "done")
        assert (done.rows_in, done.rows_out, done.rejections, done.requests_sent, done.plan_id) == (
            5,
            4,
            1,
            2,
            "plan-1",
        )
        assert runs["zz_live"].finished_at is None

        report = collect_status(settings)  # read-only, beside the live holder

    assert report.read_from == "warehouse" and report.running is not None and "`outreach enrich`" in report.running
    statuses = {stage["stage"]: stage["last_run"]["status"] for stage in report.stages if stage["last_run"]}
    assert (statuses["zz_live"], statuses["zz_killed"], statuses["zz_busy"]) == ("running", "interrupted", "busy")
    assert any(warning.message.startswith("zz_killed: last run interrupted") for warning in report.warnings)
    with connect(target) as warehouse:
        warehouse.execute("delete from pipeline_ops.run_log where stage like 'zz_%'")
