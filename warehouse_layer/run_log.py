"""`pipeline_ops.run_log`: one row per stage run (docs/pipeline_ops.md).

Written `running` when a stage starts and updated when it ends, so a run killed part-way stays
visible as `running` (`outreach status` shows it as interrupted once nobody holds the run lock).
Plain portable SQL: DuckDB and Snowflake alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from warehouse_layer import OPS_SCHEMA, Warehouse

RUN_LOG_TABLE = f"{OPS_SCHEMA}.run_log"
RUN_RUNNING = "running"
RUN_SUCCEEDED = "succeeded"
RUN_FAILED = "failed"
RUN_REFUSED = "refused"  # a check said no (production gate, a plan, mixing sample and live): nothing done
RUN_BUSY = "busy"  # another run held the warehouse: nothing done
# derived by `outreach status`, never stored: `running` while nobody (or another run) holds the lock
RUN_INTERRUPTED = "interrupted"
MAX_MESSAGE_CHARS = 2000

FIGURE_COLUMNS = ("rows_in", "rows_out", "rejections", "requests_sent", "plan_id")
RUN_LOG_COLUMNS = (
    "run_id",
    "command",
    "stage",
    "started_at",
    "finished_at",
    "status",
    *FIGURE_COLUMNS,
    "message",
    "host",
    "pid",
    "lock_id",
)


@dataclass
class StageFigures:
    """What a stage did, from the counts it computes anyway (None: not meaningful for that stage)."""

    rows_in: int | None = None  # rows read (from a source, the work list, the plan)
    rows_out: int | None = None  # rows written (RAW rows loaded, people found, rows sent)
    rejections: int | None = None  # rows rejected or refused, with a reason stored elsewhere
    requests_sent: int | None = None  # HTTP requests to a vendor (0 in sample mode and dry runs)
    plan_id: str | None = None  # sync: the plan made (dry run) or applied (production)

    def add(self, **counts: int) -> None:
        """Adds to the counts named (a stage with several sources adds each source's)."""
        for name, count in counts.items():
            setattr(self, name, (getattr(self, name) or 0) + int(count))


@dataclass(frozen=True)
class RunLogRow:
    run_id: str
    command: str
    stage: str
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    rows_in: int | None
    rows_out: int | None
    rejections: int | None
    requests_sent: int | None
    plan_id: str | None
    message: str | None
    host: str | None
    pid: int | None
    lock_id: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_run_log(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {OPS_SCHEMA}")
    warehouse.execute(
        f"create table if not exists {RUN_LOG_TABLE} (run_id varchar, command varchar, stage varchar, "
        "started_at timestamp, finished_at timestamp, status varchar, rows_in bigint, rows_out bigint, "
        "rejections bigint, requests_sent bigint, plan_id varchar, message varchar, host varchar, pid bigint, "
        "lock_id varchar)"
    )


def record_run_started(
    warehouse: Warehouse,
    run_id: str,
    command: str,
    stage: str,
    started_at: datetime,
    *,
    host: str,
    pid: int,
    lock_id: str | None,
) -> None:
    """Written before the stage does anything: a run killed part-way stays `running`."""
    ensure_run_log(warehouse)
    warehouse.insert_rows(
        RUN_LOG_TABLE,
        ["run_id", "command", "stage", "started_at", "status", "host", "pid", "lock_id"],
        [(run_id, command, stage, started_at, RUN_RUNNING, host, pid, lock_id)],
    )


def record_run_finished(
    warehouse: Warehouse,
    run_id: str,
    status: str,
    finished_at: datetime,
    figures: StageFigures,
    message: str | None,
) -> None:
    ensure_run_log(warehouse)
    assignments = ", ".join(f"{column} = ?" for column in ("status", "finished_at", *FIGURE_COLUMNS, "message"))
    values = [getattr(figures, column) for column in FIGURE_COLUMNS]
    warehouse.execute(
        f"update {RUN_LOG_TABLE} set {assignments} where run_id = ?",
        [status, finished_at, *values, _clip(message), run_id],
    )


def record_busy_run(
    warehouse: Warehouse, run_id: str, command: str, at: datetime, message: str, *, host: str, pid: int
) -> None:
    """A command refused because another run holds the warehouse (never on DuckDB: opening the
    file beside the holder could make the holder fail)."""
    ensure_run_log(warehouse)
    warehouse.insert_rows(
        RUN_LOG_TABLE,
        ["run_id", "command", "stage", "started_at", "finished_at", "status", "message", "host", "pid"],
        [(run_id, command, command, at, at, RUN_BUSY, _clip(message), host, pid)],
    )


def last_run_per_stage(warehouse: Warehouse) -> list[RunLogRow]:
    """The latest run of each stage, by stage name."""
    if not warehouse.table_exists(OPS_SCHEMA, "run_log"):
        return []
    columns = ", ".join(RUN_LOG_COLUMNS)
    rows = warehouse.execute(
        f"""
        select {columns} from (
            select {columns}, row_number() over (partition by stage order by started_at desc, run_id) as recency
            from {RUN_LOG_TABLE}
        ) as ranked
        where recency = 1
        order by stage
        """
    )
    return [_row(values) for values in rows]


def _row(values: tuple[Any, ...]) -> RunLogRow:
    named = dict(zip(RUN_LOG_COLUMNS, values, strict=True))
    for column in ("rows_in", "rows_out", "rejections", "requests_sent", "pid"):
        named[column] = int(named[column]) if named[column] is not None else None
    if named["status"] == RUN_RUNNING:  # not finished (some Snowflake emulators return NULL as 1970-01-01)
        named["finished_at"] = None
    return RunLogRow(**named)


def _clip(message: str | None) -> str | None:
    return message[:MAX_MESSAGE_CHARS] if message else None
