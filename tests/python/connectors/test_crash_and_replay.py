"""kill -9 in the middle of a RAW load, then a re-run: every RAW row lands once (issue 14).

The crash is put exactly where it hurts with the test-only hook OUTREACH_TEST_KILL_AT
(warehouse_layer.fault_injection): `<pipeline>:before_load` is a dlt package extracted and
normalized on local disk but not loaded, with its cursor (the SmartScout progress row) in it. The
re-run must land that package before it decides what to fetch and whether rows can be appended.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from loaders.smartscout.client import SmartScoutConfig, load_smartscout_api
from tests.python.cli_runner import PROJECT_DIR, run_outreach
from tests.python.fakes.server import RunningServer, serve
from tests.python.fakes.smartscout import FAKE_API_KEY, SmartScoutFake, make_brands
from warehouse_layer.fault_injection import KILL_AT_ENV

# every RAW table and its primary key (docs/raw_layer.md)
RAW_KEYS = {
    "smartscout_brands": "record_hash",
    "rejected_records": "rejection_key",
    "smartlead_events": "event_key",
}


def duplicate_keys(duckdb_path: Path) -> dict[str, int]:
    """Per RAW table (of those that exist), how many rows share a primary key with another row."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        tables = {
            name
            for (name,) in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        }
        return {
            table: int(connection.execute(f"select count(*) - count(distinct {key}) from raw.{table}").fetchone()[0])  # type: ignore[index]
            for table, key in RAW_KEYS.items()
            if table in tables
        }


@pytest.fixture
def smartscout() -> Iterator[tuple[RunningServer, SmartScoutFake]]:
    fake = SmartScoutFake(items=make_brands(25))
    with serve(fake) as server:
        yield server, fake


def test_a_smartscout_api_load_killed_before_a_commit_landed_resumes_after_it_without_duplicates(
    smartscout: tuple[RunningServer, SmartScoutFake], tmp_path: Path
) -> None:
    server, fake = smartscout
    warehouse = tmp_path / "live" / "outreach.duckdb"
    settings = {
        "SOURCES__SMARTSCOUT__BASE_URL": server.base_url,
        "SOURCES__SMARTSCOUT__PAGE_SIZE": "5",
        "SOURCES__SMARTSCOUT__COMMIT_EVERY_PAGES": "2",
        "SOURCES__SMARTSCOUT__COMMIT_MIN_SECONDS": "0",
    }
    env = {"OUTREACH_SOURCE_MODE": "live", "SOURCES__SMARTSCOUT__API_KEY": FAKE_API_KEY, **settings}
    # pages 1-2 committed; pages 3-4 (and the cursor of page 5) extracted, then the process dies
    killed = run_outreach(warehouse, "ingest", env={**env, KILL_AT_ENV: "smartscout:before_load#2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert fake.page_numbers_served == [1, 2, 3, 4]

    config = SmartScoutConfig(api_key=FAKE_API_KEY, base_url=server.base_url, page_size=5, commit_every_pages=2)
    rerun = load_smartscout_api(warehouse, warehouse.parent / "dlt_pipelines", config, progress=None)

    assert fake.page_numbers_served == [1, 2, 3, 4, 5], "pages 3-4 were fetched and kept: not paid for again"
    assert (rerun.rows_loaded, rerun.details.get("resumed_at_page")) == (5, 5)
    duplicates = duplicate_keys(warehouse)
    assert "smartscout_brands" in duplicates and set(duplicates.values()) == {0}, duplicates
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from raw.smartscout_brands").fetchone() == (25,)


def test_an_ingest_killed_before_its_first_load_landed_then_rerun_lands_every_row_once(tmp_path: Path) -> None:
    """The sample pages (appended when new) are on disk, not loaded; the re-run lands them and
    finds the same pages again: nothing twice. (Only the pages: the other sources merge on keys.)"""
    sample = tmp_path / "sample_data"
    shutil.copytree(
        PROJECT_DIR / "sample_data" / "smartscout" / "brands_search_US", sample / "smartscout" / "brands_search_US"
    )
    warehouse = tmp_path / "sample" / "outreach.duckdb"
    env = {"OUTREACH_SAMPLE_DATA_DIR": str(sample)}
    killed = run_outreach(warehouse, "ingest", env={**env, KILL_AT_ENV: "smartscout:before_load"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    rerun = run_outreach(warehouse, "ingest", env=env)

    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "0 rows loaded" in rerun.stdout  # the same pages again: already landed by the waiting package
    duplicates = duplicate_keys(warehouse)
    assert "smartscout_brands" in duplicates and set(duplicates.values()) == {0}, duplicates
