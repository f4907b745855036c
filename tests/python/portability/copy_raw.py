"""Copy a DuckDB file's RAW schema into a fakesnow (Snowflake-compatible) server.

dlt's Snowflake destination cannot load into fakesnow, so RAW is recreated directly with
snowflake-connector-python: one `create or replace table` per DuckDB table (types mapped to
their Snowflake equivalents), then one INSERT per batch of rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

RAW_SCHEMA = "raw"
DLT_INTERNAL_PREFIX = "_dlt_"
DEFAULT_BATCH_SIZE = 1000

_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$")

# DuckDB information_schema data_type -> Snowflake type
_SNOWFLAKE_TYPES = {
    "VARCHAR": "varchar",
    "JSON": "varchar",
    "UUID": "varchar",
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp_ntz",
    "TIMESTAMP_S": "timestamp_ntz",
    "TIMESTAMP_MS": "timestamp_ntz",
    "TIMESTAMP_NS": "timestamp_ntz",
    "DATE": "date",
    "TINYINT": "number(38, 0)",
    "SMALLINT": "number(38, 0)",
    "INTEGER": "number(38, 0)",
    "BIGINT": "number(38, 0)",
    "HUGEINT": "number(38, 0)",
    "UTINYINT": "number(38, 0)",
    "USMALLINT": "number(38, 0)",
    "UINTEGER": "number(38, 0)",
    "UBIGINT": "number(38, 0)",
    "DOUBLE": "float",
    "FLOAT": "float",
    "REAL": "float",
    "BOOLEAN": "boolean",
}


def copy_duckdb_file(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Copy a DuckDB database file and its write-ahead log (if any), so the original stays untouched."""
    source, destination = Path(source), Path(destination)
    shutil.copyfile(source, destination)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, destination.with_name(destination.name + ".wal"))
    return destination


class UnsupportedRawType(ValueError):
    """A RAW column has a DuckDB type this copy does not know how to map."""


def snowflake_type(duckdb_type: str) -> str:
    """The Snowflake column type for a DuckDB `information_schema.columns.data_type`."""
    normalized = duckdb_type.strip().upper()
    if normalized in _SNOWFLAKE_TYPES:
        return _SNOWFLAKE_TYPES[normalized]
    if match := _DECIMAL.match(normalized):
        return f"number({match.group(1)}, {match.group(2)})"
    raise UnsupportedRawType(f"no Snowflake mapping for DuckDB type {duckdb_type!r}")


def snowflake_identifier(name: str) -> str:
    """The name as Snowflake resolves the unquoted lower-case name the dbt sources use.

    Plain names stay unquoted (Snowflake stores them upper case, which is what `select brand_name`
    finds); anything else is quoted in upper case so it still resolves the same way.
    """
    if _PLAIN_IDENTIFIER.match(name):
        return name
    return '"' + name.upper().replace('"', '""') + '"'


def _raw_tables(source: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = source.execute(
        """
        select table_name
        from information_schema.tables
        where table_catalog = current_database()
            and table_schema = ?
            and table_type in ('BASE TABLE', 'VIEW')
        order by table_name
        """,
        [schema],
    ).fetchall()
    return [name for (name,) in rows if not name.startswith(DLT_INTERNAL_PREFIX)]


def _columns(source: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return [
        (name, data_type)
        for name, data_type in source.execute(
            """
            select column_name, data_type
            from information_schema.columns
            where table_catalog = current_database() and table_schema = ? and table_name = ?
            order by ordinal_position
            """,
            [schema, table],
        ).fetchall()
    ]


def _quote_duckdb(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(port: int, database: str, *, host: str = "localhost", schema: str = "public") -> Any:
    """A snowflake.connector connection to a fakesnow server (any account, user and password work)."""
    import snowflake.connector  # dbt-snowflake's dependency; imported late so the helpers above need only duckdb

    return snowflake.connector.connect(
        account="fakesnow",
        user="fake",
        password="fake",
        host=host,
        port=port,
        protocol="http",
        database=database,
        schema=schema,
    )


def copy_raw_schema(
    duckdb_path: str | os.PathLike[str],
    port: int,
    database: str,
    *,
    schema: str = RAW_SCHEMA,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Copy every table of `schema` (dlt's `_dlt_*` tables excepted) from a DuckDB file into the
    fakesnow server on `port`, database `database`; return the rows copied per table.

    The DuckDB file is opened read-only. Column names, order and (mapped) types are preserved.
    Rows are sent `batch_size` at a time, one INSERT per batch (see `_json_batch_insert`), and
    the copied row counts are checked.
    """
    source = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        tables = _raw_tables(source, schema)
        if not tables:
            raise ValueError(f"{duckdb_path} has no tables in schema {schema!r}")
        with connect(port, database) as target:
            cursor = target.cursor()
            cursor.execute(f"create schema if not exists {snowflake_identifier(schema)}")
            return {table: _copy_table(source, cursor, schema, table, batch_size) for table in tables}
    finally:
        source.close()


def _copy_table(
    source: duckdb.DuckDBPyConnection,
    target_cursor: Any,
    schema: str,
    table: str,
    batch_size: int,
) -> int:
    columns = [(name, snowflake_type(data_type)) for name, data_type in _columns(source, schema, table)]
    target_table = f"{snowflake_identifier(schema)}.{snowflake_identifier(table)}"
    column_ddl = ", ".join(f"{snowflake_identifier(name)} {sf_type}" for name, sf_type in columns)
    target_cursor.execute(f"create or replace table {target_table} ({column_ddl})")

    insert = _json_batch_insert(target_table, [sf_type for _, sf_type in columns])
    select_list = ", ".join(_quote_duckdb(name) for name, _ in columns)
    (catalog,) = source.execute("select current_database()").fetchone()
    # fully qualified: a file named raw.duckdb makes `raw.<table>` ambiguous (catalog or schema)
    source_table = ".".join(_quote_duckdb(part) for part in (catalog, schema, table))
    reader = source.cursor()
    reader.execute(f"select {select_list} from {source_table}")
    expected = 0
    while rows := reader.fetchmany(batch_size):
        payload = json.dumps([[_json_value(value) for value in row] for row in rows], ensure_ascii=False)
        target_cursor.execute(insert, (payload,))
        expected += len(rows)

    target_cursor.execute(f"select count(*) from {target_table}")
    (copied,) = target_cursor.fetchone()
    if int(copied) != expected:
        raise RuntimeError(f"{schema}.{table}: read {expected} rows from DuckDB but {copied} landed in fakesnow")
    return int(copied)


def _json_batch_insert(target_table: str, snowflake_types: Sequence[str]) -> str:
    """One INSERT for a whole batch: the rows travel as a single JSON array-of-arrays literal.

    fakesnow runs every statement's full syntax tree through its Snowflake-to-DuckDB rewrites,
    so a multi-row VALUES insert (what `executemany` becomes) costs ~5 ms per row, and array
    binding is executed row by row. One string literal parses in constant time: ~10x faster.
    The same statement is valid Snowflake SQL.
    """
    select_list = ", ".join(f"value[{position}]::{sf_type}" for position, sf_type in enumerate(snowflake_types))
    return f"insert into {target_table} select {select_list} from table(flatten(input => parse_json(%s)))"


def _json_value(value: Any) -> Any:
    """A DuckDB value as JSON the target casts back exactly: text for everything but booleans
    and NULL (numbers as text keep integers above 2**53 and float repr exact)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        # timestamp_ntz holds UTC wall-clock time: convert an aware value, then drop the zone
        # (a literal with an offset is read differently by Snowflake and DuckDB).
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)
