"""The run log (`pipeline_ops.run_log`, docs/pipeline_ops.md) as the CLI writes it: a row per stage
of every command that holds the run lock, `running` before the stage starts, its outcome and
figures when it ends. Stages add their figures with `stage_figures().add(...)` from counts they
compute anyway."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

from pipeline.settings import Settings
from warehouse_layer import connect
from warehouse_layer.fault_injection import kill_point
from warehouse_layer.run_log import (
    RUN_FAILED,
    RUN_REFUSED,
    RUN_SUCCEEDED,
    StageFigures,
    record_run_finished,
    record_run_started,
)

_current_figures: ContextVar[StageFigures | None] = ContextVar("stage_figures", default=None)
_current_run_id: ContextVar[str | None] = ContextVar("stage_run_id", default=None)


def stage_figures() -> StageFigures:
    """The figures of the stage being recorded (a throwaway when none is: a stage called directly)."""
    return _current_figures.get() or StageFigures()


def current_run_id() -> str | None:
    """The run log's run_id of the stage being recorded (None: a stage called directly)."""
    return _current_run_id.get()


@dataclass(frozen=True)
class RunContext:
    """The command whose stages are recorded, and the run lock it holds."""

    command: str
    lock_id: str | None
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


@dataclass
class StageRecord:
    figures: StageFigures = field(default_factory=StageFigures)
    message: str | None = None


@contextmanager
def recorded_stage(
    settings: Settings,
    context: RunContext | None,
    stage: str,
    refusals: tuple[type[BaseException], ...] = (),
) -> Iterator[StageRecord]:
    """Records the block as one run of `stage`: `refused` when it raises one of `refusals`,
    `failed` on any other exception (kill -9 leaves it `running`)."""
    record = StageRecord()
    if context is None:  # a command that does not hold the run lock records nothing
        yield record
        return
    run_id = uuid4().hex
    with connect(settings.warehouse) as warehouse:
        record_run_started(
            warehouse,
            run_id,
            context.command,
            stage,
            _utc_now(),
            host=context.host,
            pid=context.pid,
            lock_id=context.lock_id,
        )
    kill_point("run_log:started")  # tests: a stage killed while it runs
    token = _current_figures.set(record.figures)
    run_token = _current_run_id.set(run_id)
    try:
        yield record
    except BaseException as error:
        status = RUN_REFUSED if isinstance(error, refusals) else RUN_FAILED
        try:
            with connect(settings.warehouse) as warehouse:
                record_run_finished(warehouse, run_id, status, _utc_now(), record.figures, _one_line(error))
        except Exception:  # the stage's own error matters more (its row stays `running`)
            pass
        raise
    finally:
        _current_figures.reset(token)
        _current_run_id.reset(run_token)
    with connect(settings.warehouse) as warehouse:
        record_run_finished(warehouse, run_id, RUN_SUCCEEDED, _utc_now(), record.figures, record.message)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
