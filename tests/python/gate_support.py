"""Test helpers for the production gate (README "Going live")."""

from __future__ import annotations

from datetime import UTC, datetime

from warehouse_layer import (
    EVENTS_POLL,
    LIVE,
    OPS_SCHEMA,
    RAW_SCHEMA,
    SOURCE_MODE_COLUMN,
    Warehouse,
    record_event_read,
)

INCREMENTAL_MODELS_WITH_ORIGIN = (
    "stg_smartscout__brand_observations",
    "stg_smartscout__brands",
    "stg_smartlead__event_observations",
    "stg_smartlead__events",
)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def relabel_as_live(warehouse: Warehouse, events_read_at: datetime | None = None) -> None:
    """A warehouse loaded from the bundled sample, relabelled as loaded live with its Smartlead
    events just polled: the local fakes stand in for the vendors."""
    for (table,) in warehouse.execute(
        "select table_name from information_schema.columns "
        "where upper(table_schema) = upper(?) and upper(column_name) = upper(?)",
        [RAW_SCHEMA, SOURCE_MODE_COLUMN],
    ):
        warehouse.execute(f"update {RAW_SCHEMA}.{str(table).lower()} set {SOURCE_MODE_COLUMN} = ?", [LIVE])
    for table in INCREMENTAL_MODELS_WITH_ORIGIN:  # tables built from those rows (the views follow RAW)
        if warehouse.table_exists("clean", table):
            warehouse.execute(f"update clean.{table} set source_mode = ?", [LIVE])
    if warehouse.table_exists(OPS_SCHEMA, "source_modes"):
        warehouse.execute(f"update {OPS_SCHEMA}.source_modes set source_mode = ?", [LIVE])
    record_event_read(warehouse, EVENTS_POLL, events_read_at or utc_now(), 0, LIVE)
