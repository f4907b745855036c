"""A faithful fake of the Smartlead API (the parts the warehouse reads), served by `serve()`.

Behaviour reproduced (CONTRACTS.md section 3):
- `api_key` query parameter on every call: missing or wrong -> 401;
- `GET /campaigns/` -> a bare JSON array;
- `GET /campaigns/{id}/statistics?offset&limit&sent_time_start_date&sent_time_end_date` ->
  `{"total_stats": "N" (a string), "offset", "limit", "data": [...]}`, `limit` capped at 1000,
  rows filtered on `sent_time`, 404 for an unknown campaign;
- a sliding-window rate limit: 429 with `Retry-After` and
  `{"error": {"code": "RATE_LIMIT_EXCEEDED", "message", "retry_after"}}`;
- `GET /campaigns/all-leads-activities?offset&limit&event_time_from&event_time_to` -> `{"data": [lead
  timelines], "hasMore"}`: one item per (campaign, lead) with `activities` (that lead's statistics
  rows having an event time in the range), `limit` 1..1000 (else 422), `event_time_to` without
  `event_time_from` or an unreadable time -> 400; `activities_enabled=False` answers 404;
- `fail_next(n)` answers the next n calls with 500; `throttle_next(n, retry_after, body)` with 429
  (no Retry-After by default, any body); `delay_next(n, seconds)` answers late (client timeouts);
  `statistics_bodies[(campaign_id, offset)]` / `activity_bodies[offset]` replace a page's body
  (malformed JSON, a list, `data` not a list); statistics rows are served as stored, so a row that
  is not an object or has a field of the wrong type reaches the client;
- `POST /campaigns/{id}/leads` (add leads): 404 for an unknown campaign, 400 for a bad body (no
  `settings` object, a setting that is not one of the four `ignore_*` booleans, `custom_fields`
  values that are not strings) or more than `lead_cap` leads (default 100); per-campaign dedup by
  email (a repeat counts in `already_added_to_campaign` and updates the stored lead); duplicates
  inside one upload count in `duplicate_count`; invalid emails (no "@", or in `invalid_emails`)
  counted and listed; emails in `unsubscribed_emails` listed in `unsubscribed_leads`; emails whose
  address or domain is on the global block list are not added and count in `block_count`; emails in
  `bounced_emails` count in `bounce_count`. The `settings.ignore_*` flags switch those lists off as
  documented. The answer has exactly the fields of CONTRACTS.md (`ok`, `upload_count`,
  `total_leads`, `already_added_to_campaign`, `duplicate_count`, `invalid_email_count`,
  `invalid_emails`, `unsubscribed_leads`, `block_count`, `bounce_count`,
  `is_lead_limit_exhausted`); `response_shape="guide"` answers with the docs guide's
  `added_count`/`skipped_count` instead. Faults: `lead_limit` (leads the account may hold in all:
  the rest of an upload is not imported, `is_lead_limit_exhausted: true` and
  `lead_import_stopped_count`, as NOTES.md lists it), `empty_lead_answers` (`200 {}`, the leads
  still stored), `omitted_answer_keys` (those counts left out: an answer that does not account for
  the batch), `unsubscribed_as_count` (`unsubscribed_leads` as a number);
- `POST /leads/add-domain-block-list` `{"domain_block_list": [...]}` stores entries (domains and
  emails); `GET /leads/get-domain-block-list` lists them; `block_list_failures` answers the next n
  block-list uploads with 500 (with `Retry-After: block_list_retry_after` when set).
Accessors: `leads_in(campaign_id)`, `block_list`, `calls_to(path)` (requests per path).

The clock is injectable (`FakeClock`) so a test can make a recorded sleep advance time.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.python.fakes.server import Reply, Request, RunningServer, serve

STATISTICS_PATH = re.compile(r"^/api/v1/campaigns/(?P<campaign_id>[^/]+)/statistics/?$")
CAMPAIGNS_PATH = re.compile(r"^/api/v1/campaigns/?$")
ACTIVITIES_PATH = re.compile(r"^/api/v1/campaigns/all-leads-activities/?$")
LEADS_PATH = re.compile(r"^/api/v1/campaigns/(?P<campaign_id>[^/]+)/leads/?$")
BLOCK_LIST_ADD_PATH = re.compile(r"^/api/v1/leads/add-domain-block-list/?$")
BLOCK_LIST_GET_PATH = re.compile(r"^/api/v1/leads/get-domain-block-list/?$")
MAX_LIMIT = 1000
DEFAULT_LEAD_CAP = 100
LEAD_SETTINGS = frozenset(
    {
        "ignore_global_block_list",
        "ignore_unsubscribe_list",
        "ignore_community_bounce_list",
        "ignore_duplicate_leads_in_other_campaign",
    }
)


class FakeClock:
    """A monotonic clock that only moves when told to (or with real time when `real=True`)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def parse_api_time(text: str) -> datetime:
    value = text.strip().replace("Z", "+00:00").replace(" ", "T")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class FakeSmartlead:
    api_key: str = "sl-test-key"
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rate_limit: int | None = None  # requests allowed per window; None: unlimited
    rate_window_seconds: float = 60.0
    clock: Callable[[], float] = field(default_factory=FakeClock)
    failures_left: int = 0
    # --- events poller: bad input and slow or throttled answers ---
    activities_enabled: bool = True
    campaigns_body: Any = None  # answer `GET /campaigns/` with this body instead of the campaign list
    statistics_bodies: dict[tuple[str, int], Any] = field(default_factory=dict)
    activity_bodies: dict[int, Any] = field(default_factory=dict)
    throttles_left: int = 0
    throttle_retry_after: str | None = None
    throttle_body: Any = "Too Many Requests"
    delays_left: int = 0
    delay_seconds: float = 0.0
    calls: int = 0
    rate_limited: int = 0  # 429s answered
    # --- lead upload ---
    lead_cap: int = DEFAULT_LEAD_CAP  # more leads in one call -> 400
    invalid_emails: set[str] = field(default_factory=set)  # besides anything without "@"
    unsubscribed_emails: set[str] = field(default_factory=set)
    unsubscribed_as_objects: bool = False  # list `unsubscribed_leads` as {"email": ...} objects
    bounced_emails: set[str] = field(default_factory=set)  # the community bounce list
    response_shape: str = "observed"  # or "guide": added_count/skipped_count
    lead_limit: int | None = None  # leads the account may hold across campaigns; None: no limit
    empty_lead_answers: bool = False  # answer add-leads with `200 {}` (the leads are still stored)
    omitted_answer_keys: set[str] = field(default_factory=set)  # counts left out of the add-leads answer
    unsubscribed_as_count: bool = False  # `unsubscribed_leads` as a number instead of a list
    block_list_failures: int = 0  # next block-list uploads answered 500
    block_list_retry_after: str | None = None  # Retry-After on those 500s (keeps retries short in tests)
    leads: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # campaign -> email -> lead
    block_list: list[str] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)  # every add-leads body accepted (2xx)
    path_calls: Counter[str] = field(default_factory=Counter)
    _accepted: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up helpers -----------------------------------------------------------------------

    def add_campaign(self, campaign_id: int, name: str, status: str = "ACTIVE") -> None:
        self.campaigns.append(
            {"id": campaign_id, "name": name, "status": status, "created_at": "2026-10-01T09:00:00.000Z"}
        )
        self.statistics.setdefault(str(campaign_id), [])

    def add_stats(self, campaign_id: int, **row: Any) -> dict[str, Any]:
        stats = {
            "stats_id": row.pop("stats_id"),
            "lead_name": None,
            "lead_email": None,
            "lead_category": None,
            "sequence_number": 1,
            "email_campaign_seq_id": 900 + int(campaign_id),
            "seq_variant_id": None,
            "email_subject": "Hello",
            "sent_time": None,
            "open_time": None,
            "click_time": None,
            "reply_time": None,
            "open_count": 0,
            "click_count": 0,
            "is_unsubscribed": False,
            "is_bounced": False,
        }
        stats.update(row)
        self.statistics.setdefault(str(campaign_id), []).append(stats)
        return stats

    def update_stats(self, stats_id: str, **changes: Any) -> None:
        for rows in self.statistics.values():
            for row in rows:
                if isinstance(row, dict) and row.get("stats_id") == stats_id:
                    row.update(changes)
                    return
        raise KeyError(stats_id)

    def fail_next(self, count: int) -> None:
        self.failures_left = count

    def throttle_next(self, count: int, retry_after: str | None = None, body: Any = "Too Many Requests") -> None:
        """Answer the next `count` calls with 429, without Retry-After unless given."""
        self.throttles_left, self.throttle_retry_after, self.throttle_body = count, retry_after, body

    def delay_next(self, count: int, seconds: float) -> None:
        """Answer the next `count` calls only after `seconds` (to provoke client timeouts)."""
        self.delays_left, self.delay_seconds = count, seconds

    # --- accessors ------------------------------------------------------------------------------

    def leads_in(self, campaign_id: int | str) -> list[dict[str, Any]]:
        """The leads stored in a campaign (one per email), in the order first added."""
        return [dict(lead) for lead in self.leads.get(str(campaign_id), {}).values()]

    def emails_in(self, campaign_id: int | str) -> list[str]:
        return list(self.leads.get(str(campaign_id), {}))

    def calls_to(self, path: str) -> int:
        """Requests received for `path` (with or without the `/api/v1` prefix), every status."""
        wanted = path if path.startswith("/api/v1") else "/api/v1" + ("" if path.startswith("/") else "/") + path
        return self.path_calls[wanted.rstrip("/")]

    def is_blocked(self, email: str) -> bool:
        address = email.strip().lower()
        domain = address.rpartition("@")[2]
        return address in self.block_list or domain in self.block_list

    # --- the handler ----------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        reply = self._handle(request)
        with self._lock:
            if self.delays_left > 0:
                self.delays_left -= 1
                reply.delay_seconds = self.delay_seconds
        return reply

    def _handle(self, request: Request) -> Reply:
        with self._lock:
            self.calls += 1
            self.path_calls[request.path.rstrip("/")] += 1
            if request.param("api_key") != self.api_key:
                return Reply(401, {"message": "Unauthorized: invalid or missing api_key"})
            limited = self._rate_limited()
            if limited is not None:
                return limited
            if self.failures_left > 0:
                self.failures_left -= 1
                return Reply(500, {"message": "Internal server error"})
            if self.throttles_left > 0:
                self.throttles_left -= 1
                headers = {} if self.throttle_retry_after is None else {"Retry-After": self.throttle_retry_after}
                return Reply(429, self.throttle_body, headers=headers)
        if request.method == "GET" and ACTIVITIES_PATH.match(request.path):
            return self._activities(request)
        if request.method == "GET" and CAMPAIGNS_PATH.match(request.path):
            return Reply(200, list(self.campaigns) if self.campaigns_body is None else self.campaigns_body)
        match = STATISTICS_PATH.match(request.path)
        if request.method == "GET" and match:
            return self._statistics(match.group("campaign_id"), request)
        match = LEADS_PATH.match(request.path)
        if request.method == "POST" and match:
            with self._lock:
                return self._add_leads(match.group("campaign_id"), request)
        if request.method == "POST" and BLOCK_LIST_ADD_PATH.match(request.path):
            with self._lock:
                if self.block_list_failures > 0:
                    self.block_list_failures -= 1
                    retry_after = self.block_list_retry_after
                    headers = {} if retry_after is None else {"Retry-After": retry_after}
                    return Reply(500, {"message": "Internal server error"}, headers=headers)
                return self._add_block_list(request)
        if request.method == "GET" and BLOCK_LIST_GET_PATH.match(request.path):
            with self._lock:
                data = [{"id": index + 1, "domain": entry} for index, entry in enumerate(self.block_list)]
            return Reply(200, {"data": data, "total": len(data)})
        return Reply(404, {"message": f"Cannot {request.method} {request.path}"})

    def _rate_limited(self) -> Reply | None:
        if self.rate_limit is None:
            return None
        now = self.clock()
        while self._accepted and self._accepted[0] <= now - self.rate_window_seconds:
            self._accepted.popleft()
        if len(self._accepted) >= self.rate_limit:
            self.rate_limited += 1
            retry_after = max(1, math.ceil(self._accepted[0] + self.rate_window_seconds - now))
            return Reply(
                429,
                {
                    "error": {
                        "code": "RATE_LIMIT_EXCEEDED",
                        "message": "Rate limit exceeded",
                        "retry_after": retry_after,
                    }
                },
                headers={
                    "Retry-After": str(retry_after),
                    "X-RateLimit-Limit": str(self.rate_limit),
                    "X-RateLimit-Remaining": "0",
                },
            )
        self._accepted.append(now)
        return None

    def _statistics(self, campaign_id: str, request: Request) -> Reply:
        if campaign_id not in self.statistics:
            return Reply(404, {"message": "Campaign not found"})
        try:
            offset = int(request.param("offset") or 0)
            limit = min(MAX_LIMIT, int(request.param("limit") or 100))
        except ValueError:
            return Reply(400, {"message": "offset and limit must be integers"})
        if (campaign_id, offset) in self.statistics_bodies:
            return Reply(200, self.statistics_bodies[campaign_id, offset])
        rows = list(self.statistics[campaign_id])
        start, end = request.param("sent_time_start_date"), request.param("sent_time_end_date")
        if start or end:
            low = parse_api_time(start) if start else None
            high = parse_api_time(end) if end else None
            kept = []
            for row in rows:
                if not isinstance(row, dict) or not isinstance(row.get("sent_time"), str):
                    kept.append(row)  # nothing to filter on: served as stored (bad-input tests)
                    continue
                sent = parse_api_time(row["sent_time"])
                if (low is None or sent >= low) and (high is None or sent <= high):
                    kept.append(row)
            rows = kept
        page = [dict(row) if isinstance(row, dict) else row for row in rows[offset : offset + limit]]
        return Reply(200, {"total_stats": str(len(rows)), "offset": offset, "limit": limit, "data": page})

    def _activities(self, request: Request) -> Reply:
        if not self.activities_enabled:
            return Reply(404, {"message": f"Cannot GET {request.path}"})
        try:
            offset = int(request.param("offset") or 0)
            limit = int(request.param("limit") or 100)
        except ValueError:
            return Reply(400, {"message": "offset and limit must be integers"})
        if not 1 <= limit <= MAX_LIMIT:
            return Reply(422, {"message": f"limit must be between 1 and {MAX_LIMIT}"})
        start, end = request.param("event_time_from"), request.param("event_time_to")
        if end and not start:
            return Reply(400, {"message": "event_time_to needs event_time_from"})
        try:
            low = parse_api_time(start) if start else None
            high = parse_api_time(end) if end else None
        except ValueError:
            return Reply(
                400, {"message": "event_time_from / event_time_to must be ISO 8601 (YYYY-MM-DD or a date-time)"}
            )
        if offset in self.activity_bodies:
            return Reply(200, self.activity_bodies[offset])
        names = {str(campaign["id"]): campaign["name"] for campaign in self.campaigns}
        timelines: dict[tuple[str, Any], dict[str, Any]] = {}
        for campaign_id, rows in self.statistics.items():
            for row in rows:
                if not isinstance(row, dict) or not self._has_event_between(row, low, high):
                    continue
                email = row.get("lead_email")
                timeline = timelines.get((campaign_id, email))
                if timeline is None:
                    timeline = timelines[campaign_id, email] = {
                        "lead_id": len(timelines) + 1,
                        "lead_email": email,
                        "lead_name": row.get("lead_name"),
                        "lead_category": row.get("lead_category"),
                        "campaign_id": int(campaign_id) if campaign_id.isdigit() else campaign_id,
                        "campaign_name": names.get(campaign_id),
                        "status": "INPROGRESS",
                        "current_seq_num": row.get("sequence_number"),
                        "activities": [],
                    }
                timeline["activities"].append(dict(row))
        items = list(timelines.values())
        page = items[offset : offset + limit]
        return Reply(200, {"data": page, "hasMore": offset + limit < len(items)})

    @staticmethod
    def _has_event_between(row: dict[str, Any], low: datetime | None, high: datetime | None) -> bool:
        for name in ("sent_time", "open_time", "click_time", "reply_time"):
            value = row.get(name)
            if not isinstance(value, str) or not value:
                continue
            moment = parse_api_time(value)
            if (low is None or moment >= low) and (high is None or moment <= high):
                return True
        return False

    def _add_leads(self, campaign_id: str, request: Request) -> Reply:
        if campaign_id not in self.statistics:
            return Reply(404, {"message": "Campaign not found"})
        try:
            body = request.json()
        except ValueError:
            return Reply(400, {"message": "body is not JSON"})
        if not isinstance(body, dict) or not isinstance(body.get("lead_list"), list):
            return Reply(400, {"message": "lead_list is required and must be an array"})
        settings = body.get("settings")
        if not isinstance(settings, dict):
            return Reply(400, {"message": "settings is required and must be an object"})
        if set(settings) - LEAD_SETTINGS or not all(isinstance(value, bool) for value in settings.values()):
            return Reply(400, {"message": f"settings may only hold the booleans {sorted(LEAD_SETTINGS)}"})
        lead_list: list[Any] = body["lead_list"]
        if len(lead_list) > self.lead_cap:
            return Reply(400, {"message": f"lead_list can hold at most {self.lead_cap} leads"})
        if not all(isinstance(lead, dict) and isinstance(lead.get("email"), str) for lead in lead_list):
            return Reply(400, {"message": "every lead needs an email"})
        for lead in lead_list:
            custom_fields = lead.get("custom_fields", {})
            if not isinstance(custom_fields, dict) or not all(
                isinstance(name, str) and isinstance(value, str) for name, value in custom_fields.items()
            ):
                return Reply(400, {"message": "custom_fields must be an object of string values"})
        stored = self.leads.setdefault(campaign_id, {})
        seen: set[str] = set()
        counts = Counter[str]()
        invalid: list[str] = []
        unsubscribed: list[str] = []
        held = sum(len(campaign) for campaign in self.leads.values())
        for position, lead in enumerate(lead_list):
            if self.lead_limit is not None and held >= self.lead_limit:
                counts["lead_import_stopped_count"] = len(lead_list) - position
                break
            email = lead["email"].strip().lower()
            if email in seen:
                counts["duplicate_count"] += 1
                continue
            seen.add(email)
            if "@" not in email or email in self.invalid_emails:
                invalid.append(lead["email"])
                continue
            if email in stored:
                stored[email].update(lead)
                counts["already_added_to_campaign"] += 1
                continue
            if not settings.get("ignore_unsubscribe_list") and email in self.unsubscribed_emails:
                unsubscribed.append(lead["email"])
                continue
            if not settings.get("ignore_global_block_list") and self.is_blocked(email):
                counts["block_count"] += 1
                continue
            if not settings.get("ignore_community_bounce_list") and email in self.bounced_emails:
                counts["bounce_count"] += 1
                continue
            stored[email] = dict(lead)
            counts["added"] += 1
            held += 1
        self.uploads.append(body)
        if self.empty_lead_answers:
            return Reply(200, {})
        answer: dict[str, Any]
        if self.response_shape == "guide":
            answer = {"ok": True, "added_count": counts["added"], "skipped_count": len(lead_list) - counts["added"]}
        else:
            unsubscribed_leads: Any = unsubscribed
            if self.unsubscribed_as_objects:
                unsubscribed_leads = [{"email": e} for e in unsubscribed]
            elif self.unsubscribed_as_count:
                unsubscribed_leads = len(unsubscribed)
            answer = {
                "ok": True,
                "upload_count": len(lead_list) - counts["lead_import_stopped_count"],
                "total_leads": counts["added"],
                "already_added_to_campaign": counts["already_added_to_campaign"],
                "duplicate_count": counts["duplicate_count"],
                "invalid_email_count": len(invalid),
                "invalid_emails": invalid,
                "unsubscribed_leads": unsubscribed_leads,
                "block_count": counts["block_count"],
                "bounce_count": counts["bounce_count"],
                "is_lead_limit_exhausted": bool(counts["lead_import_stopped_count"]),
            }
            if counts["lead_import_stopped_count"]:
                answer["lead_import_stopped_count"] = counts["lead_import_stopped_count"]
        return Reply(200, {key: value for key, value in answer.items() if key not in self.omitted_answer_keys})

    def _add_block_list(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return Reply(400, {"message": "body is not JSON"})
        entries = body.get("domain_block_list") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not all(isinstance(entry, str) and entry.strip() for entry in entries):
            return Reply(400, {"message": "domain_block_list must be an array of domains or emails"})
        added = 0
        for entry in entries:
            value = entry.strip().lower()
            if value not in self.block_list:
                self.block_list.append(value)
                added += 1
        return Reply(200, {"ok": True, "message": f"{added} entries added", "added_count": added})


@contextmanager
def serve_smartlead(fake: FakeSmartlead) -> Iterator[RunningServer]:
    """Serve `fake`; the base URL returned ends with `/api/v1` like the real one."""
    with serve(fake) as server:
        yield RunningServer(base_url=f"{server.base_url}/api/v1", requests=server.requests)
