"""Rows (lists of dicts) to pyarrow tables whose source columns are all text.

Resources yield these tables: dlt writes them to parquet directly, which is much faster
than its default path for lists of dicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from loaders.common.columns import Column, arrow_schema
from loaders.common.keys import compact_json

Row = dict[str, Any]
_TEXT_TYPES = frozenset({str, type(None)})


def stringify(value: Any) -> str | None:
    """A source value as text, exactly: `12`, `1234.5`, `true`, compact JSON for objects."""
    if value is None:
        return None
    # exact JSON types first: this runs for every field of every row
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return repr(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return compact_json(value)
    return str(value)


def ensure_utc(value: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _to_bigint(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"not an integer: {value!r}")


def _to_timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, str):
        return ensure_utc(datetime.fromisoformat(value))
    raise ValueError(f"not a timestamp: {value!r}")


def rows_to_arrow(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> pa.Table:
    """Build an arrow table with exactly `columns` (missing keys -> null).

    Text columns are stringified, bigint/timestamp columns are converted, so the arrow schema
    always matches the declared dlt columns (even for an empty or all-null column).
    """
    arrays: list[pa.Array] = []
    schema = arrow_schema(columns)
    for column, field in zip(columns, schema, strict=True):
        name = column.name
        values = [row.get(name) for row in rows]
        converted: list[Any]
        if column.data_type == "text":
            # the parsers already stringify: convert only when something is not text yet
            text_already = set(map(type, values)) <= _TEXT_TYPES
            converted = values if text_already else [stringify(value) for value in values]
        elif column.data_type == "bigint":
            converted = [_to_bigint(value) for value in values]
        else:
            converted = [_to_timestamp(value) for value in values]
        if not column.nullable and any(value is None for value in converted):
            raise ValueError(f"column {column.name} is not nullable but a row has no value")
        arrays.append(pa.array(converted, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def dedupe_rows(rows: Iterable[Row], key_columns: Sequence[str]) -> list[Row]:
    """Keep the first row for each primary key (dlt's merge also de-duplicates, this saves work)."""
    seen: set[tuple[Any, ...]] = set()
    result: list[Row] = []
    for row in rows:
        key = tuple(row.get(name) for name in key_columns)
        if key in seen:
            continue
        seen.add(key)
        result.append(row)
    return result
