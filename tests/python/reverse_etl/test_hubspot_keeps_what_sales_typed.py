"""HubSpot reads an empty property value as "clear this property": a value unknown here is never
sent, so what sales typed stays, and the dry run says which properties a row leaves untouched.
Through the real CLI against the fake HubSpot (which clears a property sent as "", as HubSpot does)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.python.fakes.destinations import Destinations
from tests.python.reverse_etl.test_sync_cli import change, rows, sync


def _contact_with_unknowns(warehouse: Path) -> tuple[str, str]:
    """A contact with a company whose first name, job title and company domain are unknown here."""
    email, brand_id = rows(
        warehouse,
        "select email, outreach_brand_id from segmented.sync_hubspot__contacts where outreach_brand_id != ''"
        " order by email limit 1",
    )[0]
    change(
        warehouse, "update segmented.sync_hubspot__contacts set firstname = '', jobtitle = '' where email = ?", [email]
    )
    change(
        warehouse, "update segmented.sync_hubspot__companies set domain = '' where outreach_brand_id = ?", [brand_id]
    )
    return str(email), str(brand_id)


def test_an_unknown_value_never_clears_what_sales_typed(warehouse: Path, destinations: Destinations) -> None:
    email, brand_id = _contact_with_unknowns(warehouse)
    hubspot = destinations.hubspot
    hubspot.typed_by_hand("contacts", email, "email", firstname="Jane", jobtitle="Head of Growth")
    hubspot.typed_by_hand("companies", brand_id, "outreach_brand_id", domain="typed-by-sales.example")

    run = sync(warehouse, destinations)
    assert run.returncode == 0, run.stdout + run.stderr

    stored = hubspot.contacts[email]["properties"]
    assert (stored["firstname"], stored["jobtitle"]) == ("Jane", "Head of Growth")
    assert stored["lastname"], "the known properties are still sent"
    assert hubspot.companies[brand_id]["properties"]["domain"] == "typed-by-sales.example"
    (sent,) = hubspot.properties_sent("contacts", email)
    assert "firstname" not in sent and "jobtitle" not in sent
    # no input of the run carries an empty or null property
    blanks = [
        (kind, item["id"], name)
        for kind, item in hubspot.inputs_received
        for name, value in item["properties"].items()
        if value is None or not str(value).strip()
    ]
    assert blanks == []


def test_the_dry_run_shows_which_properties_a_row_leaves_untouched(warehouse: Path, destinations: Destinations) -> None:
    email, brand_id = _contact_with_unknowns(warehouse)
    run = sync(warehouse, destinations, PIPELINE_MODE="")
    assert run.returncode == 0, run.stdout + run.stderr
    assert destinations.hubspot.calls == 0

    preview = dict(
        rows(
            warehouse,
            "select record_key, untouched_properties from reverse_etl.sync_preview"
            " where destination in ('hubspot_contacts', 'hubspot_companies') and record_key in (?, ?)",
            [email, brand_id],
        )
    )
    assert preview == {email: "firstname, jobtitle", brand_id: "domain"}
    markdown = (warehouse.parent / "reverse_etl_preview.md").read_text()
    (line,) = [line for line in markdown.splitlines() if line.startswith(f"| contacts | {email} |")]
    assert line.endswith("leaves untouched: firstname, jobtitle |")
    requests = json.loads((warehouse.parent / "reverse_etl_preview.json").read_text())
    (request,) = [r for r in requests["hubspot_contacts"] if any(i["id"] == email for i in r["body"]["inputs"])]
    (contact,) = [i for i in request["body"]["inputs"] if i["id"] == email]
    assert "firstname" not in contact["properties"] and "jobtitle" not in contact["properties"]
    assert request["leaves_untouched"][email] == ["firstname", "jobtitle"]
    assert all(
        str(value).strip()
        for r in requests["hubspot_contacts"]
        for i in r["body"]["inputs"]
        for value in i["properties"].values()
    )
