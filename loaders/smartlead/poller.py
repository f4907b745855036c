"""Poll Smartlead campaign statistics -> raw.smartlead_events (source_kind='api_poll').

`GET /campaigns/{id}/statistics` returns one row per sent email (`stats_id`) that changes as
opens, clicks and replies arrive. Each row becomes one event row per fact it shows (sent, opened,
clicked, replied, bounced, unsubscribed, categorised). The event payload holds only the fields
that do not change once the fact happened (no counters), so `event_key` (md5 of the payload) is
stable: re-polling the same statistics merges onto the same keys, and a row that gains a
`reply_time` adds exactly one EMAIL_REPLY row.

Facts without their own time in the statistics (bounce, unsubscribe, category) carry the email's
`sent_time`, a stand-in that does not move between polls; `event_time_source` in the payload says so.

Incremental: `raw.smartlead_poll_progress` keeps the last `sent_time` window polled per campaign;
the next poll starts `lookback_days` before its end, because opens and replies arrive late.
The first poll of a campaign reads its whole history.

The `api_key` travels in the query string: only the shared HTTP layer sees URLs, and it logs and
raises with the method and path only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from loaders.common import (
    RAW_DATASET,
    LoadSummary,
    Row,
    Stopwatch,
    dedupe_rows,
    ensure_utc,
    rows_to_arrow,
    run_pipeline,
    table_hints,
    utc_now,
)
from loaders.common.arrow import stringify
from loaders.common.http import (
    ApiClient,
    ApiError,
    ApiRequestError,
    RateLimiter,
    RetryPolicy,
    install_url_redaction,
    require_secret,
)
from loaders.smartlead.helpers import parse_webhook_event
from loaders.smartlead.settings import (
    API_KEY_DLT,
    API_KEY_ENV,
    API_SOURCE,
    BASE_URL_ENV,
    CAMPAIGN_IDS_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_REQUESTS_PER_SECOND,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    LOOKBACK_DAYS_ENV,
    POLL_PIPELINE_NAME,
    PROGRESS_COLUMNS,
    PROGRESS_TABLE,
    REQUESTS_PER_SECOND_ENV,
    STATISTICS_PAGE_LIMIT,
)
from pipeline.warehouse import WarehouseLike, connect, warehouse_exists

logger = logging.getLogger(__name__)

__all__ = [
    "SmartleadPollConfig",
    "format_api_time",
    "make_client",
    "poll_campaign_statistics",
    "statistics_row_events",
]

_TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1"})


@dataclass(frozen=True)
class SmartleadPollConfig:
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    campaign_ids: tuple[str, ...] = ()  # empty: every campaign from GET /campaigns/
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    lookback_days: float = DEFAULT_LOOKBACK_DAYS
    page_limit: int = STATISTICS_PAGE_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.page_limit <= STATISTICS_PAGE_LIMIT:
            raise ValueError(f"page_limit must be between 1 and {STATISTICS_PAGE_LIMIT}, got {self.page_limit}")
        if self.requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {self.requests_per_second}")
        if self.lookback_days < 0:
            raise ValueError(f"lookback_days must not be negative, got {self.lookback_days}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmartleadPollConfig:
        """Settings from the environment (dlt names); the key may also come from .dlt/secrets.toml."""
        env = os.environ if environ is None else environ
        api_key = env.get(API_KEY_ENV) or require_secret(API_SOURCE, API_KEY_ENV, API_KEY_DLT)
        ids = tuple(part.strip() for part in (env.get(CAMPAIGN_IDS_ENV) or "").split(",") if part.strip())
        return cls(
            api_key=api_key,
            base_url=(env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"),
            campaign_ids=ids,
            requests_per_second=float(env.get(REQUESTS_PER_SECOND_ENV) or DEFAULT_REQUESTS_PER_SECOND),
            lookback_days=float(env.get(LOOKBACK_DAYS_ENV) or DEFAULT_LOOKBACK_DAYS),
        )


def make_client(config: SmartleadPollConfig, **kwargs: Any) -> ApiClient:
    """The Smartlead API client: `api_key` as a query parameter, paced to `requests_per_second`."""
    install_url_redaction()
    kwargs.setdefault("rate_limiter", RateLimiter(config.requests_per_second, burst=1))
    kwargs.setdefault("retry", RetryPolicy())
    return ApiClient(API_SOURCE, config.base_url, query_auth={"api_key": config.api_key}, **kwargs)


def format_api_time(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and `Z`, the form Smartlead shows in its docs."""
    return ensure_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ensure_utc(moment).microsecond // 1000:03d}Z"


# --- statistics row -> event rows -------------------------------------------------------------


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().casefold() in _TRUE_TEXT
    return False


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def statistics_row_events(
    campaign_id: str,
    stats: Mapping[str, Any],
    *,
    campaign_name: str | None,
    received_at: datetime,
    source_file: str | None = None,
    row_number: int | None = None,
) -> list[Row]:
    """The event rows (raw.smartlead_events) for one statistics row."""
    sent_time = stats.get("sent_time")
    base: dict[str, Any] = {
        "campaign_id": stringify(campaign_id),
        "stats_id": stringify(stats.get("stats_id")),
        "to_email": stats.get("lead_email"),
        "to_name": stats.get("lead_name"),
        "sequence_number": stats.get("sequence_number"),
        "email_campaign_seq_id": stats.get("email_campaign_seq_id"),
        "seq_variant_id": stats.get("seq_variant_id"),
        "subject": stats.get("email_subject"),
        "statistics_source": "campaign_statistics",
    }
    base = {key: value for key, value in base.items() if value is not None}
    facts: list[dict[str, Any]] = []
    if _present(sent_time):
        facts.append({"event_type": "EMAIL_SENT", "event_timestamp": sent_time})
    if _present(stats.get("open_time")):
        facts.append({"event_type": "EMAIL_OPEN", "event_timestamp": stats["open_time"]})
    if _present(stats.get("click_time")):
        facts.append({"event_type": "EMAIL_LINK_CLICK", "event_timestamp": stats["click_time"]})
    if _present(stats.get("reply_time")):
        facts.append({"event_type": "EMAIL_REPLY", "event_timestamp": stats["reply_time"]})
    stand_in = {"event_timestamp": sent_time, "event_time_source": "sent_time"}
    if _flag(stats.get("is_bounced")):
        facts.append({"event_type": "EMAIL_BOUNCE", **stand_in})
    if _flag(stats.get("is_unsubscribed")):
        facts.append({"event_type": "LEAD_UNSUBSCRIBED", **stand_in})
    category = stats.get("lead_category")
    if _present(category):
        facts.append({"event_type": "LEAD_CATEGORY_UPDATED", "lead_category": {"new_name": category}, **stand_in})
    rows: list[Row] = []
    for fact in facts:
        payload = {**base, **fact}
        row = parse_webhook_event(payload, "api_poll", source_file, row_number, received_at)
        if campaign_name and not row.get("campaign_name"):
            # a label only: kept out of the payload so that the key does not depend on it
            row["campaign_name"] = campaign_name
        rows.append(row)
    return rows


# --- progress (raw.smartlead_poll_progress) --------------------------------------------------


def _read_progress(destination: WarehouseLike) -> dict[str, datetime]:
    """campaign_id -> end of the last window polled (empty when nothing was polled yet)."""
    if not warehouse_exists(destination):
        return {}
    with connect(destination, read_only=True) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, PROGRESS_TABLE):
            return {}
        rows = warehouse.execute(
            f"select campaign_id, max(window_end) from {RAW_DATASET}.{PROGRESS_TABLE} group by campaign_id"
        )
    return {str(campaign_id): ensure_utc(end) for campaign_id, end in rows if end is not None}


@dlt.resource(**table_hints(EVENTS_TABLE, EVENT_COLUMNS, primary_key="event_key"))
def _poll_events(events: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(dedupe_rows(events, ["event_key"]), EVENT_COLUMNS)


@dlt.resource(**table_hints(PROGRESS_TABLE, PROGRESS_COLUMNS, primary_key="campaign_id"))
def _poll_progress(rows: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(rows, PROGRESS_COLUMNS)


@dlt.source(name="smartlead_poll", max_table_nesting=0)
def smartlead_poll_source(events: Sequence[Row], progress: Sequence[Row]) -> tuple[DltResource, DltResource]:
    return _poll_events(events), _poll_progress(progress)


# --- the poll ---------------------------------------------------------------------------------


def _list_campaigns(client: ApiClient) -> list[tuple[str, str | None]]:
    body = client.request_json("GET", "/campaigns/")
    if isinstance(body, Mapping):  # tolerate a wrapped list, though the API returns a bare array
        body = body.get("data") or body.get("campaigns") or []
    if not isinstance(body, list):
        raise ApiRequestError(API_SOURCE, f"GET /campaigns/ returned {type(body).__name__}, expected a list")
    campaigns: list[tuple[str, str | None]] = []
    for item in body:
        if isinstance(item, Mapping) and item.get("id") is not None:
            campaigns.append((str(item["id"]), stringify(item.get("name"))))
    return campaigns


def _total(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _statistics_pages(
    client: ApiClient,
    campaign_id: str,
    limit: int,
    window_start: datetime | None,
    window_end: datetime,
) -> Iterator[list[Mapping[str, Any]]]:
    path = f"/campaigns/{campaign_id}/statistics"
    offset = 0
    while True:
        params: dict[str, Any] = {"offset": offset, "limit": limit, "sent_time_end_date": format_api_time(window_end)}
        if window_start is not None:
            params["sent_time_start_date"] = format_api_time(window_start)
        body = client.request_json("GET", path, params=params)
        if not isinstance(body, Mapping):
            raise ApiRequestError(API_SOURCE, f"GET {path} returned {type(body).__name__}, expected an object")
        data = body.get("data") or []
        if not isinstance(data, list):
            raise ApiRequestError(API_SOURCE, f"GET {path}: `data` is {type(data).__name__}, expected a list")
        rows = [row for row in data if isinstance(row, Mapping)]
        if rows:
            yield rows
        offset += len(data)
        total = _total(body.get("total_stats"))  # a string, e.g. "1523"
        if not data or len(data) < limit or (total is not None and offset >= total):
            return


def poll_campaign_statistics(
    config: SmartleadPollConfig,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    now: datetime | None = None,
    client: ApiClient | None = None,
) -> LoadSummary:
    """Read every configured (or listed) campaign's statistics since its last window minus the
    lookback, and merge the events into raw.smartlead_events; record the windows polled.

    Raises `ApiAuthError` (401/403) or `ApiRequestError`; neither carries the URL (nor the
    `api_key`) in its text or its chained context."""
    try:
        return _poll(config, destination, pipelines_dir, now=now, client=client)
    except ApiError as error:
        # after a connection error the shared client raises inside `except`: the implicit
        # context is a requests exception whose text holds the full URL, api_key included
        error.__context__ = None
        error.__cause__ = None
        error.__suppress_context__ = True
        raise error from None


def _poll(
    config: SmartleadPollConfig,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    now: datetime | None,
    client: ApiClient | None,
) -> LoadSummary:
    watch = Stopwatch()
    at = ensure_utc(now) if now else utc_now()
    install_url_redaction()
    api = client or make_client(config)
    if config.campaign_ids:
        campaigns: list[tuple[str, str | None]] = [(campaign_id, None) for campaign_id in config.campaign_ids]
    else:
        campaigns = _list_campaigns(api)
    progress = _read_progress(destination)
    lookback = timedelta(days=config.lookback_days)
    events: list[Row] = []
    progress_rows: list[Row] = []
    pages = 0
    stats_total = 0
    for campaign_id, name in campaigns:
        last_end = progress.get(campaign_id)
        window_start = last_end - lookback if last_end is not None else None
        campaign_stats = 0
        campaign_events = 0
        source_file = f"campaigns/{campaign_id}/statistics"
        for page in _statistics_pages(api, campaign_id, config.page_limit, window_start, at):
            pages += 1
            for stats in page:
                campaign_stats += 1
                rows = statistics_row_events(
                    campaign_id, stats, campaign_name=name, received_at=at, source_file=source_file
                )
                campaign_events += len(rows)
                events.extend(rows)
        stats_total += campaign_stats
        progress_rows.append(
            {
                "campaign_id": campaign_id,
                "window_start": window_start,
                "window_end": at,
                "stats_rows": campaign_stats,
                "events": campaign_events,
                "polled_at": at,
            }
        )
        logger.info(
            "smartlead: campaign %s: %d statistics rows, %d events (sent_time %s .. %s)",
            campaign_id,
            campaign_stats,
            campaign_events,
            format_api_time(window_start) if window_start else "start",
            format_api_time(at),
        )
    events = dedupe_rows(events, ["event_key"])
    source = smartlead_poll_source(events, progress_rows)
    run_pipeline(POLL_PIPELINE_NAME, destination, Path(pipelines_dir), source)
    return LoadSummary(
        source="smartlead statistics",
        rows_loaded=len(events),
        rows_rejected=0,
        files_or_pages=pages,
        seconds=watch.seconds,
        details={"campaigns": len(campaigns), "statistics_rows": stats_total, "api_calls": api.calls},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loaders.smartlead.poller",
        description="Poll Smartlead campaign statistics into raw.smartlead_events (settings: SOURCES__SMARTLEAD__*).",
    )
    parser.add_argument(
        "--duckdb-path", type=Path, default=Path(os.environ.get("OUTREACH_DUCKDB_PATH") or "warehouse/outreach.duckdb")
    )
    parser.add_argument("--pipelines-dir", type=Path, default=None, help="default: dlt_pipelines next to the file")
    args = parser.parse_args(argv)
    pipelines_dir = args.pipelines_dir or args.duckdb_path.parent / "dlt_pipelines"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    summary = poll_campaign_statistics(SmartleadPollConfig.from_env(), args.duckdb_path, pipelines_dir)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
