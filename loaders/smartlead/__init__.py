"""Smartlead campaign events (webhook deliveries) -> raw.smartlead_events (+ rejected_records)."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa

from loaders.common import (
    RAW_DATASET,
    LoadSummary,
    Row,
    Stopwatch,
    ensure_utc,
    rejected_records,
    run_pipeline,
    table_hints,
    utc_now,
)
from loaders.smartlead.helpers import (
    events_table,
    parse_event_blob,
    parse_webhook_event,
    read_event_blobs,
    redact_secrets,
    without_secrets,
)
from loaders.smartlead.settings import (
    EVENT_CHUNK_ROWS,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    PARALLEL_MIN_BYTES,
    PARSE_WORKERS,
    PIPELINE_NAME,
    SOURCE_KINDS,
)
from warehouse_layer import WarehouseLike, connect

log = logging.getLogger(__name__)

_Parsed = tuple[pa.Table, list[Row]]

__all__ = [
    "SmartleadPollConfig",
    "Spool",
    "WebhookReceiver",
    "create_empty_events_table",
    "load_event_files",
    "load_spool",
    "parse_webhook_event",
    "poll_campaign_statistics",
    "redact_secrets",
    "without_secrets",
]


def load_event_files(
    paths: Iterable[Path],
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    source_kind: str = "sample",
    received_at: datetime | None = None,
    chunk_rows: int = EVENT_CHUNK_ROWS,
    parse_workers: int | None = None,
    skip_landed_files: bool = False,
) -> LoadSummary:
    """Load JSON-lines files of webhook deliveries (one event per line), streaming: lines are
    parsed in chunks of `chunk_rows` (one arrow table each; a few chunks in flight with parse
    workers), whatever the size of the files.

    Invalid lines and non-object lines go to raw.rejected_records with their line number.
    Duplicate deliveries collapse on `event_key` (within a chunk here, across chunks and loads in
    dlt's merge).

    `parse_workers` processes parse the chunks (a few chunks in flight, results in file order);
    0 parses in this process; None: PARSE_WORKERS when the files hold PARALLEL_MIN_BYTES or more.

    `skip_landed_files`: a file whose exact content was landed before (by name and sha256, kept in
    the pipeline's state, committed with the load) is not read again, so re-running the load keeps
    each event's first received_at and load id (for files that are re-read on every run, such as
    the bundled sample; the webhook spool marks its files loaded instead).
    """
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {sorted(SOURCE_KINDS)}, not {source_kind!r}")
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a parse worker is importing a main script that has no `if __name__ == "__main__":`
        # guard: refuse (the pool then fails to start and the parent parses alone) rather than
        # load the same files a second time from the worker
        raise RuntimeError("load_event_files called while a worker process starts; guard the main script")
    watch = Stopwatch()
    at = ensure_utc(received_at) if received_at else utc_now()
    files = [Path(path) for path in paths]
    rejected: list[Row] = []  # rare by nature: kept whole and loaded after the events
    if parse_workers is None:
        big = sum(path.stat().st_size for path in files if path.is_file()) >= PARALLEL_MIN_BYTES
        parse_workers = PARSE_WORKERS if big else 0

    skipped_files: list[Path] = []

    @dlt.resource(**table_hints(EVENTS_TABLE, EVENT_COLUMNS, primary_key="event_key"))
    def events_in_chunks() -> Iterator[pa.Table]:
        to_read = files
        if skip_landed_files:
            landed: dict[str, str] = dlt.current.resource_state().setdefault("landed_files", {})
            digests = {path: file_sha256(path) for path in files}
            to_read = [path for path in files if landed.get(path.name) != digests[path]]
            skipped_files.extend(path for path in files if path not in to_read)
            landed.update({path.name: digests[path] for path in to_read})
        yielded = False
        for table, rejections in _parsed_chunks(to_read, source_kind, at, max(chunk_rows, 1), parse_workers):
            rejected.extend(rejections)
            if table.num_rows:
                yield table
                yielded = True
        if not yielded:  # an empty table still creates raw.smartlead_events, typed
            yield events_table([], source_kind, None, at)

    info = run_pipeline(PIPELINE_NAME, destination, pipelines_dir, events_in_chunks())
    if rejected:
        run_pipeline(PIPELINE_NAME, destination, pipelines_dir, rejected_records(rejected))
    return LoadSummary(
        source="smartlead events",
        rows_loaded=_rows_written(destination, info.loads_ids),
        rows_rejected=len(rejected),
        files_or_pages=len(files),
        seconds=watch.seconds,
        details={"files_already_landed": len(skipped_files)} if skipped_files else {},
    )


def create_empty_events_table(destination: WarehouseLike, pipelines_dir: Path) -> None:
    """raw.smartlead_events, empty and typed, for a warehouse no event was loaded into yet (the
    models read it): with the hints and arrow schema of a load, so the schema stays in one place."""

    @dlt.resource(**table_hints(EVENTS_TABLE, EVENT_COLUMNS, primary_key="event_key"))
    def no_events() -> Iterator[pa.Table]:
        yield events_table([], "sample", None, utc_now())

    run_pipeline(PIPELINE_NAME, destination, pipelines_dir, no_events())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parsed_chunks(
    files: Sequence[Path], source_kind: str, at: datetime, chunk_rows: int, workers: int
) -> Iterator[_Parsed]:
    """(events table, rejections) per chunk of lines, in file order."""
    blobs = ((blob, first, path.name) for path in files for blob, first in read_event_blobs(path, chunk_rows))
    pool = _start_pool(workers) if workers > 0 else None
    if pool is None:
        for blob, first, name in blobs:
            yield parse_event_blob(blob, first, name, source_kind, at)
        return
    try:
        pending: deque[Future[_Parsed]] = deque()
        for blob, first, name in blobs:
            pending.append(pool.submit(parse_event_blob, blob, first, name, source_kind, at))
            if len(pending) > 2 * workers:  # memory stays bounded: a few chunks in flight
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of `workers` spawned processes, or None (parse here) when it cannot start."""
    pool: ProcessPoolExecutor | None = None
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        pool.submit(int).result(timeout=120)  # fail here, not halfway through the files
    except Exception as error:  # any failure to start: parse in this process
        log.warning("smartlead: parsing in one process, the worker pool did not start: %s", error)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        return None
    return pool


def _rows_written(destination: WarehouseLike, load_ids: Sequence[str]) -> int:
    """Distinct events this load wrote (counted in the warehouse: no set of keys in memory)."""
    if not load_ids:
        return 0
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, EVENTS_TABLE):
            return 0
        row = warehouse.fetch_one(
            f"select count(*) from {RAW_DATASET}.{EVENTS_TABLE} "
            f"where _dlt_load_id in ({', '.join('?' for _ in load_ids)})",
            list(load_ids),
        )
    return int(row[0]) if row else 0


# defined after load_event_files, which they use
from loaders.smartlead.poller import SmartleadPollConfig, poll_campaign_statistics  # noqa: E402
from loaders.smartlead.spool import Spool, load_spool  # noqa: E402
from loaders.smartlead.webhook_receiver import WebhookReceiver  # noqa: E402
