"""RAW changes for the incremental-model tests, applied with DuckDB SQL to a DuckDB file whose
`raw` schema holds the loaders' tables (the demo warehouse by default).

`spread_loads` makes "day 1" from RAW alone (every other schema is dropped): about half of each
source's RAW rows move into a load ten days older, so an incremental run has old loads it must
leave alone (outside the lookback) besides the newest load, which it reads again (inside it).

`apply_day_two` makes "day 2", the cases an incremental run must get right:

| case | what lands in RAW |
|---|---|
| new event | an EMAIL_SENT to an Apollo contact never emailed before (new load) |
| late event | a LEAD_UNSUBSCRIBED timed 60 days before every other event (new load) |
| out-of-order load | a new EMAIL_OPEN whose load is an hour older than the newest load already built |
| duplicate delivery | an old event delivered again under its other spelling: same event id (new load) |
| earlier duplicate | an old event delivered again, received a day before its first delivery (out-of-order load) |
| re-sighting | an old event's RAW row loaded again: new load id, later received_at (RAW keeps the latest) |
| bad event | an unknown event type: quarantined (new load) |
| changed brand | an old brand's new observation: revenue doubled, fetched after everything (new load) |
| new brand | a brand never seen, more reviews than any: a new population max of a scoring signal (new load) |
| spelling variant | an old brand under another spelling (out-of-order load) |
| bad brand row | a revenue that is not a number: quarantined (new load) |
| brand re-sighting | an old observation loaded again: new load id, fetched a day later |

Deterministic: the same input gives the same changes (keys are fixed, times derive from what RAW
holds), so the DuckDB warehouse and the copy sent to fakesnow get identical RAW.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import duckdb

DAY_SECONDS = 86_400
OLD_LOAD_AGE_DAYS = 10
OUT_OF_ORDER_SECONDS = 3_600
NEW_LOAD_AFTER_SECONDS = 60
# rows moved to the old load: key (a content hash) starting with 0-7, about half
OLD_HALF = "< '8'"

# spellings with a twin in the smartlead_event_types seed (same canonical type)
OPEN_TWIN = {"EMAIL_OPEN": "EMAIL_OPENED", "EMAIL_OPENED": "EMAIL_OPEN"}


# keys and names of the rows day 2 adds
NEW_EVENT_KEY = "day2-new-event"
LATE_EVENT_KEY = "day2-late-event"
OUT_OF_ORDER_EVENT_KEY = "day2-out-of-order-event"
DUPLICATE_EVENT_KEY = "day2-duplicate-delivery"
EARLIER_DUPLICATE_EVENT_KEY = "day2-earlier-duplicate"
BAD_EVENT_KEY = "day2-bad-event"
CHANGED_BRAND_NEW_RECORD_HASH = "day2-changed-brand"
NEW_BRAND_RECORD_HASH = "day2-new-brand"
NEW_BRAND_NAME = "Day Two Newcomer Goods"
SPELLING_VARIANT_RECORD_HASH = "day2-spelling-variant"
BAD_BRAND_RECORD_HASH = "day2-bad-brand"


@dataclass(frozen=True)
class DayTwo:
    """Which existing rows `apply_day_two` used, and the loads it wrote, for the assertions."""

    new_load_id: float
    out_of_order_event_load_id: float
    out_of_order_brand_load_id: float
    new_event_email: str
    late_event_email: str
    duplicated_event_key: str
    earlier_duplicated_event_key: str
    resighted_event_key: str
    changed_brand_record_hash: str
    spelling_variant_of_record_hash: str
    resighted_brand_record_hash: str


def _load_id_text(value: float) -> str:
    return f"{value:.7f}"


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None) -> Any:
    row = connection.execute(sql, parameters or []).fetchone()
    assert row is not None and row[0] is not None, f"the RAW data has nothing for: {' '.join(sql.split())}"
    return row[0]


def _newest_load(connection: duckdb.DuckDBPyConnection, table: str) -> float:
    return float(_scalar(connection, f"select max(cast(_dlt_load_id as double)) from raw.{table}"))


def spread_loads(duckdb_path: str | os.PathLike[str]) -> None:
    """Keep only the `raw` schema (a built warehouse would otherwise be built on incrementally),
    and move about half of the events' and brands' RAW rows into a load OLD_LOAD_AGE_DAYS older."""
    with duckdb.connect(str(duckdb_path)) as connection:
        schemas = connection.execute(
            "select schema_name from information_schema.schemata"
            " where catalog_name = current_database() and schema_name not in ('raw', 'main')"
        ).fetchall()
        for (schema,) in schemas:
            connection.execute(f'drop schema "{schema}" cascade')
        for table, key in (("smartlead_events", "event_key"), ("smartscout_brands", "record_hash")):
            old_load = _newest_load(connection, table) - OLD_LOAD_AGE_DAYS * DAY_SECONDS
            connection.execute(
                f"update raw.{table} set _dlt_load_id = ? where {key} {OLD_HALF}", [_load_id_text(old_load)]
            )


def _old_event(connection: duckdb.DuckDBPyConnection, spellings: list[str], taken: list[str]) -> str:
    """A usable event of the old load: a known spelling, an ISO time, a recipient."""
    return str(
        _scalar(
            connection,
            f"""
            select event_key from raw.smartlead_events
            where event_key {OLD_HALF}
                and upper(trim(event_type)) in (select unnest(?::varchar[]))
                and try_cast(event_timestamp as timestamp) is not null
                and to_email like '%@%'
                and event_key not in (select unnest(?::varchar[]))
            order by event_key
            limit 1
            """,
            [spellings, taken or [""]],
        )
    )


def _old_brand_row(connection: duckdb.DuckDBPyConnection, taken: list[str]) -> str:
    """A usable API observation of the old load."""
    return str(
        _scalar(
            connection,
            f"""
            select record_hash from raw.smartscout_brands
            where record_hash {OLD_HALF}
                and source_kind = 'api'
                and try_cast(monthly_revenue as double) > 0
                and regexp_matches(brand_name, '[A-Za-z]')
                and record_hash not in (select unnest(?::varchar[]))
            order by record_hash
            limit 1
            """,
            [taken or [""]],
        )
    )


def _uncontacted_emails(connection: duckdb.DuckDBPyConnection) -> list[str]:
    rows = connection.execute(
        """
        select distinct lower(trim(email)) as email from raw.apollo_people
        where email_status = 'verified'
            and regexp_full_match(lower(trim(email)), '[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}')
            and lower(trim(email)) not in (
                select lower(trim(to_email)) from raw.smartlead_events where to_email is not null
            )
        order by email
        limit 2
        """
    ).fetchall()
    assert len(rows) == 2, "the RAW data needs two verified Apollo emails that were never emailed"
    return [email for (email,) in rows]


def _copy_row(
    connection: duckdb.DuckDBPyConnection, table: str, key: str, source_key: str, replacements: dict[str, Any]
) -> None:
    replace = ", ".join(f"?::{_column_type(connection, table, column)} as {column}" for column in replacements)
    connection.execute(
        f"insert into raw.{table} by name select * replace ({replace}) from raw.{table} where {key} = ?",
        [*replacements.values(), source_key],
    )


def _column_type(connection: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    return str(
        _scalar(
            connection,
            "select data_type from information_schema.columns"
            " where table_schema = 'raw' and table_name = ? and column_name = ?",
            [table, column],
        )
    )


def _iso(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"


def _pick(connection: duckdb.DuckDBPyConnection) -> DayTwo:
    events_newest = _newest_load(connection, "smartlead_events")
    brands_newest = _newest_load(connection, "smartscout_brands")
    apollo_newest = _newest_load(connection, "apollo_people")
    new_email, late_email = _uncontacted_emails(connection)
    duplicated = _old_event(connection, list(OPEN_TWIN), [])
    earlier_duplicated = _old_event(connection, ["EMAIL_SENT", "FIRST_EMAIL_SENT"], [duplicated])
    resighted = _old_event(connection, ["EMAIL_SENT", "FIRST_EMAIL_SENT"], [duplicated, earlier_duplicated])
    changed = _old_brand_row(connection, [])
    variant_of = _old_brand_row(connection, [changed])
    return DayTwo(
        new_load_id=max(events_newest, brands_newest, apollo_newest) + NEW_LOAD_AFTER_SECONDS,
        out_of_order_event_load_id=events_newest - OUT_OF_ORDER_SECONDS,
        out_of_order_brand_load_id=brands_newest - OUT_OF_ORDER_SECONDS,
        new_event_email=new_email,
        late_event_email=late_email,
        duplicated_event_key=duplicated,
        earlier_duplicated_event_key=earlier_duplicated,
        resighted_event_key=resighted,
        changed_brand_record_hash=changed,
        spelling_variant_of_record_hash=variant_of,
        resighted_brand_record_hash=_old_brand_row(connection, [changed, variant_of]),
    )


def _land_events(connection: duckdb.DuckDBPyConnection, day_two: DayTwo) -> None:
    new_load = _load_id_text(day_two.new_load_id)
    out_of_order_load = _load_id_text(day_two.out_of_order_event_load_id)
    received_later = _scalar(connection, "select max(received_at) + interval 10 day from raw.smartlead_events")
    first_event_at = _scalar(connection, "select min(try_cast(event_timestamp as timestamp)) from raw.smartlead_events")
    last_event_at = _scalar(connection, "select max(try_cast(event_timestamp as timestamp)) from raw.smartlead_events")
    duplicated_spelling = _scalar(
        connection,
        "select upper(trim(event_type)) from raw.smartlead_events where event_key = ?",
        [day_two.duplicated_event_key],
    )
    first_delivery_at = _scalar(
        connection,
        "select received_at from raw.smartlead_events where event_key = ?",
        [day_two.earlier_duplicated_event_key],
    )
    new_fact = {"lead_category_old": None, "lead_category_new": None, "webhook_id": None}
    copies: list[tuple[str, dict[str, Any]]] = [
        (
            day_two.resighted_event_key,
            {
                **new_fact,
                "event_key": NEW_EVENT_KEY,
                "stats_id": "day2-stats-1",
                "event_type": "EMAIL_SENT",
                "to_email": day_two.new_event_email,
                "event_timestamp": _iso(last_event_at + dt.timedelta(days=1)),
                "received_at": received_later,
                "_dlt_load_id": new_load,
            },
        ),
        (
            day_two.resighted_event_key,
            {
                **new_fact,
                "event_key": LATE_EVENT_KEY,
                "stats_id": "day2-stats-2",
                "event_type": "LEAD_UNSUBSCRIBED",
                "to_email": day_two.late_event_email,
                "event_timestamp": _iso(first_event_at - dt.timedelta(days=60)),
                "received_at": received_later,
                "_dlt_load_id": new_load,
            },
        ),
        (
            day_two.resighted_event_key,
            {
                **new_fact,
                "event_key": OUT_OF_ORDER_EVENT_KEY,
                "stats_id": "day2-stats-3",
                "event_type": "EMAIL_OPEN",
                "to_email": day_two.new_event_email,
                "event_timestamp": _iso(last_event_at + dt.timedelta(days=2)),
                "_dlt_load_id": out_of_order_load,
            },
        ),
        (
            day_two.duplicated_event_key,
            {
                "event_key": DUPLICATE_EVENT_KEY,
                "event_type": OPEN_TWIN[str(duplicated_spelling)],
                "webhook_id": "day2-redelivery",
                "received_at": received_later,
                "_dlt_load_id": new_load,
            },
        ),
        (
            day_two.earlier_duplicated_event_key,
            {
                "event_key": EARLIER_DUPLICATE_EVENT_KEY,
                "webhook_id": "day2-early-redelivery",
                "received_at": first_delivery_at - dt.timedelta(days=1),
                "_dlt_load_id": out_of_order_load,
            },
        ),
        (
            day_two.resighted_event_key,
            {"event_key": BAD_EVENT_KEY, "event_type": "EMAIL_TELEPORTED_TWICE", "_dlt_load_id": new_load},
        ),
    ]
    for number, (source_key, replacements) in enumerate(copies, start=1):
        _copy_row(
            connection, "smartlead_events", "event_key", source_key, {**replacements, "_dlt_id": f"day2-e{number}"}
        )
    connection.execute(
        "update raw.smartlead_events set _dlt_load_id = ?, received_at = ? where event_key = ?",
        [new_load, received_later, day_two.resighted_event_key],
    )


def _land_brands(connection: duckdb.DuckDBPyConnection, day_two: DayTwo) -> None:
    new_load = _load_id_text(day_two.new_load_id)
    changed = day_two.changed_brand_record_hash
    fetched_after_all = _scalar(connection, "select max(fetched_at) + interval 1 day from raw.smartscout_brands")
    revenue = _scalar(connection, "select monthly_revenue from raw.smartscout_brands where record_hash = ?", [changed])
    most_reviews = _scalar(connection, "select max(try_cast(total_reviews as bigint)) from raw.smartscout_brands")
    variant_name = _scalar(
        connection,
        "select upper(brand_name) || ' LLC' from raw.smartscout_brands where record_hash = ?",
        [day_two.spelling_variant_of_record_hash],
    )
    copies: list[tuple[str, dict[str, Any]]] = [
        (
            changed,
            {
                "record_hash": CHANGED_BRAND_NEW_RECORD_HASH,
                "monthly_revenue": str(2 * float(revenue)),
                "fetched_at": fetched_after_all,
                "_dlt_load_id": new_load,
            },
        ),
        (
            changed,
            {
                "record_hash": NEW_BRAND_RECORD_HASH,
                "brand_name": NEW_BRAND_NAME,
                "storefront_url": None,
                # a new population max: seg_brand_signal_contributions must rescale every brand
                "total_reviews": str(10 * int(most_reviews) + 1),
                "fetched_at": fetched_after_all,
                "_dlt_load_id": new_load,
            },
        ),
        (
            day_two.spelling_variant_of_record_hash,
            {
                "record_hash": SPELLING_VARIANT_RECORD_HASH,
                "brand_name": variant_name,
                "_dlt_load_id": _load_id_text(day_two.out_of_order_brand_load_id),
            },
        ),
        (changed, {"record_hash": BAD_BRAND_RECORD_HASH, "monthly_revenue": "lots", "_dlt_load_id": new_load}),
    ]
    for number, (source_hash, replacements) in enumerate(copies, start=1):
        _copy_row(
            connection, "smartscout_brands", "record_hash", source_hash, {**replacements, "_dlt_id": f"day2-b{number}"}
        )
    connection.execute(
        "update raw.smartscout_brands set _dlt_load_id = ?, fetched_at = fetched_at + interval 1 day"
        " where record_hash = ?",
        [new_load, day_two.resighted_brand_record_hash],
    )


def apply_day_two(duckdb_path: str | os.PathLike[str]) -> DayTwo:
    """Land the day-2 cases (module docstring) in the RAW tables of `duckdb_path`."""
    with duckdb.connect(str(duckdb_path)) as connection:
        day_two = _pick(connection)
        _land_events(connection, day_two)
        _land_brands(connection, day_two)
    return day_two
