"""The Sync review page's runs, as Hightouch shows a sync run: per run and destination the rows
queried and the rows added / changed by accepted / rejected, each equal to SQL over what the run
left (the sync_* models, the plan, the ledger); on the demo's dry run and on a production run
against the local fake destinations."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests.python.cli_runner import PipelineRun, sync_production
from tests.python.control_room.test_pages import open_page, table_with
from tests.python.fakes.destinations import Destinations
from tests.python.gate_support import relabel_as_live
from warehouse_layer import connect

RUN_COLUMNS = ("mode", "destination", "rows_queried", "added_accepted", "added_rejected", "removed_accepted")
# each destination's records come from one model (associations: the contacts with a brand)
QUERIED = """
    select 'smartlead_leads' as destination, count(*) as rows_queried from segmented.sync_smartlead__leads
    union all
    select 'hubspot_contacts', count(*) from segmented.sync_hubspot__contacts
    union all
    select 'hubspot_companies', count(*) from segmented.sync_hubspot__companies
"""


def read(warehouse: Path, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, params or []).df()


def shown_runs(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(warehouse))
    return table_with(open_page("sync_review.py"), *RUN_COLUMNS)


def by_destination(frame: pd.DataFrame, column: str) -> dict[str, int]:
    return {str(row["destination"]): int(row[column]) for _, row in frame.iterrows()}


def assert_queried(shown: pd.DataFrame, warehouse: Path) -> None:
    expected = by_destination(read(warehouse, QUERIED), "rows_queried")
    assert {name: count for name, count in by_destination(shown, "rows_queried").items() if name in expected} == (
        expected
    )


def test_the_demo_dry_run_shows_what_it_queried_planned_and_refused(
    ui_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = shown_runs(ui_env, monkeypatch)
    dry_run = runs[runs["mode"] == "dry_run"]
    assert len(dry_run["run_id"].unique()) == 1, runs
    plan_id = str(dry_run["plan_id"].iloc[0])

    assert_queried(dry_run, ui_env)
    planned = read(
        ui_env,
        "select destination, count(*) as added_planned from reverse_etl.sync_plan_rows "
        "where plan_id = ? and action = 'add' group by destination",
        [plan_id],
    )
    shown_planned = {name: count for name, count in by_destination(dry_run, "added_planned").items() if count}
    assert shown_planned == by_destination(planned, "added_planned")
    # the demo's ledger is empty: every refusal is of a row never sent (an add)
    refused = read(
        ui_env,
        "select destination, count(*) as refused from reverse_etl.sync_preview where action = 'refuse' "
        "group by destination",
    )
    shown_refused = {name: count for name, count in by_destination(dry_run, "added_rejected").items() if count}
    assert shown_refused == by_destination(refused, "refused")
    assert (dry_run[["added_accepted", "changed_accepted", "removed_accepted", "removed_rejected"]] == 0).all().all()


@pytest.fixture
def production_warehouse(demo_run: PipelineRun, tmp_path: Path, destinations: Destinations) -> Path:
    """A copy of the demo warehouse, relabelled as live, synced in production to the local fakes."""
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    with connect(copy) as warehouse:
        relabel_as_live(warehouse)
    run = sync_production(copy, destinations.env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return copy


def test_a_production_run_shows_what_the_destinations_accepted_and_rejected(
    ui_env: Path, production_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = shown_runs(production_warehouse, monkeypatch)
    production = runs[runs["mode"] == "production"]
    assert len(production["run_id"].unique()) == 1, runs

    assert_queried(production, production_warehouse)
    # the ledger was empty before this run: each of its rows is one this run added
    ledger = read(
        production_warehouse,
        """
        select
            destination,
            count(case when status = 'sent' then 1 end) as added_accepted,
            count(case when status in ('refused', 'failed') then 1 end) as added_rejected,
            count(case when status = 'unconfirmed' then 1 end) as unconfirmed
        from reverse_etl.sync_ledger
        group by destination
        """,
    )
    sent_to = production[production["destination"].isin(ledger["destination"])]
    for column in ("added_accepted", "added_rejected", "unconfirmed"):
        assert by_destination(sent_to, column) == by_destination(ledger, column), column
    assert set(production["destination"]) == set(ledger["destination"])
    assert sum(by_destination(ledger, "added_accepted").values()) > 0  # the fakes did accept rows
    untouched = ["changed_accepted", "changed_rejected", "removed_accepted", "removed_rejected", "not_sent"]
    assert (production[untouched] == 0).all().all()
