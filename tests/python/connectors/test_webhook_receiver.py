"""Smartlead webhook receiver (real HTTP on port 0) -> spool -> raw.smartlead_events (real DuckDB)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from loaders.smartlead import Spool, WebhookReceiver, load_event_files, load_spool
from loaders.smartlead.webhook_receiver import secret_matches

SECRET = "whsec-SHARED-0123456789"
REPO_ROOT = Path(__file__).resolve().parents[3]


class Paths:
    def __init__(self, tmp_path: Path) -> None:
        self.spool_dir = tmp_path / "webhook_spool"
        self.duckdb_path = tmp_path / "warehouse" / "outreach.duckdb"
        self.pipelines_dir = tmp_path / "dlt_pipelines"

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def event_count(self) -> int:
        return int(self.rows("select count(*) from raw.smartlead_events")[0][0])

    def spool_lines(self) -> list[str]:
        lines: list[str] = []
        for path in sorted(self.spool_dir.rglob("events-*.jsonl")):
            lines.extend(path.read_text(encoding="utf-8").splitlines())
        return lines

    def all_spool_text(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in self.spool_dir.rglob("*.jsonl"))

    def all_raw_text(self) -> str:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as connection:
            columns = connection.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where data_type = 'VARCHAR'"
            ).fetchall()
            parts: list[str] = []
            for schema, table, column in columns:
                values = connection.execute(f'select "{column}" from "{schema}"."{table}"').fetchall()
                parts.extend(str(value[0]) for value in values if value[0] is not None)
        return "\n".join(parts)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path)


@pytest.fixture
def receiver(paths: Paths) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(Spool(paths.spool_dir), SECRET) as running:
        yield running


def event(n: int, **extra: Any) -> dict[str, Any]:
    body = {
        "webhook_id": 9,
        "event_type": "EMAIL_REPLY",
        "event_timestamp": f"2026-11-20T10:{n // 60:02d}:{n % 60:02d}Z",
        "to_email": f"lead{n}@brand.example",
        "to_name": f"Lead {n}",
        "campaign_id": 101,
        "campaign_name": "Q4",
        "stats_id": f"st-{n}",
        "reply_message": {"text": f"reply {n}"},
        "secret_key": SECRET,
    }
    body.update(extra)
    return body


def post(url: str, body: Any, session: requests.Session | None = None) -> requests.Response:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return (session or requests).post(url, data=data, headers={"Content-Type": "application/json"}, timeout=10)


def test_bad_or_missing_secret_is_401_and_writes_nothing(receiver: WebhookReceiver, paths: Paths) -> None:
    assert post(receiver.url, event(1, secret_key="wrong")).status_code == 401
    assert post(receiver.url, event(2, secret_key=None)).status_code == 401
    no_secret = event(3)
    del no_secret["secret_key"]
    assert post(receiver.url, no_secret).status_code == 401
    assert post(receiver.url, event(4, secret_key=12345)).status_code == 401
    assert list(paths.spool_dir.glob("*.jsonl")) == []


def test_invalid_json_is_400_and_recorded_as_rejected(receiver: WebhookReceiver, paths: Paths) -> None:
    response = post(receiver.url, b'{"event_type": "EMAIL_REPLY", "secret_key": "' + SECRET.encode() + b'", oops')
    assert response.status_code == 400
    assert post(receiver.url, "[1, 2]").status_code == 400
    assert paths.spool_lines() == []
    rejected = [
        json.loads(line)
        for path in paths.spool_dir.glob("rejected-*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert [r["reason"].split(" ")[0] for r in rejected] == ["invalid", "event"]
    assert SECRET not in paths.all_spool_text()

    # nothing disappears: the spool load lands them in raw.rejected_records, secret redacted
    summary = load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)
    assert summary.rows_rejected == 2
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        rows = connection.execute(
            "select reason, raw_text from raw.rejected_records where source = 'smartlead' order by reason"
        ).fetchall()
    assert [reason.split(" ")[1] for reason, _ in rows] == ["event", "invalid"]
    assert all(SECRET not in text for _, text in rows)
    assert list(paths.spool_dir.glob("rejected-*.jsonl")) == []


def test_other_paths_and_methods(receiver: WebhookReceiver) -> None:
    base = receiver.url.rsplit("/webhooks/smartlead", 1)[0]
    assert post(f"{base}/elsewhere", event(1)).status_code == 404
    assert requests.get(receiver.url, timeout=5).status_code == 405
    assert post(receiver.url + "/", event(1)).status_code == 200  # trailing slash tolerated


def test_fifty_concurrent_deliveries_give_fifty_whole_lines(receiver: WebhookReceiver, paths: Paths) -> None:
    padding = "x" * 20_000  # big lines make interleaving visible if the lock were missing

    def deliver(n: int) -> int:
        return post(receiver.url, event(n, reply_message={"text": padding + str(n)})).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(deliver, range(50)))
    assert statuses == [200] * 50
    lines = paths.spool_lines()
    assert len(lines) == 50
    parsed = [json.loads(line) for line in lines]
    assert sorted(p["stats_id"] for p in parsed) == sorted(f"st-{n}" for n in range(50))
    assert all("secret_key" not in p for p in parsed)
    assert SECRET not in paths.all_spool_text()


def test_duplicates_collapse_and_secret_never_reaches_raw(receiver: WebhookReceiver, paths: Paths) -> None:
    for n in range(5):
        for _ in range(3 if n % 2 == 0 else 1):  # events 0, 2, 4 delivered three times
            assert post(receiver.url, event(n)).status_code == 200
    newer = {
        "event": "EMAIL_REPLIED",
        "timestamp": "2026-11-20T11:00:00Z",
        "lead": {"email": "nova@brand.example", "first_name": "No", "last_name": "Va"},
        "campaign": {"id": 101, "name": "Q4"},
        "secret_key": SECRET,
    }
    assert post(receiver.url, newer).status_code == 200
    assert post(receiver.url, newer).status_code == 200
    assert len(paths.spool_lines()) == 11 + 2

    summary = load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)
    assert summary.rows_loaded == 6
    assert paths.event_count() == 6
    assert paths.rows("select distinct source_kind from raw.smartlead_events") == [("webhook",)]
    assert paths.rows(
        "select to_email, to_name, event_type from raw.smartlead_events where campaign_name = 'Q4' "
        "and event_type = 'EMAIL_REPLIED'"
    ) == [("nova@brand.example", "No Va", "EMAIL_REPLIED")]
    assert SECRET not in paths.all_raw_text()
    assert SECRET not in paths.all_spool_text()
    # loaded files moved aside; nothing left to load
    assert list(paths.spool_dir.glob("events-*.jsonl")) == []
    assert list((paths.spool_dir / "processing").glob("*.jsonl")) == []
    assert len(list((paths.spool_dir / "loaded").glob("events-*.jsonl"))) == 1
    again = load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)
    assert again.rows_loaded == 0 and paths.event_count() == 6


def test_restart_and_loads_in_between_keep_every_acknowledged_event(paths: Paths) -> None:
    acknowledged: set[str] = set()

    def deliver(receiver: WebhookReceiver, numbers: range) -> None:
        for n in numbers:
            if post(receiver.url, event(n)).status_code == 200:
                acknowledged.add(f"st-{n}")

    first = WebhookReceiver(Spool(paths.spool_dir), SECRET).start()
    deliver(first, range(0, 10))
    first.stop()
    with pytest.raises(requests.ConnectionError):
        post(first.url, event(99))

    with WebhookReceiver(Spool(paths.spool_dir), SECRET) as second:
        deliver(second, range(10, 20))
        load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)  # while the server runs
        deliver(second, range(20, 30))
    load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)

    stored = {row[0] for row in paths.rows("select stats_id from raw.smartlead_events")}
    assert len(acknowledged) == 30
    assert stored == acknowledged


def test_crash_between_load_and_move_reloads_as_a_no_op(receiver: WebhookReceiver, paths: Paths) -> None:
    for n in range(4):
        post(receiver.url, event(n))
    spool = Spool(paths.spool_dir)
    claimed = spool.claim()
    load_event_files(claimed, paths.duckdb_path, paths.pipelines_dir, source_kind="webhook")
    # "crash": the files were never moved to loaded/
    post(receiver.url, event(4))
    load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)
    assert paths.event_count() == 5
    assert list((paths.spool_dir / "processing").glob("*.jsonl")) == []


def test_spool_rotates_by_hour_and_size(tmp_path: Path) -> None:
    moment = [datetime(2026, 11, 20, 10, 59, tzinfo=UTC)]
    spool = Spool(tmp_path / "spool", max_bytes=400, clock=lambda: moment[0])
    for n in range(3):
        spool.append_event(event(n))
    moment[0] += timedelta(minutes=2)
    spool.append_event(event(3))
    names = sorted(path.name for path in spool.event_files())
    assert names[0].startswith("events-20261120T10Z") and names[-1] == "events-20261120T11Z.jsonl"
    assert len(names) >= 3  # size rotation split the 10h file
    assert sum(len(p.read_text().splitlines()) for p in spool.event_files()) == 4


def test_secret_compare() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(SECRET + "x", SECRET)
    assert not secret_matches(None, SECRET)
    assert not secret_matches("", "")


def test_command_line_starts_the_server(paths: Paths) -> None:
    env = {**os.environ, "SMARTLEAD_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loaders.smartlead.webhook_receiver",
            "--port",
            "0",
            "--spool-dir",
            str(paths.spool_dir),
        ],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"listening on (http://[^\s,]+)", line)
            url = found.group(1) if found else None
        assert url, "the receiver did not report its address"
        assert post(url, event(1)).status_code == 200
        assert post(url, event(2, secret_key="nope")).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert len(paths.spool_lines()) == 1
    assert SECRET not in (process.stderr.read() if process.stderr else "")


def test_command_line_refuses_to_start_without_a_secret(paths: Paths, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SMARTLEAD_WEBHOOK_SECRET"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loaders.smartlead.webhook_receiver",
            "--port",
            "0",
            "--spool-dir",
            str(paths.spool_dir),
        ],
        cwd=tmp_path,  # no .dlt/secrets.toml there
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "SMARTLEAD_WEBHOOK_SECRET" in result.stderr


def _start_cli_receiver(paths: Paths, port: int) -> tuple[subprocess.Popen[str], str]:
    """`outreach webhook-receiver` in a subprocess; returns it once it listens, with its URL."""
    env = {**os.environ, "SMARTLEAD_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "webhook-receiver",
            "--port",
            str(port),
            "--spool-dir",
            str(paths.spool_dir),
        ],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://[^\s,]+)", process.stderr.readline())
        if found:
            return process, found.group(1)
    process.kill()
    raise AssertionError("the receiver did not report its address")


def test_sigkill_mid_stream_loses_no_acknowledged_delivery(paths: Paths) -> None:
    """Several threads deliver while the real CLI receiver is SIGKILLed and restarted: every
    delivery answered 200 is in RAW exactly once; a torn last line becomes a rejection."""
    with socket.socket() as probe:  # one port for both runs, so the senders never change URL
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    acknowledged: set[str] = set()
    unanswered: set[str] = set()  # connection errors: may or may not have been written
    lock = threading.Lock()
    stop = threading.Event()
    url = f"http://127.0.0.1:{port}/webhooks/smartlead"

    def sender(thread: int) -> None:
        with requests.Session() as session:
            for n in range(100_000):
                if stop.is_set():
                    return
                stats_id = f"st-{thread}-{n}"
                try:
                    body = event(n, stats_id=stats_id, to_email=f"t{thread}n{n}@brand.example")
                    status: int | None = post(url, body, session).status_code
                except requests.RequestException:
                    status = None
                with lock:
                    (acknowledged if status == 200 else unanswered).add(stats_id)
                if status is None:
                    time.sleep(0.02)

    def wait_for_acks(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(acknowledged) >= count

    first, _ = _start_cli_receiver(paths, port)
    threads = [threading.Thread(target=sender, args=(t,), daemon=True) for t in range(4)]
    try:
        for thread in threads:
            thread.start()
        wait_for_acks(60)
        first.send_signal(signal.SIGKILL)  # no shutdown, no flush: mid-stream
        first.wait(timeout=10)
        with lock:
            before_restart = len(acknowledged)
        # a write cut short by the kill: a torn last line (a delivery never answered 200)
        newest = max(paths.spool_dir.glob("events-*.jsonl"), key=lambda path: path.stat().st_mtime)
        with newest.open("ab") as handle:
            handle.write(b'{"event_type": "EMAIL_REPLY", "stats_id": "torn-')
        time.sleep(0.2)  # the senders meet a closed port meanwhile
        second, _ = _start_cli_receiver(paths, port)
        try:
            wait_for_acks(before_restart + 60)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
    finally:
        stop.set()
        first.kill()

    summary = load_spool(paths.spool_dir, paths.duckdb_path, paths.pipelines_dir)
    counts = dict(paths.rows("select stats_id, count(*) from raw.smartlead_events group by stats_id"))
    assert acknowledged <= set(counts), f"acknowledged but lost: {sorted(acknowledged - set(counts))[:5]}"
    assert set(counts) <= acknowledged | unanswered
    assert set(counts.values()) == {1}
    assert unanswered, "the kill should have met some deliveries"
    torn = paths.rows("select reason, raw_text from raw.rejected_records")
    assert len(torn) == 1 and torn[0][0].startswith("invalid JSON") and '"torn-' in torn[0][1]
    assert summary.rows_rejected == 1
