"""`outreach sync` end to end: the real CLI, the warehouse the demo built, and local fake
Smartlead and HubSpot servers that enforce the vendors' contracts."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from reverse_etl.sync import BLOCK_LIST_REASONS
from tests.python.cli_runner import PROJECT_DIR, PipelineRun, make_plan, plan_id_in, run_outreach, sync_production
from tests.python.fakes.destinations import Destinations

BATCH = 7  # small: every campaign of the demo needs several add-leads calls
BLOCK_LIST_PATH = "/api/v1/leads/add-domain-block-list"


def rows(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def change(warehouse: Path, sql: str, params: list[Any] | None = None) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(sql, params or [])


def insert_lead(warehouse: Path, campaign_id: int, brand_id: str, email: str) -> None:
    """A row as sync_smartlead__leads holds them (every value a string)."""
    change(
        warehouse,
        """
        insert into segmented.sync_smartlead__leads
        select ?, ?, ?, 'Ana', 'Ruiz', 'Injected', 'injected.example', '', '', ?, 'A', '0.9', 'v1', '', '', '', ''
        """,
        [campaign_id, brand_id, email, brand_id],
    )


def sync(warehouse: Path, destinations: Destinations, **extra_env: str) -> PipelineRun:
    """A production sync against the fakes: a dry run makes the plan, production applies it."""
    return sync_production(warehouse, {**destinations.env, **extra_env})


def leads_by_campaign(warehouse: Path) -> dict[int, list[str]]:
    """The emails of each campaign's leads, in the order the sync sends them."""
    per_campaign: dict[int, list[str]] = {}
    for campaign_id, email in rows(
        warehouse, "select campaign_id, email from segmented.sync_smartlead__leads order by campaign_id, brand_id"
    ):
        per_campaign.setdefault(int(campaign_id), []).append(str(email))
    return per_campaign


def lead_calls(destinations: Destinations, campaign_id: int) -> int:
    return destinations.smartlead.calls_to(f"/campaigns/{campaign_id}/leads")


def times_sent(destinations: Destinations) -> Counter[str]:
    return Counter(lead["email"] for upload in destinations.smartlead.uploads for lead in upload["lead_list"])


def block_list_entries(warehouse: Path) -> set[str]:
    reasons = ", ".join(f"'{reason}'" for reason in BLOCK_LIST_REASONS)
    found = rows(
        warehouse,
        "select distinct suppression_key from clean.stg_suppression__keys "
        f"where key_type in ('email', 'domain') and reason in ({reasons})",
    )
    return {str(key) for (key,) in found}


def ledger_row(warehouse: Path, destination: str, record_key: str) -> tuple[Any, ...]:
    found = rows(
        warehouse,
        "select status, is_permanent_error, last_error, target from reverse_etl.sync_ledger"
        " where destination = ? and record_key = ?",
        [destination, record_key],
    )
    assert len(found) == 1, (destination, record_key, found)
    return found[0]


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
    assert run.returncode == 3  # refused, needs a person
    assert "sample-free check: RAW holds rows that did not come from a live source" in run.stderr
    assert "nothing was sent" in run.stderr
    assert destinations.smartlead_calls() == 0
    assert destinations.hubspot.calls == 0


def test_production_refuses_without_smartlead_events(warehouse: Path, destinations: Destinations) -> None:
    run = sync(warehouse, destinations, SOURCES__SMARTLEAD__API_KEY="")
    assert run.returncode == 3  # refused, needs a person
    assert "events check: no source of Smartlead events is configured" in run.stderr
    assert destinations.smartlead_calls() == 0


def test_first_run_sends_everything_in_the_fewest_calls_and_the_second_sends_nothing(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    assert all(len(emails) > BATCH for emails in per_campaign.values()), "every campaign needs several batches"
    contacts = rows(warehouse, "select email from segmented.sync_hubspot__contacts")
    run = sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH))
    assert run.returncode == 0, run.stdout + run.stderr

    for campaign_id, emails in per_campaign.items():
        assert sorted(destinations.smartlead.emails_in(campaign_id)) == sorted(emails)
        assert lead_calls(destinations, campaign_id) == math.ceil(len(emails) / BATCH)
    assert max(len(upload["lead_list"]) for upload in destinations.smartlead.uploads) == BATCH
    assert times_sent(destinations) == Counter(email for emails in per_campaign.values() for email in emails)
    # the block list holds exactly the suppressed emails and domains, and went out before any lead
    expected_block_list = block_list_entries(warehouse)
    assert expected_block_list and set(destinations.smartlead.block_list) == expected_block_list
    block_calls = math.ceil(len(expected_block_list) / 100)
    assert destinations.smartlead_paths[:block_calls] == [BLOCK_LIST_PATH] * block_calls
    assert destinations.smartlead.calls_to("/leads/add-domain-block-list") == block_calls

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
    # one batch log row per add-leads request, with Smartlead's batch-level counts
    logged = rows(
        warehouse,
        "select target, count(*), sum(requests), sum(sent_count), sum(block_count), sum(bounce_count) "
        "from reverse_etl.sync_batches where destination = 'smartlead_leads' group by target order by target",
    )
    assert logged == [
        (str(campaign_id), math.ceil(len(emails) / BATCH), math.ceil(len(emails) / BATCH), len(emails), 0, 0)
        for campaign_id, emails in sorted(per_campaign.items())
    ]
    assert "smartlead_leads: sent" in run.stdout and "reported by the destination: " in run.stdout

    smartlead_calls, hubspot_calls = destinations.smartlead_calls(), destinations.hubspot.calls
    again = sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH))
    assert again.returncode == 0, again.stderr
    assert destinations.smartlead_calls() == smartlead_calls
    assert destinations.hubspot.calls == hubspot_calls


def test_leads_smartlead_holds_back_are_counted_per_batch_and_in_the_summary(
    warehouse: Path, destinations: Destinations
) -> None:
    campaign_id, email = rows(
        warehouse, "select campaign_id, email from segmented.sync_smartlead__leads order by brand_id limit 1"
    )[0]
    destinations.smartlead.block_list.append(str(email).rpartition("@")[2])  # blocked in Smartlead only
    destinations.smartlead.bounced_emails.add(
        str(rows(warehouse, "select max(email) from segmented.sync_smartlead__leads")[0][0])
    )
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stdout + run.stderr
    assert email not in destinations.smartlead.emails_in(campaign_id)
    totals = rows(
        warehouse,
        "select sum(block_count), sum(bounce_count), sum(invalid_email_count) from reverse_etl.sync_batches"
        " where destination = 'smartlead_leads'",
    )
    assert totals == [(1, 1, 0)]
    assert rows(
        warehouse,
        "select vendor_counts_json like '%\"block_count\": 1%' from reverse_etl.sync_batches where target = ?",
        [str(campaign_id)],
    ) == [(True,)]
    assert "block_count 1" in run.stdout and "bounce_count 1" in run.stdout


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


def test_a_crash_during_a_later_upload_resends_only_that_batch_once(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    destinations.slow_uploads.add(2)  # the second add-leads call of the run answers late
    env = {**destinations.env, "DESTINATION__SMARTLEAD__BATCH_SIZE": str(BATCH)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--duckdb", str(warehouse), "sync", "--plan", make_plan(warehouse, env)],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(destinations.smartlead.uploads) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(destinations.smartlead.uploads) == 2, "the sync never reached its second upload"
    process.send_signal(signal.SIGKILL)  # killed while the second batch is in flight
    process.wait(timeout=10)
    confirmed = [lead["email"] for lead in destinations.smartlead.uploads[0]["lead_list"]]
    in_flight = [lead["email"] for lead in destinations.smartlead.uploads[1]["lead_list"]]
    first_campaign = min(per_campaign)
    assert confirmed + in_flight == per_campaign[first_campaign][: 2 * BATCH]
    assert rows(
        warehouse,
        "select status, count(*) from reverse_etl.sync_ledger where destination = 'smartlead_leads' group by 1"
        " order by 1",
    ) == [("pending", BATCH), ("sent", BATCH)]

    destinations.slow_uploads.clear()
    calls_before = {campaign_id: lead_calls(destinations, campaign_id) for campaign_id in per_campaign}
    run = sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH))
    assert run.returncode == 0, run.stdout + run.stderr
    # the confirmed batch is not sent again, the in-flight one once more, everything else once
    sent = times_sent(destinations)
    assert {email: count for email, count in sent.items() if count != 1} == dict.fromkeys(in_flight, 2)
    assert all(sent[email] == 1 for email in confirmed)
    for campaign_id, emails in per_campaign.items():
        left = len(emails) - (BATCH if campaign_id == first_campaign else 0)
        assert lead_calls(destinations, campaign_id) - calls_before[campaign_id] == math.ceil(left / BATCH)
        assert sorted(destinations.smartlead.emails_in(campaign_id)) == sorted(emails)
    assert rows(warehouse, "select distinct status from reverse_etl.sync_ledger") == [("sent",)]
    uploads = len(destinations.smartlead.uploads)
    assert sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH)).returncode == 0
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
    assert run.returncode == 3  # refused, needs a person
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
    assert run.returncode == 3  # refused, needs a person
    assert "seeds changed after the last `outreach build`" in run.stderr
    assert "suppression_list.csv" in run.stderr or "..." in run.stderr
    assert destinations.smartlead_calls() == 0
    assert destinations.hubspot.calls == 0


def test_an_association_waits_for_a_contact_that_failed_for_now(warehouse: Path, destinations: Destinations) -> None:
    email, brand_id = rows(
        warehouse,
        "select email, outreach_brand_id from segmented.sync_hubspot__contacts where outreach_brand_id != ''"
        " order by email limit 1",
    )[0]
    association = f"{email}|{brand_id}"
    destinations.hubspot.transient_ids.add(str(email))  # a 207 whose error for this contact is RATE_LIMITS
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert ledger_row(warehouse, "hubspot_contacts", email)[:2] == ("failed", False)
    status, permanent, error, _ = ledger_row(warehouse, "hubspot_associations", association)
    assert (status, permanent) == ("failed", False) and "contact not upserted in HubSpot yet" in error

    destinations.hubspot.transient_ids.clear()
    calls = destinations.hubspot.calls
    again = sync(warehouse, destinations)
    assert again.returncode == 0, again.stdout + again.stderr
    contact_id = destinations.hubspot.contacts[str(email)]["id"]
    company_id = destinations.hubspot.companies[str(brand_id)]["id"]
    assert (contact_id, company_id) in destinations.hubspot.associations
    assert destinations.hubspot.calls - calls == 2  # the contact's upsert, then its association
    assert rows(warehouse, "select distinct status from reverse_etl.sync_ledger where destination like 'hubspot%'") == [
        ("sent",)
    ]


def test_leads_for_an_unknown_campaign_are_sent_once_the_campaign_is_fixed(
    warehouse: Path, destinations: Destinations
) -> None:
    emails = leads_by_campaign(warehouse)[1001]
    change(warehouse, "update segmented.sync_smartlead__leads set campaign_id = 9999 where campaign_id = 1001")
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert lead_calls(destinations, 9999) == 1
    failed = rows(
        warehouse,
        "select count(*), bool_and(is_permanent_error), min(last_error) from reverse_etl.sync_ledger"
        " where destination = 'smartlead_leads' and status = 'failed' and target = '9999'",
    )
    assert failed[0][:2] == (len(emails), True) and "404" in failed[0][2]

    uploads = len(destinations.smartlead.uploads)
    assert sync(warehouse, destinations).returncode == 0  # same row, same campaign: left alone
    assert lead_calls(destinations, 9999) == 1

    change(warehouse, "update segmented.sync_smartlead__leads set campaign_id = 1001 where campaign_id = 9999")
    fixed = sync(warehouse, destinations)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert sorted(destinations.smartlead.emails_in(1001)) == sorted(emails)
    assert len(destinations.smartlead.uploads) == uploads + 1
    ledger_targets = rows(
        warehouse,
        "select distinct status, target from reverse_etl.sync_ledger where destination = 'smartlead_leads'",
    )
    assert sorted(ledger_targets) == [("sent", "1001"), ("sent", "1002"), ("sent", "1003")]


def test_a_batch_over_smartleads_cap_is_a_configuration_error_and_no_lead_is_lost(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    destinations.smartlead.lead_cap = 5  # this account takes fewer leads a call than configured
    run = sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH))
    assert run.returncode == 1
    assert "set DESTINATION__SMARTLEAD__BATCH_SIZE lower" in run.stdout
    # the first refusal stops the uploads: every later batch would be refused the same way
    assert sum(lead_calls(destinations, campaign_id) for campaign_id in per_campaign) == 1
    # nothing reached Smartlead, so the ledger does not count those leads as "may have been sent"
    # (that would refuse them for good once their campaign or contact changed): as if never tried
    assert rows(warehouse, "select count(*) from reverse_etl.sync_ledger where destination = 'smartlead_leads'") == [
        (0,)
    ]
    assert destinations.hubspot.records["contacts"], "the other destinations still ran"

    # meanwhile one lead moves to another campaign: it goes there, it is not refused
    source_campaign, target_campaign = sorted(per_campaign)[:2]
    moved = per_campaign[source_campaign].pop(0)
    per_campaign[target_campaign].append(moved)
    change(
        warehouse,
        f"update segmented.sync_smartlead__leads set campaign_id = '{target_campaign}' where email = '{moved}'",
    )
    fixed = sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE="5")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    for campaign_id, emails in per_campaign.items():
        assert sorted(destinations.smartlead.emails_in(campaign_id)) == sorted(emails)
    assert times_sent(destinations) == Counter(email for emails in per_campaign.values() for email in emails)


def test_a_permanent_association_error_fails_that_row_only(warehouse: Path, destinations: Destinations) -> None:
    assert sync(warehouse, destinations).returncode == 0
    associated = rows(
        warehouse,
        "select email, outreach_brand_id from segmented.sync_hubspot__contacts where outreach_brand_id != ''"
        " order by email",
    )
    assert len(associated) >= 2
    (gone_email, gone_brand), (kept_email, kept_brand) = associated[:2]
    del destinations.hubspot.contacts[str(gone_email)]  # deleted in HubSpot by hand: its id is stale
    # both companies change, so both associations are sent again
    change(warehouse, "update segmented.sync_hubspot__companies set industry_category = 'Renamed'")
    calls = destinations.hubspot.calls
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert destinations.hubspot.calls - calls == 1 + len(associated)  # companies upsert + one PUT each, no retry
    status, permanent, error, _ = ledger_row(warehouse, "hubspot_associations", f"{gone_email}|{gone_brand}")
    assert (status, permanent) == ("failed", True) and "404" in error
    assert ledger_row(warehouse, "hubspot_associations", f"{kept_email}|{kept_brand}")[0] == "sent"
    calls = destinations.hubspot.calls
    assert sync(warehouse, destinations).returncode == 0  # a permanent failure waits for a change
    assert destinations.hubspot.calls == calls


def test_a_subdomain_of_a_suppressed_domain_or_an_email_sent_for_another_brand_is_refused(
    warehouse: Path, destinations: Destinations
) -> None:
    assert sync(warehouse, destinations).returncode == 0
    domain, reason = rows(
        warehouse,
        "select suppression_key, reason from clean.stg_suppression__keys where key_type = 'domain' limit 1",
    )[0]
    sent_email = leads_by_campaign(warehouse)[1001][0]
    insert_lead(warehouse, 1001, "subdomain-brand", f"ana@eu.{domain}")
    insert_lead(warehouse, 1002, "twin-brand", sent_email.upper())  # the same person, for another brand
    uploads = len(destinations.smartlead.uploads)
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(destinations.smartlead.uploads) == uploads
    assert ledger_row(warehouse, "smartlead_leads", "subdomain-brand")[:3] == (
        "refused",
        True,
        f"domain suppressed: {reason}",
    )
    status, _, error, _ = ledger_row(warehouse, "smartlead_leads", "twin-brand")
    assert status == "refused" and error.startswith("email already sent to Smartlead for brand ")


def test_rate_limits_and_server_errors_are_retried_and_nothing_is_sent_twice(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    smartlead, hubspot = destinations.smartlead, destinations.hubspot
    smartlead.clock = hubspot.clock = time.monotonic  # rolling windows in real time: 2 calls a second
    smartlead.rate_limit = hubspot.rate_limit = 2
    smartlead.rate_window_seconds = hubspot.rate_window_seconds = 1.0
    hubspot.policy_name = "SECONDLY"  # HubSpot's 429 without Retry-After: wait 1 s
    smartlead.fail_next(1)
    hubspot.fail_next(1)
    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stdout + run.stderr
    assert smartlead.rate_limited > 0 and hubspot.rate_limited > 0
    assert times_sent(destinations) == Counter(email for emails in per_campaign.values() for email in emails)
    minimum_smartlead = 1 + sum(math.ceil(len(emails) / 100) for emails in per_campaign.values())
    assert destinations.smartlead_calls() == minimum_smartlead + smartlead.rate_limited + 1
    minimum_hubspot = 2 + len(hubspot.associations)  # one upsert each for contacts and companies
    assert hubspot.calls == minimum_hubspot + hubspot.rate_limited + 1
    assert rows(warehouse, "select distinct status from reverse_etl.sync_ledger") == [("sent",)]


def test_an_invalid_email_is_recorded_in_the_ledger_and_not_retried(
    warehouse: Path, destinations: Destinations
) -> None:
    brand_id, email = rows(warehouse, "select brand_id, email from segmented.sync_smartlead__leads order by brand_id")[
        0
    ]
    destinations.smartlead.invalid_emails.add(str(email))
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert "1 rows failed" in run.stderr
    assert ledger_row(warehouse, "smartlead_leads", brand_id)[:3] == ("failed", True, "invalid email")
    assert rows(
        warehouse, "select sum(invalid_email_count) from reverse_etl.sync_batches where destination = 'smartlead_leads'"
    ) == [(1,)]
    uploads = len(destinations.smartlead.uploads)
    assert sync(warehouse, destinations).returncode == 0
    assert len(destinations.smartlead.uploads) == uploads


# --- plan/apply: production sends the reviewed plan, no more ---------------------------------------


def one_line_refusal(run: PipelineRun) -> str:
    assert run.returncode == 3, run.stdout + run.stderr  # refused, needs a person
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "nothing was sent" in run.stderr
    return run.stderr


def test_production_needs_a_known_fresh_plan(warehouse: Path, destinations: Destinations) -> None:
    without = one_line_refusal(run_outreach(warehouse, "sync", env=destinations.env))
    assert "no --plan given" in without and "outreach sync --plan" in without
    unknown = one_line_refusal(run_outreach(warehouse, "sync", "--plan", "no-such-plan", env=destinations.env))
    assert "no plan no-such-plan in this warehouse" in unknown
    plan_id = make_plan(warehouse, destinations.env)
    change(warehouse, "update reverse_etl.sync_plans set created_at = created_at - interval 25 hours")
    stale = one_line_refusal(run_outreach(warehouse, "sync", "--plan", plan_id, env=destinations.env))
    assert f"plan {plan_id} is 25.0 h old, over OUTREACH_PLAN_MAX_AGE_HOURS=24" in stale
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0
    assert rows(warehouse, "select count(*) from reverse_etl.sync_ledger") == [(0,)]
    # the way out the refusal names (or a longer limit) sends it
    longer = run_outreach(
        warehouse, "sync", "--plan", plan_id, env={**destinations.env, "OUTREACH_PLAN_MAX_AGE_HOURS": "26"}
    )
    assert longer.returncode == 0, longer.stdout + longer.stderr
    assert times_sent(destinations) == Counter(
        email for emails in leads_by_campaign(warehouse).values() for email in emails
    )


def test_rows_changed_or_added_after_the_plan_are_held_back_and_reapplying_sends_nothing_twice(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    plan_id = make_plan(warehouse, destinations.env)
    (changed_brand, changed_email), (suppressed_brand, suppressed_email) = rows(
        warehouse, "select brand_id, email from segmented.sync_smartlead__leads order by brand_id limit 2"
    )
    change(
        warehouse,
        "update segmented.sync_smartlead__leads set first_name = 'Renamed' where brand_id = ?",
        [changed_brand],
    )
    insert_lead(warehouse, 1001, "late-brand", "late@late-brand.example")
    # suppressed since the plan: the send-time guard wins over the plan
    change(
        warehouse,
        "insert into clean.stg_suppression__keys (suppression_id, key_type, suppression_key, reason, source,"
        " first_seen_at) values ('since-plan', 'email', ?, 'do_not_contact', 'test', current_timestamp)",
        [suppressed_email],
    )

    run = run_outreach(warehouse, "sync", "--plan", plan_id, env=destinations.env)
    assert run.returncode == 0, run.stdout + run.stderr
    planned_emails = Counter(
        email for emails in per_campaign.values() for email in emails if email not in (changed_email, suppressed_email)
    )
    assert times_sent(destinations) == planned_emails  # the plan's rows, each once, and nothing else
    assert "2 rows changed since the plan, not sent" in run.stdout
    assert f"smartlead_leads {changed_brand}" in run.stdout and "smartlead_leads late-brand" in run.stdout
    assert "changed since the plan, not sent 2" in run.stdout
    assert rows(
        warehouse,
        "select count(*) from reverse_etl.sync_ledger where record_key in (?, 'late-brand')",
        [changed_brand],
    ) == [(0,)]
    assert ledger_row(warehouse, "smartlead_leads", suppressed_brand)[:3] == (
        "refused",
        True,
        "email suppressed: do_not_contact",
    )
    preview = (warehouse.parent / "reverse_etl_preview.md").read_text()
    assert f"| {changed_brand} | changed_since_plan | payload changed since plan {plan_id} |" in preview
    assert f"| late-brand | changed_since_plan | not in plan {plan_id} |" in preview

    # applied again (say, after a crash): allowed, said so, and the ledger sends nothing twice
    calls = destinations.smartlead_calls() + destinations.hubspot.calls
    again = run_outreach(warehouse, "sync", "--plan", plan_id, env=destinations.env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"plan {plan_id} was applied 1 time(s) before" in again.stdout
    assert destinations.smartlead_calls() + destinations.hubspot.calls == calls

    # a new plan picks them up
    assert sync(warehouse, destinations).returncode == 0
    assert times_sent(destinations) == planned_emails + Counter([changed_email, "late@late-brand.example"])


def test_new_leads_over_a_volume_cap_are_refused_with_nothing_sent(warehouse: Path, destinations: Destinations) -> None:
    per_campaign = {campaign: len(emails) for campaign, emails in leads_by_campaign(warehouse).items()}
    biggest = max(per_campaign, key=lambda campaign: per_campaign[campaign])
    per_campaign_cap = {"OUTREACH_MAX_NEW_LEADS_PER_CAMPAIGN": str(per_campaign[biggest] - 1)}
    total_cap = {"OUTREACH_MAX_NEW_LEADS_TOTAL": str(sum(per_campaign.values()) - 1)}

    dry_run = run_outreach(warehouse, "sync", env={**destinations.env, **per_campaign_cap, "PIPELINE_MODE": "dry_run"})
    assert dry_run.returncode == 0, dry_run.stderr
    warning = f"WARNING: {per_campaign[biggest]} new leads for Smartlead campaign {biggest} exceed"
    assert f"{warning} OUTREACH_MAX_NEW_LEADS_PER_CAMPAIGN={per_campaign[biggest] - 1}" in dry_run.stdout
    plan_id = plan_id_in(dry_run)
    for cap, named in [(per_campaign_cap, f"campaign {biggest} exceed"), (total_cap, "in all exceed")]:
        refused = one_line_refusal(run_outreach(warehouse, "sync", "--plan", plan_id, env={**destinations.env, **cap}))
        setting, value = next(iter(cap.items()))
        assert named in refused and f"{setting}={value}" in refused
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0
    assert rows(warehouse, "select count(*) from reverse_etl.sync_ledger") == [(0,)]
    # within the caps (the defaults), the same plan goes out
    assert run_outreach(warehouse, "sync", "--plan", plan_id, env=destinations.env).returncode == 0
    assert sum(len(destinations.smartlead.emails_in(campaign)) for campaign in per_campaign) == sum(
        per_campaign.values()
    )
