"""Where things live. Everything can be overridden by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from loaders.common.settings_env import positive_float
from warehouse_layer import WarehouseTarget, resolve_target

PROJECT_DIR = Path(__file__).resolve().parent.parent
# unsubscribes must be honoured within 2 days (Gmail's and Yahoo's sender rules): events read
# within the last day leave a margin for the next poll
DEFAULT_EVENTS_MAX_AGE_HOURS = 24.0
EVENTS_MAX_AGE_ENV = "OUTREACH_EVENTS_MAX_AGE_HOURS"
APOLLO_TTL_DAYS_ENV = "SOURCES__APOLLO__TTL_DAYS"
DEFAULT_APOLLO_TTL_DAYS = 30.0


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    duckdb_path: Path
    pipelines_dir: Path
    sample_data_dir: Path
    output_dir: Path
    pipeline_mode: str
    marketplace: str
    source_mode: str
    csv_exports_dir: Path | None
    webhook_spool_dir: Path
    # the webhook receiver's spool is an event source production must have read: set explicitly
    # (OUTREACH_WEBHOOK_SPOOL_DIR) or the default folder exists
    webhook_spool_configured: bool = False

    @property
    def is_production(self) -> bool:
        return self.pipeline_mode == "production"

    # read when a command needs them (checked first by pipeline.settings_check): a bad value of
    # a setting `summary` does not read never stops `summary`
    @property
    def apollo_ttl_days(self) -> float:
        return positive_float(APOLLO_TTL_DAYS_ENV, os.environ.get(APOLLO_TTL_DAYS_ENV), DEFAULT_APOLLO_TTL_DAYS)

    @property
    def events_max_age_hours(self) -> float:
        """Production refuses when a configured event source's last successful read is older."""
        return _positive_hours(EVENTS_MAX_AGE_ENV, os.environ.get(EVENTS_MAX_AGE_ENV, ""))

    @cached_property
    def warehouse(self) -> WarehouseTarget:
        """The active dbt target (DBT_TARGET, else the profile's default): RAW lands there, the
        models build there, and enrichment and the reverse ETL read and write there."""
        return resolve_target(self.project_dir, self.duckdb_path)

    @classmethod
    def from_env(cls, duckdb_path: str | None = None) -> Settings:
        project_dir = Path(os.environ.get("OUTREACH_PROJECT_DIR", PROJECT_DIR))
        warehouse = Path(
            duckdb_path or os.environ.get("OUTREACH_DUCKDB_PATH", "") or project_dir / "warehouse" / "outreach.duckdb"
        )
        if not warehouse.is_absolute():
            warehouse = project_dir / warehouse
        spool_setting = os.environ.get("OUTREACH_WEBHOOK_SPOOL_DIR", "").strip()
        spool = Path(spool_setting) if spool_setting else warehouse.parent / "webhook_spool"
        return cls(
            project_dir=project_dir,
            duckdb_path=warehouse,
            pipelines_dir=warehouse.parent / "dlt_pipelines",
            sample_data_dir=Path(os.environ.get("OUTREACH_SAMPLE_DATA_DIR", project_dir / "sample_data")),
            output_dir=warehouse.parent,
            pipeline_mode=os.environ.get("PIPELINE_MODE", "dry_run"),
            marketplace=os.environ.get("SOURCES__SMARTSCOUT__MARKETPLACE", "US"),
            source_mode=_source_mode(os.environ.get("OUTREACH_SOURCE_MODE") or "sample"),
            csv_exports_dir=Path(csv_dir) if (csv_dir := os.environ.get("OUTREACH_CSV_EXPORTS_DIR")) else None,
            webhook_spool_dir=spool,
            webhook_spool_configured=bool(spool_setting) or spool.is_dir(),
        )


def _source_mode(value: str) -> str:
    """`sample` (default): bundled sample files, no keys needed. `live`: the vendors' APIs."""
    mode = value.strip().lower()  # `Live` means live
    if mode not in ("sample", "live"):
        raise ValueError(
            f"OUTREACH_SOURCE_MODE must be `sample` or `live`, got {value!r}: set one of them, or unset it"
        )
    return mode


def _positive_hours(name: str, value: str) -> float:
    if not value.strip():
        return DEFAULT_EVENTS_MAX_AGE_HOURS
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not hours > 0:
        raise ValueError(
            f"{name} must be a positive number of hours, got {value!r}: fix it, or unset it for the default"
        )
    return hours
