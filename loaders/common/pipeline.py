"""The dlt pipeline every loader uses, and the summary a load reports."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.destination import Destination
from dlt.common.pipeline import LoadInfo
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource
from dlt.pipeline.pipeline import Pipeline

from loaders.common.undecodable import storable_text
from warehouse_layer import (
    DUCKDB,
    SOURCE_MODE_COLUMN,
    SOURCE_MODES,
    WarehouseConfigError,
    WarehouseLike,
    WarehouseTarget,
    as_target,
    duckdb_memory_limit,
)
from warehouse_layer.fault_injection import kill_point

RAW_DATASET = "raw"
MAX_NEW_FIELD_NAMES = 10  # listed in a summary line; more are counted, not named

# Settings the loaders depend on. `.dlt/config.toml` sets them too; they are applied here
# for the duration of a run so that a loader behaves the same from any working directory.
# Environment variables still win (dlt reads them before config.toml).
REQUIRED_CONFIG: dict[str, Any] = {
    # arrow tables skip dlt's row normalizer: ask for the lineage columns explicitly
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    "normalize.parquet_normalizer.add_dlt_id": True,
    # merge loads through `raw_staging`; do not leave a copy of the last batch there
    "load.truncate_staging_dataset": True,
    # loaded packages would otherwise keep a copy of every row (emails included) on disk
    "load.delete_completed_jobs": True,
}


# Where every RAW row came from (warehouse_layer.SOURCE_MODES): written into the column
# `_source_mode` of every row every loader lands (see `run_pipeline`); NULL (unknown) when no mode
# was declared, which the production gate counts as not live.
_source_mode: ContextVar[str | None] = ContextVar("outreach_source_mode", default=None)


@contextmanager
def landing_source_mode(mode: str) -> Iterator[None]:
    """Every RAW row loaded inside this block is stamped `_source_mode = mode`."""
    if mode not in SOURCE_MODES:
        raise ValueError(f"source mode must be one of {SOURCE_MODES}, got {mode!r}")
    token = _source_mode.set(mode)
    try:
        yield
    finally:
        _source_mode.reset(token)


def current_source_mode() -> str | None:
    return _source_mode.get()


def _stamp_source_mode(data: Any, mode: str | None) -> Any:
    """Add the column `_source_mode` to every item of every resource of `data` (a source, a
    resource or resources): one choke point, so no loader can land a row without its origin.
    Items are stamped as they are extracted, so a package that waits to be loaded keeps its mode."""

    def stamp(item: Any) -> Any:
        if isinstance(item, pa.Table):
            if SOURCE_MODE_COLUMN in item.column_names:
                item = item.drop_columns([SOURCE_MODE_COLUMN])
            values = pa.array([mode] * item.num_rows, type=pa.string())
            return item.append_column(pa.field(SOURCE_MODE_COLUMN, pa.string(), nullable=True), values)
        if isinstance(item, dict):
            return {**item, SOURCE_MODE_COLUMN: mode}
        if isinstance(item, list):
            return [stamp(element) for element in item]
        return item

    if isinstance(data, DltSource):
        resources: Iterable[DltResource] = data.resources.values()
    elif isinstance(data, DltResource):
        resources = [data]
    else:
        resources = list(data)
    for resource in resources:
        resource.add_map(stamp)
    return data


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_pipeline(pipeline_name: str, destination: WarehouseLike, pipelines_dir: Path) -> Pipeline:
    """A dlt pipeline that loads into dataset `raw` of the warehouse (a DuckDB file by default)."""
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=dlt_destination(as_target(destination)),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(pipelines_dir),
    )


def dlt_destination(target: WarehouseTarget) -> Destination[Any, Any]:
    """DuckDB: the target's file. Snowflake: dlt's own configuration when it has one
    (`DESTINATION__SNOWFLAKE__CREDENTIALS__*` or `[destination.snowflake.credentials]` in
    `.dlt/secrets.toml`), else the credentials of the dbt target, so one profile serves both."""
    if target.kind == DUCKDB:
        assert target.duckdb_path is not None
        target.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(str(target.duckdb_path))
    credentials = _dlt_snowflake_credentials(target)
    destination = dlt.destinations.snowflake(credentials=credentials) if credentials else dlt.destinations.snowflake()
    initial = destination.spec()
    initial.dataset_name = RAW_DATASET
    try:
        destination.configuration(initial)  # resolve now: a missing value is a clear error before any fetch
    except ConfigFieldMissingException as error:
        # dlt names what is missing and where it looked, never a value
        missing = [line.strip() for line in str(error).splitlines() if "missing field" in line]
        raise WarehouseConfigError(
            f"the loaders cannot write RAW to {target.description}: "
            f"{'; '.join(missing) or 'missing ' + ', '.join(error.fields)} "
            "(set DESTINATION__SNOWFLAKE__CREDENTIALS__<FIELD> or the SNOWFLAKE_* variables of the dbt profile)"
        ) from None
    return destination


def _dlt_snowflake_credentials(target: WarehouseTarget) -> dict[str, Any] | None:
    """None lets dlt resolve its own configuration; otherwise the dbt target's values."""
    if dlt.config.get("destination.snowflake.credentials.database") or dlt.secrets.get(
        "destination.snowflake.credentials.password"
    ):
        return None
    args = target.snowflake_connect_args
    credentials = {
        "database": args.get("database"),
        "host": args.get("account"),
        "username": args.get("user"),
        "password": args.get("password"),
        "warehouse": args.get("warehouse"),
        "role": args.get("role"),
        "authenticator": args.get("authenticator"),
        "token": args.get("token"),
        "private_key": _private_key_text(args.get("private_key")),
    }
    return {key: value for key, value in credentials.items() if value}


def _private_key_text(private_key: Any) -> str | None:
    """dbt hands the connector DER bytes; dlt takes the key as base64 text."""
    if not private_key:
        return None
    import base64

    return base64.b64encode(private_key).decode() if isinstance(private_key, bytes) else str(private_key)


@contextmanager
def loader_config() -> Iterator[None]:
    # DuckDB spills to disk past this instead of growing with the load (a merge of millions of rows)
    memory = {"destination.duckdb.credentials.global_config": {"memory_limit": duckdb_memory_limit()}}
    with dlt.config.values({**REQUIRED_CONFIG, **memory}):
        yield


def run_pipeline(pipeline_name: str, destination: WarehouseLike, pipelines_dir: Path, data: Any) -> LoadInfo:
    """Run `data` (a source or resources) through a fresh pipeline; raises on failed jobs."""
    with loader_config():
        pipeline = make_pipeline(pipeline_name, destination, pipelines_dir)
        # extract first, then load every package: the rows are on local disk before anything is
        # loaded (a failed load keeps them for the next run), and a package an earlier run could
        # not load goes in with them; `pipeline.run(data)` would load only that one and drop `data`
        # the pipeline's state (e.g. which files were landed) lives in the warehouse too: a machine
        # with no local pipeline folder (CI, a new server) picks it up from there, as `run` does.
        # Not while a package waits: syncing could replace the local folder that holds it
        if not pipeline.has_pending_data:
            pipeline.sync_destination()
        pipeline.extract(_stamp_source_mode(data, current_source_mode()))
        pipeline.normalize()
        kill_point(f"{pipeline_name}:before_load")  # tests: a package on disk, nothing in the warehouse
        info = pipeline.load()
        kill_point(f"{pipeline_name}:after_load")  # tests: loaded, the caller has not seen it
    info.raise_on_failed_jobs()
    return info


def load_waiting_packages(pipeline_name: str, destination: WarehouseLike, pipelines_dir: Path) -> int:
    """Load what an earlier run extracted but could not load (raises when that fails again), so a
    stage that reads RAW first sees it: Apollo's work list must know the lookups already paid for.
    Returns the number of packages loaded."""
    with loader_config():
        pipeline = make_pipeline(pipeline_name, destination, pipelines_dir)
        if not pipeline.has_pending_data:
            return 0
        pipeline.normalize()
        info = pipeline.load()
    info.raise_on_failed_jobs()
    return len(info.loads_ids)


@dataclass
class LoadSummary:
    """What one load did, printed as one line by the CLI."""

    source: str
    rows_loaded: int
    rows_rejected: int
    files_or_pages: int
    seconds: float
    details: dict[str, object] = field(default_factory=dict)
    # schema drift: rows that carried fields the loader does not know (kept in RAW as extras)
    rows_with_new_fields: int = 0
    new_field_names: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        extra = "".join(f", {key}={value}" for key, value in sorted(self.details.items()))
        drift = ""
        if self.rows_with_new_fields:
            names = self.new_field_names
            shown = ", ".join(names[:MAX_NEW_FIELD_NAMES]) + (", ..." if len(names) > MAX_NEW_FIELD_NAMES else "")
            drift = f", {self.rows_with_new_fields} rows with new fields: {shown}"
        return (
            f"{self.source}: {self.rows_loaded} rows loaded, {self.rows_rejected} rejected, "
            f"{self.files_or_pages} files/pages, {self.seconds:.2f}s{drift}{extra}"
        )


class NewFields:
    """Counts the rows carrying field names outside `known` (schema drift), for the summary."""

    def __init__(self, known: Iterable[str]) -> None:
        self.known = frozenset(known)
        self.rows = 0
        self.names: set[str] = set()

    def see(self, keys: Iterable[str], rows: int = 1) -> None:
        """`rows` rows carrying `keys` (e.g. every row of a file shares its header)."""
        new = [key for key in keys if key not in self.known]
        if new and rows > 0:
            self.rows += rows
            self.names.update(storable_text(key) for key in new)  # printed in the summary line

    def add(self, other: NewFields) -> None:
        self.rows += other.rows
        self.names |= other.names

    def apply(self, summary: LoadSummary) -> LoadSummary:
        summary.rows_with_new_fields += self.rows
        summary.new_field_names = sorted(set(summary.new_field_names) | self.names)
        return summary


class Stopwatch:
    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start
