"""The one place Python code talks to the warehouse: the DuckDB file (default) or Snowflake,
whichever the active dbt target in profiles.yml points to.

Stages, loaders and the reverse ETL use a `Warehouse` (plain `select`/`insert`/`delete` with `?`
parameters, identifiers unquoted and lowercase) so the same code runs on both: Snowflake folds
unquoted names to upper case, so result columns are lower-cased here and information_schema is
searched case-insensitively.
"""

from __future__ import annotations

import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

DUCKDB = "duckdb"
SNOWFLAKE = "snowflake"
SUPPORTED_KINDS = (DUCKDB, SNOWFLAKE)

# DuckDB's memory cap for every connection of ours (dbt's too, via profiles.yml): past it DuckDB
# spills to disk, so a million-brand run stays within a laptop's memory
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"


def duckdb_memory_limit() -> str:
    return os.environ.get("OUTREACH_DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT


# rows per multi-row `insert ... values` statement on Snowflake (bind variables per statement stay modest)
SNOWFLAKE_INSERT_CHUNK = 500


class WarehouseError(RuntimeError):
    """The warehouse is missing something a stage needs (run the earlier stage first)."""


class WarehouseConfigError(WarehouseError):
    """The dbt target cannot be used: unknown target, unsupported type or missing credentials."""


@dataclass(frozen=True)
class WarehouseTarget:
    """Where RAW lands and the models live. `snowflake_connect_args` holds secrets: never printed."""

    name: str
    kind: str
    duckdb_path: Path | None = None
    database: str | None = None
    snowflake_connect_args: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def duckdb_file(cls, path: Path | str, name: str = DUCKDB) -> WarehouseTarget:
        return cls(name=name, kind=DUCKDB, duckdb_path=Path(path))

    @property
    def description(self) -> str:
        if self.kind == DUCKDB:
            return f"dbt target {self.name} (DuckDB file {self.duckdb_path})"
        account = self.snowflake_connect_args.get("account")
        return f"dbt target {self.name} (Snowflake account {account}, database {self.database})"


WarehouseLike = WarehouseTarget | Path | str
"""What a stage or loader accepts: a resolved target, or a DuckDB file path (the default warehouse)."""


def as_target(destination: WarehouseLike) -> WarehouseTarget:
    if isinstance(destination, WarehouseTarget):
        return destination
    return WarehouseTarget.duckdb_file(destination)


def resolve_target(project_dir: Path, duckdb_path: Path, target_name: str | None = None) -> WarehouseTarget:
    """The target `dbt` would use from `project_dir/profiles.yml` (DBT_TARGET or the profile's
    default), rendered with the same environment. `duckdb_path` is what OUTREACH_DUCKDB_PATH
    means for the DuckDB target (the CLI's --duckdb)."""
    profiles = project_dir / "profiles.yml"
    if not profiles.exists():  # git-ignored: a fresh clone starts from the example, as `make` does
        shutil.copyfile(project_dir / "profiles.yml.example", profiles)
    fast = _duckdb_target_without_dbt(project_dir, duckdb_path, target_name)
    if fast is not None:
        return fast
    credentials, resolved_name = _render_profile(project_dir, duckdb_path, target_name)
    kind = str(credentials.type)
    if kind == DUCKDB:
        path = Path(credentials.path)
        return WarehouseTarget.duckdb_file(path if path.is_absolute() else project_dir / path, resolved_name)
    if kind == SNOWFLAKE:
        return WarehouseTarget(
            name=resolved_name,
            kind=SNOWFLAKE,
            database=str(credentials.database),
            snowflake_connect_args=_snowflake_connect_args(credentials),
        )
    raise WarehouseConfigError(f"dbt target {resolved_name} has type {kind}; supported: {', '.join(SUPPORTED_KINDS)}")


def _duckdb_target_without_dbt(project_dir: Path, duckdb_path: Path, target_name: str | None) -> WarehouseTarget | None:
    """The DuckDB target rendered with plain Jinja and `env_var`, without importing dbt (about
    2 s of every stage's start). None whenever that is not certain to be what dbt renders: any
    other target type, any other Jinja in the values read, any error; dbt's renderer decides then."""
    import jinja2
    import yaml  # type: ignore[import-untyped]

    missing = object()

    def env_var(name: str, default: Any = missing) -> str:
        if name == "OUTREACH_DUCKDB_PATH":
            return str(duckdb_path)
        value = os.environ.get(name)
        if value is not None:
            return value
        if default is missing:
            raise LookupError(name)
        return str(default)

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    environment.globals = {"env_var": env_var}  # nothing else: other Jinja is left to dbt

    def render(value: Any) -> str:
        return environment.from_string(str(value)).render()

    try:
        profile = yaml.safe_load((project_dir / "profiles.yml").read_text())[_project_profile_name(project_dir)]
        name = target_name or render(profile["target"])
        output = profile["outputs"][name]
        if render(output["type"]) != DUCKDB or "database" in output:
            return None  # dbt-duckdb checks `database` against the file name: let it
        path = Path(render(output["path"]))
        if not path.stem or path.stem != path.stem.strip():
            return None  # no database name dbt-duckdb would accept (it says why)
    except Exception:  # any doubt: dbt's renderer gives the real error
        return None
    return WarehouseTarget.duckdb_file(path if path.is_absolute() else project_dir / path, name)


def _render_profile(project_dir: Path, duckdb_path: Path, target_name: str | None) -> tuple[Any, str]:
    # dbt's own profile rendering (env_var(), defaults, adapter credential classes), imported late: slow
    from argparse import Namespace

    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtRuntimeError

    environment = dict(os.environ)
    environment["OUTREACH_DUCKDB_PATH"] = str(duckdb_path)
    set_from_args(Namespace(), None)
    set_invocation_context(environment)
    project_profile = _project_profile_name(project_dir)
    try:
        profile = Profile.from_raw_profiles(
            read_profile(str(project_dir)), project_profile, ProfileRenderer({}), target_override=target_name
        )
    except DbtRuntimeError as error:
        message = " ".join(str(error).split())
        raise WarehouseConfigError(
            f"cannot use the dbt target (DBT_TARGET or --target) from {project_dir / 'profiles.yml'}: {message}"
        ) from error
    return profile.credentials, profile.target_name


def _project_profile_name(project_dir: Path) -> str:
    import yaml  # type: ignore[import-untyped]

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return str(project["profile"])


def _snowflake_connect_args(credentials: Any) -> dict[str, Any]:
    """The arguments dbt-snowflake itself connects with (key pair, password, OAuth, host/port)."""
    missing = [name for name in ("account", "database", "warehouse") if not getattr(credentials, name, None)]
    if missing:
        raise WarehouseConfigError(f"the Snowflake target is missing {', '.join(missing)}")
    arguments: dict[str, Any] = {
        "account": credentials.account,
        "database": credentials.database,
        "schema": credentials.schema,
        "warehouse": credentials.warehouse,
        "role": credentials.role,
        "autocommit": True,
        "application": "brand_outreach",
        "session_parameters": {"TIMEZONE": "UTC"},
    }
    arguments.update(credentials.auth_args())
    return arguments


class Warehouse(ABC):
    """A connection with the few operations the Python stages need, identical on every warehouse."""

    kind: str

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement; returns its rows (empty for statements without a result)."""

    @abstractmethod
    def _columns(self) -> list[str]:
        """Column names of the last result, lower case."""

    @abstractmethod
    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Bulk insert."""

    @abstractmethod
    def close(self) -> None: ...

    def last_columns(self) -> list[str]:
        """Column names of the last result, lower case (`outreach sql` prints them)."""
        return self._columns()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        rows = self.execute(sql, params)
        columns = self._columns()
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def table_exists(self, schema: str, table: str) -> bool:
        # views too (dbt's CLEAN models): not every Snowflake-compatible server lists them as tables
        row = self.fetch_one(
            """
            select count(*) from (
                select table_schema, table_name from information_schema.tables
                union all
                select table_schema, table_name from information_schema.views
            ) as relations
            where upper(table_schema) = upper(?) and upper(table_name) = upper(?)
            """,
            [schema, table],
        )
        return bool(row and row[0])

    def require_table(self, schema: str, table: str, stage: str) -> None:
        if not self.table_exists(schema, table):
            raise WarehouseError(f"{schema}.{table} does not exist: run `outreach {stage}` first")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("begin")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")

    def replace_rows(
        self, table: str, key_columns: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Upsert without dialect-specific syntax: delete the rows with these keys, insert the new
        versions, in one transaction."""
        if not rows:
            return
        positions = [list(columns).index(key) for key in key_columns]
        # rows grouped by every key column but the last, so each delete is `a = ? and b in (...)`:
        # an IN list both warehouses evaluate as a set, not a chain of ORs
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for row in rows:
            key = [row[position] for position in positions]
            groups.setdefault(tuple(key[:-1]), []).append(key[-1])
        fixed = "".join(f"{column} = ? and " for column in key_columns[:-1])
        with self.transaction():
            for prefix, last_values in groups.items():
                unique = list(dict.fromkeys(last_values))
                for start in range(0, len(unique), SNOWFLAKE_INSERT_CHUNK):
                    chunk = unique[start : start + SNOWFLAKE_INSERT_CHUNK]
                    self.execute(
                        f"delete from {table} where {fixed}{key_columns[-1]} in ({', '.join('?' for _ in chunk)})",
                        [*prefix, *chunk],
                    )
            self.insert_rows(table, columns, rows)


class DuckDBWarehouse(Warehouse):
    kind = DUCKDB

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self._description: list[Any] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self.connection.execute(sql, list(params or []))
        self._description = list(cursor.description or [])
        return cursor.fetchall() if cursor.description else []

    def _columns(self) -> list[str]:
        return [str(description[0]).lower() for description in self._description]

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        # arrow: one vectorized insert instead of a statement per row
        arrow = pa.table({column: [row[index] for row in rows] for index, column in enumerate(columns)})
        view = "_outreach_rows_to_insert"
        self.connection.register(view, arrow)
        try:
            names = ", ".join(columns)
            self.connection.execute(f"insert into {table} ({names}) select {names} from {view}")
        finally:
            self.connection.unregister(view)

    def close(self) -> None:
        self.connection.close()


class SnowflakeWarehouse(Warehouse):
    kind = SNOWFLAKE

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.cursor = connection.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, list(params) if params else None)
        # DDL and DML answer with a status or row-count result: not data
        if not _returns_rows(sql):
            return []
        return list(self.cursor.fetchall())

    def _columns(self) -> list[str]:
        return [str(description[0]).lower() for description in self.cursor.description or []]

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        names = ", ".join(columns)
        placeholders = "(" + ", ".join("?" for _ in columns) + ")"
        for start in range(0, len(rows), SNOWFLAKE_INSERT_CHUNK):
            chunk = rows[start : start + SNOWFLAKE_INSERT_CHUNK]
            self.execute(
                f"insert into {table} ({names}) values " + ", ".join([placeholders] * len(chunk)),
                [value for row in chunk for value in row],
            )

    def close(self) -> None:
        self.connection.close()


def _returns_rows(sql: str) -> bool:
    words = sql.split(maxsplit=1)
    return bool(words) and words[0].lower() in ("select", "with", "show", "describe")


def _open_snowflake(target: WarehouseTarget) -> SnowflakeWarehouse:
    try:
        import snowflake.connector
    except ImportError as error:
        raise WarehouseConfigError(
            f"{target.description} needs the Snowflake extra: pip install -e '.[snowflake]'"
        ) from error
    # `?` placeholders everywhere, as with DuckDB (server-side binding)
    snowflake.connector.paramstyle = "qmark"
    connection = snowflake.connector.connect(**target.snowflake_connect_args)
    warehouse = SnowflakeWarehouse(connection)
    if _is_local(target) and target.database:
        warehouse.execute(f"create database if not exists {target.database}")
        warehouse.execute(f"use database {target.database}")
    return warehouse


def _is_local(target: WarehouseTarget) -> bool:
    """The local Snowflake-compatible test server starts without databases."""
    return str(target.snowflake_connect_args.get("host", "")) in ("localhost", "127.0.0.1")


@contextmanager
def connect(destination: WarehouseLike, *, read_only: bool = False) -> Iterator[Warehouse]:
    target = as_target(destination)
    warehouse: Warehouse
    if target.kind == DUCKDB:
        assert target.duckdb_path is not None
        if read_only and not target.duckdb_path.exists():
            raise WarehouseError(f"warehouse file {target.duckdb_path} does not exist: run `outreach ingest` first")
        target.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = duckdb.connect(
                str(target.duckdb_path), read_only=read_only, config={"memory_limit": duckdb_memory_limit()}
            )
        except duckdb.IOException as error:  # another process has the file open: say which, in one line
            from warehouse_layer.run_lock import busy_file_error  # late: run_lock builds on this module

            raise busy_file_error(error, target.duckdb_path) from None
        warehouse = DuckDBWarehouse(connection)
    else:
        warehouse = _open_snowflake(target)
    try:
        yield warehouse
    finally:
        warehouse.close()


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (\S+) \(PID (\d+)\)")


def duckdb_lock_holder(message: str) -> str | None:
    """Who holds the DuckDB file, from DuckDB's (or dbt's) lock error; None for another error."""
    if "Could not set lock on file" not in message:
        return None
    found = _LOCK_HOLDER.search(message)
    return f"PID {found.group(2)}, {Path(found.group(1)).name}" if found else "another process"


def in_use_message(duckdb_path: Path | str, held_by: str) -> str:
    return (
        f"warehouse file {duckdb_path} is in use by another process ({held_by}): DuckDB lets one process "
        "write a file at a time; wait for it to finish (or stop it), then run the command again"
    )


def warehouse_exists(destination: WarehouseLike) -> bool:
    """False only for a DuckDB file not created yet (a remote warehouse always exists)."""
    target = as_target(destination)
    return target.kind != DUCKDB or (target.duckdb_path is not None and target.duckdb_path.exists())


OPS_SCHEMA = "pipeline_ops"
SOURCE_MODES_TABLE = f"{OPS_SCHEMA}.source_modes"
STAGE_RUNS_TABLE = f"{OPS_SCHEMA}.stage_runs"


def record_source_mode(warehouse: Warehouse, mode: str, now: Any) -> None:
    """Remember which kind of data this warehouse holds: a warehouse that ever ingested the
    bundled sample data must never send to the real vendors."""
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {SOURCE_MODES_TABLE} (
            source_mode varchar primary key, first_ingested_at timestamp, last_ingested_at timestamp
        )
        """
    )
    first = warehouse.fetch_one(f"select first_ingested_at from {SOURCE_MODES_TABLE} where source_mode = ?", [mode])
    warehouse.replace_rows(
        SOURCE_MODES_TABLE,
        ["source_mode"],
        ["source_mode", "first_ingested_at", "last_ingested_at"],
        [(mode, first[0] if first else now, now)],
    )


def record_stage_run(warehouse: Warehouse, stage: str, now: Any) -> None:
    """When a stage that changes data last finished (RAW loads, dbt builds)."""
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"create table if not exists {STAGE_RUNS_TABLE} (stage varchar primary key, last_finished_at timestamp)"
    )
    warehouse.replace_rows(STAGE_RUNS_TABLE, ["stage"], ["stage", "last_finished_at"], [(stage, now)])


def last_stage_run(warehouse: Warehouse, stage: str) -> Any:
    if not warehouse.table_exists(OPS_SCHEMA, "stage_runs"):
        return None
    row = warehouse.fetch_one(f"select last_finished_at from {STAGE_RUNS_TABLE} where stage = ?", [stage])
    return row[0] if row else None


# --- where RAW rows came from ------------------------------------------------------------------

RAW_SCHEMA = "raw"
# every RAW row carries where it came from (stamped by loaders.common.pipeline.run_pipeline):
# `live` (a vendor's API, the webhook spool, the operator's own exports) or `sample` (the bundled
# sample data). Rows loaded before the column existed are NULL: of unknown origin, never live.
SOURCE_MODE_COLUMN = "_source_mode"
LIVE = "live"
SAMPLE = "sample"
UNKNOWN_ORIGIN = "unknown"
SOURCE_MODES = (LIVE, SAMPLE)


def raw_origins(warehouse: Warehouse) -> dict[str, dict[str, int]]:
    """Rows per origin (`live`, `sample`, `unknown`) of every RAW table that holds rows (keys
    `raw.<table>`), read from the rows themselves (not from a record of which modes were run: a
    killed load records nothing)."""
    tables = sorted(
        str(name).lower()
        for (name,) in warehouse.execute(
            "select table_name from information_schema.tables where upper(table_schema) = upper(?)", [RAW_SCHEMA]
        )
        if not str(name).lower().startswith("_dlt_")
    )
    stamped = {
        str(name).lower()
        for (name,) in warehouse.execute(
            "select table_name from information_schema.columns "
            "where upper(table_schema) = upper(?) and upper(column_name) = upper(?)",
            [RAW_SCHEMA, SOURCE_MODE_COLUMN],
        )
    }
    origins: dict[str, dict[str, int]] = {}
    for table in dict.fromkeys(tables):
        if table in stamped:
            counts = {
                str(mode) if mode is not None else UNKNOWN_ORIGIN: int(rows)
                for mode, rows in warehouse.execute(
                    f"select {SOURCE_MODE_COLUMN}, count(*) from {RAW_SCHEMA}.{table} group by {SOURCE_MODE_COLUMN}"
                )
            }
        else:  # a table loaded before origins were recorded
            row = warehouse.fetch_one(f"select count(*) from {RAW_SCHEMA}.{table}")
            counts = {UNKNOWN_ORIGIN: int(row[0])} if row and row[0] else {}
        if counts:
            origins[f"{RAW_SCHEMA}.{table}"] = counts
    return origins


# the CLEAN entities the sync_* models are built from, with the origin they carry (`source_mode`):
# an incremental model keeps rows whose RAW rows were deleted since, so RAW alone is not enough
CLEAN_ENTITIES_WITH_ORIGIN = (
    ("clean", "stg_smartscout__brands"),
    ("clean", "stg_apollo__contacts"),
    ("clean", "stg_smartlead__events"),
)


def clean_origins(warehouse: Warehouse) -> dict[str, dict[str, int]]:
    """Rows per origin of the CLEAN entities that feed the sync_* models (keys `clean.<model>`);
    a model built before it carried `source_mode` counts its rows as `unknown`."""
    origins: dict[str, dict[str, int]] = {}
    for schema, model in CLEAN_ENTITIES_WITH_ORIGIN:
        if not warehouse.table_exists(schema, model):
            continue
        found = warehouse.fetch_one(
            "select count(*) from information_schema.columns where upper(table_schema) = upper(?) "
            "and upper(table_name) = upper(?) and upper(column_name) = upper('source_mode')",
            [schema, model],
        )
        if found and found[0]:
            counts = {
                str(mode) if mode is not None else UNKNOWN_ORIGIN: int(rows)
                for mode, rows in warehouse.execute(
                    f"select source_mode, count(*) from {schema}.{model} group by source_mode"
                )
            }
        else:
            row = warehouse.fetch_one(f"select count(*) from {schema}.{model}")
            counts = {UNKNOWN_ORIGIN: int(row[0])} if row and row[0] else {}
        if counts:
            origins[f"{schema}.{model}"] = counts
    return origins


def describe_origins(origins: Mapping[str, Mapping[str, int]], modes: Sequence[str]) -> str:
    """`raw.apollo_people: 196 sample; raw.smartscout_brands: 12 unknown` for the given modes."""
    parts = []
    for table, counts in sorted(origins.items()):
        found = ", ".join(f"{counts[mode]} {mode}" for mode in modes if counts.get(mode))
        if found:
            parts.append(f"{table}: {found}")
    return "; ".join(parts)


# --- successful event reads, per source ---------------------------------------------------------

EVENT_READS_TABLE = f"{OPS_SCHEMA}.event_reads"
EVENTS_POLL = "smartlead poll"  # the Smartlead API poll (SOURCES__SMARTLEAD__API_KEY)
EVENTS_WEBHOOKS = "smartlead webhooks"  # the webhook receiver's spool
EVENTS_SAMPLE = "smartlead sample events"  # the bundled sample files


def record_event_read(warehouse: Warehouse, source: str, read_at: Any, events_loaded: int, source_mode: str) -> None:
    """One successful read of a source of Smartlead events (also one that found nothing new): the
    production gate requires a recent one per configured source. A failed read records nothing."""
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"create table if not exists {EVENT_READS_TABLE} "
        "(source varchar, read_at timestamp, events_loaded bigint, source_mode varchar)"
    )
    warehouse.insert_rows(
        EVENT_READS_TABLE,
        ["source", "read_at", "events_loaded", "source_mode"],
        [(source, read_at, int(events_loaded), source_mode)],
    )


def last_event_reads(warehouse: Warehouse, source_mode: str = LIVE) -> dict[str, Any]:
    """The newest successful read of each event source (in `source_mode`)."""
    if not warehouse.table_exists(OPS_SCHEMA, "event_reads"):
        return {}
    return {
        str(source): read_at
        for source, read_at in warehouse.execute(
            f"select source, max(read_at) from {EVENT_READS_TABLE} where source_mode = ? group by source",
            [source_mode],
        )
    }


# --- dbt builds, failed ones too ----------------------------------------------------------------

BUILD_RUNS_TABLE = f"{OPS_SCHEMA}.build_runs"
BUILD_RUNNING, BUILD_SUCCEEDED, BUILD_FAILED = "running", "succeeded", "failed"
# `outreach build --select`: some models only, so never the whole build production waits for
BUILD_PARTIAL = "partial"
MAX_BUILD_ERROR_CHARS = 2000


@dataclass(frozen=True)
class BuildRun:
    build_id: str
    started_at: Any
    finished_at: Any
    status: str
    error_message: str | None


def _ensure_build_runs(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"create table if not exists {BUILD_RUNS_TABLE} (build_id varchar, started_at timestamp, "
        "finished_at timestamp, status varchar, error_message varchar)"
    )


def record_build_started(warehouse: Warehouse, build_id: str, started_at: Any) -> None:
    """Written before dbt starts: a build killed part-way stays `running` (it did not finish)."""
    _ensure_build_runs(warehouse)
    warehouse.insert_rows(
        BUILD_RUNS_TABLE,
        ["build_id", "started_at", "finished_at", "status", "error_message"],
        [(build_id, started_at, None, BUILD_RUNNING, None)],
    )


def record_build_finished(
    warehouse: Warehouse, build_id: str, status: str, finished_at: Any, error_message: str | None = None
) -> None:
    _ensure_build_runs(warehouse)
    warehouse.execute(
        f"update {BUILD_RUNS_TABLE} set status = ?, finished_at = ?, error_message = ? where build_id = ?",
        [status, finished_at, (error_message or "")[:MAX_BUILD_ERROR_CHARS] or None, build_id],
    )


def last_builds(warehouse: Warehouse) -> tuple[BuildRun | None, BuildRun | None]:
    """The latest build (whatever its outcome) and the latest one that succeeded."""
    if not warehouse.table_exists(OPS_SCHEMA, "build_runs"):
        return None, None
    columns = "build_id, started_at, finished_at, status, error_message"
    latest = warehouse.fetch_one(f"select {columns} from {BUILD_RUNS_TABLE} order by started_at desc limit 1")
    succeeded = warehouse.fetch_one(
        f"select {columns} from {BUILD_RUNS_TABLE} where status = ? order by started_at desc limit 1",
        [BUILD_SUCCEEDED],
    )
    return (BuildRun(*latest) if latest else None), (BuildRun(*succeeded) if succeeded else None)
