"""`outreach sync` end to end: the real CLI, the warehouse the demo built, and local fake
Smartlead and HubSpot servers that enforce the vendors' contracts."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.python.cli_runner import PROJECT_DIR, PipelineRun, run_outreach
from tests.python.fakes.destinations import Destinations


@pytest.fixture
def sample_warehouse(demo_run: PipelineRun, tmp_path: Path) -> Path:
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


@pytest.fixture
def warehouse(sample_warehouse: Path) -> Path:
    """The demo's warehouse, relabelled as built from live data: the fakes stand in for the vendors."""
    with duckdb.connect(str(sample_warehouse)) as connection:
        connection.execute("update pipeline_ops.source_modes set source_mode = 'live'")
    return sample_warehouse


def rows(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def sync(warehouse: Path, destinations: Destinations, **extra_env: str) -> PipelineRun:
    return run_outreach(warehouse, "sync", env={**destinations.env, **extra_env})


def test_nothing_leaves_without_production_mode(warehouse: Path, destinations: Destinations) -> None:
    for mode in ["", "dry_run", "Production", "prod"]:
        run = sync(warehouse, destinations, PIPELINE_MODE=mode)
        assert run.returncode == 0, run.stderr
        assert "nothing sent" in run.stdout
    assert destinations.smartlead_calls() == 0
    assert destinations.hubspot.calls == 0


def test_production_refuses_a_warehouse_built_from_sample_data(
    sample_warehouse: Path, destinations: Destinations
) -> None:
    run = sync(sample_warehouse, destinations)
    assert run.returncode == 1
    assert "ingested in mode(s) sample" in run.stderr
    assert "nothing was sent" in run.stderr
    assert destinations.smartlead_calls() == 0
    assert destinations.hubspot.calls == 0


def test_production_refuses_without_smartlead_events(warehouse: Path, destinations: Destinations) -> None:
    run = sync(warehouse, destinations, SOURCES__SMARTLEAD__API_KEY="")
    assert run.returncode == 1
    assert "Smartlead events are not ingested" in run.stderr
    assert destinations.smartlead_calls() == 0


def test_first_run_sends_everything_in_the_fewest_calls_and_the_second_sends_nothing(
    warehouse: Path, destinations: Destinations
) -> None:
    leads = rows(warehouse, "select campaign_id, email from segmented.sync_smartlead__leads")
    contacts = rows(warehouse, "select email from segmented.sync_hubspot__contacts")
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stdout + run.stderr

    per_campaign: dict[int, set[str]] = {}
    for campaign_id, email in leads:
        per_campaign.setdefault(int(str(campaign_id)), set()).add(str(email))
    for campaign_id, emails in per_campaign.items():
        assert set(destinations.smartlead.emails_in(campaign_id)) == emails
        assert destinations.smartlead.calls_to(f"/campaigns/{campaign_id}/leads") == math.ceil(len(emails) / 100)
    block_entries = rows(
        warehouse, "select count(*) from reverse_etl.sync_ledger where destination = 'smartlead_block_list'"
    )
    assert destinations.smartlead.calls_to("/leads/add-domain-block-list") == math.ceil(
        int(str(block_entries[0][0])) / 100
    )
    assert set(destinations.hubspot.records["contacts"]) == {str(email) for (email,) in contacts}
    companies = rows(warehouse, "select outreach_brand_id from segmented.sync_hubspot__companies")
    assert set(destinations.hubspot.records["companies"]) == {str(brand_id) for (brand_id,) in companies}
    associated = rows(warehouse, "select count(*) from segmented.sync_hubspot__contacts where outreach_brand_id != ''")
    assert len(destinations.hubspot.associations) == associated[0][0]
    # the minimum: one upsert per 100 contacts, one per 100 companies, one PUT per association
    assert destinations.hubspot.calls == (
        math.ceil(len(contacts) / 100) + math.ceil(len(companies) / 100) + len(destinations.hubspot.associations)
    )
    statuses = rows(warehouse, "select distinct status from reverse_etl.sync_ledger")
    assert statuses == [("sent",)]

    smartlead_calls, hubspot_calls = destinations.smartlead_calls(), destinations.hubspot.calls
    again = sync(warehouse, destinations)
    assert again.returncode == 0, again.stderr
    assert destinations.smartlead_calls() == smartlead_calls
    assert destinations.hubspot.calls == hubspot_calls


def test_a_changed_row_is_the_only_one_sent(warehouse: Path, destinations: Destinations) -> None:
    assert sync(warehouse, destinations).returncode == 0
    brand_id, campaign_id, email = rows(
        warehouse, "select brand_id, campaign_id, email from segmented.sync_smartlead__leads order by brand_id limit 1"
    )[0]
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update segmented.sync_smartlead__leads set first_name = 'Renamed' where brand_id = ?", [brand_id]
        )
    uploads_before = len(destinations.smartlead.uploads)
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stderr
    new_uploads = destinations.smartlead.uploads[uploads_before:]
    assert [[lead["email"] for lead in upload["lead_list"]] for upload in new_uploads] == [[email]]
    stored = {lead["email"]: lead for lead in destinations.smartlead.leads_in(str(campaign_id))}
    assert stored[email]["first_name"] == "Renamed"


def test_a_crash_mid_request_resends_those_rows_once_and_nothing_confirmed(
    warehouse: Path, destinations: Destinations
) -> None:
    destinations.slow_leads[0] = True
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--duckdb", str(warehouse), "sync"],
        cwd=PROJECT_DIR,
        env={**os.environ, **destinations.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not destinations.smartlead.uploads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert destinations.smartlead.uploads, "the sync never reached Smartlead"
    process.send_signal(signal.SIGKILL)  # killed while the first batch is in flight
    process.wait(timeout=10)
    in_flight = {lead["email"] for lead in destinations.smartlead.uploads[0]["lead_list"]}
    pending = rows(warehouse, "select count(*) from reverse_etl.sync_ledger where status = 'pending'")
    assert pending == [(len(in_flight),)]

    destinations.slow_leads[0] = False
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stdout + run.stderr
    times_sent: dict[str, int] = {}
    for upload in destinations.smartlead.uploads:
        for lead in upload["lead_list"]:
            times_sent[lead["email"]] = times_sent.get(lead["email"], 0) + 1
    assert {email: count for email, count in times_sent.items() if count > 1} == dict.fromkeys(in_flight, 2)
    assert rows(warehouse, "select distinct status from reverse_etl.sync_ledger") == [("sent",)]
    uploads = len(destinations.smartlead.uploads)
    assert sync(warehouse, destinations).returncode == 0
    assert len(destinations.smartlead.uploads) == uploads


def test_a_suppressed_row_in_a_sync_model_is_refused_at_send_time(warehouse: Path, destinations: Destinations) -> None:
    unsubscribed = rows(
        warehouse,
        "select suppression_key from clean.stg_suppression__keys where key_type = 'email' and reason = 'unsubscribed'",
    )[0][0]
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            """
            insert into segmented.sync_smartlead__leads (campaign_id, brand_id, email, custom_brand_id)
            values (1001, 'injected-brand', ?, 'injected-brand')
            """,
            [unsubscribed],
        )
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stderr
    assert unsubscribed not in destinations.smartlead.emails_in(1001)
    assert rows(
        warehouse, "select status, last_error from reverse_etl.sync_ledger where record_key = 'injected-brand'"
    ) == [("refused", "email suppressed: unsubscribed")]


def test_partial_hubspot_failures_are_recorded_per_row_and_fail_the_run(
    warehouse: Path, destinations: Destinations
) -> None:
    bad_email = str(rows(warehouse, "select min(email) from segmented.sync_hubspot__contacts")[0][0])
    destinations.hubspot.invalid_ids.add(bad_email)
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    failed = rows(
        warehouse,
        "select destination, record_key, is_permanent_error from reverse_etl.sync_ledger where status = 'failed'",
    )
    # the contact itself, and its association to a company when it has one
    assert ("hubspot_contacts", bad_email, True) in failed
    assert all(str(key).split("|")[0] == bad_email for _, key, _ in failed)
    assert f"{len(failed)} rows failed" in run.stderr
    # a permanent failure is not retried forever: the next run leaves it alone
    calls = destinations.hubspot.calls
    assert sync(warehouse, destinations).returncode == 0
    assert destinations.hubspot.calls == calls


def test_a_brand_sent_once_is_never_sent_again_with_another_contact_or_campaign(
    warehouse: Path, destinations: Destinations
) -> None:
    assert sync(warehouse, destinations).returncode == 0
    first, second = rows(
        warehouse, "select brand_id, campaign_id from segmented.sync_smartlead__leads order by brand_id limit 2"
    )
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update segmented.sync_smartlead__leads set email = 'someone.else@example.org' where brand_id = ?",
            [first[0]],
        )
        other_campaign = 1001 if str(second[1]) != "1001" else 1002
        connection.execute(
            "update segmented.sync_smartlead__leads set campaign_id = ? where brand_id = ?", [other_campaign, second[0]]
        )
    uploads = len(destinations.smartlead.uploads)
    for _ in range(2):  # refused, and still refused on the run after
        run = sync(warehouse, destinations)
        assert run.returncode == 0, run.stderr
        assert len(destinations.smartlead.uploads) == uploads
    ledger_rows = dict(
        rows(
            warehouse,
            f"select record_key, status from reverse_etl.sync_ledger where record_key in ('{first[0]}', '{second[0]}')",
        )
    )
    assert ledger_rows == {first[0]: "sent", second[0]: "sent"}


def test_production_refuses_when_raw_changed_after_the_last_build(warehouse: Path, destinations: Destinations) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update pipeline_ops.stage_runs set last_finished_at = last_finished_at + interval 1 day"
            " where stage = 'load_raw'"
        )
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert "run `outreach build` first" in run.stderr
    assert destinations.smartlead_calls() == 0


def test_production_refuses_when_seeds_changed_after_the_last_build(
    warehouse: Path, destinations: Destinations
) -> None:
    # as if the last build (and load) ran before the seeds were last edited, e.g. a suppression
    # list updated and `dbt seed` run, but the suppression tables not rebuilt
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("update pipeline_ops.stage_runs set last_finished_at = timestamp '2001-01-01'")
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert "seeds changed after the last `outreach build`" in run.stderr
    assert "suppression_list.csv" in run.stderr or "..." in run.stderr
    assert destinations.smartlead_calls() == 0
    assert destinations.hubspot.calls == 0
