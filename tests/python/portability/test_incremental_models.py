"""Incremental CLEAN models give exactly what a full rebuild gives, on DuckDB and on fakesnow, and
snapshots record changes on both.

Day 1: the demo RAW with about half of each source moved into an older load (`raw_changes.py`),
built from scratch. Day 2: new, late, out-of-order and duplicate events, a changed, a new and a
re-spelled brand, bad rows and re-sightings land in RAW (`raw_changes.py` lists them), then

- on DuckDB, `dbt build` (incremental) runs on the day-1 warehouse and `dbt build --full-refresh`
  on a copy of it: every CLEAN, ENRICHED and SEGMENTED relation must be identical row for row;
- on fakesnow (a fresh database on the session's server), the same day 1 and day 2: the
  incremental run must succeed, read only the recent loads, and give DuckDB's rows; its snapshots
  (second run) must record the same versions;
- an edited `smartlead_event_types` seed (DuckDB): the next incremental build rebuilds the event
  models from all of RAW, again identical to `--full-refresh`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .copy_raw import copy_duckdb_file
from .harness import PROJECT_DIR, Builds, DbtRun, WarehouseBuild, run_dbt, seed_and_build
from .raw_changes import (
    BAD_BRAND_RECORD_HASH,
    BAD_EVENT_KEY,
    CHANGED_BRAND_NEW_RECORD_HASH,
    DUPLICATE_EVENT_KEY,
    EARLIER_DUPLICATE_EVENT_KEY,
    LATE_EVENT_KEY,
    NEW_BRAND_RECORD_HASH,
    NEW_EVENT_KEY,
    OUT_OF_ORDER_EVENT_KEY,
    SPELLING_VARIANT_RECORD_HASH,
    DayTwo,
    apply_day_two,
    spread_loads,
)

# every run here sets OUTREACH_INCREMENTAL_LOOKBACK_DAYS (dbt_project.yml) to this, whatever the shell says
LOOKBACK_DAYS = 2
LOOKBACK_ENV = {"OUTREACH_INCREMENTAL_LOOKBACK_DAYS": str(LOOKBACK_DAYS)}
DAY_SECONDS = 86_400

# (schema, model, unique key, column of the newest load it processed; None: it compares values)
INCREMENTAL_MODELS = [
    ("clean", "stg_smartlead__event_observations", "event_key", "raw_load_id"),
    ("clean", "stg_smartlead__events", "event_id", "last_raw_load_id"),
    ("clean", "stg_smartscout__brand_observations", "record_hash", "raw_load_id"),
    ("clean", "stg_smartscout__brands", "brand_id", "last_raw_load_id"),
    ("enriched", "int_brand_signals", "brand_id, source_column", "last_raw_load_id"),
    ("segmented", "seg_brand_signal_contributions", "brand_id, signal", None),
]
INCREMENTAL_IDS = [model for _, model, _, _ in INCREMENTAL_MODELS]
# seed fingerprints are md5s of text each warehouse renders its own way (booleans, numbers)
FINGERPRINT_COLUMNS = ["config_fingerprint", "weights_fingerprint"]
COMPARED_SCHEMAS = ("clean", "enriched", "segmented")
# the seed edit: clicks become opens (their event ids change), EMAIL_OPENED is no longer accepted
SEED_EDIT = [
    "update config.smartlead_event_types set event_type = 'EMAIL_OPEN' where event_type = 'EMAIL_LINK_CLICK'",
    "delete from config.smartlead_event_types where spelling = 'EMAIL_OPENED'",
]


def dbt_options(target: str, profiles_dir: Path, run_dir: Path) -> list[str]:
    """What `seed_and_build` (harness.py) passes to dbt, for the runs after it: a private target and
    log path per run directory, so concurrent runs never share them."""
    options = {
        "--target": target,
        "--profiles-dir": profiles_dir,
        "--project-dir": PROJECT_DIR,
        "--target-path": run_dir / "target",
        "--log-path": run_dir / "logs",
    }
    return [*(str(part) for option in options.items() for part in option), "--no-use-colors"]


@dataclass(frozen=True)
class DuckdbWarehouse:
    """A DuckDB file and the work dir its first build ran in (`seed_and_build` left profiles/ there)."""

    path: Path
    work_dir: Path

    def dbt(self, *args: str, run_dir: Path | None = None, path: Path | None = None) -> DbtRun:
        options = dbt_options("duckdb", self.work_dir / "profiles", run_dir or self.work_dir)
        env = {"DBT_TARGET": "duckdb", "OUTREACH_DUCKDB_PATH": str(path or self.path), **LOOKBACK_ENV}
        return run_dbt([*args, *options], env)

    def copy(self, name: str) -> Path:
        return copy_duckdb_file(self.path, self.work_dir / f"{name}.duckdb")


def build_from_scratch(raw: Path, work_dir: Path) -> DuckdbWarehouse:
    """A copy of `raw`, seeded and built on DuckDB."""
    path = copy_duckdb_file(raw, work_dir / "warehouse.duckdb")
    build = seed_and_build("duckdb", "duckdb", work_dir, {"OUTREACH_DUCKDB_PATH": str(path)})
    assert build.ok, build.failure()
    return DuckdbWarehouse(path, work_dir)


def incremental_and_full_refresh(
    warehouse: DuckdbWarehouse, name: str, also_exclude: Sequence[str] = ()
) -> tuple[Path, DbtRun, DbtRun]:
    """`dbt build` on the warehouse and, concurrently, `dbt build --full-refresh` on a copy of it
    (unit tests, and `also_exclude`, excluded from both)."""
    full_refresh = warehouse.copy(f"{name}_full_refresh")
    build = ["build", "--exclude", "resource_type:unit_test", *also_exclude]
    with ThreadPoolExecutor(max_workers=2) as pool:
        incremental = pool.submit(warehouse.dbt, *build, run_dir=warehouse.work_dir / name)
        full = pool.submit(
            warehouse.dbt,
            *build,
            "--full-refresh",
            run_dir=warehouse.work_dir / f"{name}_full_refresh",
            path=full_refresh,
        )
        return full_refresh, incremental.result(), full.result()


@dataclass(frozen=True)
class DuckdbDays:
    day_two: DayTwo
    warehouse: DuckdbWarehouse  # day 1, then day-2 RAW and `dbt build`
    day_one: Path  # a copy of the warehouse after the day-1 build
    full_refresh: Path  # day 1, then day-2 RAW and `dbt build --full-refresh`
    incremental_run: DbtRun
    full_refresh_run: DbtRun

    @property
    def incremental(self) -> Path:
        return self.warehouse.path


@pytest.fixture(scope="module")
def day_one_raw(raw_duckdb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = copy_duckdb_file(raw_duckdb_path, tmp_path_factory.mktemp("incremental_raw") / "day_one.duckdb")
    spread_loads(raw)
    return raw


@pytest.fixture(scope="module")
def day_two_raw(day_one_raw: Path) -> tuple[Path, DayTwo]:
    raw = copy_duckdb_file(day_one_raw, day_one_raw.with_name("day_two.duckdb"))
    return raw, apply_day_two(raw)


@pytest.fixture(scope="module")
def duckdb_days(
    day_one_raw: Path, day_two_raw: tuple[Path, DayTwo], tmp_path_factory: pytest.TempPathFactory
) -> DuckdbDays:
    warehouse = build_from_scratch(day_one_raw, tmp_path_factory.mktemp("incremental_duckdb"))
    day_one = warehouse.copy("day_one")
    day_two = apply_day_two(warehouse.path)
    assert day_two == day_two_raw[1], "day 2 must be the same change on every copy"
    full_refresh, incremental_run, full_run = incremental_and_full_refresh(warehouse, "day_two")
    return DuckdbDays(day_two, warehouse, day_one, full_refresh, incremental_run, full_run)


def relations(duckdb_path: Path, schemas: Sequence[str] = COMPARED_SCHEMAS) -> list[tuple[str, str]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return connection.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database() and table_schema in (select unnest(?::varchar[]))"
            " order by all",
            [list(schemas)],
        ).fetchall()


def rows_of(duckdb_path: Path, relation: str, where: str = "true") -> list[tuple[Any, ...]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return sorted(connection.execute(f"select * from {relation} where {where}").fetchall(), key=repr)


# Columns that depend on when a build ran, not on what it read: days until now, and the times
# (and version ids) the build's own snapshot stamped. Two builds of the same data seconds apart may
# differ there; every other column of these relations is compared.
BUILD_TIME_COLUMNS: dict[str, list[str]] = {
    "segmented.seg_brand_pipeline_status": ["days_in_status", "is_stuck"],
    "segmented.seg_pipeline_funnel": ["brands_stuck", "avg_days_in_status", "max_days_in_status"],
    "segmented.seg_brand_segment_history": ["segment_membership_id", "entered_at", "left_at", "days_in_segment"],
    "segmented.seg_brand_segment_at_first_contact": ["segment_membership_id"],
}


def comparable(relation: str) -> str:
    excluded = BUILD_TIME_COLUMNS.get(relation)
    return f"(select * exclude ({', '.join(excluded)}) from {relation})" if excluded else relation


def differences(left: Path, right: Path) -> dict[str, str]:
    """Relations (CLEAN, ENRICHED, SEGMENTED) whose rows differ between two DuckDB files."""
    assert relations(left) == relations(right)
    found = {}
    for schema, name in relations(left):
        relation = f"{schema}.{name}"
        left_rows, right_rows = rows_of(left, comparable(relation)), rows_of(right, comparable(relation))
        if left_rows != right_rows:
            only_left = [row for row in left_rows if row not in right_rows][:3]
            only_right = [row for row in right_rows if row not in left_rows][:3]
            found[relation] = (
                f"{len(left_rows)} vs {len(right_rows)} rows; only left {only_left}; only right {only_right}"
            )
    return found


def require_ok(*runs: DbtRun) -> None:
    for run in runs:
        if not run.ok:
            pytest.fail(run.describe(), pytrace=False)


def scalar(duckdb_path: Path, sql: str, parameters: Sequence[Any] = ()) -> Any:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        row = connection.execute(sql, list(parameters)).fetchone()
    assert row is not None
    return row[0]


# --- DuckDB: incremental == full refresh ---------------------------------------------------------


def test_incremental_build_equals_full_refresh_on_duckdb(duckdb_days: DuckdbDays) -> None:
    require_ok(duckdb_days.incremental_run, duckdb_days.full_refresh_run)
    tables = scalar(
        duckdb_days.incremental,
        "select count(*) from information_schema.tables"
        " where table_type = 'BASE TABLE' and table_schema || '.' || table_name in (select unnest(?::varchar[]))",
        [[f"{schema}.{model}" for schema, model, _, _ in INCREMENTAL_MODELS]],
    )
    assert tables == len(INCREMENTAL_MODELS)
    assert differences(duckdb_days.incremental, duckdb_days.full_refresh) == {}


def test_day_two_cases_reach_clean(duckdb_days: DuckdbDays) -> None:
    require_ok(duckdb_days.incremental_run)
    day_two, warehouse, day_one = duckdb_days.day_two, duckdb_days.incremental, duckdb_days.day_one

    def event(path: Path, event_key: str, column: str) -> Any:
        return scalar(
            path,
            f"select events.{column} from clean.stg_smartlead__events as events"
            " inner join clean.stg_smartlead__event_observations as observations using (event_id)"
            " where observations.event_key = ?",
            [event_key],
        )

    # new, late (timed before everything) and out-of-order-loaded events are there
    for key in (NEW_EVENT_KEY, LATE_EVENT_KEY, OUT_OF_ORDER_EVENT_KEY):
        assert event(warehouse, key, "delivery_count") == 1, key
    assert (
        scalar(
            warehouse,
            "select count(*) from clean.stg_suppression__keys where suppression_key = ? and reason = 'unsubscribed'",
            [day_two.late_event_email],
        )
        == 1
    )
    # a duplicate delivery (other spelling) collapses onto the old event: one more delivery
    for original, duplicate in (
        (day_two.duplicated_event_key, DUPLICATE_EVENT_KEY),
        (day_two.earlier_duplicated_event_key, EARLIER_DUPLICATE_EVENT_KEY),
    ):
        assert event(warehouse, duplicate, "event_id") == event(warehouse, original, "event_id")
        assert event(warehouse, original, "delivery_count") == event(day_one, original, "delivery_count") + 1
    # first_received_at: unchanged by a later delivery, moved by an earlier one
    assert event(warehouse, day_two.duplicated_event_key, "first_received_at") == event(
        day_one, day_two.duplicated_event_key, "first_received_at"
    )
    assert event(warehouse, day_two.earlier_duplicated_event_key, "first_received_at") < event(
        day_one, day_two.earlier_duplicated_event_key, "first_received_at"
    )
    assert (
        scalar(
            warehouse,
            "select count(*) from clean.stg_smartlead__events_quarantine where event_key = ?",
            [BAD_EVENT_KEY],
        )
        == 1
    )

    def brand(path: Path, record_hash: str, column: str) -> Any:
        return scalar(
            path,
            f"select brands.{column} from clean.stg_smartscout__brands as brands"
            " inner join clean.stg_smartscout__brand_observations as observations using (brand_id)"
            " where observations.record_hash = ?",
            [record_hash],
        )

    assert brand(warehouse, CHANGED_BRAND_NEW_RECORD_HASH, "latest_record_hash") == CHANGED_BRAND_NEW_RECORD_HASH
    assert brand(warehouse, CHANGED_BRAND_NEW_RECORD_HASH, "monthly_revenue_usd") == pytest.approx(
        2 * brand(day_one, day_two.changed_brand_record_hash, "monthly_revenue_usd")
    )
    assert brand(warehouse, NEW_BRAND_RECORD_HASH, "observation_count") == 1
    variant = day_two.spelling_variant_of_record_hash
    assert (
        brand(warehouse, SPELLING_VARIANT_RECORD_HASH, "spelling_count")
        == brand(day_one, variant, "spelling_count") + 1
    )
    assert (
        scalar(
            warehouse,
            "select count(*) from clean.stg_smartscout__brands_quarantine where record_hash = ?",
            [BAD_BRAND_RECORD_HASH],
        )
        == 1
    )


def test_snapshots_record_day_two_changes_on_duckdb(duckdb_days: DuckdbDays) -> None:
    require_ok(duckdb_days.incremental_run)
    warehouse = duckdb_days.incremental
    brand_id = scalar(
        warehouse,
        "select brand_id from clean.stg_smartscout__brand_observations where record_hash = ?",
        [CHANGED_BRAND_NEW_RECORD_HASH],
    )
    versions = rows_of(
        warehouse,
        "(select latest_record_hash, dbt_valid_to is null as is_current from history.snap_brand_metrics"
        f" where brand_id = '{brand_id}')",
    )
    assert versions == sorted(
        [(duckdb_days.day_two.changed_brand_record_hash, False), (CHANGED_BRAND_NEW_RECORD_HASH, True)], key=repr
    )
    # its score changed with its revenue: the segment history closed one version and opened another
    assert (
        scalar(
            warehouse,
            "select count(*) from history.snap_brand_segments where brand_id = ? and dbt_valid_to is not null",
            [brand_id],
        )
        == 1
    )
    new_brand = scalar(
        warehouse,
        "select count(*) from history.snap_brand_segments as snap"
        " inner join clean.stg_smartscout__brand_observations as observations using (brand_id)"
        " where observations.record_hash = ? and snap.dbt_valid_to is null",
        [NEW_BRAND_RECORD_HASH],
    )
    assert new_brand == 1


# --- DuckDB: an edited seed ---------------------------------------------------------------------


@dataclass(frozen=True)
class SeedEdit:
    incremental: Path
    full_refresh: Path
    incremental_run: DbtRun
    full_refresh_run: DbtRun


@pytest.fixture(scope="module")
def seed_edit(duckdb_days: DuckdbDays) -> SeedEdit:
    """The day-2 warehouse with SEED_EDIT applied to its seed table (as `dbt seed` of an edited CSV
    would), then built incrementally and, on a copy, with --full-refresh (seeds not reloaded)."""
    require_ok(duckdb_days.incremental_run)
    warehouse = DuckdbWarehouse(duckdb_days.warehouse.copy("seed_edit"), duckdb_days.warehouse.work_dir)
    with duckdb.connect(str(warehouse.path)) as connection:
        for statement in SEED_EDIT:
            connection.execute(statement)
    full_refresh, incremental_run, full_run = incremental_and_full_refresh(
        warehouse, "seed_edit", ["resource_type:seed"]
    )
    return SeedEdit(warehouse.path, full_refresh, incremental_run, full_run)


def test_an_edited_seed_rebuilds_the_event_models(seed_edit: SeedEdit) -> None:
    require_ok(seed_edit.incremental_run, seed_edit.full_refresh_run)
    assert (
        scalar(
            seed_edit.incremental,
            "select count(*) from clean.stg_smartlead__events where event_type = 'EMAIL_LINK_CLICK'",
        )
        == 0
    )
    assert (
        scalar(
            seed_edit.incremental,
            "select count(*) from clean.stg_smartlead__events_quarantine where event_type_as_sent = 'EMAIL_OPENED'",
        )
        > 0
    )
    assert differences(seed_edit.incremental, seed_edit.full_refresh) == {}


# --- fakesnow: the same two days ----------------------------------------------------------------


@dataclass(frozen=True)
class FakesnowDays:
    day_one: WarehouseBuild
    day_two_run: DbtRun
    rows_inserted: dict[str, int]  # per incremental model, by the day-2 run (dbt's rows_affected)
    cursor: Any


@pytest.fixture(scope="module")
def fakesnow_days(
    builds: Builds,
    day_one_raw: Path,
    day_two_raw: tuple[Path, DayTwo],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FakesnowDays]:
    """Day 1 and day 2 in a database of their own on the session's fakesnow server."""
    from .copy_raw import connect, copy_raw_schema
    from .fakesnow_server import fresh_database_name

    work = tmp_path_factory.mktemp("incremental_fakesnow")
    database = fresh_database_name("OUTREACH_INCREMENTAL")
    env = {"DBT_TARGET": "fakesnow", "FAKESNOW_PORT": str(builds.port), "FAKESNOW_DATABASE": database, **LOOKBACK_ENV}
    copy_raw_schema(day_one_raw, builds.port, database)
    day_one = seed_and_build("fakesnow", "fakesnow", work, env)
    assert day_one.ok, day_one.failure()
    copy_raw_schema(day_two_raw[0], builds.port, database)  # replaces every RAW table
    run_dir = work / "day_two"
    day_two_run = run_dbt(
        ["build", "--exclude", "resource_type:unit_test", *dbt_options("fakesnow", work / "profiles", run_dir)], env
    )
    rows_inserted = {}
    if (run_dir / "target" / "run_results.json").exists():
        results = json.loads((run_dir / "target" / "run_results.json").read_text())["results"]
        rows_inserted = {
            result["unique_id"].rsplit(".", 1)[-1]: int(result["adapter_response"]["rows_affected"])
            for result in results
            if result["unique_id"].rsplit(".", 1)[-1] in set(INCREMENTAL_IDS)
            and "rows_affected" in result["adapter_response"]
        }
    with connect(builds.port, database) as connection:
        yield FakesnowDays(day_one, day_two_run, rows_inserted, connection.cursor())


def timestamp_columns(duckdb_path: Path, relation: str) -> set[str]:
    schema, name = relation.split(".")
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return {
            column
            for (column,) in connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ? and data_type like 'TIMESTAMP%'",
                [schema, name],
            ).fetchall()
        }


def column_names(duckdb_path: Path, relation: str) -> list[str]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return [column for (column, *_) in connection.execute(f"describe {relation}").fetchall()]


def comparable_select(duckdb_path: Path, relation: str, warehouse: str, drop: Sequence[str] = ()) -> str:
    """Every column of the relation, timestamps as whole epoch seconds (fakesnow returns a NULL
    timestamp as 1970-01-01, so they are compared as numbers computed in SQL)."""
    epoch = {
        "duckdb": "datediff('second', timestamp '1970-01-01', {column})",
        "snowflake": "datediff(second, '1970-01-01'::timestamp_ntz, {column})",
    }[warehouse]
    timestamps = timestamp_columns(duckdb_path, relation)
    columns = [
        epoch.format(column=column) if column in timestamps else column
        for column in column_names(duckdb_path, relation)
        if column not in drop
    ]
    return f"select {', '.join(columns)} from {relation}"


def fakesnow_differs(fakesnow: FakesnowDays, duckdb_path: Path, relation: str, drop: Sequence[str] = ()) -> str | None:
    from .test_fakesnow_build import _diff_message, _sorted_rows  # the parity test's normalization

    fakesnow.cursor.execute(comparable_select(duckdb_path, relation, "snowflake", drop))
    fakesnow_rows = _sorted_rows(fakesnow.cursor.fetchall())
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        duckdb_rows = _sorted_rows(
            connection.execute(comparable_select(duckdb_path, relation, "duckdb", drop)).fetchall()
        )
    if fakesnow_rows == duckdb_rows:
        return None
    return _diff_message(relation, column_names(duckdb_path, relation), fakesnow_rows, duckdb_rows)


@pytest.mark.snowflake
def test_incremental_run_succeeds_on_fakesnow(fakesnow_days: FakesnowDays) -> None:
    require_ok(fakesnow_days.day_two_run)


@pytest.mark.snowflake
@pytest.mark.parametrize(("schema", "model", "key", "load_column"), INCREMENTAL_MODELS, ids=INCREMENTAL_IDS)
def test_incremental_models_match_duckdb_on_fakesnow(
    fakesnow_days: FakesnowDays, duckdb_days: DuckdbDays, schema: str, model: str, key: str, load_column: str | None
) -> None:
    require_ok(fakesnow_days.day_two_run, duckdb_days.incremental_run)
    difference = fakesnow_differs(fakesnow_days, duckdb_days.incremental, f"{schema}.{model}", drop=FINGERPRINT_COLUMNS)
    assert difference is None, difference


def rescaled_signals(duckdb_days: DuckdbDays) -> list[str]:
    """Signals of seg_brand_signal_contributions whose population bounds day 2 moved."""
    bounds = "select distinct signal, signal_min, signal_max from segmented.seg_brand_signal_contributions"
    before = set(rows_of(duckdb_days.day_one, f"({bounds})"))
    after = set(rows_of(duckdb_days.incremental, f"({bounds})"))
    return sorted(signal for signal, *_ in after - before)


def test_day_two_moves_some_signal_bounds_but_not_all(duckdb_days: DuckdbDays) -> None:
    """Both paths of the incremental contributions are exercised: a signal scaled again for every
    brand (the new brand's review count is a new max) and signals where only touched brands change."""
    require_ok(duckdb_days.incremental_run)
    moved = rescaled_signals(duckdb_days)
    signals = scalar(
        duckdb_days.incremental, "select count(distinct signal) from segmented.seg_brand_signal_contributions"
    )
    assert "reviews" in moved
    assert len(moved) < signals


@pytest.mark.snowflake
@pytest.mark.parametrize(("schema", "model", "key", "load_column"), INCREMENTAL_MODELS, ids=INCREMENTAL_IDS)
def test_incremental_run_read_only_recent_loads_on_fakesnow(
    fakesnow_days: FakesnowDays, duckdb_days: DuckdbDays, schema: str, model: str, key: str, load_column: str | None
) -> None:
    """The day-2 run inserted exactly the rows of the loads newer than day 1's newest minus the
    lookback (the model's rows of older loads were left alone); the contributions, exactly the rows
    that are new or whose raw value changed, and every row of the signals whose bounds moved."""
    require_ok(fakesnow_days.day_two_run, duckdb_days.incremental_run)
    relation = f"{schema}.{model}"
    total = scalar(duckdb_days.incremental, f"select count(*) from {relation}")
    if load_column is None:
        inputs = f"(select brand_id, signal, raw_value from {relation})"
        day_one = set(rows_of(duckdb_days.day_one, inputs))
        moved = set(rescaled_signals(duckdb_days))
        expected = sum(1 for row in rows_of(duckdb_days.incremental, inputs) if row not in day_one or row[1] in moved)
    else:
        newest_day_one = scalar(duckdb_days.day_one, f"select max({load_column}) from {relation}")
        recent = f"{load_column} > {newest_day_one} - {LOOKBACK_DAYS * DAY_SECONDS}"
        expected = scalar(duckdb_days.incremental, f"select count(*) from {relation} where {recent}")
    assert 0 < expected < total
    assert fakesnow_days.rows_inserted.get(model) == expected


@pytest.mark.snowflake
@pytest.mark.parametrize(
    ("snapshot", "columns"),
    [
        ("snap_brand_metrics", "brand_id, latest_record_hash, dbt_valid_to is null"),
        ("snap_brand_segments", "brand_id, segment, score, weights_version, dbt_valid_to is null"),
    ],
)
def test_snapshot_second_run_records_the_same_versions_on_fakesnow(
    fakesnow_days: FakesnowDays, duckdb_days: DuckdbDays, snapshot: str, columns: str
) -> None:
    from .test_fakesnow_build import _diff_message, _sorted_rows  # the parity test's normalization

    require_ok(fakesnow_days.day_two_run, duckdb_days.incremental_run)
    query = f"select {columns} from history.{snapshot}"
    fakesnow_days.cursor.execute(query)
    fakesnow_rows = _sorted_rows(fakesnow_days.cursor.fetchall())
    with duckdb.connect(str(duckdb_days.incremental), read_only=True) as connection:
        duckdb_rows = _sorted_rows(connection.execute(query).fetchall())
    assert any(row[-1] is False for row in duckdb_rows), "day 2 closed no version: the comparison proves nothing"
    assert fakesnow_rows == duckdb_rows, _diff_message(snapshot, columns.split(", "), fakesnow_rows, duckdb_rows)
