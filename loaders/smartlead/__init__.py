"""Smartlead campaign events (webhook deliveries) -> raw.smartlead_events (+ rejected_records)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa

from loaders.common import (
    RAW_DATASET,
    LoadSummary,
    Row,
    Stopwatch,
    dedupe_rows,
    ensure_utc,
    rejected_records,
    rows_to_arrow,
    run_pipeline,
    table_hints,
    utc_now,
)
from loaders.smartlead.helpers import (
    parse_webhook_event,
    read_event_lines,
    redact_secrets,
    without_secrets,
)
from loaders.smartlead.settings import EVENT_COLUMNS, EVENTS_TABLE, PIPELINE_NAME, SOURCE_KINDS
from pipeline.warehouse import WarehouseLike, connect

# parsed events held in memory at once (about 1 KB each as Python rows)
EVENT_CHUNK_ROWS = 50_000

__all__ = [
    "SmartleadPollConfig",
    "Spool",
    "WebhookReceiver",
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
) -> LoadSummary:
    """Load JSON-lines files of webhook deliveries (one event per line), streaming: at most
    `chunk_rows` parsed events are in memory at once, whatever the size of the files.

    Invalid lines and non-object lines go to raw.rejected_records with their line number.
    Duplicate deliveries collapse on `event_key` (within a chunk here, across chunks and loads in
    dlt's merge).
    """
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {sorted(SOURCE_KINDS)}, not {source_kind!r}")
    watch = Stopwatch()
    at = ensure_utc(received_at) if received_at else utc_now()
    files = [Path(path) for path in paths]
    rejected: list[Row] = []  # rare by nature: kept whole and loaded after the events

    @dlt.resource(**table_hints(EVENTS_TABLE, EVENT_COLUMNS, primary_key="event_key"))
    def events_in_chunks() -> Iterator[pa.Table]:
        chunk: list[Row] = []
        yielded = False
        for path in files:
            for event, rejection in read_event_lines(path, source_kind, at):
                if event is not None:
                    chunk.append(event)
                if rejection is not None:
                    rejected.append(rejection)
                if len(chunk) >= chunk_rows:
                    yield rows_to_arrow(dedupe_rows(chunk, ["event_key"]), EVENT_COLUMNS)
                    chunk, yielded = [], True
        if chunk or not yielded:  # an empty table still creates raw.smartlead_events, typed
            yield rows_to_arrow(dedupe_rows(chunk, ["event_key"]), EVENT_COLUMNS)

    info = run_pipeline(PIPELINE_NAME, destination, pipelines_dir, events_in_chunks())
    if rejected:
        run_pipeline(PIPELINE_NAME, destination, pipelines_dir, rejected_records(rejected))
    return LoadSummary(
        source="smartlead events",
        rows_loaded=_rows_written(destination, info.loads_ids),
        rows_rejected=len(rejected),
        files_or_pages=len(files),
        seconds=watch.seconds,
    )


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
