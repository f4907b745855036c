"""Alerts (issue 16): each condition that needs a person is posted once to the webhook when it
starts and once when it clears, recorded in `pipeline_ops.alerts`, and a failing webhook never
changes a command's outcome. A real HTTP listener on a free port stands in for Slack; the CLI cases
run cheap commands on copies of the demo warehouse, the row-count deviation runs the alerting
function on a small DuckDB file with a crafted run log."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.alerts import WEBHOOK_URL_ENV, AlertSettings, send_alerts
from pipeline.settings import Settings
from tests.python.cli_runner import PipelineRun, run_outreach
from warehouse_layer import connect
from warehouse_layer.run_log import ensure_run_log

# the secret part of the webhook URL: never printed
SECRET_TOKEN = "T000-secret-token-B000"


class Webhook:
    """A Slack-like incoming webhook: records each JSON body, answers `status`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                webhook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(webhook.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if webhook.status == 200 else b"error")

            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{SECRET_TOKEN}"

    def texts(self) -> list[str]:
        return [str(body["text"]) for body in self.bodies]

    def take(self) -> list[str]:
        """The texts posted since the last call."""
        texts, self.bodies = self.texts(), []
        return texts


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    listener = Webhook()
    thread = threading.Thread(target=listener.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        listener.server.shutdown()
        listener.server.server_close()


@pytest.fixture
def warehouse_copy(demo_run: PipelineRun, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(demo_run.duckdb_path, tmp_path / "outreach.duckdb"))


def alert_rows(path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "select alert_key, state, response_status, delivered, sent_at is not null "
            "from pipeline_ops.alerts order by sent_at, alert_key"
        ).fetchall()


def keys_posted(webhook: Webhook) -> set[str]:
    return {re.search(r"\[(.+?)\]", text)[1] for text in webhook.take()}  # type: ignore[index]


def assert_secret_never_printed(*runs: PipelineRun) -> None:
    for run in runs:
        assert SECRET_TOKEN not in run.stdout + run.stderr


def test_a_failing_build_alerts_once_and_its_recovery_once(warehouse_copy: Path, webhook: Webhook) -> None:
    env = {WEBHOOK_URL_ENV: webhook.url}
    # dbt refuses an unknown resource type before it parses the project: a cheap failing build
    failing_env = {**env, "DBT_EXCLUDE_RESOURCE_TYPES": "no_such_type"}

    first = run_outreach(warehouse_copy, "build", env=failing_env)
    assert first.returncode == 1, first.stderr
    posted = webhook.take()
    assert len(posted) == 1 and posted[0].startswith(
        f"outreach ALERT on {socket.gethostname()} [build failed]: build: "
    )

    again = run_outreach(warehouse_copy, "build", env=failing_env)
    assert again.returncode == 1 and webhook.take() == []  # the same condition: nothing new

    # a build that succeeds (one seed: cheap) clears it
    fixed = run_outreach(warehouse_copy, "build", "--select", "scoring_weights", env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert webhook.take() == [f"outreach RESOLVED on {socket.gethostname()} [build failed]: cleared"]
    assert "[alerts] sent to 127.0.0.1: build failed" in fixed.stdout
    assert [(key, state, status, delivered) for key, state, status, delivered, _ in alert_rows(warehouse_copy)] == [
        ("build failed", "firing", "200", True),
        ("build failed", "resolved", "200", True),
    ]
    assert_secret_never_printed(first, again, fixed)


def test_a_refused_production_sync_and_stale_events_alert(warehouse_copy: Path, webhook: Webhook) -> None:
    env = {WEBHOOK_URL_ENV: webhook.url, "PIPELINE_MODE": "production", "SOURCES__SMARTLEAD__API_KEY": "k"}

    refused = run_outreach(warehouse_copy, "sync", env=env)  # production without --plan: refused

    assert refused.returncode == 3, refused.stderr
    keys = keys_posted(webhook)
    assert keys == {"sync refused", "events stale: smartlead poll"}
    assert {row[:4] for row in alert_rows(warehouse_copy)} == {
        ("sync refused", "firing", "200", True),
        ("events stale: smartlead poll", "firing", "200", True),
    }
    assert_secret_never_printed(refused)


def test_a_failing_webhook_is_one_warning_line_and_is_sent_again_next_run(
    warehouse_copy: Path, webhook: Webhook
) -> None:
    env = {WEBHOOK_URL_ENV: webhook.url, "PIPELINE_MODE": "production"}
    webhook.status = 500

    refused = run_outreach(warehouse_copy, "sync", env=env)

    assert refused.returncode == 3  # the refusal's own exit code
    warnings = [line for line in refused.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "host 127.0.0.1" in warnings[0] and "failed: HTTP 500;" in warnings[0], refused.stderr
    assert refused.stderr.splitlines()[-1].startswith("error: PIPELINE_MODE=production refused")
    assert "Traceback" not in refused.stderr
    assert len(webhook.take()) == 1  # stopped at the first failure
    assert [row[2:4] for row in alert_rows(warehouse_copy)] == [("500", False)]

    webhook.status = 200
    retried = run_outreach(warehouse_copy, "sync", env=env)

    assert retried.returncode == 3 and "warning:" not in retried.stderr
    assert keys_posted(webhook) == {"sync refused", "events stale: no source configured"}
    assert_secret_never_printed(refused, retried)


# --- the row-count deviation, on a crafted run log ------------------------------------------------

START = datetime(2026, 1, 1, 6, 0)


def add_runs(path: Path, stage: str, counts: list[int], *, column: str = "rows_out", message: str = "") -> None:
    """Succeeded runs of `stage`, one a day, after those already there."""
    with connect(path) as warehouse:
        ensure_run_log(warehouse)
        (already,) = warehouse.fetch_one("select count(*) from pipeline_ops.run_log") or (0,)
        warehouse.insert_rows(
            "pipeline_ops.run_log",
            ["run_id", "command", "stage", "started_at", "finished_at", "status", column, "message"],
            [
                (
                    f"{stage}-{already + day}",
                    stage,
                    stage,
                    START + timedelta(days=already + day),
                    START + timedelta(days=already + day, minutes=5),
                    "succeeded",
                    count,
                    message or None,
                )
                for day, count in enumerate(counts)
            ],
        )


def test_a_row_count_far_from_the_median_alerts_until_it_is_back(
    tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_MODE", raising=False)
    path = tmp_path / "outreach.duckdb"
    settings = Settings.from_env(str(path))
    alert_settings = AlertSettings(webhook.url, deviation_percent=50, deviation_runs=5)
    add_runs(path, "enrich", [40, 38, 44, 41, 39, 60])  # +50% exactly: within the threshold
    add_runs(path, "ingest", [1000, 980, 1010])  # three earlier runs: the least to compare with
    add_runs(path, "ingest", [120])

    assert send_alerts(settings, None, alert_settings=alert_settings) == [
        "[alerts] sent to 127.0.0.1: row count deviation: ingest"
    ]
    (posted,) = webhook.take()
    assert "ingest: rows_out 120 in its last successful run, -88% from the median 1000" in posted

    assert send_alerts(settings, None, alert_settings=alert_settings) == []  # still low: nothing new
    add_runs(path, "ingest", [1002])
    send_alerts(settings, None, alert_settings=alert_settings)
    assert webhook.take() == [f"outreach RESOLVED on {socket.gethostname()} [row count deviation: ingest]: cleared"]


def test_too_little_history_or_a_zero_median_never_alerts(tmp_path: Path, webhook: Webhook) -> None:
    path = tmp_path / "outreach.duckdb"
    add_runs(path, "ingest", [1000, 1000, 5])  # two earlier runs only
    add_runs(path, "sync", [0, 0, 0, 0, 80], column="rows_in")  # nothing planned before: no baseline

    sent = send_alerts(Settings.from_env(str(path)), None, alert_settings=AlertSettings(webhook.url))

    assert sent == [] and webhook.take() == []


def test_the_volume_guard_of_a_dry_run_alerts(tmp_path: Path, webhook: Webhook) -> None:
    path = tmp_path / "outreach.duckdb"
    add_runs(
        path,
        "sync",
        [5],
        column="rows_in",
        message="WARNING: 600 new leads in all exceed "
        "OUTREACH_MAX_NEW_LEADS_TOTAL=500: a production run will refuse this plan",
    )

    send_alerts(Settings.from_env(str(path)), None, alert_settings=AlertSettings(webhook.url))

    (posted,) = webhook.take()
    assert "[volume guard: sync]: sync: the volume guard tripped: WARNING: 600 new leads in all exceed" in posted


def test_without_a_webhook_nothing_is_read_or_written(tmp_path: Path) -> None:
    path = tmp_path / "outreach.duckdb"
    assert send_alerts(Settings.from_env(str(path)), None, alert_settings=AlertSettings(None)) == []
    assert not path.exists()


def test_a_bad_webhook_url_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEBHOOK_URL_ENV, f"hooks.slack.com/services/{SECRET_TOKEN}")
    with pytest.raises(ValueError) as raised:
        AlertSettings.from_env()
    assert WEBHOOK_URL_ENV in str(raised.value) and SECRET_TOKEN not in str(raised.value)
