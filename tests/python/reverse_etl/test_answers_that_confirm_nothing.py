"""A vendor's 2xx is a success only when its body confirms what was sent: HubSpot association
answers with errors or without the pair, Smartlead add-leads answers whose counts do not account
for the batch (or say the lead limit is exhausted), and a global block list that could not be
confirmed. Through the real CLI against the fakes, which answer in the vendors' shapes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.python.fakes.destinations import Destinations
from tests.python.reverse_etl.test_sync_cli import (
    BATCH,
    change,
    lead_calls,
    leads_by_campaign,
    ledger_row,
    rows,
    sync,
    times_sent,
)

LEAD_STATUSES = (
    "select target, status, count(*) from reverse_etl.sync_ledger where destination = 'smartlead_leads'"
    " group by 1, 2 order by 1, 2"
)


def test_an_association_answered_with_errors_or_without_the_pair_is_not_recorded_as_sent(
    warehouse: Path, destinations: Destinations
) -> None:
    hubspot = destinations.hubspot
    associated = rows(
        warehouse,
        "select email, outreach_brand_id from segmented.sync_hubspot__contacts where outreach_brand_id != ''"
        " order by email",
    )
    (refused_email, refused_brand), (silent_email, silent_brand) = associated[:2]
    hubspot.association_errors_for.add(str(refused_email))  # 200 with errors and numErrors
    hubspot.association_unconfirmed_for.add(str(silent_email))  # 200 without a result for the pair
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert "2 rows failed" in run.stderr
    status, permanent, error, _ = ledger_row(warehouse, "hubspot_associations", f"{refused_email}|{refused_brand}")
    assert (status, permanent) == ("failed", True)
    assert "VALIDATION_ERROR: Association between contact" in error and "could not be created" in error
    status, permanent, error, _ = ledger_row(warehouse, "hubspot_associations", f"{silent_email}|{silent_brand}")
    assert (status, permanent) == ("failed", False) and error.startswith("not confirmed by HubSpot")
    assert len(hubspot.associations) == len(associated) - 2
    assert rows(
        warehouse,
        "select count(*) from reverse_etl.sync_ledger where destination = 'hubspot_associations' and status = 'sent'",
    ) == [(len(associated) - 2,)]

    # answered properly now: the unconfirmed one is sent again, the refused one waits for a change
    hubspot.association_errors_for.clear()
    hubspot.association_unconfirmed_for.clear()
    calls = hubspot.calls
    again = sync(warehouse, destinations)
    assert again.returncode == 0, again.stdout + again.stderr
    assert hubspot.calls - calls == 1
    assert ledger_row(warehouse, "hubspot_associations", f"{silent_email}|{silent_brand}")[0] == "sent"


def test_an_empty_add_leads_answer_leaves_the_leads_unconfirmed_held_and_reported(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    total = sum(len(emails) for emails in per_campaign.values())
    smartlead = destinations.smartlead
    smartlead.empty_lead_answers = True  # 200 {}
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert f"smartlead_leads: unconfirmed {total} " in run.stdout
    assert f"{total} rows unconfirmed" in run.stderr
    assert rows(warehouse, LEAD_STATUSES) == [
        (str(campaign_id), "unconfirmed", len(emails)) for campaign_id, emails in sorted(per_campaign.items())
    ]
    assert destinations.hubspot.records["contacts"], "the other destinations still ran"

    # Smartlead answers properly again: the unconfirmed leads are held (not sent twice by
    # accident), still reported, and listed in the preview with what to do
    smartlead.empty_lead_answers = False
    uploads = len(smartlead.uploads)
    changed = per_campaign[min(per_campaign)][0]  # a changed row is held too
    change(warehouse, "update segmented.sync_smartlead__leads set first_name = 'Changed' where email = ?", [changed])
    held = sync(warehouse, destinations)
    assert held.returncode == 1 and f"{total} rows unconfirmed" in held.stderr
    assert len(smartlead.uploads) == uploads
    assert rows(
        warehouse,
        "select action, count(*) from reverse_etl.sync_preview where destination = 'smartlead_leads' group by 1",
    ) == [("unconfirmed", total)]
    assert "OUTREACH_RESEND_UNCONFIRMED=1" in (warehouse.parent / "reverse_etl_preview.md").read_text()

    # checked by the operator and asked for again: Smartlead counts them as already added
    resent = sync(warehouse, destinations, OUTREACH_RESEND_UNCONFIRMED="1")
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert times_sent(destinations) == Counter({email: 2 for emails in per_campaign.values() for email in emails})
    assert {status for _, status, _ in rows(warehouse, LEAD_STATUSES)} == {"sent"}
    assert smartlead.leads[str(min(per_campaign))][changed.lower()]["first_name"] == "Changed"


def test_counts_that_do_not_account_for_a_batch_leave_that_batch_unconfirmed(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    assert all(len(emails) <= 100 for emails in per_campaign.values()), "one batch per campaign"
    campaign_id = min(per_campaign)
    known = per_campaign[campaign_id][0]
    smartlead = destinations.smartlead
    smartlead.leads[str(campaign_id)] = {known.lower(): {"email": known}}  # added in Smartlead by hand
    smartlead.omitted_answer_keys = {"upload_count", "already_added_to_campaign"}  # the answer does not say so
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    size = len(per_campaign[campaign_id])
    assert f"{size} rows unconfirmed" in run.stderr
    assert rows(warehouse, LEAD_STATUSES) == sorted(
        (str(campaign), "unconfirmed" if campaign == campaign_id else "sent", len(emails))
        for campaign, emails in per_campaign.items()
    )
    brand_id = rows(warehouse, "select brand_id from segmented.sync_smartlead__leads where email = ?", [known])[0][0]
    error = ledger_row(warehouse, "smartlead_leads", brand_id)[2]
    assert error == f"not confirmed by Smartlead: its answer accounts for {size - 1} of the {size} leads sent"


def test_an_exhausted_lead_limit_stops_the_uploads_and_fails_the_run(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    destinations.smartlead.lead_limit = BATCH - 2  # the first upload fills the account
    run = sync(warehouse, destinations, DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH))
    assert run.returncode == 1
    assert "lead limit is exhausted" in run.stdout and "lead limit is exhausted" in run.stderr
    assert sum(lead_calls(destinations, campaign_id) for campaign_id in per_campaign) == 1
    first = str(min(per_campaign))
    assert rows(warehouse, LEAD_STATUSES) == [(first, "failed", BATCH)]
    assert rows(
        warehouse,
        "select distinct is_permanent_error from reverse_etl.sync_ledger where destination = 'smartlead_leads'",
    ) == [(False,)]
    assert destinations.hubspot.records["contacts"], "HubSpot is not concerned"


def test_no_lead_goes_out_when_the_block_list_upload_is_not_confirmed(
    warehouse: Path, destinations: Destinations
) -> None:
    per_campaign = leads_by_campaign(warehouse)
    smartlead = destinations.smartlead
    smartlead.block_list_failures = 5  # every attempt of this run (5) answers 500
    smartlead.block_list_retry_after = "1"
    run = sync(warehouse, destinations)
    assert run.returncode == 1
    assert smartlead.uploads == [] and smartlead.block_list == []
    assert "global block list was not confirmed" in run.stderr
    total = sum(len(emails) for emails in per_campaign.values())
    assert f"smartlead_leads: not sent (stopped) {total} " in run.stdout
    assert rows(warehouse, LEAD_STATUSES) == []  # never attempted: planned as new next run
    assert destinations.hubspot.records["contacts"], "HubSpot is not protected by the block list: it still ran"

    again = sync(warehouse, destinations)
    assert again.returncode == 0, again.stdout + again.stderr
    assert smartlead.block_list
    for campaign_id, emails in per_campaign.items():
        assert sorted(smartlead.emails_in(campaign_id)) == sorted(emails)
