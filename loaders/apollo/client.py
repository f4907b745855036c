"""`ApolloApiClient`: the `PeopleFinder` over Apollo's REST API (shared HTTP layer).

- `GET {base}/organizations/enrich?domain=&name=` (1 credit per organization found): the
  brand's organization, by its domain when known, else by name;
- `POST {base}/mixed_people/api_search?organization_ids[]=...&person_seniorities[]=...` (free,
  no emails; needs a master key, else 403): the filters go in the query string, as the
  OpenAPI declares them, with no body;
- `POST {base}/people/bulk_match` with `{"details": [<= 10]}` (costs credits);
- calls that spend credits (`organizations/enrich`, `bulk_match`) are never resent after a 5xx
  or a read timeout: Apollo may have charged them;
- auth header `x-api-key`; the key never appears in errors or logs (the shared layer names the
  method and path only);
- pacing: a token bucket (`SOURCES__APOLLO__REQUESTS_PER_SECOND`); Apollo's limits are fixed
  windows per minute, hour and day, and its 429s carry no Retry-After but say which window
  ("... is 600 times per hour"): a per-minute 429 waits for the next minute window, an hourly or
  daily one stops the source for this run (waiting up to a day is not a run; retrying burns
  calls). A 2xx saying `x-minute-requests-left: 0` makes the next call wait for the next minute
  window; `x-hourly-requests-left: 0` / `x-daily-requests-left: 0` stop the source before it
  asks (the next call could only get a 429);
- a circuit breaker: `SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES` (default 6) failed requests in
  a row (retries included) stop the source for the run, so a dead Apollo costs seconds, not
  minutes per brand;
- concurrency: `SOURCES__APOLLO__CONCURRENCY` (default 1) threads may search at once
  (`enrich_brands` reads `concurrency`); the token bucket and the minute-window wait are shared
  by the threads, so they never go faster than the configured pace (a retry's backoff is per
  request: the thread that got the error waits).
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from loaders.apollo.helpers import normalize_domain
from loaders.apollo.settings import (
    BULK_MATCH_ENDPOINT,
    DEFAULT_SENIORITIES,
    DEFAULT_TITLES,
    MAX_BULK_MATCH,
    MAX_PER_PAGE,
    MAX_SEARCH_PAGES,
    ORGANIZATION_ENDPOINT,
    SEARCH_ENDPOINT,
)
from loaders.common.http import (
    ApiClient,
    ApiRequestError,
    CircuitBreaker,
    MissingSecretError,
    RateLimiter,
    RetryPolicy,
    SourceStoppedError,
    require_secret,
)
from loaders.common.settings_env import ConfigError, comma_list, integer, non_negative_float, positive_float

logger = logging.getLogger(__name__)

SOURCE = "apollo"
DEFAULT_BASE_URL = "https://api.apollo.io/api/v1"
DEFAULT_REQUESTS_PER_SECOND = 1.0
DEFAULT_TTL_DAYS = 30.0
API_KEY_ENV = "SOURCES__APOLLO__API_KEY"
API_KEY_DLT = "sources.apollo.api_key"
BASE_URL_ENV = "SOURCES__APOLLO__BASE_URL"
TITLES_ENV = "SOURCES__APOLLO__TITLES"
SENIORITIES_ENV = "SOURCES__APOLLO__SENIORITIES"
REQUESTS_PER_SECOND_ENV = "SOURCES__APOLLO__REQUESTS_PER_SECOND"
TTL_DAYS_ENV = "SOURCES__APOLLO__TTL_DAYS"
CONCURRENCY_ENV = "SOURCES__APOLLO__CONCURRENCY"
MAX_CONSECUTIVE_FAILURES_ENV = "SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES"
REVEAL_HOLD_HOURS_ENV = "SOURCES__APOLLO__REVEAL_HOLD_HOURS"
DEFAULT_CONCURRENCY = 1
MAX_CONCURRENCY = 16
# failed requests in a row (retries included) that stop the source: a brand's retries (4) plus
# two more, so one bad brand does not stop the run but a dead API stops it within ~20 s
DEFAULT_MAX_CONSECUTIVE_FAILURES = 6
# a person sent to a bulk_match whose answer was lost (5xx, timeout, kill) may have been charged:
# held this long, then asked again (0: ask again now)
DEFAULT_REVEAL_HOLD_HOURS = 24.0
MINUTE_REQUESTS_LEFT_HEADER = "x-minute-requests-left"
# quota left in Apollo's longer windows (legacy names, and the newer 24-hour one)
LONG_WINDOW_HEADERS = {
    "x-hourly-requests-left": "hourly",
    "x-daily-requests-left": "daily",
    "x-24-hour-requests-left": "24-hour",
}
MINUTE_WINDOW_SECONDS = 60.0
WINDOW_MARGIN_SECONDS = 1.0
# "The maximum number of api calls allowed for api/v1/people/bulk_match is 600 times per hour."
_LIMIT_IN_429 = re.compile(r"is\s+([\d,]+)\s+times\s+per\s+(minute|hour|day)", re.IGNORECASE)

# Transient 5xx and connection errors: 2, 4, 8 s. Rate limits are not retried by backoff: a
# per-minute 429 waits for the next window, an hourly or daily one stops the source.
APOLLO_RETRY_POLICY = RetryPolicy(max_attempts=4, backoff_base_seconds=2.0, backoff_max_seconds=60.0)


@dataclass(frozen=True)
class ApolloConfig:
    """Apollo connection settings; `api_key` is excluded from repr so it never lands in a log."""

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    titles: tuple[str, ...] = DEFAULT_TITLES
    seniorities: tuple[str, ...] = DEFAULT_SENIORITIES
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    ttl_days: float = DEFAULT_TTL_DAYS
    concurrency: int = DEFAULT_CONCURRENCY  # searches in flight at once (the pace is unchanged)
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES
    reveal_hold_hours: float = DEFAULT_REVEAL_HOLD_HOURS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApolloConfig:
        """Read SOURCES__APOLLO__* (the key may also be `sources.apollo.api_key` in dlt secrets).

        Raises `MissingSecretError` (naming the variable, never a value) when no key is set.
        """
        env = os.environ if environ is None else environ
        if environ is None:
            api_key = require_secret(SOURCE, API_KEY_ENV, API_KEY_DLT)
        else:  # an explicit mapping (tests): no fallback to the process environment
            api_key = environ.get(API_KEY_ENV) or ""
            if not api_key:
                raise MissingSecretError(SOURCE, f"no credential configured: set {API_KEY_ENV}")
        return cls(
            api_key=api_key,
            base_url=(env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/"),
            titles=comma_list(env.get(TITLES_ENV), DEFAULT_TITLES),
            seniorities=comma_list(env.get(SENIORITIES_ENV), DEFAULT_SENIORITIES),
            requests_per_second=positive_float(
                REQUESTS_PER_SECOND_ENV, env.get(REQUESTS_PER_SECOND_ENV), DEFAULT_REQUESTS_PER_SECOND
            ),
            ttl_days=positive_float(TTL_DAYS_ENV, env.get(TTL_DAYS_ENV), DEFAULT_TTL_DAYS),
            concurrency=_concurrency(env.get(CONCURRENCY_ENV)),
            max_consecutive_failures=_max_consecutive_failures(env.get(MAX_CONSECUTIVE_FAILURES_ENV)),
            reveal_hold_hours=non_negative_float(
                REVEAL_HOLD_HOURS_ENV, env.get(REVEAL_HOLD_HOURS_ENV), DEFAULT_REVEAL_HOLD_HOURS
            ),
        )


def _concurrency(value: str | None) -> int:
    number = integer(CONCURRENCY_ENV, value, DEFAULT_CONCURRENCY)
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ValueError(f"{CONCURRENCY_ENV} must be between 1 and {MAX_CONCURRENCY}, got {value!r}")
    return number


def _used_up_long_window(response: requests.Response) -> str | None:
    """`hourly` / `daily` / `24-hour` when a header says that window has no request left."""
    for header, window in LONG_WINDOW_HEADERS.items():
        left = response.headers.get(header)
        try:
            if left is not None and float(left) <= 0:
                return window
        except ValueError:
            continue
    return None


def _max_consecutive_failures(value: str | None) -> int:
    number = integer(MAX_CONSECUTIVE_FAILURES_ENV, value, DEFAULT_MAX_CONSECUTIVE_FAILURES)
    if number < 1:
        raise ConfigError(f"{MAX_CONSECUTIVE_FAILURES_ENV} must be at least 1, got {value!r}")
    return number


class ApolloApiClient:
    """A `PeopleFinder` that calls Apollo over HTTP.

    `sleep` and `clock` (wall-clock seconds, for the minute windows) are injectable so tests
    never wait; the same `sleep` paces the rate limiter and the retry backoff.
    """

    source_kind = "api"

    def __init__(
        self,
        config: ApolloConfig,
        *,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._window_resumes_at: float | None = None
        self._window_lock = threading.Lock()
        self.concurrency = max(1, min(MAX_CONCURRENCY, config.concurrency))
        self.reveal_hold_hours = config.reveal_hold_hours
        self.breaker = CircuitBreaker(SOURCE, config.max_consecutive_failures, MAX_CONSECUTIVE_FAILURES_ENV)
        self.http = ApiClient(
            SOURCE,
            config.base_url,
            headers={"x-api-key": config.api_key},
            rate_limiter=RateLimiter(config.requests_per_second, sleep=sleep),
            retry=retry or APOLLO_RETRY_POLICY,
            session=session,
            sleep=sleep,
            rng=rng,
            breaker=self.breaker,
            on_rate_limited=self._rate_limited,
        )

    @classmethod
    def from_env(cls, **kwargs: Any) -> ApolloApiClient:
        return cls(ApolloConfig.from_env(), **kwargs)

    @property
    def calls(self) -> int:
        """HTTP requests actually sent (retries included)."""
        return self.http.calls

    def find_organization(self, *, domain: str | None, name: str) -> dict[str, Any]:
        """`organizations/enrich` by domain (and name, which improves the match) or by name alone:
        `{"organization": {...}}`, or `{}` when Apollo knows none. Costs a credit when found, so
        it is never resent after a 5xx or a read timeout."""
        params: dict[str, str] = {}
        if normalized := normalize_domain(domain):
            params["domain"] = normalized
        if name.strip():
            params["name"] = name.strip()
        if not params:
            raise ValueError("an organization is looked up by domain or name: neither was given")
        return self._call("GET", ORGANIZATION_ENDPOINT, params=params, idempotent=False)

    def search_people(
        self,
        *,
        organization_ids: Sequence[str],
        titles: Sequence[str],
        seniorities: Sequence[str],
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> dict[str, Any]:
        """One page of `mixed_people/api_search` (free; no emails) for the people of the given
        Apollo organizations. The parameters go in the query string, as the API documents them."""
        if not 1 <= page <= MAX_SEARCH_PAGES:
            raise ValueError(f"Apollo search pages run from 1 to {MAX_SEARCH_PAGES}, got {page}")
        if not organization_ids:
            raise ValueError("a people search needs the organization ids to search in")
        params: dict[str, Any] = {
            "organization_ids[]": list(organization_ids),
            "page": page,
            "per_page": max(1, min(MAX_PER_PAGE, per_page)),
        }
        if titles:
            params["person_titles[]"] = list(titles)
        if seniorities:
            params["person_seniorities[]"] = list(seniorities)
        return self._call("POST", SEARCH_ENDPOINT, params=params)

    def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Reveal up to 10 people (`people/bulk_match`; credits are charged per match found)."""
        if len(details) > MAX_BULK_MATCH:
            raise ValueError(f"bulk_match accepts at most {MAX_BULK_MATCH} details, got {len(details)}")
        if not details:
            return {"status": "success", "credits_consumed": 0, "matches": []}
        # credits are spent server-side: never resend after a 5xx or a read timeout
        body = {"details": [dict(detail) for detail in details]}
        response = self._call("POST", BULK_MATCH_ENDPOINT, json=body, idempotent=False)
        if str(response.get("status") or "").casefold() == "failed":
            code = response.get("error_code") or "unknown"
            raise ApiRequestError(SOURCE, f"POST {BULK_MATCH_ENDPOINT} failed: {code}")
        matches = response.get("matches")
        if not isinstance(matches, list) or len(matches) != len(details):
            raise ApiRequestError(
                SOURCE, f"POST {BULK_MATCH_ENDPOINT} returned no `matches` list of {len(details)} entries"
            )
        return response

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        self.breaker.check()  # stopped: not even a wait for the minute window
        self._wait_for_minute_window()
        response = self.http.request(
            method, path, params=params, json=None if json is None else dict(json), idempotent=idempotent
        )
        self._note_rate_headers(response)
        try:
            payload = response.json()
        except ValueError as error:
            raise ApiRequestError(
                SOURCE, f"{method} {path} returned a body that is not JSON", response.status_code
            ) from error
        if not isinstance(payload, dict):
            raise ApiRequestError(SOURCE, f"{method} {path} returned {type(payload).__name__}, not an object")
        return payload

    def _rate_limited(self, where: str, response: requests.Response) -> float | None:
        """A 429: wait for the next minute window, or stop the source when the hourly or daily
        limit is used up (it resets long after a run should wait: the next run goes on)."""
        limit = _LIMIT_IN_429.search(response.text or "")
        period = limit.group(2).casefold() if limit else None
        used_up = _used_up_long_window(response)
        if period in {"hour", "day"} or used_up:
            said = f"{limit.group(1)} calls per {period}" if limit else f"its {used_up} quota"
            self.breaker.stop(
                SourceStoppedError(
                    SOURCE,
                    f"{where} answered 429: Apollo's limit of {said} is used up, so apollo stopped until "
                    "the next run (what was paid for is kept; the brands not looked up are looked up next "
                    "run): run `outreach enrich` again after the window resets, or ask Apollo for a higher limit",
                    429,
                )
            )
        if period == "minute" or response.headers.get(MINUTE_REQUESTS_LEFT_HEADER) is not None:
            now = self._clock()
            return now - now % MINUTE_WINDOW_SECONDS + MINUTE_WINDOW_SECONDS - now + WINDOW_MARGIN_SECONDS
        return None  # no window named: the shared backoff

    def _note_rate_headers(self, response: requests.Response) -> None:
        if used_up := _used_up_long_window(response):
            # this answer is kept; the next call could only get a 429, so it is never sent
            self.breaker.stop(
                SourceStoppedError(
                    SOURCE,
                    f"Apollo's {used_up} quota is used up (a `requests-left: 0` header), so apollo stopped "
                    "until the next run (what was paid for is kept): run `outreach enrich` again after the "
                    "window resets, or ask Apollo for a higher limit",
                ),
                raise_now=False,
            )
        left = response.headers.get(MINUTE_REQUESTS_LEFT_HEADER)
        if left is None:
            return
        try:
            remaining = int(float(left))
        except ValueError:
            return
        if remaining <= 0:
            now = self._clock()
            with self._window_lock:
                self._window_resumes_at = now - now % MINUTE_WINDOW_SECONDS + MINUTE_WINDOW_SECONDS

    def _wait_for_minute_window(self) -> None:
        """Every call (of any thread) made before the window resumes waits for it; the mark is
        cleared by the first call after it."""
        with self._window_lock:
            if self._window_resumes_at is None:
                return
            wait = self._window_resumes_at - self._clock()
            if wait <= 0:
                self._window_resumes_at = None
                return
        wait = min(wait, MINUTE_WINDOW_SECONDS) + WINDOW_MARGIN_SECONDS
        logger.info("%s: minute quota used up, waiting %.1fs for the next window", SOURCE, wait)
        self._sleep(wait)
