"""The sync ledger follows a brand whose id changed (a new version of the name normalization).

Ledger rows are keyed by brand id for Smartlead leads and HubSpot companies (`email|brand_id` for
associations). When `normalize_name` changes, a brand's id changes too; without this, the next
sync would see the brand as never sent and send it again. `follow_brand_id_aliases` rewrites
those rows to the brand's id now (dbt model clean.stg_brand_id_aliases), with the id in their
payload replaced and the payload hash recomputed, so an unchanged brand plans as unchanged. It
is idempotent (a moved row is no longer under its old key) and runs after every `outreach
build` and before every `outreach sync`. Each move is recorded in reverse_etl.brand_id_migrations.

A row whose new key is already taken (two old ids that are one brand now) stays under its old
key: it still tells the next sync which address was emailed, and the move is recorded once as
`kept`.

A HubSpot company row with HubSpot's object id (`remote_id`) moves with its payload and hash as
they were: HubSpot still holds the old `outreach_brand_id`, and an upsert by the new id would
create a second company. The next sync writes that company by its object id instead
(`company_object_ids`, `POST .../companies/batch/update`), its `outreach_brand_id` rewritten to
the new id, and so does every later send of it; the upserts by id of every other company are
unchanged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from reverse_etl import ledger
from reverse_etl.payloads import payload_hash
from warehouse_layer import Warehouse

ALIASES_SCHEMA = "clean"
ALIASES_TABLE = "stg_brand_id_aliases"
MIGRATIONS_TABLE = f"{ledger.LEDGER_SCHEMA}.brand_id_migrations"

# destinations whose record key is the brand id, and the one whose key ends with `|brand_id`
HUBSPOT_COMPANIES = "hubspot_companies"
BRAND_KEYED = ("smartlead_leads", HUBSPOT_COMPANIES)
BRAND_SUFFIXED = ("hubspot_associations",)

MOVED = "moved"
KEPT = "kept"  # the new key had a row already: the old one stays as it is


def ensure_migrations_table(warehouse: Warehouse) -> None:
    ledger.ensure_ledger(warehouse)
    warehouse.execute(
        f"""
        create table if not exists {MIGRATIONS_TABLE} (
            destination varchar not null,
            old_record_key varchar not null,
            record_key varchar not null,
            outcome varchar not null,
            migrated_at timestamp not null,
            primary key (destination, old_record_key)
        )
        """
    )


def follow_brand_id_aliases(warehouse: Warehouse, now: datetime | None = None) -> int:
    """Move ledger rows keyed by an old brand id to the brand's id now; returns how many moved.
    Nothing to do before the aliases model is built, or when it is empty."""
    if not warehouse.table_exists(ALIASES_SCHEMA, ALIASES_TABLE):
        return 0
    aliases = {
        str(old): str(new)
        for old, new in warehouse.execute(f"select old_brand_id, brand_id from {ALIASES_SCHEMA}.{ALIASES_TABLE}")
    }
    if not aliases:
        return 0
    ensure_migrations_table(warehouse)
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    done = warehouse.execute(f"select destination, old_record_key from {MIGRATIONS_TABLE}")
    recorded = {(str(destination), str(key)) for destination, key in done}
    columns = ", ".join(ledger.COLUMNS)
    moves: list[tuple[dict[str, Any], str, str, str]] = []  # (row, new key, old id, new id)
    for destination in BRAND_KEYED:
        # the aliases are few (only names whose id changed): joined in the warehouse
        for row in warehouse.fetch_dicts(
            f"select {columns} from {ledger.LEDGER_TABLE} "
            f"where destination = ? and record_key in (select old_brand_id from {ALIASES_SCHEMA}.{ALIASES_TABLE})",
            [destination],
        ):
            old_id = str(row["record_key"])
            moves.append((row, aliases[old_id], old_id, aliases[old_id]))
    for destination in BRAND_SUFFIXED:
        for row in warehouse.fetch_dicts(
            f"select {columns} from {ledger.LEDGER_TABLE} where destination = ?", [destination]
        ):
            head, separator, old_id = str(row["record_key"]).rpartition("|")
            if separator and old_id in aliases:
                moves.append((row, f"{head}|{aliases[old_id]}", old_id, aliases[old_id]))
    moved = 0
    for row, new_key, old_id, new_id in moves:
        destination, old_key = str(row["destination"]), str(row["record_key"])
        taken = warehouse.fetch_one(
            f"select 1 from {ledger.LEDGER_TABLE} where destination = ? and record_key = ?", [destination, new_key]
        )
        if taken is not None:
            if (destination, old_key) not in recorded:
                _record(warehouse, destination, old_key, new_key, KEPT, moment)
            continue
        warehouse.replace_rows(
            ledger.LEDGER_TABLE,
            ledger.KEY_COLUMNS,
            ledger.COLUMNS,
            [tuple(_moved(row, new_key, old_id, new_id)[column] for column in ledger.COLUMNS)],
        )
        # the new row first, then the old one goes: a crash in between leaves the old row under its
        # old key, which the next run records as kept
        warehouse.execute(
            f"delete from {ledger.LEDGER_TABLE} where destination = ? and record_key = ?", [destination, old_key]
        )
        _record(warehouse, destination, old_key, new_key, MOVED, moment)
        moved += 1
    return moved


def company_object_ids(warehouse: Warehouse) -> dict[str, str]:
    """brand id -> HubSpot object id of every HubSpot company whose ledger row moved to its brand's
    new id: the sync writes these by object id (batch/update), which rewrites the
    `outreach_brand_id` HubSpot holds and never creates a second company."""
    if not warehouse.table_exists(ledger.LEDGER_SCHEMA, "brand_id_migrations"):
        return {}
    rows = warehouse.execute(
        f"""
        select distinct sent.record_key, sent.remote_id
        from {ledger.LEDGER_TABLE} as sent
        inner join {MIGRATIONS_TABLE} as migrations
            on migrations.destination = sent.destination and migrations.record_key = sent.record_key
        where sent.destination = ? and migrations.outcome = ? and sent.remote_id is not null
        """,
        [HUBSPOT_COMPANIES, MOVED],
    )
    return {str(brand_id): str(object_id) for brand_id, object_id in rows}


def _moved(row: dict[str, Any], new_key: str, old_id: str, new_id: str) -> dict[str, Any]:
    """The row under its new key, the brand id in its payload replaced (an md5: it appears nowhere
    else by chance) and the payload hash recomputed the way the sync computes it. A HubSpot company
    that HubSpot knows by its object id keeps what was sent (the old id): it differs from what the
    sync computes now, so the next sync writes the new id to that object."""
    moved = {**row, "record_key": new_key}
    payload_json = row.get("payload_json")
    if row["destination"] == HUBSPOT_COMPANIES and row.get("remote_id"):
        return moved
    if payload_json:
        payload = json.loads(str(payload_json).replace(old_id, new_id))
        moved["payload_json"] = json.dumps(payload, sort_keys=True)
        moved["payload_hash"] = payload_hash(payload)
    return moved


def _record(warehouse: Warehouse, destination: str, old_key: str, new_key: str, outcome: str, now: datetime) -> None:
    warehouse.replace_rows(
        MIGRATIONS_TABLE,
        ("destination", "old_record_key"),
        ("destination", "old_record_key", "record_key", "outcome", "migrated_at"),
        [(destination, old_key, new_key, outcome, now)],
    )
