"""Suppression is read again right before each request, not once per run: a key that reaches the
warehouse while a sync is sending stops the rows not sent yet. Runs the sync in this process
(the warehouse is changed between two requests, from the fake's request hook) against the fake
Smartlead and HubSpot servers, over real HTTP."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from reverse_etl.destinations import destinations_from_env
from reverse_etl.ledger import ledger_entry
from reverse_etl.suppression_guard import (
    GuardSubject,
    SuppressionIndex,
    candidate_domains,
    load_suppression_index,
    recheck,
)
from reverse_etl.sync import collect_records, execute, plan_all
from tests.python.fakes.destinations import Destinations
from tests.python.fakes.server import Request
from warehouse_layer import DuckDBWarehouse, connect

INSERT_KEY = """
    insert into clean.stg_suppression__keys (suppression_id, key_type, suppression_key, reason, source, first_seen_at)
    values (?, ?, ?, 'do_not_contact', 'test', current_timestamp)
"""


def test_a_suppression_added_between_two_batches_stops_the_later_rows(
    warehouse: Path, destinations: Destinations, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**destinations.env, "DESTINATION__SMARTLEAD__BATCH_SIZE": "2"}.items():
        monkeypatch.setenv(name, value)
    with connect(warehouse) as target:
        assert isinstance(target, DuckDBWarehouse)
        leads = target.fetch_dicts(
            "select brand_id, email from segmented.sync_smartlead__leads where campaign_id = 1001 order by brand_id"
        )
        # the second batch of campaign 1001: one row suppressed by email, the other by its domain
        by_email, by_domain = leads[2], leads[3]

        def suppress_during_first_upload(number: int, request: Request) -> None:
            if number != 1:
                return
            cursor = target.connection.cursor()  # the sync's own connection waits on this request
            try:
                cursor.execute(INSERT_KEY, ["test-email", "email", by_email["email"]])
                cursor.execute(INSERT_KEY, ["test-domain", "domain", by_domain["email"].rpartition("@")[2]])
            finally:
                cursor.close()

        destinations.upload_hooks.append(suppress_during_first_upload)
        planned = plan_all(target, collect_records(target))
        summaries = execute(target, planned, destinations_from_env(partial(ledger_entry, target)))

        refused = {
            row["record_key"]: row["last_error"]
            for row in target.fetch_dicts(
                "select record_key, last_error from reverse_etl.sync_ledger where status = 'refused'"
            )
        }
    assert refused == {
        by_email["brand_id"]: "email suppressed: do_not_contact",
        by_domain["brand_id"]: "domain suppressed: do_not_contact",
    }
    sent = {lead["email"] for upload in destinations.smartlead.uploads for lead in upload["lead_list"]}
    assert by_email["email"] not in sent and by_domain["email"] not in sent
    assert sent >= {lead["email"] for lead in leads if lead not in (by_email, by_domain)}
    # the emptied batch made no request: 19 leads in batches of 2 is 10 batches, one of them refused whole
    assert destinations.smartlead.calls_to("/campaigns/1001/leads") == len(range(0, len(leads), 2)) - 1
    smartlead = next(summary for summary in summaries if summary.destination == "smartlead_leads")
    assert smartlead.counts["refused"] == 2


def test_recheck_reads_only_the_rows_asked_for_and_matches_parent_domains(warehouse: Path) -> None:
    with connect(warehouse) as target:
        domain = target.fetch_dicts(
            "select suppression_key, reason from clean.stg_suppression__keys where key_type = 'domain' limit 1"
        )[0]
        # a brand whose reason also blocks the CRM hand-off (the subject below is one)
        brand = target.fetch_dicts(
            "select suppressions.brand_id, suppressions.reason from enriched.int_brand_suppressions as suppressions"
            " inner join config.suppression_reasons as reasons on suppressions.reason = reasons.reason"
            " where reasons.blocks_crm_handoff order by suppressions.brand_id limit 1"
        )[0]
        subjects = {
            "on-a-subdomain": GuardSubject(f"Ana@EU.{domain['suppression_key']}", None, crm_handoff=False),
            "suppressed-brand": GuardSubject(None, brand["brand_id"], crm_handoff=True),
            "clean": GuardSubject("someone@nowhere.example", "no-such-brand", crm_handoff=False),
        }
        hits = recheck(target, subjects)
        partial_index = load_suppression_index(target, crm_handoff=False, keys=["nowhere.example"], brand_ids=[])
    assert hits["on-a-subdomain"] == f"domain suppressed: {domain['reason']}"
    assert hits["suppressed-brand"].startswith("brand suppressed: ")
    assert "clean" not in hits
    assert partial_index == SuppressionIndex(emails={}, domains={}, brands={})


def test_candidate_domains_are_the_domain_and_its_parents() -> None:
    assert candidate_domains("Ana@EU.Shop.Acme.com ") == ["eu.shop.acme.com", "shop.acme.com", "acme.com"]
    assert candidate_domains("ana@acme.com") == ["acme.com"]
    index = SuppressionIndex(emails={}, domains={"acme.com": "fired_client"}, brands={})
    assert index.refusal_reason("x@eu.acme.com", None) == "domain suppressed: fired_client"
    assert index.refusal_reason("x@notacme.com", None) is None
