"""Column declarations shared by the dlt hints and the arrow schema of a RAW table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from dlt.common.schema.typing import TColumnSchema, TTableSchemaColumns

from warehouse_layer import SOURCE_MODE_COLUMN

DataType = Literal["text", "bigint", "timestamp"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "bigint": pa.int64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Column:
    """One RAW column. Source fields are `text`; only lineage/ledger columns are typed."""

    name: str
    data_type: DataType = "text"
    nullable: bool = True


def text(*names: str) -> list[Column]:
    return [Column(name) for name in names]


def dlt_columns(columns: Sequence[Column]) -> TTableSchemaColumns:
    """Explicit dlt column hints, so that an all-null column is still created with its type."""
    result: TTableSchemaColumns = {}
    for column in columns:
        hint: TColumnSchema = {
            "name": column.name,
            "data_type": column.data_type,
            "nullable": column.nullable,
        }
        result[column.name] = hint
    return result


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema(
        [pa.field(column.name, _ARROW_TYPES[column.data_type], nullable=column.nullable) for column in columns]
    )


def table_hints(table_name: str, columns: Sequence[Column], primary_key: str | Sequence[str]) -> dict[str, Any]:
    """Keyword arguments for `dlt.resource`: merge on a content-derived primary key."""
    keys = [primary_key] if isinstance(primary_key, str) else list(primary_key)
    names = {column.name for column in columns}
    missing = [key for key in keys if key not in names]
    if missing:
        raise ValueError(f"primary key columns {missing} are not declared for {table_name}")
    return {
        "name": table_name,
        "table_name": table_name,
        "primary_key": keys if len(keys) > 1 else keys[0],
        "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
        # every RAW table records where each row came from (`live` | `sample`), stamped at load
        # time by loaders.common.pipeline.run_pipeline: created typed even while empty
        "columns": dlt_columns([*columns, Column(SOURCE_MODE_COLUMN)]),
    }
