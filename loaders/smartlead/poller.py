"""Poll Smartlead events -> raw.smartlead_events (source_kind='api_poll').

Two endpoints feed the same events:

- `GET /campaigns/{id}/statistics`: one row per sent email (`stats_id`) that changes as opens,
  clicks and replies arrive, filtered on `sent_time`. `raw.smartlead_poll_progress` keeps the
  last `sent_time` window polled per campaign; the next poll starts `lookback_days` before its
  end (the first poll of a campaign reads its whole history).
- `GET /campaigns/all-leads-activities`: the lead-activity feed, filtered on the time of each
  event, so a reply that comes weeks after the send (outside the statistics lookback) is still
  read. Its cursor (the end of the last window) is kept in the dlt state of this pipeline and
  committed in the same load as the events; the next window starts `activity_overlap_hours`
  before it. The feed's item shape is [UNCONFIRMED]: lead timelines with `activities` (email
  rows shaped like statistics rows), or flat email rows.

Each email row becomes one event row per fact it shows (sent, opened, clicked, replied, bounced,
unsubscribed, categorised). The event payload holds only the fields that do not change once the
fact happened (no counters, no endpoint label), so `event_key` (md5 of the payload) is stable:
re-polling merges onto the same keys, the same fact read from both endpoints is one RAW row, and a
row that gains a `reply_time` adds exactly one EMAIL_REPLY row. Facts without their own time
(bounce, unsubscribe, category) carry the email's `sent_time`, a stand-in that does not move
between polls; `event_time_source` in the payload says so.

Bad input never stops the poll nor disappears: a page that is not JSON, not an object or whose
`data` is not a list becomes a raw.rejected_records row, that campaign (or the feed) stops there
and its window is not advanced (re-read next time), the other campaigns go on; a row that is not
an object or has a field of the wrong type is rejected with the reason. Fields the poller does
not know go to `extra_fields_json` (not part of the key) and are counted in the summary.

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
    NewFields,
    ProgressCallback,
    ProgressCounter,
    Row,
    Stopwatch,
    compact_json,
    dedupe_rows,
    ensure_utc,
    log_progress,
    make_pipeline,
    make_rejection,
    rejected_records,
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
from loaders.common.pipeline import landing_source_mode, loader_config
from loaders.common.settings_env import boolean, non_negative_float, positive_float
from loaders.common.undecodable import lone_surrogate_path, storable_text, undecodable_reason
from loaders.smartlead.helpers import parse_webhook_event
from loaders.smartlead.settings import (
    ACTIVITIES_PATH,
    ACTIVITY_CURSOR_STATE_KEY,
    ACTIVITY_FIELDS,
    ACTIVITY_LEAD_FIELDS,
    ACTIVITY_OVERLAP_HOURS_ENV,
    API_KEY_DLT,
    API_KEY_ENV,
    API_SOURCE,
    BASE_URL_ENV,
    CAMPAIGN_IDS_ENV,
    DEFAULT_ACTIVITY_OVERLAP_HOURS,
    DEFAULT_BASE_URL,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_REQUESTS_PER_SECOND,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    LOOKBACK_DAYS_ENV,
    POLL_ACTIVITIES_ENV,
    POLL_PIPELINE_NAME,
    POLL_SOURCE_NAME,
    PROGRESS_COLUMNS,
    PROGRESS_TABLE,
    REQUESTS_PER_SECOND_ENV,
    STATISTICS_FIELDS,
    STATISTICS_FLAG_FIELDS,
    STATISTICS_NUMBER_FIELDS,
    STATISTICS_PAGE_LIMIT,
    STATISTICS_PATH,
    STATISTICS_TEXT_FIELDS,
)
from warehouse_layer import EVENTS_POLL, LIVE, WarehouseLike, connect, record_event_read, warehouse_exists

logger = logging.getLogger(__name__)

__all__ = [
    "SmartleadPollConfig",
    "activity_email_rows",
    "format_api_time",
    "make_client",
    "poll_campaign_statistics",
    "statistics_row_events",
    "statistics_row_problem",
]

_TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1"})
SOURCE_LABEL = "smartlead poll"
RAW_TEXT_CHARS = 2_000  # how much of a malformed page is kept in rejected_records


@dataclass(frozen=True)
class SmartleadPollConfig:
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    campaign_ids: tuple[str, ...] = ()  # empty: every campaign from GET /campaigns/
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    lookback_days: float = DEFAULT_LOOKBACK_DAYS
    page_limit: int = STATISTICS_PAGE_LIMIT
    poll_activities: bool = True  # also read the event-time activity feed
    activity_overlap_hours: float = DEFAULT_ACTIVITY_OVERLAP_HOURS

    def __post_init__(self) -> None:
        if not 1 <= self.page_limit <= STATISTICS_PAGE_LIMIT:
            raise ValueError(f"page_limit must be between 1 and {STATISTICS_PAGE_LIMIT}, got {self.page_limit}")
        if self.requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {self.requests_per_second}")
        if self.lookback_days < 0:
            raise ValueError(f"lookback_days must not be negative, got {self.lookback_days}")
        if self.activity_overlap_hours < 0:
            raise ValueError(f"activity_overlap_hours must not be negative, got {self.activity_overlap_hours}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmartleadPollConfig:
        """Settings from the environment (dlt names); the key may also come from .dlt/secrets.toml.
        A value that cannot be read raises `ConfigError` naming the variable."""
        env = os.environ if environ is None else environ
        api_key = env.get(API_KEY_ENV) or require_secret(API_SOURCE, API_KEY_ENV, API_KEY_DLT)
        ids = tuple(part.strip() for part in (env.get(CAMPAIGN_IDS_ENV) or "").split(",") if part.strip())
        return cls(
            api_key=api_key,
            base_url=(env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"),
            campaign_ids=ids,
            requests_per_second=positive_float(
                REQUESTS_PER_SECOND_ENV, env.get(REQUESTS_PER_SECOND_ENV), DEFAULT_REQUESTS_PER_SECOND
            ),
            lookback_days=non_negative_float(LOOKBACK_DAYS_ENV, env.get(LOOKBACK_DAYS_ENV), DEFAULT_LOOKBACK_DAYS),
            poll_activities=boolean(POLL_ACTIVITIES_ENV, env.get(POLL_ACTIVITIES_ENV), True),
            activity_overlap_hours=non_negative_float(
                ACTIVITY_OVERLAP_HOURS_ENV, env.get(ACTIVITY_OVERLAP_HOURS_ENV), DEFAULT_ACTIVITY_OVERLAP_HOURS
            ),
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


def _parse_api_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return ensure_utc(moment)


# --- email row -> event rows --------------------------------------------------------------------


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


def _json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def statistics_row_problem(stats: Mapping[str, Any]) -> str | None:
    """Why an email row cannot become events (a field of the wrong type), or None."""
    wrong: list[str] = []
    stats_id = stats.get("stats_id")
    if stats_id is not None and (isinstance(stats_id, bool) or not isinstance(stats_id, str | int)):
        wrong.append(f"stats_id is {_json_type(stats_id)}")
    for name in sorted(STATISTICS_TEXT_FIELDS):
        value = stats.get(name)
        if value is not None and not isinstance(value, str):
            wrong.append(f"{name} is {_json_type(value)}")
    for name in sorted(STATISTICS_NUMBER_FIELDS):
        value = stats.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | str)):
            wrong.append(f"{name} is {_json_type(value)}")
    for name in sorted(STATISTICS_FLAG_FIELDS):
        value = stats.get(name)
        if value is not None and not isinstance(value, bool | int | float | str):
            wrong.append(f"{name} is {_json_type(value)}")
    return f"wrong field type: {', '.join(wrong)}" if wrong else None


def statistics_row_events(
    campaign_id: str,
    stats: Mapping[str, Any],
    *,
    campaign_name: str | None,
    received_at: datetime,
    source_file: str | None = None,
    row_number: int | None = None,
    extra_fields: Mapping[str, Any] | None = None,
) -> list[Row]:
    """The event rows (raw.smartlead_events) for one email row (statistics or activity feed).

    `extra_fields` (default: the fields of `stats` the poller does not know) are stored in
    `extra_fields_json`, outside the payload, so the key does not depend on them."""
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
    if extra_fields is None:
        extra_fields = {key: value for key, value in stats.items() if key not in STATISTICS_FIELDS}
    extras_json = compact_json(dict(extra_fields)) if extra_fields else None
    rows: list[Row] = []
    for fact in facts:
        payload = {**base, **fact}
        row = parse_webhook_event(payload, "api_poll", source_file, row_number, received_at)
        if campaign_name and not row.get("campaign_name"):
            # a label only: kept out of the payload so that the key does not depend on it
            row["campaign_name"] = campaign_name
        row["extra_fields_json"] = extras_json
        rows.append(row)
    return rows


@dataclass(frozen=True)
class EmailRow:
    """One email row of the activity feed, shaped like a statistics row."""

    campaign_id: str
    campaign_name: str | None
    stats: dict[str, Any]
    extra_fields: dict[str, Any]
    position: int  # 1-based position of its lead timeline in the page


def activity_email_rows(item: Any, position: int) -> tuple[list[EmailRow], list[str]]:
    """The email rows of one activity-feed item, and the reasons for the parts that cannot be
    read. An item is a lead timeline (`activities: [...]` under lead and campaign fields) or,
    failing `activities`, a single email row."""
    if not isinstance(item, Mapping):
        return [], [f"activity item is {_json_type(item)}, expected an object"]
    activities = item.get("activities") if "activities" in item else [item]
    if not isinstance(activities, list):
        return [], [f"`activities` is {_json_type(activities)}, expected a list"]
    lead_extras = {key: value for key, value in item.items() if key not in ACTIVITY_LEAD_FIELDS | ACTIVITY_FIELDS}
    lead_name = item.get("lead_name")
    if lead_name is None and (item.get("first_name") or item.get("last_name")):
        parts = [item.get("first_name"), item.get("last_name")]
        lead_name = " ".join(str(part).strip() for part in parts if isinstance(part, str) and part.strip()) or None
    context = {"lead_email": item.get("lead_email", item.get("email")), "lead_name": lead_name}
    if "lead_category" in item:
        context["lead_category"] = item["lead_category"]
    rows: list[EmailRow] = []
    problems: list[str] = []
    for index, activity in enumerate(activities, start=1):
        if not isinstance(activity, Mapping):
            problems.append(f"activity {index} is {_json_type(activity)}, expected an object")
            continue
        stats = {key: value for key, value in context.items() if value is not None}
        stats.update({key: activity[key] for key in STATISTICS_FIELDS if key in activity})
        if "email_subject" not in stats and "subject" in activity:
            stats["email_subject"] = activity["subject"]
        if "lead_email" not in stats and "to_email" in activity:
            stats["lead_email"] = activity["to_email"]
        details = activity.get("reply_details")
        if "reply_time" not in stats and isinstance(details, Mapping):
            stats["reply_time"] = details.get("reply_time", details.get("time"))
        campaign_id = stringify(activity.get("campaign_id", item.get("campaign_id")))
        if campaign_id is None:
            problems.append(f"activity {index} has no campaign_id")
            continue
        extras = {**lead_extras, **{key: value for key, value in activity.items() if key not in ACTIVITY_FIELDS}}
        if activity is item:
            extras = {key: value for key, value in extras.items() if key not in ACTIVITY_LEAD_FIELDS}
        name = activity.get("campaign_name", item.get("campaign_name"))
        rows.append(EmailRow(campaign_id, stringify(name), stats, extras, position))
    return rows, problems


# --- RAW tables and state -----------------------------------------------------------------------


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


def read_activity_cursor(destination: WarehouseLike, pipelines_dir: Path) -> datetime | None:
    """The end of the last activity window loaded, from the poll pipeline's dlt state (restored
    from the warehouse when the local pipeline folder does not have it)."""

    def cursor(state: Mapping[str, Any]) -> datetime | None:
        saved = state.get("sources", {}).get(POLL_SOURCE_NAME, {}).get(ACTIVITY_CURSOR_STATE_KEY)
        return _parse_api_time(saved.get("event_time_to")) if isinstance(saved, Mapping) else None

    with loader_config():
        pipeline = make_pipeline(POLL_PIPELINE_NAME, destination, Path(pipelines_dir))
        found = cursor(pipeline.state)
        if found is None and warehouse_exists(destination):
            pipeline.sync_destination()
            found = cursor(pipeline.state)
    return found


@dlt.resource(**table_hints(EVENTS_TABLE, EVENT_COLUMNS, primary_key="event_key"))
def _poll_events(events: Sequence[Row], activity_cursor: Mapping[str, Any] | None) -> Iterator[pa.Table]:
    if activity_cursor is not None:  # committed with these events, in the same load
        dlt.current.source_state()[ACTIVITY_CURSOR_STATE_KEY] = dict(activity_cursor)
    yield rows_to_arrow(dedupe_rows(events, ["event_key"]), EVENT_COLUMNS)


@dlt.resource(**table_hints(PROGRESS_TABLE, PROGRESS_COLUMNS, primary_key="campaign_id"))
def _poll_progress(rows: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(rows, PROGRESS_COLUMNS)


@dlt.source(name=POLL_SOURCE_NAME, max_table_nesting=0)
def smartlead_poll_source(
    events: Sequence[Row],
    progress: Sequence[Row],
    rejected: Sequence[Row] = (),
    activity_cursor: Mapping[str, Any] | None = None,
) -> tuple[DltResource, ...]:
    return _poll_events(events, activity_cursor), _poll_progress(progress), rejected_records(rejected)


# --- the poll -----------------------------------------------------------------------------------


def _list_campaigns(client: ApiClient) -> list[tuple[str, str | None]]:
    """`GET /campaigns/` answers a bare JSON array; anything else (`{}`, an error object, an item
    without an id) is an error, never "no campaigns": polling nothing would look like success."""
    body = client.request_json("GET", "/campaigns/")
    if not isinstance(body, list):
        raise ApiRequestError(API_SOURCE, f"GET /campaigns/ returned {_shape(body)}, not the list of campaigns{_FIX}")
    campaigns: list[tuple[str, str | None]] = []
    for position, item in enumerate(body, 1):
        if not isinstance(item, Mapping) or item.get("id") is None:
            raise ApiRequestError(
                API_SOURCE, f"GET /campaigns/ item {position} is {_shape(item)}, not a campaign with an id{_FIX}"
            )
        name = stringify(item.get("name"))  # a label on every row of the campaign: kept storable
        campaigns.append((storable_text(str(item["id"])), None if name is None else storable_text(name)))
    return campaigns


_FIX = f"; nothing was polled: set {CAMPAIGN_IDS_ENV} to the campaign ids to poll, or retry later"


def _shape(value: object) -> str:
    if isinstance(value, Mapping):
        return "an empty object" if not value else f"an object with keys {', '.join(sorted(map(str, value))[:5])}"
    return "null" if value is None else type(value).__name__


def _total(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@dataclass
class _Page:
    """One page: its items, or the reason it cannot be read (and its text)."""

    offset: int
    items: list[Any]
    body: Mapping[str, Any]
    problem: str | None = None
    raw_text: str | None = None


def _fetch_page(client: ApiClient, path: str, params: Mapping[str, Any]) -> _Page:
    offset = int(params.get("offset") or 0)
    response = client.request("GET", path, params=params)
    try:
        body = response.json()
    except ValueError:
        text = response.text
        problem = f"GET {path} at offset {offset}: body is not JSON (HTTP {response.status_code}, {len(text)} chars)"
        return _Page(offset, [], {}, problem, text[:RAW_TEXT_CHARS])
    if not isinstance(body, Mapping):
        problem = f"GET {path} at offset {offset}: body is {_json_type(body)}, expected an object"
        return _Page(offset, [], {}, problem, compact_json(body)[:RAW_TEXT_CHARS])
    data = body.get("data")
    if data is None:
        return _Page(offset, [], body)
    if not isinstance(data, list):
        problem = f"GET {path} at offset {offset}: `data` is {_json_type(data)}, expected a list"
        return _Page(offset, [], body, problem, compact_json(body)[:RAW_TEXT_CHARS])
    return _Page(offset, data, body)


class _Poll:
    """The state of one poll: events, rejections and counts across campaigns and the feed."""

    def __init__(self, at: datetime, progress: ProgressCallback | None) -> None:
        self.at = at
        self.events: list[Row] = []
        self.rejected: list[Row] = []
        self.pages = 0
        self.counter = ProgressCounter(SOURCE_LABEL, progress)
        self.drift = NewFields(STATISTICS_FIELDS)
        self.activity_drift = NewFields(ACTIVITY_LEAD_FIELDS | ACTIVITY_FIELDS)

    def reject(self, source_file: str, row_number: int | None, reason: str, raw_text: str | None) -> None:
        self.rejected.append(make_rejection("smartlead", source_file, row_number, reason, raw_text, self.at))

    def reject_page(self, source_file: str, page: _Page) -> None:
        assert page.problem is not None
        logger.warning("smartlead: %s; rejected, re-read on the next poll", page.problem)
        self.reject(source_file, None, page.problem, page.raw_text)
        self.pages += 1
        self.counter.page(rejected=1)

    def add_email_row(
        self,
        campaign_id: str,
        stats: Mapping[str, Any],
        campaign_name: str | None,
        source_file: str,
        row_number: int,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> int | None:
        """The number of events of one email row; None when it is rejected."""
        problem = statistics_row_problem(stats)
        if problem is None:  # a lone surrogate (`\\ud83d`) in any field: UTF-8 cannot hold the row
            bad_text = (
                lone_surrogate_path(stats)
                or lone_surrogate_path(extra_fields or {})
                or lone_surrogate_path(campaign_id, "campaign_id")
                or lone_surrogate_path(campaign_name, "campaign_name")
            )
            problem = None if bad_text is None else undecodable_reason(bad_text)
        if problem is not None:
            self.reject(source_file, row_number, problem, compact_json(dict(stats)))
            return None
        rows = statistics_row_events(
            campaign_id,
            stats,
            campaign_name=campaign_name,
            received_at=self.at,
            source_file=source_file,
            row_number=row_number,
            extra_fields=extra_fields,
        )
        self.events.extend(rows)
        return len(rows)


def _poll_statistics(
    poll: _Poll, api: ApiClient, campaign_id: str, name: str | None, window_start: datetime | None, limit: int
) -> tuple[int, int, bool]:
    """(statistics rows, events, whether the whole window was read) for one campaign."""
    path = STATISTICS_PATH.format(campaign_id=campaign_id)
    source_file = path.lstrip("/")
    offset = stats_rows = events = 0
    while True:
        params: dict[str, Any] = {"offset": offset, "limit": limit, "sent_time_end_date": format_api_time(poll.at)}
        if window_start is not None:
            params["sent_time_start_date"] = format_api_time(window_start)
        page = _fetch_page(api, path, params)
        if page.problem is not None:
            poll.reject_page(source_file, page)
            return stats_rows, events, False
        poll.pages += 1
        page_events = page_rejected = 0
        for position, stats in enumerate(page.items, start=offset + 1):
            if not isinstance(stats, Mapping):
                poll.reject(
                    source_file,
                    position,
                    f"statistics row is {_json_type(stats)}, expected an object",
                    compact_json(stats),
                )
                page_rejected += 1
                continue
            stats_rows += 1
            poll.drift.see(stats)
            added = poll.add_email_row(campaign_id, stats, name, source_file, position)
            if added is None:
                page_rejected += 1
            else:
                page_events += added
        events += page_events
        poll.counter.page(rows=page_events, rejected=page_rejected)
        offset += len(page.items)
        total = _total(page.body.get("total_stats"))  # a string, e.g. "1523"
        if not page.items or len(page.items) < limit or (total is not None and offset >= total):
            return stats_rows, events, True


def _poll_activities(
    poll: _Poll, api: ApiClient, config: SmartleadPollConfig, window_start: datetime
) -> tuple[int, bool]:
    """(email rows read, whether the whole window was read) from the activity feed."""
    source_file = ACTIVITIES_PATH.lstrip("/")
    wanted = set(config.campaign_ids)
    offset = email_rows = 0
    while True:
        params = {
            "offset": offset,
            "limit": config.page_limit,
            "event_time_from": format_api_time(window_start),
            "event_time_to": format_api_time(poll.at),
        }
        page = _fetch_page(api, ACTIVITIES_PATH, params)
        if page.problem is not None:
            poll.reject_page(source_file, page)
            return email_rows, False
        poll.pages += 1
        page_events = page_rejected = 0
        for position, item in enumerate(page.items, start=offset + 1):
            rows, problems = activity_email_rows(item, position)
            for problem in problems:
                poll.reject(source_file, position, problem, compact_json(item))
                page_rejected += 1
            if isinstance(item, Mapping):
                poll.activity_drift.see(item)
                for activity in item.get("activities") or []:
                    if isinstance(activity, Mapping):
                        poll.activity_drift.see(activity)
            for row in rows:
                if wanted and row.campaign_id not in wanted:
                    continue
                email_rows += 1
                added = poll.add_email_row(
                    row.campaign_id, row.stats, row.campaign_name, source_file, position, row.extra_fields
                )
                if added is None:
                    page_rejected += 1
                else:
                    page_events += added
        poll.counter.page(rows=page_events, rejected=page_rejected)
        offset += len(page.items)
        more = page.body.get("hasMore")
        if (
            not page.items
            or (more is not None and not _flag(more))
            or (more is None and len(page.items) < config.page_limit)
        ):
            return email_rows, True


def poll_campaign_statistics(
    config: SmartleadPollConfig,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    now: datetime | None = None,
    client: ApiClient | None = None,
    progress: ProgressCallback | None = log_progress,
) -> LoadSummary:
    """Read every configured (or listed) campaign's statistics since its last window minus the
    lookback, and the activity feed since its cursor, and merge the events into
    raw.smartlead_events; record the windows polled. `progress` gets the pages and rows so far
    after every page (the CLI prints it, throttled, on stderr).

    Raises `ApiAuthError` (401/403) or `ApiRequestError`; neither carries the URL (nor the
    `api_key`) in its text or its chained context."""
    try:
        return _poll(config, destination, pipelines_dir, now=now, client=client, progress=progress)
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
    progress: ProgressCallback | None,
) -> LoadSummary:
    watch = Stopwatch()
    at = ensure_utc(now) if now else utc_now()
    install_url_redaction()
    api = client or make_client(config)
    if config.campaign_ids:
        campaigns: list[tuple[str, str | None]] = [(campaign_id, None) for campaign_id in config.campaign_ids]
    else:
        campaigns = _list_campaigns(api)
    windows = _read_progress(destination)
    lookback = timedelta(days=config.lookback_days)
    poll = _Poll(at, progress)
    progress_rows: list[Row] = []
    incomplete: list[str] = []
    stats_total = 0
    for campaign_id, name in campaigns:
        last_end = windows.get(campaign_id)
        window_start = last_end - lookback if last_end is not None else None
        stats_rows, campaign_events, complete = _poll_statistics(
            poll, api, campaign_id, name, window_start, config.page_limit
        )
        stats_total += stats_rows
        if complete:  # a campaign cut short by a bad page keeps its old window: re-read next time
            progress_rows.append(
                {
                    "campaign_id": campaign_id,
                    "window_start": window_start,
                    "window_end": at,
                    "stats_rows": stats_rows,
                    "events": campaign_events,
                    "polled_at": at,
                }
            )
        else:
            incomplete.append(campaign_id)
        logger.info(
            "smartlead: campaign %s: %d statistics rows, %d events (sent_time %s .. %s)%s",
            campaign_id,
            stats_rows,
            campaign_events,
            format_api_time(window_start) if window_start else "start",
            format_api_time(at),
            "" if complete else ", stopped at a bad page",
        )
    details: dict[str, object] = {"campaigns": len(campaigns), "statistics_rows": stats_total}
    activity_cursor: dict[str, Any] | None = None
    if config.poll_activities:
        activity_cursor, details["activity_rows"] = _activities(poll, api, config, destination, pipelines_dir)
        if activity_cursor is None:
            incomplete.append("activities")
    events = dedupe_rows(poll.events, ["event_key"])
    source = smartlead_poll_source(events, progress_rows, poll.rejected, activity_cursor)
    run_pipeline(POLL_PIPELINE_NAME, destination, Path(pipelines_dir), source)
    poll.counter.finish()
    details["api_calls"] = api.calls
    if incomplete:
        details["incomplete"] = ",".join(incomplete)
    summary = LoadSummary(
        source=SOURCE_LABEL,
        rows_loaded=len(events),
        rows_rejected=len(poll.rejected),
        files_or_pages=poll.pages,
        seconds=watch.seconds,
        details=details,
    )
    poll.drift.add(poll.activity_drift)
    return poll.drift.apply(summary)


def _activities(
    poll: _Poll, api: ApiClient, config: SmartleadPollConfig, destination: WarehouseLike, pipelines_dir: Path
) -> tuple[dict[str, Any] | None, int | str]:
    """Read the activity feed since its cursor: (the new cursor, or None when the window was not
    read whole; email rows read, or why the feed was skipped)."""
    saved = read_activity_cursor(destination, pipelines_dir)
    if saved is not None:
        start = saved - timedelta(hours=config.activity_overlap_hours)
    else:  # first poll: the statistics read the whole history; the feed covers the lookback
        start = poll.at - timedelta(days=config.lookback_days)
    try:
        email_rows, complete = _poll_activities(poll, api, config, start)
    except ApiRequestError as error:
        if error.status != 404:
            raise
        # an account or plan without the feed: the statistics poll still ran
        logger.warning("smartlead: %s; the activity feed is skipped", error)
        return None, "unavailable (404)"
    logger.info(
        "smartlead: activity feed: %d email rows (event time %s .. %s)",
        email_rows,
        format_api_time(start),
        format_api_time(poll.at),
    )
    cursor = {"event_time_from": format_api_time(start), "event_time_to": format_api_time(poll.at)}
    return (cursor if complete else None), email_rows


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
    started = utc_now().replace(tzinfo=None)
    with landing_source_mode(LIVE):  # the Smartlead API: live data
        summary = poll_campaign_statistics(SmartleadPollConfig.from_env(), args.duckdb_path, pipelines_dir)
    if not summary.details.get("incomplete"):  # read whole: the production gate counts it
        with connect(args.duckdb_path) as warehouse:
            record_event_read(warehouse, EVENTS_POLL, started, summary.rows_loaded, LIVE)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
