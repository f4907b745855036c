"""Smartlead campaign events (webhook deliveries) -> raw.smartlead_events (+ rejected_records)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from loaders.common import (
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
from pipeline.warehouse import WarehouseLike

__all__ = [
    "SmartleadPollConfig",
    "Spool",
    "WebhookReceiver",
    "load_event_files",
    "load_spool",
    "parse_webhook_event",
    "poll_campaign_statistics",
    "redact_secrets",
    "smartlead_events",
    "smartlead_source",
    "without_secrets",
]


@dlt.resource(**table_hints(EVENTS_TABLE, EVENT_COLUMNS, primary_key="event_key"))
def smartlead_events(events: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(dedupe_rows(events, ["event_key"]), EVENT_COLUMNS)


@dlt.source(name="smartlead", max_table_nesting=0)
def smartlead_source(events: Sequence[Row], rejected: Sequence[Row]) -> tuple[DltResource, DltResource]:
    return smartlead_events(events), rejected_records(rejected)


def load_event_files(
    paths: Iterable[Path],
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    source_kind: str = "sample",
    received_at: datetime | None = None,
) -> LoadSummary:
    """Load JSON-lines files of webhook deliveries (one event per line).

    Invalid lines and non-object lines go to raw.rejected_records with their line number.
    """
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {sorted(SOURCE_KINDS)}, not {source_kind!r}")
    watch = Stopwatch()
    at = ensure_utc(received_at) if received_at else utc_now()
    files = [Path(path) for path in paths]
    events: list[Row] = []
    rejected: list[Row] = []
    for path in files:
        for event, rejection in read_event_lines(path, source_kind, at):
            if event is not None:
                events.append(event)
            if rejection is not None:
                rejected.append(rejection)
    events = dedupe_rows(events, ["event_key"])
    run_pipeline(PIPELINE_NAME, destination, pipelines_dir, smartlead_source(events, rejected))
    return LoadSummary(
        source="smartlead events",
        rows_loaded=len(events),
        rows_rejected=len(rejected),
        files_or_pages=len(files),
        seconds=watch.seconds,
    )


# defined after load_event_files, which they use
from loaders.smartlead.poller import SmartleadPollConfig, poll_campaign_statistics  # noqa: E402
from loaders.smartlead.spool import Spool, load_spool  # noqa: E402
from loaders.smartlead.webhook_receiver import WebhookReceiver  # noqa: E402
