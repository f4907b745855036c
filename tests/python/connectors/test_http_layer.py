"""The shared HTTP layer (loaders/common/http.py) against a real local server."""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from loaders.common.http import ApiAuthError, ApiClient, ApiRequestError, RateLimiter, RetryPolicy
from tests.python.fakes.server import Reply, Request, RunningServer, serve

SECRET = "sk-live-DO-NOT-LEAK-7f3a9c"
OK = Reply(200, {"ok": True})


class Sleeps:
    """A fake `sleep` that records what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(*replies: Reply, then: Reply = OK) -> Callable[[Request], Reply]:
    """Replies in order, then `then` forever."""
    queue = list(replies)

    def handler(request: Request) -> Reply:
        return queue.pop(0) if queue else then

    return handler


class Swappable:
    """One server for the whole module (stopping a server costs ~0.5 s): each test sets its handler."""

    def __init__(self) -> None:
        self.handler: Callable[[Request], Reply] = scripted()

    def __call__(self, request: Request) -> Reply:
        return self.handler(request)


_SWAP = Swappable()
_SERVER: list[RunningServer] = []


@pytest.fixture(scope="module", autouse=True)
def _module_server() -> Iterator[None]:
    with serve(_SWAP) as server:
        _SERVER.append(server)
        yield
        _SERVER.clear()


@contextmanager
def client_for(
    handler: Callable[[Request], Reply], **policy: float
) -> Iterator[tuple[ApiClient, RunningServer, Sleeps]]:
    server = _SERVER[0]
    server.requests.clear()
    _SWAP.handler = handler
    sleeps = Sleeps()
    retry = RetryPolicy(**policy)  # type: ignore[arg-type]
    client = ApiClient(
        "smartscout",
        server.base_url,
        headers={"X-Api-Key": SECRET},
        retry=retry,
        sleep=sleeps,
        rng=random.Random(42),
    )
    try:
        yield client, server, sleeps
    finally:
        client.session.close()


def test_429_with_retry_after_sleeps_that_long() -> None:
    with client_for(scripted(Reply(429, {}, {"Retry-After": "2"}))) as (client, server, sleeps):
        assert client.request_json("GET", "/things") == {"ok": True}
    assert sleeps.calls == [2.0]
    assert client.calls == 2 and len(server.requests) == 2


def test_retry_after_zero_sleeps_the_floor_and_attempts_are_bounded() -> None:
    always = Reply(429, {}, {"Retry-After": "0"})
    with (
        client_for(scripted(then=always), max_attempts=3, retry_after_floor_seconds=0.5) as (client, server, sleeps),
        pytest.raises(ApiRequestError, match=r"HTTP 429; gave up after 3 attempts") as caught,
    ):
        client.request_json("GET", "/things")
    assert sleeps.calls == [0.5, 0.5]  # never 0: a zero Retry-After cannot make the client spin
    assert client.calls == 3 and len(server.requests) == 3
    assert caught.value.source == "smartscout"


def test_retry_after_is_capped_and_http_dates_are_understood() -> None:
    policy = RetryPolicy(retry_after_floor_seconds=1.0, retry_after_max_seconds=300.0)
    assert policy.retry_after("86400") == 300.0
    assert policy.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert policy.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 1.0  # in the past: floor
    assert policy.retry_after("soon") is None
    assert policy.retry_after(None) is None


def test_429_without_retry_after_backs_off_exponentially_with_jitter() -> None:
    always = Reply(429, {"message": "slow down"})
    with (
        client_for(
            scripted(then=always), max_attempts=6, backoff_base_seconds=1.0, backoff_max_seconds=10.0, jitter_ratio=0.25
        ) as (client, _, sleeps),
        pytest.raises(ApiRequestError, match="gave up after 6 attempts"),
    ):
        client.request_json("GET", "/things")
    assert len(sleeps.calls) == 5
    for attempt, delay in enumerate(sleeps.calls, start=1):
        nominal = min(10.0, 2 ** (attempt - 1))
        assert nominal * 0.75 <= delay <= nominal * 1.25, (attempt, delay)
    assert sleeps.calls[3] > sleeps.calls[0]  # grows
    assert len({round(d / min(10.0, 2**i), 6) for i, d in enumerate(sleeps.calls)}) > 1  # jittered


def test_500_500_200_succeeds_on_the_third_call() -> None:
    with client_for(scripted(Reply(500, {}), Reply(503, "oops"))) as (client, server, sleeps):
        assert client.request_json("POST", "/things", json={"a": 1}) == {"ok": True}
    assert client.calls == 3 and len(server.requests) == 3
    assert [request.json() for request in server.requests] == [{"a": 1}] * 3
    assert len(sleeps.calls) == 2


def test_a_timeout_is_retried_then_raises() -> None:
    slow = Reply(200, {"ok": True}, delay_seconds=1.0)
    with (
        client_for(scripted(then=slow), timeout_seconds=0.2, max_attempts=2) as (client, _, sleeps),
        pytest.raises(ApiRequestError, match="timed out; gave up after 2 attempts"),
    ):
        client.request_json("GET", "/slow")
    assert client.calls == 2 and len(sleeps.calls) == 1


def test_a_slow_reply_then_a_fast_one_succeeds() -> None:
    with client_for(scripted(Reply(200, {"late": True}, delay_seconds=1.0)), timeout_seconds=0.2) as (client, _, _s):
        assert client.request_json("GET", "/slow") == {"ok": True}
    assert client.calls == 2


def test_a_body_that_is_not_json_raises_request_error() -> None:
    with (
        client_for(scripted(then=Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"}))) as (
            client,
            _,
            _s,
        ),
        pytest.raises(ApiRequestError, match="not JSON: <html>maintenance</html>"),
    ):
        client.request_json("GET", "/things")
    assert client.calls == 1


def test_a_400_is_not_retried() -> None:
    with (
        client_for(scripted(then=Reply(400, {"detail": "marketplace is required"}))) as (client, _, sleeps),
        pytest.raises(ApiRequestError, match="failed with 400") as caught,
    ):
        client.request_json("GET", "/things")
    assert caught.value.status == 400
    assert client.calls == 1 and sleeps.calls == []


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_name_the_source_are_not_retried_and_hide_the_key(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        client_for(scripted(then=Reply(status, {"detail": f"bad key {SECRET[:4]}"}))) as (client, server, sleeps),
        pytest.raises(ApiAuthError) as caught,
    ):
        client.request_json("GET", "/things", params={"marketplace": "US"})
    error = caught.value
    assert error.source == "smartscout" and error.status == status
    assert str(error).startswith("smartscout: ") and "API key/token for smartscout" in str(error)
    assert client.calls == 1 and len(server.requests) == 1 and sleeps.calls == []
    assert server.requests[0].header("X-Api-Key") == SECRET  # sent, but never shown
    assert SECRET not in str(error)
    assert SECRET not in "".join(traceback.format_exception(error))
    assert SECRET not in caplog.text


def _query_auth_failure(caplog: pytest.LogCaptureFixture, level: int) -> tuple[ApiRequestError, str]:
    caplog.set_level(level)
    server = _SERVER[0]
    server.requests.clear()
    _SWAP.handler = scripted(then=Reply(503, {}))
    client = ApiClient(
        "smartlead",
        server.base_url,
        query_auth={"api_key": SECRET},
        retry=RetryPolicy(max_attempts=2),
        sleep=Sleeps(),
    )
    with pytest.raises(ApiRequestError) as caught:
        client.request_json("GET", "/campaigns/")
    assert server.requests[0].param("api_key") == SECRET
    return caught.value, caplog.text


def test_a_query_string_secret_is_not_in_errors_or_warning_logs(caplog: pytest.LogCaptureFixture) -> None:
    error, logs = _query_auth_failure(caplog, logging.INFO)
    assert "retry 1" in logs  # the retry warning is logged...
    assert SECRET not in logs and SECRET not in str(error)  # ...without the query string


def test_a_query_string_secret_is_not_in_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    _, logs = _query_auth_failure(caplog, logging.DEBUG)
    assert SECRET not in logs


def test_a_query_string_secret_is_not_in_a_connection_error_traceback() -> None:
    client = ApiClient(
        "smartlead",
        "http://127.0.0.1:9",  # nothing listens on the discard port
        query_auth={"api_key": SECRET},
        retry=RetryPolicy(max_attempts=1, timeout_seconds=0.5),
        sleep=Sleeps(),
    )
    with pytest.raises(ApiRequestError) as caught:
        client.request_json("GET", "/campaigns/")
    assert SECRET not in str(caught.value)
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_rate_limiter_allows_a_burst_then_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
    assert clock.sleeps == []  # the burst is free
    for _ in range(4):
        limiter.acquire()
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5, 0.5])  # then 2 per second
    clock.now += 0.25  # half a token back
    limiter.acquire()
    assert clock.sleeps[-1] == pytest.approx(0.25)
    clock.now += 3600  # an idle hour refills the bucket to the burst, not beyond
    for _ in range(3):
        limiter.acquire()
    assert len(clock.sleeps) == 5
    limiter.acquire()
    assert len(clock.sleeps) == 6


def test_the_client_paces_its_calls_through_the_limiter() -> None:
    clock = FakeClock()
    server = _SERVER[0]
    server.requests.clear()
    _SWAP.handler = scripted()
    client = ApiClient(
        "smartscout",
        server.base_url,
        rate_limiter=RateLimiter(4.0, burst=1, clock=clock, sleep=clock.sleep),
        sleep=clock.sleep,
    )
    for _ in range(3):
        client.request_json("GET", "/things")
    assert clock.sleeps == pytest.approx([0.25, 0.25])
    assert len(server.requests) == 3


def test_the_rate_limiter_refuses_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="requests_per_second must be positive"):
        RateLimiter(0)
