"""A brand whose id changes with the name normalization keeps its Apollo lookup, its sync ledger,
its segment history and its HubSpot company: the real CLI, a real DuckDB file, the fake Smartlead
and HubSpot.

One flow, run once for the module: the warehouse is built, enriched and synced (production, to
the fakes) with the previous normalization (OUTREACH_NAME_NORMALIZATION_VERSION=1), under which
`The Beacon Living Co.` is `the beacon living` and `The Mesa Tools Co.` is `the mesa tools`; then
rebuilt with the current one (`beacon living`, `mesa tools`: other brand ids) and synced again.
Beacon Living reaches a Smartlead campaign: neither Apollo nor Smartlead may be paid or sent to
again for it. Mesa Tools replied positively, so it is a HubSpot company, created under its old id;
its storefront changes along with the rebuild: HubSpot must still hold ONE company for it, now
carrying the new id, with its contact associated to that company."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders.apollo import BrandToEnrich, filter_recently_looked_up
from reverse_etl.sync import UNCHANGED, collect_records, plan_all
from tests.python.cli_runner import SETUP_BUILD, PipelineRun, run_outreach, sync_production
from tests.python.fakes.destinations import Destinations, running_destinations
from tests.python.gate_support import relabel_as_live
from warehouse_layer import connect, last_stage_run

pytestmark = pytest.mark.pipeline

SAMPLE_NAME = "Beacon Living"  # a sample brand that reaches a Smartlead campaign
RENAMED = "The Beacon Living Co."
OLD_ID = hashlib.md5(b"US|the beacon living").hexdigest()
NEW_ID = hashlib.md5(b"US|beacon living").hexdigest()
CRM_SAMPLE_NAME = "Mesa Tools"  # a sample brand whose contact replied positively: a HubSpot company
CRM_RENAMED = "The Mesa Tools Co."
CRM_OLD_ID = hashlib.md5(b"US|the mesa tools").hexdigest()
CRM_NEW_ID = hashlib.md5(b"US|mesa tools").hexdigest()
CRM_STOREFRONT = "https://www.amazon.com/stores/MesaTools/page/0D5E3C1A-NEW-STOREFRONT"
V1 = {"OUTREACH_NAME_NORMALIZATION_VERSION": "1"}
# the scene before the migration is built without dbt's tests (cli_runner.SETUP_BUILD): the
# rebuild with the current normalization, which is under test, runs every data test
V1_SETUP_BUILD = {**V1, **SETUP_BUILD}
COMPANIES_UPSERT_PATH = "/crm/v3/objects/companies/batch/upsert"
COMPANIES_UPDATE_PATH = "/crm/v3/objects/companies/batch/update"


def rows(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def change(warehouse: Path, sql: str, params: list[Any] | None = None) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(sql, params or [])


def ok(run: PipelineRun) -> PipelineRun:
    assert run.returncode == 0, f"failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def outreach(warehouse: Path, *args: str, env: dict[str, str] | None = None) -> PipelineRun:
    return ok(run_outreach(warehouse, *args, env=env))


def companies_in_hubspot(destinations: Destinations, name: str) -> list[tuple[str, str]]:
    """(HubSpot object id, outreach_brand_id) of every company of that name in the fake."""
    return sorted(
        (record["id"], record["properties"].get("outreach_brand_id", ""))
        for record in destinations.hubspot.companies.values()
        if record["properties"].get("name") == name
    )


@dataclass
class Flow:
    """The warehouse after the whole flow, and what was observed on the way."""

    warehouse: Path
    destinations: Destinations
    email: str = ""  # Beacon Living's contact, sent to Smartlead once under the old id
    lookups_before: list[tuple[Any, ...]] = field(default_factory=list)
    sent_before: int = 0
    old_build_ids: list[tuple[Any, ...]] = field(default_factory=list)
    crm_company_before: list[tuple[str, str]] = field(default_factory=list)
    crm_associations_before: set[tuple[str, str]] = field(default_factory=set)
    crm_upserts_before: int = 0
    build: PipelineRun | None = None  # the rebuild with the current normalization
    partial_build_recorded: bool = True  # whether `build --select` counted as a build for production


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with running_destinations() as destinations:
        warehouse = tmp_path_factory.mktemp("brand_id_migration") / "outreach.duckdb"
        result = Flow(warehouse, destinations)
        outreach(warehouse, "ingest")
        for sample, renamed in ((SAMPLE_NAME, RENAMED), (CRM_SAMPLE_NAME, CRM_RENAMED)):
            assert rows(warehouse, "select count(*) from raw.smartscout_brands where brand_name = ?", [sample]) == [
                (1,)
            ]
            change(warehouse, "update raw.smartscout_brands set brand_name = ? where brand_name = ?", [renamed, sample])

        # built, enriched and sent with the previous normalization (only what enrich reads first)
        outreach(warehouse, "build", "--select", "+seg_apollo_worklist", env=V1_SETUP_BUILD)
        with connect(warehouse, read_only=True) as built:
            result.partial_build_recorded = last_stage_run(built, "build") is not None
        outreach(warehouse, "enrich", env=V1)
        outreach(warehouse, "build", env=V1_SETUP_BUILD)
        result.old_build_ids = rows(
            warehouse,
            "select 'lead', brand_id from segmented.sync_smartlead__leads where company_name = ? "
            "union all select 'company', outreach_brand_id from segmented.sync_hubspot__companies where name = ? "
            "order by 1",
            [RENAMED, CRM_RENAMED],
        )
        with connect(warehouse) as relabelled:  # the fakes stand in for the vendors
            relabel_as_live(relabelled)
        production = {**destinations.env, "PIPELINE_MODE": "production"}
        ok(sync_production(warehouse, {**production, **V1}))
        result.email = rows(
            warehouse, "select email from segmented.sync_smartlead__leads where brand_id = ?", [OLD_ID]
        )[0][0]
        result.sent_before = smartlead_sends(destinations)[result.email]
        result.lookups_before = rows(
            warehouse, "select count(*) from raw.apollo_lookups where brand_name = ?", [RENAMED]
        )
        result.crm_company_before = companies_in_hubspot(destinations, CRM_RENAMED)
        result.crm_associations_before = set(destinations.hubspot.associations)
        result.crm_upserts_before = destinations.hubspot.calls_by_path[COMPANIES_UPSERT_PATH]

        # the company changes (a new storefront page) while the brand gets its new id
        change(
            warehouse,
            "update raw.smartscout_brands set storefront_url = ? where brand_name = ?",
            [CRM_STOREFRONT, CRM_RENAMED],
        )
        # rebuilt with the current normalization: another id, the same brands
        result.build = outreach(warehouse, "build")
        with connect(warehouse) as relabelled:  # rows rebuilt from RAW keep its (relabelled) origin
            relabel_as_live(relabelled)
        ok(sync_production(warehouse, production))
        yield result


def smartlead_sends(destinations: Destinations) -> Counter[str]:
    return Counter(lead["email"] for upload in destinations.smartlead.uploads for lead in upload["lead_list"])


def test_a_brand_whose_id_changed_keeps_its_lookup_ledger_and_history(flow: Flow) -> None:
    warehouse = flow.warehouse
    # the first build, only what enrich reads, does not count as a build for production sends
    assert not flow.partial_build_recorded
    assert flow.old_build_ids == [("company", CRM_OLD_ID), ("lead", OLD_ID)]
    assert flow.sent_before == 1
    assert flow.lookups_before == [(1,)]

    assert rows(warehouse, "select brand_id from clean.stg_smartscout__brands where brand_name = ?", [RENAMED]) == [
        (NEW_ID,)
    ]
    assert rows(warehouse, "select old_brand_id from clean.stg_brand_id_aliases where brand_id = ?", [NEW_ID]) == [
        (OLD_ID,)
    ]
    # Beacon Living's Smartlead lead; Mesa Tools' company and its contact's association
    assert flow.build is not None and "3 rows moved" in flow.build.stdout
    # the contact Apollo found under the old id is the brand's: it is queued again, not looked up again
    assert rows(warehouse, "select email from segmented.sync_smartlead__leads where brand_id = ?", [NEW_ID]) == [
        (flow.email,)
    ]
    # the ledger follows the brand: nothing is sent to Smartlead again
    assert smartlead_sends(flow.destinations)[flow.email] == 1
    ledger = (
        "select record_key, status from reverse_etl.sync_ledger "
        "where destination = 'smartlead_leads' and record_key in (?, ?)"
    )
    assert rows(warehouse, ledger, [OLD_ID, NEW_ID]) == [(NEW_ID, "sent")]
    assert rows(
        warehouse,
        "select destination, record_key, outcome from reverse_etl.brand_id_migrations where old_record_key = ?",
        [OLD_ID],
    ) == [("smartlead_leads", NEW_ID, "moved")]

    # nor is Apollo paid again: the brand has its contact, so it is not on the work list, and the
    # TTL check (for a brand the work list would hand it, e.g. one whose lookup found no one)
    # counts the lookup landed under the old id
    worklist = "select count(*) from segmented.seg_apollo_worklist where brand_id = ?"
    assert rows(warehouse, worklist, [NEW_ID]) == [(0,)]
    assert filter_recently_looked_up([BrandToEnrich(NEW_ID, RENAMED)], warehouse, ttl_days=30) == []
    lookups = "select count(*) from raw.apollo_lookups where brand_name = ?"
    assert rows(warehouse, lookups, [RENAMED]) == [(1,)]

    # one segment membership, from the first build on, under the brand's id now
    first_version = rows(
        warehouse, "select min(dbt_valid_from) from history.snap_brand_segments where brand_id = ?", [OLD_ID]
    )[0][0]
    periods = rows(
        warehouse,
        "select entered_at, left_at from segmented.seg_brand_segment_history where brand_id = ? order by entered_at",
        [NEW_ID],
    )
    assert first_version is not None
    assert periods == [(first_version, None)]


def test_a_hubspot_company_created_under_the_old_id_follows_the_brand(flow: Flow) -> None:
    """Its ledger row moved to the new id; the next send (the company changed) writes the same
    HubSpot object by its id, rewriting its outreach_brand_id: no second company, and the contact
    stays associated with the one company."""
    hubspot = flow.destinations.hubspot
    assert len(flow.crm_company_before) == 1
    object_id, old_value = flow.crm_company_before[0]
    assert old_value == CRM_OLD_ID
    email = rows(flow.warehouse, CRM_CONTACT, [CRM_NEW_ID])[0][0]
    contact_id = hubspot.contacts[email]["id"]
    assert flow.crm_associations_before >= {(contact_id, object_id)}

    assert companies_in_hubspot(flow.destinations, CRM_RENAMED) == [(object_id, CRM_NEW_ID)]
    company = hubspot.companies[CRM_NEW_ID]
    assert company["id"] == object_id and CRM_OLD_ID not in hubspot.companies
    assert company["properties"]["outreach_storefront_url"] == CRM_STOREFRONT  # the change arrived
    # written by object id once; no upsert of it by the new id
    assert hubspot.calls_by_path[COMPANIES_UPDATE_PATH] == 1
    assert [
        item["id"] for kind, item in hubspot.inputs_received if kind == "companies" and "idProperty" not in item
    ] == [object_id]
    assert hubspot.properties_sent("companies", CRM_NEW_ID) == []
    # every association of the contact points at that company
    assert {pair for pair in hubspot.associations if pair[0] == contact_id} == {(contact_id, object_id)}
    ledger = (
        "select destination, record_key, remote_id, status from reverse_etl.sync_ledger "
        "where destination like 'hubspot_%' and (record_key like ? or record_key like ?) order by 1"
    )
    assert rows(flow.warehouse, ledger, [f"%{CRM_OLD_ID}", f"%{CRM_NEW_ID}"]) == [
        ("hubspot_associations", f"{email}|{CRM_NEW_ID}", None, "sent"),
        ("hubspot_companies", CRM_NEW_ID, object_id, "sent"),
    ]
    # a next sync has nothing more to send it
    with connect(flow.warehouse) as warehouse:
        planned = plan_all(warehouse, collect_records(warehouse))
    actions = {(item.record.destination, item.record.record_key): item.action for item in planned}
    assert actions[("hubspot_companies", CRM_NEW_ID)] == UNCHANGED
    assert actions[("hubspot_associations", f"{email}|{CRM_NEW_ID}")] == UNCHANGED


CRM_CONTACT = "select email from segmented.sync_hubspot__contacts where outreach_brand_id = ?"
