"""What each `outreach sync` run did per destination, as Hightouch shows a sync run: the rows it
queried, and its rows added / changed by outcome (reverse_etl.sync_run_figures, keyed by the run
log's run_id).

The ledger keeps only each row's latest state and the batch log has no add/change split, so a
run's own figures are recorded here when it ends. Plain portable SQL: DuckDB and Snowflake alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from reverse_etl import ledger
from reverse_etl.sync import ADD, REFUSE, TO_SEND, PlannedRecord
from warehouse_layer import Warehouse

RUN_FIGURES_TABLE = f"{ledger.LEDGER_SCHEMA}.sync_run_figures"
RUN_FIGURES_COLUMNS = ("run_id", "plan_id", "mode", "recorded_at", "destination", "operation", "outcome", "row_count")

DRY_RUN, PRODUCTION = "dry_run", "production"
QUERIED = "queried"  # operation and outcome of the row holding the rows a destination's records came from
ADDED, CHANGED = "added", "changed"
PLANNED = "planned"  # a dry run's row to send: nothing is sent
ACCEPTED = "accepted"  # confirmed by the destination this run
REJECTED = "rejected"  # refused by the suppression guard, or failed / refused at the destination
UNCONFIRMED = "unconfirmed"  # answered, but the answer does not account for the row
NOT_SENT = "not_sent"  # to send, but the run stopped before (a destination stopped, a crash)


def ensure_run_figures(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {ledger.LEDGER_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {RUN_FIGURES_TABLE} (
            run_id varchar not null,
            plan_id varchar,
            mode varchar not null,
            recorded_at timestamp not null,
            destination varchar not null,
            operation varchar not null,
            outcome varchar not null,
            row_count integer not null
        )
        """
    )


def ledger_keys(warehouse: Warehouse) -> set[tuple[str, str]]:
    """(destination, record_key) of every ledger row: a refused row the ledger lacks is an add."""
    ledger.ensure_ledger(warehouse)
    rows = warehouse.execute(f"select destination, record_key from {ledger.LEDGER_TABLE}")
    return {(str(row[0]), str(row[1])) for row in rows}


def record_sync_run(
    warehouse: Warehouse,
    run_id: str,
    plan_id: str | None,
    planned: Sequence[PlannedRecord],
    keys_before: set[tuple[str, str]],
    *,
    sent_from: datetime | None,
    now: datetime,
) -> None:
    """One run's figures. `sent_from`: when a production run started sending (the ledger rows it
    touched are newer); None for a dry run, whose rows to send are only planned."""
    touched = _ledger_rows_since(warehouse, sent_from) if sent_from is not None else {}
    counts: Counter[tuple[str, str, str]] = Counter()
    for item in planned:
        destination, key = item.record.destination, item.record.record_key
        counts[(destination, QUERIED, QUERIED)] += 1
        if item.action == REFUSE:
            operation = CHANGED if (destination, key) in keys_before else ADDED
            counts[(destination, operation, REJECTED)] += 1
        elif item.action in TO_SEND:
            # change and retry: the row is in the ledger already
            operation = ADDED if item.action == ADD else CHANGED
            outcome = PLANNED if sent_from is None else _outcome(touched.get((destination, key)), sent_from)
            counts[(destination, operation, outcome)] += 1
    mode = DRY_RUN if sent_from is None else PRODUCTION
    ensure_run_figures(warehouse)
    warehouse.insert_rows(
        RUN_FIGURES_TABLE,
        RUN_FIGURES_COLUMNS,
        [
            (run_id, plan_id, mode, now, destination, operation, outcome, count)
            for (destination, operation, outcome), count in sorted(counts.items())
        ],
    )


def _ledger_rows_since(warehouse: Warehouse, moment: datetime) -> dict[tuple[str, str], tuple[str, datetime | None]]:
    ledger.ensure_ledger(warehouse)
    rows = warehouse.execute(
        f"select destination, record_key, status, last_sent_at from {ledger.LEDGER_TABLE} where updated_at >= ?",
        [moment],
    )
    return {(str(row[0]), str(row[1])): (str(row[2]), row[3]) for row in rows}


def _outcome(row: tuple[str, datetime | None] | None, sent_from: datetime) -> str:
    if row is None:  # not touched this run (stopped), or removed again (a batch refused unread)
        return NOT_SENT
    status, last_sent_at = row
    if status == ledger.SENT and last_sent_at is not None and last_sent_at >= sent_from:
        return ACCEPTED
    if status == ledger.UNCONFIRMED:
        return UNCONFIRMED
    if status == ledger.PENDING:  # the run died between the write-ahead and the answer
        return NOT_SENT
    # failed, refused, or an earlier version kept while this one was refused right before sending
    return REJECTED
