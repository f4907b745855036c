"""`outreach status`: the control room's one screen (docs/pipeline_ops.md, "outreach status").

Read-only and without the run lock: the mode and target, each stage's last run from
`pipeline_ops.run_log`, and what needs a person (a failed, refused or interrupted stage, a failed
build, stale event reads, unconfirmed sends, a stale run lock) beside counts worth a look
(quarantined and rejected rows). On DuckDB a running stage has the file to itself: status then
shows the report the last command saved beside the file (`<file>.status.json`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.settings import Settings
from pipeline.stages import event_freshness_problems
from reverse_etl.ledger import LEDGER_TABLE, UNCONFIRMED
from warehouse_layer import (
    BUILD_FAILED,
    BUILD_PARTIAL,
    BUILD_SUCCEEDED,
    DUCKDB,
    Warehouse,
    connect,
    last_builds,
    warehouse_exists,
)
from warehouse_layer.run_lock import (
    Claimant,
    RunLockedError,
    current_holders,
    max_age_from_env,
    os_lock_taken_by,
    stale_reason,
)
from warehouse_layer.run_log import (
    RUN_FAILED,
    RUN_INTERRUPTED,
    RUN_REFUSED,
    RUN_RUNNING,
    RunLogRow,
    last_run_per_stage,
)

STATUS_SHAPE_VERSION = 1
EXIT_OK = 0  # nothing needs a person (notes may still be listed)
EXIT_NEEDS_PERSON = 1  # at least one warning needs a person
# the stages always listed, in pipeline order (others appear once they ran)
MAIN_STAGES = ("ingest", "build", "enrich", "sync", "summary")
NEEDS_PERSON_STATUSES = (RUN_FAILED, RUN_REFUSED, RUN_INTERRUPTED)
SNAPSHOT_SUFFIX = ".status.json"


@dataclass(frozen=True)
class StatusWarning:
    check: str  # last_run, last_build, events, unconfirmed_sends, run_lock, quarantine, rejections
    message: str
    needs_person: bool


@dataclass
class StatusReport:
    pipeline_mode: str
    target: str
    source_mode: str
    as_of: str
    # `warehouse` (read now), `saved` (the report the last run saved: a stage has the DuckDB file),
    # `none` (a new warehouse, or a stage running before any report was saved)
    read_from: str = "warehouse"
    running: str | None = None
    note: str | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    run_lock: dict[str, Any] | None = None
    warnings: list[StatusWarning] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "production" if self.pipeline_mode == "production" else "dry run"

    @property
    def needs_person(self) -> bool:
        return any(warning.needs_person for warning in self.warnings)

    @property
    def exit_code(self) -> int:
        return EXIT_NEEDS_PERSON if self.needs_person else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        return {
            "shape_version": STATUS_SHAPE_VERSION,
            "mode": self.mode,
            "pipeline_mode": self.pipeline_mode,
            "target": self.target,
            "source_mode": self.source_mode,
            "as_of": self.as_of,
            "read_from": self.read_from,
            "running": self.running,
            "note": self.note,
            "stages": self.stages,
            "run_lock": self.run_lock,
            "warnings": [asdict(warning) for warning in self.warnings],
            "needs_person": self.needs_person,
            "exit_code": self.exit_code,
        }

    def render(self) -> list[str]:
        lines = [
            f"mode: {self.mode} (PIPELINE_MODE={self.pipeline_mode}); source mode: {self.source_mode}",
            f"target: {self.target}",
        ]
        if self.note:
            lines.append(self.note)
        if self.read_from == "none":
            return lines
        lines.append(f"stages (last run, as of {self.as_of}):")
        lines += [f"  {_render_stage(stage)}" for stage in self.stages]
        lines.append(f"run lock: {_render_lock(self.run_lock)}")
        if self.warnings:
            lines.append("warnings:")
            lines += [
                f"  {'NEEDS A PERSON' if warning.needs_person else 'note'}: {warning.message}"
                for warning in self.warnings
            ]
        attention = sum(warning.needs_person for warning in self.warnings)
        lines.append(
            f"{attention} thing(s) need a person (exit {self.exit_code})"
            if attention
            else f"nothing needs a person (exit {self.exit_code})"
        )
        return lines


def collect_status(settings: Settings, *, own_lock_id: str | None = None) -> StatusReport:
    """The report, read now; on DuckDB while a stage runs, the one the last command saved.
    `own_lock_id`: the lock of the command saving the report (not a warning about itself)."""
    report = StatusReport(
        pipeline_mode=settings.pipeline_mode,
        target=settings.warehouse.description,
        source_mode=settings.source_mode,
        as_of=_utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if not warehouse_exists(settings.warehouse):
        report.read_from = "none"
        report.note = (
            f"new warehouse: nothing has run yet ({settings.duckdb_path} does not exist); start with `outreach ingest`"
        )
        return report
    duckdb_path = settings.warehouse.duckdb_path if settings.warehouse.kind == DUCKDB else None
    if duckdb_path is not None and own_lock_id is None:
        holder = os_lock_taken_by(duckdb_path)
        if holder is not None:
            return _saved_report(report, duckdb_path, holder)
    try:
        with connect(settings.warehouse, read_only=True) as warehouse:
            _read(warehouse, settings, report, own_lock_id, os_lock_free=duckdb_path is not None)
    except RunLockedError as busy:  # another process opened the DuckDB file meanwhile
        assert duckdb_path is not None
        return _saved_report(report, duckdb_path, str(busy).removeprefix("the warehouse is busy: "))
    return report


def _read(
    warehouse: Warehouse, settings: Settings, report: StatusReport, own_lock_id: str | None, *, os_lock_free: bool
) -> None:
    holders = [holder for holder in current_holders(warehouse) if holder.lock_id != own_lock_id]
    live_lock_ids: set[str] = set()
    max_age = max_age_from_env()
    for holder in holders:
        # on DuckDB the OS lock was free: a row left in the table is a killed run's
        reason = (
            "its process is gone (the DuckDB file's OS lock is free)"
            if os_lock_free
            else stale_reason(holder, Claimant("status"), max_age)
        )
        report.run_lock = {"holder": holder.describe(), "stale": reason}
        if reason is None:
            live_lock_ids.add(holder.lock_id)
            report.running = holder.describe()
        elif os_lock_free:  # taken over by the next run by itself
            report.warnings.append(
                StatusWarning(
                    "run_lock", f"run lock left by {holder.describe()}: {reason}; the next run takes it over", False
                )
            )
        else:
            report.warnings.append(
                StatusWarning(
                    "run_lock",
                    f"stale run lock of {holder.describe()}: {reason}; "
                    "if that run is dead, clear it with `outreach unlock`",
                    True,
                )
            )
    if own_lock_id:
        live_lock_ids.add(own_lock_id)
    runs = {row.stage: row for row in last_run_per_stage(warehouse)}
    for stage in [*MAIN_STAGES, *sorted(set(runs) - set(MAIN_STAGES))]:
        row = runs.get(stage)
        status = _effective_status(row, live_lock_ids) if row else None
        report.stages.append(_stage_entry(stage, row, status))
        if row is not None and status in NEEDS_PERSON_STATUSES:
            why = f": {row.message}" if row.message else ""
            report.warnings.append(
                StatusWarning(
                    "last_run",
                    f"{stage}: last run {status} (`outreach {row.command}`, started {_when(row.started_at)}){why}",
                    True,
                )
            )
    _build_warnings(warehouse, report)
    _event_warnings(warehouse, settings, report)
    _ledger_warnings(warehouse, report)
    _row_count_notes(warehouse, report)


def _effective_status(row: RunLogRow, live_lock_ids: set[str]) -> str:
    """`running` only while the run that wrote it still holds the run lock; else it was killed."""
    if row.status != RUN_RUNNING:
        return row.status
    return RUN_RUNNING if row.lock_id in live_lock_ids else RUN_INTERRUPTED


def _stage_entry(stage: str, row: RunLogRow | None, status: str | None) -> dict[str, Any]:
    if row is None:
        return {"stage": stage, "last_run": None}
    return {
        "stage": stage,
        "last_run": {
            "run_id": row.run_id,
            "command": row.command,
            "status": status,
            "started_at": _iso(row.started_at),
            "finished_at": _iso(row.finished_at),
            "rows_in": row.rows_in,
            "rows_out": row.rows_out,
            "rejections": row.rejections,
            "requests_sent": row.requests_sent,
            "plan_id": row.plan_id,
            "message": row.message,
        },
    }


def _build_warnings(warehouse: Warehouse, report: StatusReport) -> None:
    latest, _ = last_builds(warehouse)
    if latest is None or latest.status == BUILD_SUCCEEDED:
        return
    if latest.status == BUILD_FAILED:
        outcome, attention = f"failed at {_when(latest.finished_at)}", True
    elif latest.status == BUILD_PARTIAL:
        outcome, attention = f"built only part of the project (--select) at {_when(latest.finished_at)}", False
    else:
        outcome, attention = f"started at {_when(latest.started_at)} did not finish", True
    report.warnings.append(
        StatusWarning(
            "last_build",
            f"the last `outreach build` {outcome}: the built tables are not current and production is refused; "
            "fix it and run `outreach build` until it succeeds",
            attention,
        )
    )


def _event_warnings(warehouse: Warehouse, settings: Settings, report: StatusReport) -> None:
    """The production gate's events check: a person is needed in production; in a dry run the
    stale reads of configured sources are noted."""
    for problem in event_freshness_problems(warehouse, settings):
        configured = not problem.startswith("events check: no source")
        if settings.is_production or configured:
            report.warnings.append(StatusWarning("events", problem, settings.is_production))


def _ledger_warnings(warehouse: Warehouse, report: StatusReport) -> None:
    schema, table = LEDGER_TABLE.split(".")
    if not warehouse.table_exists(schema, table):
        return
    for destination, count in warehouse.execute(
        f"select destination, count(*) from {LEDGER_TABLE} where status = ? group by destination order by destination",
        [UNCONFIRMED],
    ):
        report.warnings.append(
            StatusWarning(
                "unconfirmed_sends",
                f"{destination}: {count} rows unconfirmed in the sync ledger (may or may not have been sent); check "
                "them at the destination, then `OUTREACH_RESEND_UNCONFIRMED=1 PIPELINE_MODE=production outreach sync`",
                True,
            )
        )


def _row_count_notes(warehouse: Warehouse, report: StatusReport) -> None:
    # filtered here: `_` is a LIKE wildcard, and a backslash escape is read differently by Snowflake
    quarantines = sorted(
        name
        for name in (
            str(table).lower()
            for (table,) in warehouse.execute(
                "select table_name from information_schema.tables where upper(table_schema) = 'CLEAN'"
            )
        )
        if name.endswith("_quarantine")
    )
    for name in quarantines:
        row = warehouse.fetch_one(f"select count(*) from clean.{name}")
        if row and row[0]:
            report.warnings.append(
                StatusWarning(
                    "quarantine", f"clean.{name}: {row[0]} rows quarantined (the reason is in each row)", False
                )
            )
    if warehouse.table_exists("raw", "rejected_records"):
        for source, count in warehouse.execute(
            "select source, count(*) from raw.rejected_records group by source order by source"
        ):
            report.warnings.append(
                StatusWarning(
                    "rejections", f"raw.rejected_records: {count} {source} rows rejected (with the reason)", False
                )
            )


# --- the report saved beside a DuckDB file --------------------------------------------------------


def snapshot_path(duckdb_path: Path) -> Path:
    return duckdb_path.with_name(duckdb_path.name + SNAPSHOT_SUFFIX)


def save_snapshot(settings: Settings, own_lock_id: str) -> None:
    """Called by a command that holds the DuckDB file, at its end: what `status` shows while the
    next one runs."""
    duckdb_path = settings.warehouse.duckdb_path
    if settings.warehouse.kind != DUCKDB or duckdb_path is None:
        return
    report = collect_status(settings, own_lock_id=own_lock_id)
    path = snapshot_path(duckdb_path)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(report.as_json(), indent=1))
    temporary.replace(path)  # atomic: a reader sees the old report or the new one


def _saved_report(report: StatusReport, duckdb_path: Path, holder: str) -> StatusReport:
    report.running = holder
    try:
        saved = json.loads(snapshot_path(duckdb_path).read_text())
    except (OSError, ValueError):
        report.read_from = "none"
        report.note = f"pipeline running ({holder}); no status saved yet: run `outreach status` again when it ends"
        return report
    report.read_from = "saved"
    report.as_of = str(saved.get("as_of"))
    report.note = f"pipeline running ({holder}), status as of the last run"
    report.stages = list(saved.get("stages") or [])
    report.run_lock = saved.get("run_lock")
    report.warnings = [StatusWarning(**warning) for warning in saved.get("warnings") or []]
    return report


def _render_stage(stage: dict[str, Any]) -> str:
    run = stage["last_run"]
    if run is None:
        return f"{stage['stage']:<12} never run"
    figures = ", ".join(
        f"{label} {run[key]}"
        for key, label in (
            ("rows_in", "rows in"),
            ("rows_out", "out"),
            ("rejections", "rejected"),
            ("requests_sent", "requests"),
            ("plan_id", "plan"),
        )
        if run[key] is not None
    )
    ended = f" -> {run['finished_at']}" if run["finished_at"] else ""
    text = f"{stage['stage']:<12} {run['status']:<11} {run['started_at']}{ended} (`outreach {run['command']}`)"
    return f"{text}; {figures}" if figures else text


def _render_lock(lock: dict[str, Any] | None) -> str:
    if lock is None:
        return "free"
    return f"held by {lock['holder']}" + (f" (stale: {lock['stale']})" if lock.get("stale") else "")


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        naive = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment
        return naive.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(moment)


def _when(moment: Any) -> str:
    return (_iso(moment) or "?").replace("T", " ").replace("Z", " UTC")


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
