"""The one place Python code talks to the warehouse (DuckDB file by default)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb


class WarehouseError(RuntimeError):
    """The warehouse is missing something a stage needs (run the earlier stage first)."""


@contextmanager
def connect(duckdb_path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not duckdb_path.exists():
        raise WarehouseError(f"warehouse file {duckdb_path} does not exist: run `outreach ingest` first")
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(duckdb_path), read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()


def table_exists(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def fetch_dicts(
    connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, list(params or []))
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def require_table(connection: duckdb.DuckDBPyConnection, schema: str, table: str, stage: str) -> None:
    if not table_exists(connection, schema, table):
        raise WarehouseError(f"{schema}.{table} does not exist: run `outreach {stage}` first")


OPS_SCHEMA = "pipeline_ops"
SOURCE_MODES_TABLE = f"{OPS_SCHEMA}.source_modes"


def record_source_mode(connection: duckdb.DuckDBPyConnection, mode: str, now: Any) -> None:
    """Remember which kind of data this warehouse holds: a warehouse that ever ingested the
    bundled sample data must never send to the real vendors."""
    connection.execute(f"create schema if not exists {OPS_SCHEMA}")
    connection.execute(
        f"""
        create table if not exists {SOURCE_MODES_TABLE} (
            source_mode varchar primary key, first_ingested_at timestamp, last_ingested_at timestamp
        )
        """
    )
    connection.execute(
        f"""
        insert into {SOURCE_MODES_TABLE} values (?, ?, ?)
        on conflict (source_mode) do update set last_ingested_at = excluded.last_ingested_at
        """,
        [mode, now, now],
    )


def source_modes(connection: duckdb.DuckDBPyConnection) -> set[str]:
    if not table_exists(connection, OPS_SCHEMA, "source_modes"):
        return set()
    return {row[0] for row in connection.execute(f"select source_mode from {SOURCE_MODES_TABLE}").fetchall()}


STAGE_RUNS_TABLE = f"{OPS_SCHEMA}.stage_runs"


def record_stage_run(connection: duckdb.DuckDBPyConnection, stage: str, now: Any) -> None:
    """When a stage that changes data last finished (RAW loads, dbt builds)."""
    connection.execute(f"create schema if not exists {OPS_SCHEMA}")
    connection.execute(
        f"create table if not exists {STAGE_RUNS_TABLE} (stage varchar primary key, last_finished_at timestamp)"
    )
    connection.execute(
        f"""
        insert into {STAGE_RUNS_TABLE} values (?, ?)
        on conflict (stage) do update set last_finished_at = excluded.last_finished_at
        """,
        [stage, now],
    )


def last_stage_run(connection: duckdb.DuckDBPyConnection, stage: str) -> Any:
    if not table_exists(connection, OPS_SCHEMA, "stage_runs"):
        return None
    row = connection.execute(f"select last_finished_at from {STAGE_RUNS_TABLE} where stage = ?", [stage]).fetchone()
    return row[0] if row else None
