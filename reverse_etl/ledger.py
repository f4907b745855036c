"""The sync ledger: what was sent where, kept in the warehouse (runners are ephemeral).

One row per (destination, record_key): the hash of the payload last attempted, its status,
attempts, the last error, and when it was first/last confirmed. Rows go `pending` (committed)
*before* a request is sent and `sent`/`failed` after the answer, so a crash in between leaves
`pending` rows that the next run sends once more, and nothing confirmed is ever sent again.

`unconfirmed`: the destination answered, but its answer does not account for the row (Smartlead's
`200 {}`, or counts that fall short of the batch): it may have been delivered, or not. Like a
`sent` row it blocks the brand's other contacts and campaigns; unlike a `pending` one it is not
sent again by the next run (it is held and reported until an operator checks the campaign and
asks for it with OUTREACH_RESEND_UNCONFIRMED=1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warehouse_layer import Warehouse

LEDGER_SCHEMA = "reverse_etl"
LEDGER_TABLE = f"{LEDGER_SCHEMA}.sync_ledger"

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
REFUSED = "refused"
UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class LedgerEntry:
    destination: str
    record_key: str
    payload_hash: str | None
    status: str
    attempts: int
    is_permanent_error: bool
    payload_json: str | None = None
    remote_id: str | None = None
    target: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json) if self.payload_json else {}

    @property
    def may_have_been_sent(self) -> bool:
        """Confirmed, in flight when a run died, answered without confirmation, or failed in a way
        the vendor may still have applied."""
        return self.status in (SENT, PENDING, UNCONFIRMED) or (self.status == FAILED and not self.is_permanent_error)


COLUMNS = (
    "destination",
    "target",
    "record_key",
    "payload_hash",
    "payload_json",
    "remote_id",
    "status",
    "attempts",
    "last_error",
    "is_permanent_error",
    "first_sent_at",
    "last_sent_at",
    "updated_at",
)
KEY_COLUMNS = ("destination", "record_key")
# rows per `record_key in (...)` lookup
LOOKUP_CHUNK = 500


def ensure_ledger(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {LEDGER_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {LEDGER_TABLE} (
            destination varchar not null,
            target varchar,
            record_key varchar not null,
            payload_hash varchar,
            payload_json varchar,
            remote_id varchar,
            status varchar not null,
            attempts integer not null default 0,
            last_error varchar,
            is_permanent_error boolean not null default false,
            first_sent_at timestamp,
            last_sent_at timestamp,
            updated_at timestamp not null,
            primary key (destination, record_key)
        )
        """
    )


def read_ledger(warehouse: Warehouse, destination: str) -> dict[str, LedgerEntry]:
    ensure_ledger(warehouse)
    rows = warehouse.execute(
        f"""
        select record_key, payload_hash, status, attempts, is_permanent_error, payload_json, remote_id, target
        from {LEDGER_TABLE} where destination = ?
        """,
        [destination],
    )
    return {
        row[0]: LedgerEntry(destination, row[0], row[1], row[2], int(row[3]), bool(row[4]), *row[5:]) for row in rows
    }


def ledger_entry(warehouse: Warehouse, destination: str, record_key: str) -> LedgerEntry | None:
    """One record's ledger row as it is now (e.g. a HubSpot contact upserted earlier in this run)."""
    ensure_ledger(warehouse)
    row = warehouse.fetch_one(
        f"""
        select record_key, payload_hash, status, attempts, is_permanent_error, payload_json, remote_id, target
        from {LEDGER_TABLE} where destination = ? and record_key = ?
        """,
        [destination, record_key],
    )
    if row is None:
        return None
    return LedgerEntry(destination, row[0], row[1], row[2], int(row[3]), bool(row[4]), *row[5:])


BATCH_LOG_TABLE = f"{LEDGER_SCHEMA}.sync_batches"
BATCH_LOG_COLUMNS = (
    "destination",
    "target",
    "sent_at",
    "rows_in_batch",
    "requests",
    "sent_count",
    "failed_count",
    "refused_count",
    "block_count",
    "bounce_count",
    "invalid_email_count",
    "vendor_counts_json",
    "batch_error",
)


@dataclass(frozen=True)
class BatchLog:
    """One request batch as answered: per-row outcomes summed, and the counts the vendor gives
    only for the whole batch (Smartlead's `block_count`, `bounce_count`, ...), which no ledger
    row can carry."""

    destination: str
    target: str
    sent_at: datetime
    rows_in_batch: int
    requests: int
    sent_count: int
    failed_count: int
    refused_count: int
    vendor_counts: dict[str, int]
    batch_error: str | None = None


def ensure_batch_log(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {LEDGER_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {BATCH_LOG_TABLE} (
            destination varchar not null,
            target varchar,
            sent_at timestamp not null,
            rows_in_batch integer not null,
            requests integer not null,
            sent_count integer not null,
            failed_count integer not null,
            refused_count integer not null,
            block_count integer,
            bounce_count integer,
            invalid_email_count integer,
            vendor_counts_json varchar,
            batch_error varchar
        )
        """
    )


def log_batch(warehouse: Warehouse, batch: BatchLog) -> None:
    ensure_batch_log(warehouse)
    counts = batch.vendor_counts
    row = (
        batch.destination,
        batch.target,
        batch.sent_at,
        batch.rows_in_batch,
        batch.requests,
        batch.sent_count,
        batch.failed_count,
        batch.refused_count,
        counts.get("block_count"),
        counts.get("bounce_count"),
        counts.get("invalid_email_count"),
        json.dumps(counts, sort_keys=True) if counts else None,
        batch.batch_error,
    )
    warehouse.insert_rows(BATCH_LOG_TABLE, BATCH_LOG_COLUMNS, [row])


@dataclass(frozen=True)
class RowResult:
    """What happened to one row: the ledger is updated from a batch of these at once."""

    record_key: str
    payload_hash: str
    status: str
    error: str | None = None
    permanent: bool = False
    remote_id: str | None = None


def mark_pending(
    warehouse: Warehouse,
    destination: str,
    target: str,
    records: list[tuple[str, str, str]],
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Write-ahead: (record_key, payload_hash, payload_json) are about to be sent; committed
    before the request. Each counts as an attempt. Returns the rows as they were before, for
    `restore_unsent`."""
    existing = _existing_rows(warehouse, destination, [key for key, _, _ in records])
    _write(
        warehouse,
        [
            _merged(
                existing.get(key),
                destination=destination,
                target=target,
                record_key=key,
                payload_hash=payload_hash,
                payload_json=payload_json,
                status=PENDING,
                attempts_added=1,
                error=None,
                permanent=False,
                sent_at=None,
                now=now,
            )
            for key, payload_hash, payload_json in records
        ],
    )
    return existing


def restore_unsent(
    warehouse: Warehouse,
    destination: str,
    record_keys: list[str],
    before: dict[str, dict[str, Any]],
    reason: str,
    now: datetime,
) -> None:
    """Undo `mark_pending` for a batch the destination provably did not apply (refused whole
    before any row was read, e.g. for its size): each row goes back to what it was, with the
    reason noted, and a row that had none is removed. Marking them failed instead would count
    them as "may have been sent" and could block the brand's later sends."""
    # two steps, each safe alone: a removed row is planned as new, a restored one as before
    new_keys = [key for key in record_keys if key not in before]
    for start in range(0, len(new_keys), LOOKUP_CHUNK):
        chunk = new_keys[start : start + LOOKUP_CHUNK]
        warehouse.execute(
            f"delete from {LEDGER_TABLE} where destination = ? and record_key in ({', '.join('?' for _ in chunk)})",
            [destination, *chunk],
        )
    restored = [{**before[key], "last_error": reason, "updated_at": now} for key in record_keys if key in before]
    if restored:
        _write(warehouse, restored)


def mark_results(warehouse: Warehouse, destination: str, target: str, results: list[RowResult], now: datetime) -> None:
    """The answer for a batch: sent (with the destination's id) or failed (with the error)."""
    existing = _existing_rows(warehouse, destination, [result.record_key for result in results])
    _write(
        warehouse,
        [
            _merged(
                existing.get(result.record_key),
                destination=destination,
                target=target,
                record_key=result.record_key,
                payload_hash=result.payload_hash,
                payload_json=None,
                status=result.status,
                attempts_added=0,
                error=result.error,
                permanent=result.permanent,
                sent_at=now if result.status == SENT else None,
                now=now,
                remote_id=result.remote_id,
            )
            for result in results
        ],
    )


@dataclass(frozen=True)
class Refusal:
    target: str
    record_key: str
    payload_hash: str
    reason: str | None


def mark_refused(warehouse: Warehouse, destination: str, refusals: list[Refusal], now: datetime) -> None:
    """Record refusals without erasing history: a row that may already have reached the
    destination keeps its status, hash and payload (only the reason is noted), so the next run
    still knows what was sent."""
    existing = _existing_rows(warehouse, destination, [refusal.record_key for refusal in refusals])
    rows = []
    for refusal in refusals:
        old = existing.get(refusal.record_key)
        if old is None:
            row = dict.fromkeys(COLUMNS)
            row.update(destination=destination, target=refusal.target, record_key=refusal.record_key, attempts=0)
        else:
            row = dict(old)
        row.update(last_error=refusal.reason, updated_at=now)
        if old is None or not _may_have_been_sent(old):
            row.update(status=REFUSED, payload_hash=refusal.payload_hash, is_permanent_error=True)
        rows.append(row)
    _write(warehouse, rows)


def _may_have_been_sent(row: dict[str, Any]) -> bool:
    return row["status"] in (SENT, PENDING, UNCONFIRMED) or (row["status"] == FAILED and not row["is_permanent_error"])


def _merged(
    old: dict[str, Any] | None,
    *,
    destination: str,
    target: str,
    record_key: str,
    payload_hash: str,
    payload_json: str | None,
    status: str,
    attempts_added: int,
    error: str | None,
    permanent: bool,
    sent_at: datetime | None,
    now: datetime,
    remote_id: str | None = None,
) -> dict[str, Any]:
    """The new version of a ledger row: first_sent_at is kept once set, payload_json and
    remote_id when not given, attempts add up."""
    old = old or {}
    return {
        "destination": destination,
        "target": target,
        "record_key": record_key,
        "payload_hash": payload_hash,
        "payload_json": payload_json if payload_json is not None else old.get("payload_json"),
        "remote_id": remote_id if remote_id is not None else old.get("remote_id"),
        "status": status,
        "attempts": int(old.get("attempts") or 0) + attempts_added,
        "last_error": error,
        "is_permanent_error": permanent,
        "first_sent_at": old.get("first_sent_at") or sent_at,
        "last_sent_at": sent_at or old.get("last_sent_at"),
        "updated_at": now,
    }


def _existing_rows(warehouse: Warehouse, destination: str, record_keys: list[str]) -> dict[str, dict[str, Any]]:
    ensure_ledger(warehouse)
    keys = list(dict.fromkeys(record_keys))
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        found = warehouse.fetch_dicts(
            f"select {', '.join(COLUMNS)} from {LEDGER_TABLE} "
            f"where destination = ? and record_key in ({', '.join('?' for _ in chunk)})",
            [destination, *chunk],
        )
        rows.update({row["record_key"]: row for row in found})
    return rows


def _write(warehouse: Warehouse, rows: list[dict[str, Any]]) -> None:
    warehouse.replace_rows(
        LEDGER_TABLE, KEY_COLUMNS, COLUMNS, [tuple(row[column] for column in COLUMNS) for row in rows]
    )


def copy_ledger(source: Warehouse, target: Warehouse) -> tuple[int, int]:
    """Carry what was sent to another warehouse (moving from DuckDB to Snowflake): rows the target
    ledger lacks are added; rows it already has are left alone (they are newer). Returns
    (copied, already there)."""
    if not source.table_exists(LEDGER_SCHEMA, "sync_ledger"):
        return 0, 0
    rows = source.fetch_dicts(f"select {', '.join(COLUMNS)} from {LEDGER_TABLE}")
    missing: list[dict[str, Any]] = []
    for destination in sorted({row["destination"] for row in rows}):
        present = _existing_rows(
            target, destination, [row["record_key"] for row in rows if row["destination"] == destination]
        )
        missing += [row for row in rows if row["destination"] == destination and row["record_key"] not in present]
    _write(target, missing)
    return len(missing), len(rows) - len(missing)
