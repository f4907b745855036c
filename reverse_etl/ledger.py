"""The sync ledger: what was sent where, kept in the warehouse (runners are ephemeral).

One row per (destination, record_key): the hash of the payload last attempted, its status,
attempts, the last error, and when it was first/last confirmed. Rows go `pending` (committed)
*before* a request is sent and `sent`/`failed` after the answer, so a crash in between leaves
`pending` rows that the next run sends once more, and nothing confirmed is ever sent again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

LEDGER_SCHEMA = "reverse_etl"
LEDGER_TABLE = f"{LEDGER_SCHEMA}.sync_ledger"

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
REFUSED = "refused"


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
        """Confirmed, in flight when a run died, or failed in a way the vendor may still have applied."""
        return self.status in (SENT, PENDING) or (self.status == FAILED and not self.is_permanent_error)


def ensure_ledger(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"create schema if not exists {LEDGER_SCHEMA}")
    connection.execute(
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


def read_ledger(connection: duckdb.DuckDBPyConnection, destination: str) -> dict[str, LedgerEntry]:
    ensure_ledger(connection)
    rows = connection.execute(
        f"""
        select record_key, payload_hash, status, attempts, is_permanent_error, payload_json, remote_id, target
        from {LEDGER_TABLE} where destination = ?
        """,
        [destination],
    ).fetchall()
    return {row[0]: LedgerEntry(destination, *row) for row in rows}


def remote_id(connection: duckdb.DuckDBPyConnection, destination: str, record_key: str) -> str | None:
    """The destination's own id for a record (e.g. a HubSpot object id), once it was sent."""
    ensure_ledger(connection)
    row = connection.execute(
        f"select remote_id from {LEDGER_TABLE} where destination = ? and record_key = ?", [destination, record_key]
    ).fetchone()
    return row[0] if row else None


def mark_pending(
    connection: duckdb.DuckDBPyConnection,
    destination: str,
    target: str,
    records: list[tuple[str, str, str]],
    now: datetime,
) -> None:
    """Write-ahead: (record_key, payload_hash, payload_json) are about to be sent; committed
    before the request."""
    _upsert(
        connection,
        [
            (destination, target, key, payload_hash, PENDING, 1, None, False, None, now, payload_json, None)
            for key, payload_hash, payload_json in records
        ],
    )


def mark_result(
    connection: duckdb.DuckDBPyConnection,
    destination: str,
    target: str,
    record_key: str,
    payload_hash: str,
    *,
    status: str,
    error: str | None,
    permanent: bool,
    now: datetime,
    remote_id: str | None = None,
) -> None:
    sent_at = now if status == SENT else None
    _upsert(
        connection,
        [(destination, target, record_key, payload_hash, status, 0, error, permanent, sent_at, now, None, remote_id)],
    )


def mark_refused(
    connection: duckdb.DuckDBPyConnection,
    destination: str,
    target: str,
    record_key: str,
    payload_hash: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Record a refusal without erasing history: a row that may already have reached the
    destination keeps its status, hash and payload (only the reason is noted), so the next run
    still knows what was sent."""
    ensure_ledger(connection)
    connection.execute(
        f"""
        insert into {LEDGER_TABLE} (
            destination, target, record_key, payload_hash, status, attempts, last_error,
            is_permanent_error, updated_at
        )
        values (?, ?, ?, ?, '{REFUSED}', 0, ?, true, ?)
        on conflict (destination, record_key) do update set
            last_error = excluded.last_error,
            updated_at = excluded.updated_at,
            status = case when {_MAY_HAVE_BEEN_SENT} then status else excluded.status end,
            payload_hash = case when {_MAY_HAVE_BEEN_SENT} then payload_hash else excluded.payload_hash end,
            is_permanent_error = case when {_MAY_HAVE_BEEN_SENT} then is_permanent_error else true end
        """,
        [destination, target, record_key, payload_hash, reason, now],
    )


_MAY_HAVE_BEEN_SENT = f"(status in ('{SENT}', '{PENDING}') or (status = '{FAILED}' and not is_permanent_error))"


def _upsert(connection: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
    """Rows are (destination, target, key, hash, status, attempts to add, error, permanent,
    sent_at, now, payload_json, remote_id); first_sent_at is kept once set, payload_json and
    remote_id when not given."""
    if not rows:
        return
    ensure_ledger(connection)
    connection.executemany(
        f"""
        insert into {LEDGER_TABLE} (
            destination, target, record_key, payload_hash, status, attempts, last_error,
            is_permanent_error, first_sent_at, last_sent_at, updated_at, payload_json, remote_id
        )
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        on conflict (destination, record_key) do update set
            target = excluded.target,
            payload_hash = excluded.payload_hash,
            status = excluded.status,
            attempts = attempts + excluded.attempts,
            last_error = excluded.last_error,
            is_permanent_error = excluded.is_permanent_error,
            first_sent_at = coalesce(first_sent_at, excluded.first_sent_at),
            last_sent_at = coalesce(excluded.last_sent_at, last_sent_at),
            updated_at = excluded.updated_at,
            payload_json = coalesce(excluded.payload_json, payload_json),
            remote_id = coalesce(excluded.remote_id, remote_id)
        """,
        [(*row[:9], row[8], row[9], row[10], row[11]) for row in rows],
    )
