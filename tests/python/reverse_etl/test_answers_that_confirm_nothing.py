"""A vendor's 2xx is a success only when its body confirms what was sent: HubSpot association
answers with errors or without the pair, Smartlead add-leads answers whose counts do not account
for the batch (or say the lead limit is exhausted), and a global block list that could not be
confirmed. Through the real CLI against the fakes, which answer in the vendors' shapes."""

from __future__ import annotations

from pathlib import Path

from tests.python.fakes.destinations import Destinations
from tests.python.reverse_etl.test_sync_cli import ledger_row, rows, sync


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
