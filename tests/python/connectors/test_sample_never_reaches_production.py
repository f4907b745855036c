"""The bundled sample data never reaches production (README "Going live": sample-free).

Through the real CLI against the local fakes: a warehouse loaded live from the fake SmartScout
(which serves only part of the sample's brands, so the rest exist only in the bundled sample), then
the operator slips of issue 13: a sample-mode `enrich`, a sample-mode `ingest` killed with SIGKILL
part-way, rows of unknown origin. Every RAW row carries `_source_mode`; a stage refuses to mix
before writing anything, and production refuses any RAW row that did not come from a live source.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.python.cli_runner import PROJECT_DIR, SETUP_BUILD, PipelineRun, run_outreach, sync_production
from tests.python.fakes.apollo import FakeApollo, load_organizations
from tests.python.fakes.destinations import Destinations
from tests.python.fakes.server import serve
from tests.python.fakes.smartlead import FakeSmartlead, serve_smartlead
from tests.python.fakes.smartscout import FAKE_API_KEY, SmartScoutFake

SAMPLE = PROJECT_DIR / "sample_data"
APOLLO_KEY = "test-master-key"
SMARTLEAD_KEY = "sl-test-key"

# `outreach <args>` that stops for good right after a RAW load has landed (the first one, or the
# first of the dlt pipeline named in TEST_PAUSE_AFTER_LOAD_OF) and says so in a marker file: the
# test kills it there with SIGKILL, as the OOM killer or a closed laptop would
PAUSE_AFTER_A_LOAD = """
import os, pathlib, sys, time
from dlt.pipeline.pipeline import Pipeline
_load = Pipeline.load
def load(self, *args, **kwargs):
    info = _load(self, *args, **kwargs)
    if os.environ["TEST_PAUSE_AFTER_LOAD_OF"] in ("*", self.pipeline_name):
        pathlib.Path(os.environ["TEST_LOAD_MARKER"]).touch()
        time.sleep(600)
    return info
Pipeline.load = load
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""
FIRST_LOAD = "*"
LAST_SAMPLE_INGEST_LOAD = "apollo"  # the empty Apollo tables, created last: every RAW table exists


def sample_page_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in sorted((SAMPLE / "smartscout" / "brands_search_US").glob("*.json")):
        items += [item for item in json.loads(page.read_text())["data"] or [] if isinstance(item, dict)]
    return items


def sample_contact_emails() -> set[str]:
    organizations = json.loads((SAMPLE / "apollo" / "organizations.json").read_text())
    return {
        str(person["email"]).strip().lower()
        for organization in organizations
        for person in organization.get("people") or []
        if person.get("email")
    }


@dataclass
class Fakes:
    served_brand_names: set[str]
    smartlead: FakeSmartlead
    env: dict[str, str]  # live mode against the fakes


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    # the live SmartScout knows every other brand of the sample (big and small alike): the others
    # exist only in the bundled sample
    served = sample_page_items()[::2]
    smartscout = SmartScoutFake(items=served)
    smartlead = FakeSmartlead(api_key=SMARTLEAD_KEY)
    smartlead.add_campaign(1001, "Segment A - Premium")
    apollo = FakeApollo(load_organizations(SAMPLE / "apollo" / "organizations.json"), api_keys=[APOLLO_KEY])
    with ExitStack() as stack:
        smartscout_server = stack.enter_context(serve(smartscout))
        smartlead_server = stack.enter_context(serve_smartlead(smartlead))
        apollo_server = stack.enter_context(serve(apollo))
        env = {
            "OUTREACH_SOURCE_MODE": "live",
            "SOURCES__SMARTSCOUT__API_KEY": FAKE_API_KEY,
            "SOURCES__SMARTSCOUT__BASE_URL": smartscout_server.base_url,
            "SOURCES__SMARTSCOUT__PAGE_SIZE": "100",
            "SOURCES__SMARTSCOUT__REQUESTS_PER_SECOND": "1000",
            "SOURCES__SMARTLEAD__API_KEY": SMARTLEAD_KEY,
            "SOURCES__SMARTLEAD__BASE_URL": smartlead_server.base_url,
            "SOURCES__SMARTLEAD__REQUESTS_PER_SECOND": "1000",
            "SOURCES__APOLLO__API_KEY": APOLLO_KEY,
            "SOURCES__APOLLO__BASE_URL": apollo_server.base_url,
            "SOURCES__APOLLO__REQUESTS_PER_SECOND": "1000",
        }
        yield Fakes({str(item["brandName"]) for item in served}, smartlead, env)


def ok(run: PipelineRun) -> PipelineRun:
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def live_built(fakes: Fakes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Loaded live (brands and a Smartlead poll) and built; no contacts yet."""
    warehouse = tmp_path_factory.mktemp("live_built") / "outreach.duckdb"
    ok(run_outreach(warehouse, "ingest", env=fakes.env))
    ok(run_outreach(warehouse, "build", env={**fakes.env, **SETUP_BUILD}))  # a scene, not under test
    return warehouse


def copy_of(warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse" / "outreach.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(warehouse, copy)
    return copy


def rows(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def not_live_rows(warehouse: Path) -> int:
    tables = rows(
        warehouse,
        "select table_name from information_schema.tables where table_schema = 'raw' and table_name not like '_dlt%'",
    )
    return sum(
        rows(warehouse, f"select count(*) from raw.{table} where _source_mode is distinct from 'live'")[0][0]
        for (table,) in tables
    )


def sample_mode(env: dict[str, str]) -> dict[str, str]:
    """The operator's slip: the same shell without OUTREACH_SOURCE_MODE=live (the default is sample)."""
    return {**env, "OUTREACH_SOURCE_MODE": "sample"}


def send(warehouse: Path, destinations: Destinations, fakes: Fakes) -> PipelineRun:
    """A dry run makes the plan, production applies it (the events come from the fake Smartlead
    the live ingest polled)."""
    env = {**destinations.env, **{key: fakes.env[key] for key in ("SOURCES__SMARTLEAD__API_KEY",)}}
    return sync_production(warehouse, env)


def sent_leads(destinations: Destinations) -> list[dict[str, Any]]:
    return [lead for upload in destinations.smartlead.uploads for lead in upload["lead_list"]]


def assert_one_line_refusal(run: PipelineRun, *phrases: str) -> None:
    assert run.returncode == 3, f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}"  # refused, needs a person
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for phrase in phrases:
        assert phrase in run.stderr, run.stderr


def killed_after_load(warehouse: Path, env: dict[str, str], tmp_path: Path, load_of: str, *args: str) -> int | None:
    """Runs `outreach --duckdb warehouse <args>`; SIGKILLs it once the load `load_of` landed.
    Returns its exit code when it ended by itself first (None: killed)."""
    marker = tmp_path / "load_landed"
    full_env = {key: value for key, value in os.environ.items() if key != "PIPELINE_MODE"}
    full_env.update(env, TEST_LOAD_MARKER=str(marker), TEST_PAUSE_AFTER_LOAD_OF=load_of)
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSE_AFTER_A_LOAD, "--duckdb", str(warehouse), *args],
        cwd=PROJECT_DIR,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if marker.exists():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return None
        if process.poll() is not None:
            return process.returncode
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the load neither landed nor ended within 120 s")


def test_a_sample_enrich_on_a_live_warehouse_is_refused_and_no_sample_contact_is_sent(
    fakes: Fakes, live_built: Path, destinations: Destinations, tmp_path: Path
) -> None:
    warehouse = copy_of(live_built, tmp_path)
    enrich = run_outreach(warehouse, "enrich", env=sample_mode(fakes.env))
    ok(run_outreach(warehouse, "build", env={**fakes.env, **SETUP_BUILD}))
    sync = send(warehouse, destinations, fakes)

    sample_emails = sample_contact_emails()
    assert not [lead["email"] for lead in sent_leads(destinations) if lead["email"].lower() in sample_emails]
    assert_one_line_refusal(
        enrich,
        "enrich refused, nothing was written",
        "OUTREACH_SOURCE_MODE=sample would mix the bundled sample data into a warehouse that holds live data",
        "--duckdb warehouse/sample/outreach.duckdb enrich",
    )
    assert rows(warehouse, "select count(*) from raw.apollo_people") == [(0,)]
    assert not_live_rows(warehouse) == 0
    # the live data alone passes the gate: the events the ingest polled count as read
    ok(sync)
    assert "PIPELINE_MODE=production" in sync.stdout


def test_a_sample_ingest_killed_on_a_live_warehouse_leaves_nothing_production_would_send(
    fakes: Fakes, live_built: Path, destinations: Destinations, tmp_path: Path
) -> None:
    warehouse = copy_of(live_built, tmp_path)
    ended = killed_after_load(warehouse, sample_mode(fakes.env), tmp_path, FIRST_LOAD, "ingest")
    ok(run_outreach(warehouse, "enrich", env=fakes.env))  # the operator carries on, live
    ok(run_outreach(warehouse, "build", env={**fakes.env, **SETUP_BUILD}))
    ok(send(warehouse, destinations, fakes))

    sent_companies = {lead["company_name"] for lead in sent_leads(destinations)}
    assert sent_companies, "leads were sent for the live brands"
    assert sent_companies <= fakes.served_brand_names, sent_companies - fakes.served_brand_names
    assert ended == 3, "the sample ingest refused before loading anything (nothing to kill)"
    assert not_live_rows(warehouse) == 0


def test_a_killed_sample_load_in_a_new_warehouse_blocks_live_loads_and_production(
    fakes: Fakes, destinations: Destinations, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse" / "outreach.duckdb"
    killed = killed_after_load(warehouse, sample_mode(fakes.env), tmp_path, LAST_SAMPLE_INGEST_LOAD, "ingest")
    assert killed is None, "killed after its last load, before the stage recorded anything"
    landed = rows(warehouse, "select _source_mode, count(*) from raw.smartscout_brands group by 1")
    assert landed and {mode for mode, _ in landed} == {"sample"}  # every row says where it came from

    live = run_outreach(warehouse, "ingest", env=fakes.env)
    assert_one_line_refusal(
        live,
        "ingest refused, nothing was written",
        "OUTREACH_SOURCE_MODE=live would mix live data into a warehouse that holds the bundled sample data",
        "--duckdb warehouse/live/outreach.duckdb ingest",
    )
    assert rows(warehouse, "select count(*) from raw.smartscout_brands where _source_mode = 'live'") == [(0,)]

    ok(run_outreach(warehouse, "build", env={**fakes.env, **SETUP_BUILD}))
    sync = send(warehouse, destinations, fakes)
    assert_one_line_refusal(
        sync,
        "PIPELINE_MODE=production refused, nothing was sent: sample-free check",
        f"raw.smartscout_brands: {landed[0][1]} sample",
        "--duckdb warehouse/live/outreach.duckdb ingest",
    )
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0

    # deleting the sample rows from RAW is no way out: the incremental CLEAN tables built from
    # them keep them, and they say where they came from
    with duckdb.connect(str(warehouse)) as connection:
        for (table,) in connection.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'raw' and column_name = '_source_mode'"
        ).fetchall():
            connection.execute(f"delete from raw.{table} where _source_mode = 'sample'")
    assert not_live_rows(warehouse) == 0
    assert_one_line_refusal(
        send(warehouse, destinations, fakes),
        "sample-free check: the CLEAN tables the sync_* models read hold rows that did not come from a live source",
        "clean.stg_smartscout__brands: ",
    )
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0


def test_rows_of_unknown_origin_never_count_as_live(
    fakes: Fakes, live_built: Path, destinations: Destinations, tmp_path: Path
) -> None:
    """A warehouse loaded before rows recorded their origin: its RAW tables have no `_source_mode`."""
    warehouse = copy_of(live_built, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("alter table raw.smartscout_brands drop column _source_mode")
        brands = connection.execute("select count(*) from raw.smartscout_brands").fetchone()
    assert brands and brands[0] > 0

    sync = send(warehouse, destinations, fakes)
    assert_one_line_refusal(
        sync, "sample-free check", f"raw.smartscout_brands: {brands[0]} unknown", "loaded before origins were recorded"
    )
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0
    assert_one_line_refusal(
        run_outreach(warehouse, "ingest", env=fakes.env), "ingest refused, nothing was written", "unknown"
    )


def test_a_failed_or_incomplete_poll_is_not_a_successful_events_read(
    fakes: Fakes, live_built: Path, tmp_path: Path
) -> None:
    warehouse = copy_of(live_built, tmp_path)
    reads = "select count(*), max(read_at) from pipeline_ops.event_reads where source = 'smartlead poll'"
    before = rows(warehouse, reads)
    assert before[0][0] == 1  # the live ingest's poll: read whole
    env = {key: value for key, value in fakes.env.items() if not key.startswith("SOURCES__SMARTSCOUT__")}
    failed = run_outreach(warehouse, "ingest", env={**env, "SOURCES__SMARTLEAD__API_KEY": "wrong"})
    assert failed.returncode == 1 and "smartlead poll: FAILED" in failed.stdout
    assert rows(warehouse, reads) == before

    fakes.smartlead.statistics_bodies[("1001", 0)] = "<html>502 Bad Gateway</html>"
    try:  # the poll ends, but stopped at a page it could not read
        cut_short = ok(run_outreach(warehouse, "ingest", env=env))
    finally:
        del fakes.smartlead.statistics_bodies[("1001", 0)]
    assert "smartlead poll: not read whole (1001" in cut_short.stdout
    assert rows(warehouse, reads) == before
