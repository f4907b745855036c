"""What a stranger (or one odd event) can do to the webhook receiver: real HTTP and raw sockets
against the receiver on a free port, with small limits and a fake clock so nothing waits long."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.common.settings_env import ConfigError
from loaders.smartlead import Spool, WebhookReceiver, load_spool, webhook_receiver
from loaders.smartlead.helpers import parse_event_blob
from loaders.smartlead.webhook_receiver import ReceiverLimits

SECRET = "whsec-SHARED-0123456789"
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ESCAPED_DASH = "\\u002d"
FAST = ReceiverLimits(
    max_body_bytes=2_000,
    read_timeout_seconds=0.3,
    max_connections=2,
    rejected_per_minute=3,
    rejected_trace_chars=60,
    rejected_max_bytes=100_000,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def start(spool_dir: Path, limits: ReceiverLimits = FAST, clock: Any = time.monotonic) -> WebhookReceiver:
    return WebhookReceiver(Spool(spool_dir), SECRET, limits=limits, clock=clock).start()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def receiver(spool_dir: Path) -> Iterator[WebhookReceiver]:
    running = start(spool_dir)
    yield running
    running.stop()


def traces(spool_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(spool_dir.rglob("rejected-*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def spool_text(spool_dir: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in spool_dir.rglob("*.jsonl"))


def raw_exchange(receiver: WebhookReceiver, request: bytes, *, wait: float = 2.0) -> bytes:
    """Send `request` as is and read until the server closes (or `wait` seconds pass)."""
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=wait) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def wait_until_served(receiver: WebhookReceiver) -> None:
    """GET /health until it is 200 (not 503: connections still held), within 3 s."""
    deadline = time.monotonic() + 3
    while requests.get(receiver.health_url, timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "the connection slots were never freed"


def post(receiver: WebhookReceiver, body: str | bytes) -> requests.Response:
    return requests.post(receiver.url, data=body, headers={"Content-Type": "application/json"}, timeout=5)


def test_an_authenticated_event_with_a_lone_surrogate_is_answered_and_kept_as_a_rejection(
    receiver: WebhookReceiver, spool_dir: Path, tmp_path: Path
) -> None:
    body = '{"event_type": "EMAIL_REPLY", "to_email": "a@b.io", "reply_message": {"text": "hi \\ud83d"}, '
    response = post(receiver, body + f'"secret_key": "{SECRET}"}}')
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["error"] and "`reply_message.text`" in response.json()["error"]
    assert post(receiver, json.dumps({"event_type": "EMAIL_REPLY", "secret_key": SECRET})).status_code == 200

    [trace] = traces(spool_dir)
    assert "\\ud83d" in trace["body"] and SECRET not in spool_text(spool_dir)
    duckdb_path = tmp_path / "w.duckdb"
    summary = load_spool(spool_dir, duckdb_path, tmp_path / "dlt")
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        [(reason, raw_text)] = connection.execute("select reason, raw_text from raw.rejected_records").fetchall()
    assert "lone surrogate" in reason and "secret_key" not in raw_text


def test_unparsable_deliveries_leave_capped_rate_limited_traces(spool_dir: Path) -> None:
    clock = Clock()
    receiver = start(spool_dir, clock=clock)
    try:
        statuses = [post(receiver, "not json " + "x" * 500 + str(n)).status_code for n in range(20)]
        assert statuses == [400] * 20
        first = traces(spool_dir)
        assert len(first) == 3  # rejected_per_minute
        assert all(len(trace["body"]) <= 60 + len(" [cut]") for trace in first)
        clock.now += 20  # a third of a minute: one more trace allowed
        assert post(receiver, "still not json").status_code == 400
        latest = traces(spool_dir)[-1]
        assert len(traces(spool_dir)) == 4 and "17 similar deliveries before this one left no trace" in latest["reason"]
        # a wrong secret never leaves a trace
        assert post(receiver, json.dumps({"event_type": "X", "secret_key": "guess"})).status_code == 401
        assert len(traces(spool_dir)) == 4
    finally:
        receiver.stop()


def test_no_trace_beyond_the_size_of_the_unloaded_rejected_spool(spool_dir: Path) -> None:
    receiver = start(spool_dir, ReceiverLimits(rejected_per_minute=1_000, rejected_max_bytes=1_000))
    try:
        assert {post(receiver, "garbage " * 50).status_code for _ in range(30)} == {400}
    finally:
        receiver.stop()
    size = sum(path.stat().st_size for path in spool_dir.glob("rejected-*.jsonl"))
    assert 1_000 <= size < 1_000 + 700  # one trace past the bound at most


@pytest.mark.parametrize(
    "secret_key",
    ["secret_key", "secret\\u005fkey", "Secret-Key", "SECRETKEY", "secret key", "secret\\u005Fke\\u0079", "secretKey"],
)
def test_a_secret_however_spelled_is_never_stored(receiver: WebhookReceiver, spool_dir: Path, secret_key: str) -> None:
    broken = f'{{"event_type": "X", "{secret_key}": "{SECRET}", oops'
    not_an_object = f'[{{"{secret_key}": "{SECRET}"}}]'
    escaped_value = f'{{"{secret_key}": "{SECRET.replace("-", ESCAPED_DASH)}", oops'
    nested = json.dumps({"event_type": "X", "secret_key": SECRET, "lead": {"x": 1}})[:-1]
    nested += f', "note": {{"{secret_key}": "{SECRET}"}}}}'
    for body in (broken, not_an_object, escaped_value):
        assert post(receiver, body).status_code == 400
    assert post(receiver, nested).status_code == 200
    stored = spool_text(spool_dir)
    assert SECRET not in stored and SECRET.split("-")[-1] not in stored
    assert len(traces(spool_dir)) == 3


def test_aborted_deliveries_leave_nothing(receiver: WebhookReceiver, spool_dir: Path) -> None:
    head = b"POST /webhooks/smartlead HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", receiver.port)) as connection:
            connection.sendall(head + b'{"event_type": "EMAIL_REP')  # then the client goes away
    wait_until_served(receiver)  # their threads end: the connection slots free up
    assert list(spool_dir.glob("*.jsonl")) == []


def test_idle_and_slow_connections_are_closed_after_the_read_timeout(receiver: WebhookReceiver) -> None:
    started = time.monotonic()
    assert raw_exchange(receiver, b"") == b""  # idle: the server hangs up, nothing to answer
    slow_body = raw_exchange(receiver, b"POST /webhooks/smartlead HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
    assert slow_body.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 1.9  # two read timeouts of 0.3 s, not the client's 2 s


def test_connections_beyond_the_bound_get_503_without_a_thread(receiver: WebhookReceiver) -> None:
    idle = [socket.create_connection(("127.0.0.1", receiver.port)) for _ in range(2)]
    try:
        busy = requests.get(receiver.health_url, timeout=5)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    finally:
        for connection in idle:
            connection.close()
    wait_until_served(receiver)


def test_a_body_too_large_gets_413_before_it_is_sent(receiver: WebhookReceiver, spool_dir: Path) -> None:
    head = "POST /webhooks/smartlead HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n"
    assert raw_exchange(receiver, (head + "\r\n").encode()).startswith(b"HTTP/1.1 413")  # no body sent at all
    expect = raw_exchange(receiver, (head + "Expect: 100-continue\r\n\r\n").encode())
    assert expect.startswith(b"HTTP/1.1 413") and b"100 Continue" not in expect
    chunked = "POST /webhooks/smartlead HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert raw_exchange(receiver, chunked.encode()).startswith(b"HTTP/1.1 411")
    assert list(spool_dir.glob("*.jsonl")) == []


def test_health(receiver: WebhookReceiver) -> None:
    assert requests.get(receiver.health_url, timeout=5).json() == {"ok": True}
    assert requests.head(receiver.health_url, timeout=5).status_code == 200
    assert requests.get(receiver.url, timeout=5).status_code == 405


def test_limits_come_from_the_environment_and_a_bad_one_is_one_line(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    limits = ReceiverLimits.from_env(
        {"SMARTLEAD_WEBHOOK_MAX_CONNECTIONS": "5", "SMARTLEAD_WEBHOOK_READ_TIMEOUT_SECONDS": "2.5"}
    )
    assert (limits.max_connections, limits.read_timeout_seconds, limits.max_body_bytes) == (5, 2.5, 1_000_000)
    with pytest.raises(ConfigError, match="SMARTLEAD_WEBHOOK_MAX_CONNECTIONS must be at least 1"):
        ReceiverLimits.from_env({"SMARTLEAD_WEBHOOK_MAX_CONNECTIONS": "0"})
    monkeypatch.setenv("SMARTLEAD_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SMARTLEAD_WEBHOOK_MAX_BODY_BYTES", "1MB")
    assert webhook_receiver.main(["--port", "0", "--spool-dir", str(spool_dir)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == "error: SMARTLEAD_WEBHOOK_MAX_BODY_BYTES must be an integer, got '1MB'"


# --------------------------------------------------------------------------- properties over HTTP

TEXT = st.text(st.characters(codec=None), max_size=10)  # lone surrogates included
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
EVENTS = st.dictionaries(TEXT, JSON_VALUES, max_size=4).map(lambda event: {**event, "secret_key": SECRET})
BODIES = (
    st.binary(max_size=200)
    | TEXT.map(lambda text: text.encode("utf-8", "surrogatepass"))
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
    | EVENTS.map(lambda event: json.dumps(event).encode())
    | st.binary(min_size=2_001, max_size=2_100)  # over max_body_bytes
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookReceiver]:
    limits = ReceiverLimits(max_body_bytes=2_000, read_timeout_seconds=2.0, rejected_per_minute=100_000)
    running = start(tmp_path_factory.mktemp("shared") / "spool", limits)
    yield running
    running.stop()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(BODIES)
def test_every_delivery_gets_an_answer_and_every_line_in_the_spool_is_loadable(
    shared: WebhookReceiver, body: bytes
) -> None:
    spool = shared.server.spool
    events_before, traces_before = _lines(spool.directory, "events-"), _lines(spool.directory, "rejected-")
    with requests.Session() as session:
        status = session.post(shared.url, data=body, timeout=5).status_code
    assert status in {200, 400, 401, 413}
    events_after, traces_after = _lines(spool.directory, "events-"), _lines(spool.directory, "rejected-")
    assert len(events_after) - len(events_before) == (1 if status == 200 else 0)
    assert len(traces_after) - len(traces_before) == (1 if status == 400 else 0)
    blob = b"".join(line + b"\n" for line in events_after + traces_after)
    assert SECRET.encode() not in blob
    for path in spool.directory.glob("events-*.jsonl"):  # rows in = rows loaded + rows rejected, per file
        data = path.read_bytes()
        table, rejected = parse_event_blob(data, 1, path.name, "webhook", AT)
        lines = {line for line in data.splitlines() if line.strip()}
        assert rejected == [] and 0 < table.num_rows <= len(lines)  # the same event twice is one row


def _lines(directory: Path, prefix: str) -> list[bytes]:
    return [line for path in sorted(directory.glob(f"{prefix}*.jsonl")) for line in path.read_bytes().splitlines()]
