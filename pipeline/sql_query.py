"""`outreach sql "select ..."`: one read-only query on the active target, printed as an aligned
table or as CSV. No run lock: on DuckDB the file is opened read-only, and not at all while a stage
holds it (opening it then could make that stage fail)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from warehouse_layer import DUCKDB, WarehouseError, WarehouseTarget, connect
from warehouse_layer.run_lock import RunLockedError, os_lock_taken_by

# a statement that reads: the DuckDB connection is read-only anyway, this also guards Snowflake
READING_STATEMENTS = ("select", "with", "from", "values", "show", "describe", "summarize", "explain", "table")


class QueryError(WarehouseError):
    """The query could not run: one line saying why."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(target: WarehouseTarget, sql: str) -> QueryResult:
    statement = sql.strip().rstrip(";").strip()
    first_word = statement.split(maxsplit=1)[0].lower() if statement else ""
    if first_word not in READING_STATEMENTS:
        raise QueryError(
            f"outreach sql runs one read-only query, got {repr(first_word) if first_word else 'no query'}: start it "
            "with select, with, show or describe, and pass it as one argument in quotes"
        )
    if target.kind == DUCKDB and target.duckdb_path is not None and (holder := os_lock_taken_by(target.duckdb_path)):
        raise RunLockedError(
            f"the warehouse is busy: {holder} has the DuckDB file {target.duckdb_path} to itself; "
            "run the query again when it has finished"
        )
    with connect(target, read_only=True) as warehouse:
        try:
            rows = warehouse.execute(statement)
        except WarehouseError:
            raise
        except Exception as error:  # the database's own message (syntax, unknown table, ...), on one line
            raise QueryError(f"the query failed: {_one_line(str(error))}") from None
        return QueryResult(warehouse.last_columns(), rows)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def render_table(result: QueryResult) -> str:
    """Plain aligned text: a header, a rule, the rows (numbers right-aligned), then the row count."""
    cells = [[_cell(value) for value in row] for row in result.rows]
    widths = [len(name) for name in result.columns]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    numeric = [
        any(_is_number(row[index]) for row in result.rows)
        and all(row[index] is None or _is_number(row[index]) for row in result.rows)
        for index in range(len(result.columns))
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    count = len(result.rows)
    lines = [line(result.columns), line(["-" * width for width in widths]), *(line(row) for row in cells)]
    return "\n".join([*lines, f"({count} row{'' if count == 1 else 's'})"]) + "\n"


def render_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([_cell(value) for value in row] for row in result.rows)
    return buffer.getvalue()
