"""Every RAW table a model reads exists after any ingest, whatever was loaded, with the columns a
load gives it; `build` on a warehouse without RAW says in one line to run `outreach ingest`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb

from loaders.common.pipeline import landing_source_mode
from loaders.smartlead import load_event_files
from loaders.smartscout import create_empty_brands_table
from pipeline.stages import RAW_TABLES_MODELS_READ
from tests.python.cli_runner import PROJECT_DIR, PipelineRun, run_outreach

SAMPLE = PROJECT_DIR / "sample_data"


def _columns(duckdb_path: Path, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        rows = connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by column_name",
            [table],
        ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def _ingest_only(tmp_path: Path, name: str, keep: list[str]) -> PipelineRun:
    """`outreach ingest` of a sample folder holding only `keep` (paths under sample_data/)."""
    sample = tmp_path / name / "sample"
    for relative in keep:
        source, target = SAMPLE / relative, sample / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    run = run_outreach(tmp_path / name / "outreach.duckdb", "ingest", env={"OUTREACH_SAMPLE_DATA_DIR": str(sample)})
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def test_the_declared_list_is_every_dbt_source() -> None:
    declared = set()
    for sources in (PROJECT_DIR / "models").rglob("_*__sources.yml"):
        declared |= set(re.findall(r"^ {6}- name: (\w+)$", sources.read_text(), flags=re.MULTILINE))
    assert declared == set(RAW_TABLES_MODELS_READ)


def test_a_source_not_loaded_still_has_its_raw_table_with_a_loads_columns(tmp_path: Path) -> None:
    brands_only = _ingest_only(tmp_path, "brands_only", ["smartscout/brands_search_US"]).duckdb_path
    for table in RAW_TABLES_MODELS_READ:
        assert _columns(brands_only, table), f"raw.{table} missing after an ingest of brands only"
    with duckdb.connect(str(brands_only), read_only=True) as connection:
        assert connection.execute("select count(*) from raw.smartlead_events").fetchone() == (0,)
    # the empty events table has the columns and types of one a load filled; the same for brands
    loaded_events = tmp_path / "events.duckdb"
    with landing_source_mode("sample"):
        load_event_files([SAMPLE / "smartlead" / "webhook_events.jsonl"], loaded_events, tmp_path / "dlt")
        create_empty_brands_table(loaded_events, tmp_path / "dlt")
    assert _columns(brands_only, "smartlead_events") == _columns(loaded_events, "smartlead_events")
    assert _columns(brands_only, "smartscout_brands") == _columns(loaded_events, "smartscout_brands")


def test_build_without_raw_says_to_ingest_first(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "outreach.duckdb"
    run = run_outreach(duckdb_path, "build")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "Catalog Error" not in run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "no RAW data yet: run `outreach ingest` first" in lines[0], run.stderr
    assert "dbt build" not in run.stdout


def test_build_names_a_raw_table_an_older_ingest_did_not_create(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "outreach.duckdb"
    with duckdb.connect(str(duckdb_path)) as connection:
        connection.execute("create schema raw")
        for table in RAW_TABLES_MODELS_READ:
            if table != "smartlead_events":
                connection.execute(f"create table raw.{table} (x integer)")
    run = run_outreach(duckdb_path, "build")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "raw.smartlead_events" in lines[0] and "run `outreach ingest`" in lines[0], run.stderr
