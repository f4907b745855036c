"""A warehouse built before this release's new columns (name_normalization, dominant_seller_id,
source_mode in the incremental CLEAN models) upgrades with a plain `outreach build`: the pre-hooks
add the columns and rebuild those rows from RAW, so on_schema_change='fail' has nothing to refuse
and nobody has to know about --full-refresh."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.python.cli_runner import PipelineRun, run_outreach

# columns this release added to the incremental CLEAN models
ADDED_COLUMNS = {
    "stg_smartscout__brand_observations": ["name_normalization", "dominant_seller_id", "source_mode"],
    "stg_smartscout__brands": ["name_normalization", "dominant_seller_id", "source_mode"],
    "stg_smartlead__event_observations": ["source_mode"],
    "stg_smartlead__events": ["source_mode"],
}


def _rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    """The table's rows, its columns in name order (an added column comes last in the table)."""
    columns = sorted(row[0] for row in connection.execute(f"describe clean.{table}").fetchall())
    listed = ", ".join(f'"{column}"' for column in columns)
    return sorted(connection.execute(f"select {listed} from clean.{table}").fetchall(), key=repr)


def test_a_warehouse_without_the_new_columns_upgrades_with_a_plain_build(demo_run: PipelineRun, tmp_path: Path) -> None:
    old = Path(shutil.copyfile(demo_run.duckdb_path, tmp_path / "outreach.duckdb"))
    with duckdb.connect(str(old)) as connection:
        expected = {table: _rows(connection, table) for table in ADDED_COLUMNS}
        for table, columns in ADDED_COLUMNS.items():
            for column in columns:
                connection.execute(f"alter table clean.{table} drop column {column}")
    run = run_outreach(old, "build")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with duckdb.connect(str(old), read_only=True) as connection:
        for table, columns in ADDED_COLUMNS.items():
            names = {row[0] for row in connection.execute(f"describe clean.{table}").fetchall()}
            assert set(columns) <= names, table
            assert _rows(connection, table) == expected[table], table  # rebuilt exactly as before
