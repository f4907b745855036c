"""`pipeline_ops.alerts`: one row per alert message tried (docs/pipeline_ops.md), and the run-log
history the row-count deviation alert compares with.

The state an alert key was last *delivered* in (`firing` or `resolved`) decides whether a message
is due: a message the webhook did not accept is recorded too (`delivered` false) and tried again by
the next run. Plain portable SQL: DuckDB and Snowflake alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from warehouse_layer import OPS_SCHEMA, Warehouse

ALERTS_TABLE = f"{OPS_SCHEMA}.alerts"
ALERT_FIRING = "firing"
ALERT_RESOLVED = "resolved"
MAX_ALERT_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class AlertAttempt:
    alert_key: str
    state: str  # firing or resolved
    message: str
    sent_at: datetime
    response_status: str  # the HTTP status, or why no answer came (timeout, refused connection)
    delivered: bool
    lock_id: str | None


def ensure_alerts_table(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"create table if not exists {ALERTS_TABLE} (alert_key varchar, state varchar, message varchar, "
        "sent_at timestamp, response_status varchar, delivered boolean, lock_id varchar)"
    )


def record_alert_attempts(warehouse: Warehouse, attempts: Sequence[AlertAttempt]) -> None:
    if not attempts:
        return
    ensure_alerts_table(warehouse)
    warehouse.insert_rows(
        ALERTS_TABLE,
        ["alert_key", "state", "message", "sent_at", "response_status", "delivered", "lock_id"],
        [
            (
                attempt.alert_key,
                attempt.state,
                attempt.message[:MAX_ALERT_MESSAGE_CHARS],
                attempt.sent_at,
                attempt.response_status,
                attempt.delivered,
                attempt.lock_id,
            )
            for attempt in attempts
        ],
    )


def delivered_states(warehouse: Warehouse) -> dict[str, str]:
    """The state each alert key was last delivered in (`firing` or `resolved`)."""
    if not warehouse.table_exists(OPS_SCHEMA, "alerts"):
        return {}
    rows = warehouse.execute(
        f"""
        select alert_key, state from (
            select alert_key, state,
                row_number() over (partition by alert_key order by sent_at desc) as recency
            from {ALERTS_TABLE}
            where delivered
        ) as ranked
        where recency = 1
        """
    )
    return {str(key): str(state) for key, state in rows}


def recent_succeeded_counts(warehouse: Warehouse, column: str, stage: str, runs: int) -> list[int]:
    """`column` (rows_in or rows_out) of the last `runs` succeeded runs of `stage`, newest first."""
    if column not in ("rows_in", "rows_out"):
        raise ValueError(f"not a run-log row count: {column}")
    if not warehouse.table_exists(OPS_SCHEMA, "run_log"):
        return []
    rows = warehouse.execute(
        f"select {column} from {OPS_SCHEMA}.run_log where stage = ? and status = 'succeeded' "
        f"and {column} is not null order by started_at desc limit {int(runs)}",
        [stage],
    )
    return [int(count) for (count,) in rows]
