"""A brand whose id changes with the name normalization keeps its Apollo lookup, its sync ledger
and its segment history: the real CLI, a real DuckDB file, the fake Smartlead and HubSpot.

The warehouse is built, enriched and synced (production, to the fakes) with the previous
normalization (OUTREACH_NAME_NORMALIZATION_VERSION=1), under which `The Beacon Living Co.` is
`the beacon living`; then rebuilt with the current one, under which it is `beacon living`:
another brand_id. Neither Apollo nor Smartlead may be paid or sent to again for it."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders.apollo import BrandToEnrich, filter_recently_looked_up
from pipeline.warehouse import connect
from tests.python.cli_runner import PipelineRun, run_outreach, sync_production
from tests.python.fakes.destinations import Destinations
from tests.python.gate_support import relabel_as_live

pytestmark = pytest.mark.pipeline

SAMPLE_NAME = "Beacon Living"  # a sample brand that reaches a Smartlead campaign
RENAMED = "The Beacon Living Co."
OLD_ID = hashlib.md5(b"US|the beacon living").hexdigest()
NEW_ID = hashlib.md5(b"US|beacon living").hexdigest()
V1 = {"OUTREACH_NAME_NORMALIZATION_VERSION": "1"}


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


def test_a_brand_whose_id_changed_keeps_its_lookup_ledger_and_history(
    tmp_path: Path, destinations: Destinations
) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    outreach(warehouse, "ingest")
    renamed = rows(warehouse, "select count(*) from raw.smartscout_brands where brand_name = ?", [SAMPLE_NAME])
    assert renamed == [(1,)]
    change(warehouse, "update raw.smartscout_brands set brand_name = ? where brand_name = ?", [RENAMED, SAMPLE_NAME])

    # built, enriched and sent with the previous normalization
    outreach(warehouse, "build", env=V1)
    outreach(warehouse, "enrich", env=V1)
    outreach(warehouse, "build", env=V1)
    assert rows(
        warehouse, "select brand_id from segmented.sync_smartlead__leads where company_name = ?", [RENAMED]
    ) == [(OLD_ID,)]
    with connect(warehouse) as relabelled:  # the fakes stand in for the vendors
        relabel_as_live(relabelled)
    production = {**destinations.env, "PIPELINE_MODE": "production"}
    ok(sync_production(warehouse, {**production, **V1}))
    email = rows(warehouse, "select email from segmented.sync_smartlead__leads where brand_id = ?", [OLD_ID])[0][0]
    sent = Counter(lead["email"] for upload in destinations.smartlead.uploads for lead in upload["lead_list"])
    assert sent[email] == 1
    lookups = "select count(*) from raw.apollo_lookups where brand_name = ?"
    assert rows(warehouse, lookups, [RENAMED]) == [(1,)]

    # rebuilt with the current normalization: another id, the same brand
    build = outreach(warehouse, "build")
    assert rows(warehouse, "select brand_id from clean.stg_smartscout__brands where brand_name = ?", [RENAMED]) == [
        (NEW_ID,)
    ]
    assert rows(warehouse, "select old_brand_id from clean.stg_brand_id_aliases where brand_id = ?", [NEW_ID]) == [
        (OLD_ID,)
    ]
    assert "1 rows moved" in build.stdout
    # the contact Apollo found under the old id is the brand's: it is queued again, not looked up again
    assert rows(warehouse, "select email from segmented.sync_smartlead__leads where brand_id = ?", [NEW_ID]) == [
        (email,)
    ]
    # the ledger follows the brand: nothing is sent to Smartlead again
    ok(sync_production(warehouse, production))
    sent = Counter(lead["email"] for upload in destinations.smartlead.uploads for lead in upload["lead_list"])
    assert sent[email] == 1
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
