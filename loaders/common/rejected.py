"""`raw.rejected_records`: what a loader could not parse, with the reason."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Literal

import dlt
import pyarrow as pa

from loaders.common.arrow import Row, dedupe_rows, ensure_utc, rows_to_arrow
from loaders.common.columns import Column, table_hints, text
from loaders.common.keys import md5_key
from loaders.common.pipeline import RAW_DATASET
from loaders.common.undecodable import storable_text
from warehouse_layer import WarehouseLike, connect, warehouse_exists

REJECTED_TABLE = "rejected_records"
MAX_RAW_TEXT_CHARS = 100_000

RejectSource = Literal["smartscout", "apollo", "smartlead"]

REJECTED_COLUMNS: list[Column] = [
    Column("rejection_key", nullable=False),
    *text("source", "source_file"),
    Column("source_row_number", "bigint"),
    *text("reason", "raw_text"),
    Column("rejected_at", "timestamp"),
]


def make_rejection(
    source: RejectSource,
    source_file: str | None,
    source_row_number: int | None,
    reason: str,
    raw_text: str | None,
    rejected_at: datetime,
) -> Row:
    """One rejected_records row; the key is md5(source, file, row number, raw text).

    Text that UTF-8 cannot hold (a lone surrogate from a JSON escape) is kept as its escape:
    a rejection must never fail to be written."""
    if raw_text is not None:
        raw_text = storable_text(raw_text[:MAX_RAW_TEXT_CHARS])
    if source_file is not None:
        source_file = storable_text(source_file)
    reason = storable_text(reason)
    return {
        "rejection_key": md5_key(source, source_file, source_row_number, raw_text),
        "source": source,
        "source_file": source_file,
        "source_row_number": source_row_number,
        "reason": reason,
        "raw_text": raw_text,
        "rejected_at": ensure_utc(rejected_at),
    }


def rejected_records_table(rows: Sequence[Row]) -> pa.Table:
    return rows_to_arrow(dedupe_rows(rows, ["rejection_key"]), REJECTED_COLUMNS)


@dlt.resource(**table_hints(REJECTED_TABLE, REJECTED_COLUMNS, primary_key="rejection_key"))
def rejected_records(rows: Sequence[Row]) -> Iterator[pa.Table]:
    """`raw.rejected_records`. Always yields (possibly an empty table) so the table exists
    after the first load even when nothing was rejected."""
    yield rejected_records_table(rows)


def not_yet_recorded(destination: WarehouseLike, rows: Sequence[Row]) -> list[Row]:
    """The rejections not already in raw.rejected_records: re-reading the same file keeps each
    rejection's first rejected_at and load id instead of landing it again."""
    if not rows or not warehouse_exists(destination):
        return list(rows)
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, REJECTED_TABLE):
            return list(rows)
        files = sorted({str(row["source_file"]) for row in rows if row["source_file"] is not None})
        recorded = {
            key
            for (key,) in warehouse.execute(
                f"select rejection_key from {RAW_DATASET}.{REJECTED_TABLE} where source_file in "
                f"({', '.join('?' for _ in files) or 'null'})",
                files,
            )
        }
    return [row for row in rows if row["rejection_key"] not in recorded]
