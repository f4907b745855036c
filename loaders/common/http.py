"""One small HTTP layer for every vendor API (sources and, later, the reverse ETL).

- timeouts on every call;
- retries with exponential backoff and jitter on 429, 5xx, connection errors and timeouts;
- `Retry-After` honoured (seconds or HTTP date) with a floor, so `Retry-After: 0` cannot spin,
  and a ceiling, so a hostile value cannot park the run for a day;
- a token-bucket rate limiter per client (one client per API);
- 401/403 raise `ApiAuthError` naming the source, and are never retried;
- an optional `CircuitBreaker`: after N failed requests in a row (retries included) the source
  stops for the run (`SourceStoppedError`) instead of retrying brand after brand against a dead
  API; an optional `on_rate_limited` hook reads a 429 (the wait it asks for, or a stop when the
  limit resets much later than a run should wait);
- secrets never appear in logs or error messages: errors name the method and the path only,
  never the query string (Smartlead puts `api_key` there) or headers.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from loaders.common.settings_env import ConfigError

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
BODY_EXCERPT_CHARS = 300
DEFAULT_USER_AGENT = "brand-outreach-warehouse/0.1 (+python-requests)"


_SECRET_IN_QUERY = re.compile(r"((?:api_key|apikey|access_token|token)=)[^&\s\"']+", re.IGNORECASE)


class RedactQuerySecretsFilter(logging.Filter):
    """urllib3 logs request URLs, query string included, at DEBUG: blank secrets out of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message and _SECRET_IN_QUERY.search(message):
            record.msg = _SECRET_IN_QUERY.sub(r"\1[REDACTED]", message)
            record.args = ()
        return True


_REDACT_FILTER = RedactQuerySecretsFilter()


def install_url_redaction() -> None:
    """Idempotent: attach the redaction filter to the loggers that print request URLs."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
        target = logging.getLogger(name)
        if _REDACT_FILTER not in target.filters:
            target.addFilter(_REDACT_FILTER)


class ApiError(RuntimeError):
    """A call to a vendor API failed for good."""

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.status = status


class ApiAuthError(ApiError):
    """The key or token was refused (401/403): fix the credentials; retrying cannot help."""


class ApiRequestError(ApiError):
    """A non-retryable error status, exhausted retries, or a body that is not valid JSON."""


class MissingSecretError(ApiError):
    """No credential is configured for an API."""


class SourceStoppedError(ApiError):
    """The source stopped for this run (failures in a row, or a rate limit that resets much later):
    what was done is kept, the rest is left for the next run."""


class CircuitBreaker:
    """Counts failed requests in a row (5xx, 429, connection errors, timeouts; any answer that is
    not one resets it). At `max_consecutive_failures` it opens: that request and every later one
    raise `SourceStoppedError`. `stop` opens it with another reason (a long rate-limit lockout).
    Thread-safe: one breaker per API client, shared by its threads."""

    def __init__(self, source: str, max_consecutive_failures: int, setting: str) -> None:
        if max_consecutive_failures < 1:
            raise ValueError(f"{setting} must be at least 1, got {max_consecutive_failures}")
        self.source = source
        self.max_consecutive_failures = max_consecutive_failures
        self.setting = setting  # named in the error: the knob an operator may turn
        self.failures_in_a_row = 0
        self.stopped: SourceStoppedError | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        if self.stopped is not None:
            raise self.stopped

    def succeeded(self) -> None:
        with self._lock:
            self.failures_in_a_row = 0

    def failed(self, where: str, reason: str, status: int | None = None) -> None:
        with self._lock:
            self.failures_in_a_row += 1
            if self.stopped is None and self.failures_in_a_row >= self.max_consecutive_failures:
                self.stopped = SourceStoppedError(
                    self.source,
                    f"stopped for this run after {self.failures_in_a_row} failed requests in a row "
                    f"(last: {where} {reason}); what was paid for is kept, the rest is retried by the next run: "
                    f"check the API's status page, or raise {self.setting} to tolerate longer outages",
                    status,
                )
        self.check()

    def stop(self, error: SourceStoppedError, *, raise_now: bool = True) -> None:
        """Open with `error`; `raise_now=False` lets the current answer through (the next call stops)."""
        with self._lock:
            if self.stopped is None:
                self.stopped = error
        if raise_now:
            self.check()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    jitter_ratio: float = 0.25
    retry_after_floor_seconds: float = 1.0
    retry_after_max_seconds: float = 300.0
    timeout_seconds: float = 60.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number `attempt` (1-based) when the server gave no Retry-After."""
        delay = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return delay * (1 + rng.uniform(-self.jitter_ratio, self.jitter_ratio))

    def retry_after(self, header: str | None, now: float | None = None) -> float | None:
        """Seconds to wait from a Retry-After header, clamped to [floor, max]; None if absent/unreadable."""
        if header is None or not header.strip():
            return None
        value = header.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            seconds = moment.timestamp() - (now if now is not None else time.time())
        return min(self.retry_after_max_seconds, max(self.retry_after_floor_seconds, seconds))


class RateLimiter:
    """Token bucket: at most `requests_per_second` on average, bursts up to `burst`. Thread-safe."""

    def __init__(
        self,
        requests_per_second: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {requests_per_second}")
        self.rate = requests_per_second
        self.capacity = max(1, burst)
        self._tokens = float(self.capacity)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            wait = (1 - self._tokens) / self.rate
            self._sleep(wait)
            self._tokens = 0.0
            self._updated = self._clock()


# the placeholders of .dlt/secrets.toml.example (`<smartlead-api-key>`): a copied example is no key
_PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")
SECRETS_FILE = ".dlt/secrets.toml"


def resolve_secret(env_name: str, dlt_key: str | None = None) -> str | None:
    """A credential from the environment (e.g. SOURCES__SMARTSCOUT__API_KEY) or dlt secrets.
    None when not configured, or still the example file's `<...>` placeholder. A secrets file
    that cannot be read is a `ConfigError` naming it (never "no key": that would hide it)."""
    value = os.environ.get(env_name)
    if value and not _PLACEHOLDER.match(value):
        return value
    if dlt_key:
        import dlt
        from dlt.common.configuration.exceptions import ConfigProviderException

        try:
            secret: Any = dlt.secrets.get(dlt_key)
        except ConfigProviderException as error:
            # dlt's message ends with the parser's position ("... at line 2 col 14"), never a value
            reason = str(error).strip().splitlines()[-1]
            raise ConfigError(
                f"{SECRETS_FILE} cannot be read ({reason}): fix its TOML syntax (compare with "
                f"{SECRETS_FILE}.example) or remove it and use environment variables"
            ) from None
        if secret and not _PLACEHOLDER.match(str(secret)):
            return str(secret)
    return None


def require_secret(source: str, env_name: str, dlt_key: str | None = None) -> str:
    secret = resolve_secret(env_name, dlt_key)
    if not secret:
        where = f"environment variable {env_name}" + (f" or `{dlt_key}` in {SECRETS_FILE}" if dlt_key else "")
        raise MissingSecretError(source, f"no credential configured: set {where}")
    return secret


class ApiClient:
    """Requests to one API, with auth, pacing and retries. Returns only 2xx responses."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        query_auth: Mapping[str, str] | None = None,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        on_rate_limited: Callable[[str, requests.Response], float | None] | None = None,
    ) -> None:
        """`on_rate_limited(where, response)` reads a 429: the seconds to wait before the retry
        (None: Retry-After or backoff), or raises `SourceStoppedError` to stop the source."""
        install_url_redaction()
        self.breaker = breaker
        self._on_rate_limited = on_rate_limited
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.rate_limiter = rate_limiter
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": DEFAULT_USER_AGENT, "Accept": "application/json"})
        self.session.headers.update(dict(headers or {}))
        self._query_auth = dict(query_auth or {})
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.calls = 0  # HTTP requests actually sent, retries included
        self._calls_lock = threading.Lock()  # a client may be shared by threads (Apollo searches)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send with retries. A call that must not run twice (e.g. one that spends credits) passes
        `idempotent=False`: it is then retried only when the server surely did not act on it
        (429, or the connection could not be made), never after a 5xx or a read timeout."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = {**dict(params or {}), **self._query_auth}
        where = f"{method} {path}"  # safe to show: no query string, no headers
        for attempt in range(1, self.retry.max_attempts + 1):
            if self.breaker is not None:
                self.breaker.check()  # stopped (by another thread, or an earlier call): send nothing
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            with self._calls_lock:
                self.calls += 1
            failure: str | None = None
            try:
                response = self.session.request(
                    method, url, params=query or None, json=json, timeout=self.retry.timeout_seconds
                )
            except requests.ConnectTimeout:
                failure = "connection timed out"
            except requests.Timeout:
                if not idempotent:
                    self._count_failure(where, "timed out")
                    raise ApiRequestError(
                        self.source, f"{where} timed out; not retried (may have been applied)"
                    ) from None
                failure = "timed out"
            except requests.ConnectionError:
                failure = "connection failed"
            if failure is not None:
                # raised outside the `except` so no traceback carries the full URL
                self._count_failure(where, failure)
                self._wait_or_give_up(attempt, where, failure, None, None)
                continue
            status = response.status_code
            if status in AUTH_STATUSES:
                raise ApiAuthError(
                    self.source,
                    f"{where} was refused with {status}: check the API key/token for {self.source}",
                    status,
                )
            if status == 429:
                wait = self._on_rate_limited(where, response) if self._on_rate_limited is not None else None
                self._count_failure(where, "HTTP 429", status)
                self._wait_or_give_up(attempt, where, "HTTP 429", response.headers.get("Retry-After"), status, wait)
                continue
            if status in RETRYABLE_STATUSES:
                self._count_failure(where, f"HTTP {status}", status)
                if idempotent:
                    self._wait_or_give_up(attempt, where, f"HTTP {status}", response.headers.get("Retry-After"), status)
                    continue
            elif self.breaker is not None:
                self.breaker.succeeded()  # the server answered: it is up
            if status >= 400:
                raise ApiRequestError(self.source, f"{where} failed with {status}: {_excerpt(response.text)}", status)
            return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> Any:
        response = self.request(method, path, params=params, json=json, idempotent=idempotent)
        try:
            return response.json()
        except ValueError:
            raise ApiRequestError(
                self.source,
                f"{method} {path} returned a body that is not JSON: {_excerpt(response.text)}",
                response.status_code,
            ) from None

    def _count_failure(self, where: str, reason: str, status: int | None = None) -> None:
        if self.breaker is not None:
            self.breaker.failed(where, reason, status)  # raises once too many failed in a row

    def _wait_or_give_up(
        self,
        attempt: int,
        where: str,
        reason: str,
        retry_after: str | None,
        status: int | None,
        wait: float | None = None,
    ) -> None:
        if attempt >= self.retry.max_attempts:
            raise ApiRequestError(self.source, f"{where} {reason}; gave up after {attempt} attempts", status)
        delay = wait if wait is not None else self.retry.retry_after(retry_after)
        if delay is None:
            delay = self.retry.backoff(attempt, self._rng)
        logger.warning("%s: %s %s, retry %d in %.1fs", self.source, where, reason, attempt, delay)
        self._sleep(delay)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:BODY_EXCERPT_CHARS] + ("…" if len(flat) > BODY_EXCERPT_CHARS else "")
