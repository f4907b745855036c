"""`OUTREACH_SOURCE_MODE=live` through the real CLI: every stage talks HTTP to local fakes that
speak the vendors' contracts, and lands in a real DuckDB file."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.python.cli_runner import PROJECT_DIR, PipelineRun, run_outreach
from tests.python.fakes.apollo import FakeApollo, load_organizations
from tests.python.fakes.server import RunningServer, serve
from tests.python.fakes.smartlead import FakeSmartlead, serve_smartlead
from tests.python.fakes.smartscout import FAKE_API_KEY, SmartScoutFake

SAMPLE = PROJECT_DIR / "sample_data"
APOLLO_KEY = "test-master-key"
SMARTLEAD_KEY = "sl-test-key"


def sample_brand_items() -> list[dict[str, object]]:
    """The bundled API pages' items, served by the fake SmartScout (so Apollo's sample orgs match)."""
    items: list[dict[str, object]] = []
    for page in sorted((SAMPLE / "smartscout" / "brands_search_US").glob("*.json")):
        items += json.loads(page.read_text())["data"] or []
    return [item for item in items if isinstance(item, dict)]


@dataclass
class LiveFakes:
    smartscout: SmartScoutFake
    smartlead: FakeSmartlead
    apollo: FakeApollo
    env: dict[str, str]


@pytest.fixture(scope="module")
def fakes() -> Iterator[LiveFakes]:
    smartscout = SmartScoutFake(items=sample_brand_items())
    smartlead = FakeSmartlead(api_key=SMARTLEAD_KEY)
    smartlead.add_campaign(1001, "Segment A - Premium")
    smartlead.add_stats(
        1001,
        stats_id="st-1",
        lead_email="someone@example.com",
        sent_time="2026-11-01T10:00:00.000Z",
        reply_time="2026-11-02T10:00:00.000Z",
    )
    apollo = FakeApollo(load_organizations(SAMPLE / "apollo" / "organizations.json"), api_keys=[APOLLO_KEY])
    with ExitStack() as stack:
        smartscout_server: RunningServer = stack.enter_context(serve(smartscout))
        smartlead_server: RunningServer = stack.enter_context(serve_smartlead(smartlead))
        apollo_server: RunningServer = stack.enter_context(serve(apollo))
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
        yield LiveFakes(smartscout, smartlead, apollo, env)


@pytest.fixture(scope="module")
def live_warehouse(fakes: LiveFakes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("live") / "outreach.duckdb"
    for stage in ["ingest", "build", "enrich"]:
        run = run_outreach(warehouse, stage, env=fakes.env)
        assert run.returncode == 0, f"{stage} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return warehouse


def scalar(warehouse: Path, sql: str) -> object:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_ingest_loads_every_source_over_http(fakes: LiveFakes, live_warehouse: Path) -> None:
    distinct_items = {json.dumps(item, sort_keys=True) for item in sample_brand_items()}
    api_rows = scalar(live_warehouse, "select count(*) from raw.smartscout_brands where source_kind = 'api'")
    assert api_rows == len(distinct_items)
    assert fakes.smartscout.pages_served == 4  # 319 items at 100 a page
    events = scalar(live_warehouse, "select count(*) from raw.smartlead_events where source_kind = 'api_poll'")
    assert events == 2  # the sent email and its reply
    assert scalar(live_warehouse, "select count(*) from raw.smartscout_brands where source_kind = 'csv_export'") == 0


def test_enrich_pays_apollo_once_per_brand_within_the_ttl(fakes: LiveFakes, live_warehouse: Path) -> None:
    looked_up = scalar(live_warehouse, "select count(*) from raw.apollo_lookups")
    credits = scalar(live_warehouse, "select sum(credits_consumed) from raw.apollo_lookups")
    assert isinstance(looked_up, int) and looked_up > 50
    assert credits == fakes.apollo.credits_consumed > 0
    assert scalar(live_warehouse, "select count(*) from raw.apollo_people where source_kind = 'api'") > 0

    calls_before = sum(fakes.apollo.calls.values())
    run = run_outreach(live_warehouse, "enrich", env=fakes.env)
    assert run.returncode == 0, run.stderr
    assert sum(fakes.apollo.calls.values()) == calls_before
    assert fakes.apollo.credits_consumed == credits
    assert f"{looked_up} skipped: looked up within TTL" in run.stdout


def test_a_kill_during_enrich_loses_no_paid_answer_and_the_rerun_pays_nothing_twice(
    fakes: LiveFakes, live_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    shutil.copyfile(live_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:  # the same work list, never looked up
        (paid_once,) = connection.execute("select sum(credits_consumed) from raw.apollo_lookups").fetchone() or (0,)
        for table in ("apollo_lookups", "apollo_people", "apollo_calls", "apollo_reveals"):
            connection.execute(f"delete from raw.{table}")
    apollo = FakeApollo(load_organizations(SAMPLE / "apollo" / "organizations.json"), api_keys=[APOLLO_KEY])
    with serve(apollo) as server:
        env = {**fakes.env, "SOURCES__APOLLO__BASE_URL": server.base_url}
        # kill -9 right after the 25th paid answer (organizations and bulk_match calls) was saved
        killed = run_outreach(warehouse, "enrich", env={**env, "OUTREACH_TEST_KILL_AT": "apollo.paid_answer_saved#25"})
        assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr[-2000:]
        charged_before_the_kill = apollo.credits_consumed
        rerun = run_outreach(warehouse, "enrich", env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert charged_before_the_kill > 0
    assert apollo.credits_consumed == paid_once  # the re-run paid only for what the kill left undone
    assert len(apollo.bulk_match_ids) == len(set(apollo.bulk_match_ids))  # no one revealed twice
    assert scalar(warehouse, "select sum(credits_consumed) from raw.apollo_lookups") == paid_once
    assert "earlier load(s) landed first" in rerun.stdout


def test_enrich_against_an_apollo_answering_500_stops_with_one_line_and_exits_non_zero(
    fakes: LiveFakes, live_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    shutil.copyfile(live_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:  # every brand is due again
        connection.execute("delete from raw.apollo_lookups")
    failing = FakeApollo(load_organizations(SAMPLE / "apollo" / "organizations.json"), api_keys=[APOLLO_KEY])
    failing.fail_next = 10**6
    with serve(failing) as server:
        run = run_outreach(warehouse, "enrich", env={**fakes.env, "SOURCES__APOLLO__BASE_URL": server.base_url})
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert errors == [run.stderr.strip().splitlines()[-1]] and "Traceback" not in run.stderr
    assert "6 failed requests in a row" in errors[0] and "SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES" in errors[0]
    assert len(failing.answers) == 6  # then it stopped, whatever the length of the work list


def test_a_refused_key_stops_that_source_only(fakes: LiveFakes, tmp_path: Path) -> None:
    calls_before = fakes.smartlead.calls
    run: PipelineRun = run_outreach(
        tmp_path / "outreach.duckdb", "ingest", env={**fakes.env, "SOURCES__SMARTSCOUT__API_KEY": "wrong"}
    )
    assert run.returncode == 1
    assert "smartscout api: FAILED" in run.stdout
    assert "check the API key/token for smartscout" in run.stdout
    assert "wrong" not in run.stdout + run.stderr
    assert fakes.smartlead.calls > calls_before  # the other source still ran
    assert scalar(tmp_path / "outreach.duckdb", "select count(*) from raw.smartlead_events") == 2


def test_progress_goes_to_stderr(fakes: LiveFakes, tmp_path: Path) -> None:
    env = {**fakes.env, "OUTREACH_PROGRESS_SECONDS": "0"}
    run = run_outreach(tmp_path / "outreach.duckdb", "ingest", env=env)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and SMARTLEAD_KEY not in run.stdout + run.stderr
    # the source shows its pages, rows and rate as it goes (every page: interval 0)
    progress = [line for line in run.stderr.splitlines() if line.startswith("[progress] smartscout api US: ")]
    assert re.fullmatch(
        r"\[progress\] smartscout api US: loading, 1 pages, \d+ rows, 0 rejected, \d+ rows/s", progress[0]
    )
    assert progress[-1].startswith("[progress] smartscout api US: done, 4 pages, ")
    assert [int(line.split(", ")[1].split()[0]) for line in progress] == [1, 2, 3, 4]  # pages so far
    assert all(line.endswith(" rows/s") for line in progress)
    assert scalar(tmp_path / "outreach.duckdb", "select count(*) from raw.smartscout_brands") > 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SOURCES__SMARTLEAD__LOOKBACK_DAYS", "two weeks", "SOURCES__SMARTLEAD__LOOKBACK_DAYS must be a number"),
        (
            "SOURCES__SMARTSCOUT__FILTERS",
            json.dumps({"monthlyRevenu": {"min": 1}}),
            "SOURCES__SMARTSCOUT__FILTERS: unknown SmartScout filter",
        ),
    ],
)
def test_a_bad_source_setting_stops_ingest_before_anything_is_loaded(
    fakes: LiveFakes, tmp_path: Path, variable: str, value: str, message: str
) -> None:
    """Checked before any source runs (one line, exit 2), not found half-way through a load."""
    run = run_outreach(tmp_path / "outreach.duckdb", "ingest", env={**fakes.env, variable: value})
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and FAKE_API_KEY not in run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.stderr
    assert not (tmp_path / "outreach.duckdb").exists()


def test_a_client_listed_only_by_store_slug_is_never_enriched_queued_or_planned(
    fakes: LiveFakes, live_warehouse: Path, tmp_path: Path
) -> None:
    """SmartScout answers in its published schema (no storefrontUrl), so no brand has a store slug
    from a URL. Iron Apothecary is on the suppression list only as the slug `ironapothecary`: it
    must match the name without spaces, so Apollo is never paid for it and it is on no work list,
    queue, sync model or dry-run plan. A list entry that still matches nothing is reported."""
    warehouse = tmp_path / "outreach.duckdb"
    shutil.copyfile(live_warehouse, warehouse)  # ingested, built, enriched through the fakes
    assert scalar(warehouse, "select count(*) from raw.smartscout_brands where storefront_url is not null") == 0
    brand_id = scalar(
        warehouse, "select brand_id from clean.stg_smartscout__brands where normalized_brand_name = 'iron apothecary'"
    )
    assert scalar(warehouse, f"select count(*) from raw.apollo_lookups where brand_id = '{brand_id}'") == 0

    build = run_outreach(warehouse, "build", env=fakes.env)
    assert build.returncode == 0, build.stdout[-3000:]
    # the slug that is not the brand's name (Luvel's store is `luvelshop`) matches nothing: said so
    assert '[build] suppression list: dead entry: suppression_list: store_slug "luvelshop"' in build.stdout
    sync = run_outreach(warehouse, "sync", env=fakes.env)
    assert sync.returncode == 0, sync.stdout[-3000:]

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        found = connection.execute(
            "select matched_by from enriched.int_brand_suppressions where brand_id = ?", [brand_id]
        ).fetchall()
    matched = {row[0] for row in found}
    assert matched == {"store_slug"}
    for relation, column in [
        ("segmented.seg_apollo_worklist", "brand_id"),
        ("segmented.seg_outreach_queue", "brand_id"),
        ("segmented.sync_smartlead__leads", "brand_id"),
        ("segmented.sync_hubspot__contacts", "outreach_brand_id"),
        ("segmented.sync_hubspot__companies", "outreach_brand_id"),
    ]:
        assert scalar(warehouse, f"select count(*) from {relation} where {column} = '{brand_id}'") == 0, relation
    preview = (tmp_path / "reverse_etl_preview.json").read_text()
    assert json.loads(preview)["smartlead_leads"] and brand_id not in preview and "Iron Apothecary" not in preview
