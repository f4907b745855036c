"""Alerts (issue 16): at the end of every command that holds the run lock, each condition that
needs a person is posted to a webhook (Slack-compatible `{"text": ...}`) once when it starts, and
once more when it clears. What was posted, and how the webhook answered, is in
`pipeline_ops.alerts` (docs/pipeline_ops.md).

The conditions are `outreach status`'s warnings that need a person (a failed, refused or
interrupted stage, a failed build, unconfirmed sends, a stale run lock, stale events in
production), the volume guard, and a stage whose row count deviates sharply from the median of its
recent successful runs. Each has a key that stays the same while the condition lasts
("build failed", "events stale: smartlead poll"), so a daily run repeats nothing.

Alerting never changes a command's outcome: a webhook that fails is one warning line, and the
messages it did not take are sent again by the next run.
"""

from __future__ import annotations

import json
import os
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from urllib.parse import urlsplit

from loaders.common.settings_env import ConfigError, integer, positive_float
from pipeline.settings import Settings
from pipeline.status import StatusReport, collect_status
from reverse_etl.plans import MAX_NEW_LEADS_PER_CAMPAIGN_ENV, MAX_NEW_LEADS_TOTAL_ENV
from warehouse_layer import Warehouse, connect, warehouse_exists
from warehouse_layer.alert_log import (
    ALERT_FIRING,
    ALERT_RESOLVED,
    AlertAttempt,
    delivered_states,
    recent_succeeded_counts,
    record_alert_attempts,
)

WEBHOOK_URL_ENV = "OUTREACH_ALERT_WEBHOOK_URL"
DEVIATION_PERCENT_ENV = "OUTREACH_ALERT_DEVIATION_PERCENT"
DEVIATION_RUNS_ENV = "OUTREACH_ALERT_DEVIATION_RUNS"
TIMEOUT_SECONDS_ENV = "OUTREACH_ALERT_TIMEOUT_SECONDS"
DEFAULT_DEVIATION_PERCENT = 50.0
DEFAULT_DEVIATION_RUNS = 7
DEFAULT_TIMEOUT_SECONDS = 10.0
# fewer earlier successful runs than this: no median worth comparing with yet
MIN_DEVIATION_HISTORY = 3
# the row count each stage is compared on: sync's rows_in (rows planned) means the same in a dry
# run and in production, its rows_out (rows sent) is 0 in every dry run
DEVIATION_COUNTS = {"ingest": "rows_out", "enrich": "rows_out", "sync": "rows_in"}
VOLUME_GUARD_TRIPPED = re.compile(rf"exceed (?:{MAX_NEW_LEADS_PER_CAMPAIGN_ENV}|{MAX_NEW_LEADS_TOTAL_ENV})=")


@dataclass(frozen=True)
class AlertSettings:
    """`webhook_url` is a secret (Slack's carries its token): only `webhook_host` is ever printed."""

    webhook_url: str | None
    deviation_percent: float = DEFAULT_DEVIATION_PERCENT
    deviation_runs: int = DEFAULT_DEVIATION_RUNS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env
        url = env.get(WEBHOOK_URL_ENV, "").strip() or None
        if url is not None and not (urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname):
            # the value is a secret: not repeated in the error
            raise ConfigError(
                f"{WEBHOOK_URL_ENV} must be an http(s) URL such as https://hooks.slack.com/services/..., "
                "got something else (not shown: it is a secret): fix it, or unset it to send no alerts"
            )
        runs = integer(DEVIATION_RUNS_ENV, env.get(DEVIATION_RUNS_ENV), DEFAULT_DEVIATION_RUNS)
        if runs < MIN_DEVIATION_HISTORY:
            raise ConfigError(
                f"{DEVIATION_RUNS_ENV} must be at least {MIN_DEVIATION_HISTORY} (earlier runs to take the median of), "
                f"got {env.get(DEVIATION_RUNS_ENV)!r}: fix it, or unset it for the default ({DEFAULT_DEVIATION_RUNS})"
            )
        return cls(
            webhook_url=url,
            deviation_percent=positive_float(
                DEVIATION_PERCENT_ENV, env.get(DEVIATION_PERCENT_ENV), DEFAULT_DEVIATION_PERCENT
            ),
            deviation_runs=runs,
            timeout_seconds=positive_float(TIMEOUT_SECONDS_ENV, env.get(TIMEOUT_SECONDS_ENV), DEFAULT_TIMEOUT_SECONDS),
        )

    @property
    def webhook_host(self) -> str:
        return urlsplit(self.webhook_url or "").hostname or "?"


@dataclass(frozen=True)
class WebhookAnswer:
    status: str  # the HTTP status, or why there was none
    delivered: bool


Poster = Callable[[str, dict[str, str], float], WebhookAnswer]


def post_json(url: str, body: dict[str, str], timeout_seconds: float) -> WebhookAnswer:
    """One POST; never raises, and never puts the URL in what it returns (it is a secret)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return WebhookAnswer(str(response.status), 200 <= response.status < 300)
    except urllib.error.HTTPError as error:
        return WebhookAnswer(str(error.code), False)
    except urllib.error.URLError as error:
        return WebhookAnswer(f"no answer: {error.reason}", False)
    except (OSError, ValueError) as error:  # a timeout while reading, a malformed answer
        return WebhookAnswer(f"no answer: {type(error).__name__}", False)


def current_conditions(report: StatusReport, warehouse: Warehouse, alert_settings: AlertSettings) -> dict[str, str]:
    """Alert key -> one-line message, for every condition that needs a person now."""
    conditions: dict[str, str] = {}
    for warning in report.warnings:
        if warning.needs_person:
            conditions.setdefault(_alert_key(warning.check, warning.message), warning.message)
    sync = next((stage["last_run"] for stage in report.stages if stage["stage"] == "sync"), None)
    if sync and sync.get("message") and VOLUME_GUARD_TRIPPED.search(sync["message"]):
        conditions["volume guard: sync"] = f"sync: the volume guard tripped: {sync['message']}"
    conditions.update(row_count_deviations(warehouse, alert_settings))
    return conditions


def _alert_key(check: str, message: str) -> str:
    """A key that stays the same while the condition lasts (the messages carry times and counts)."""
    if check == "last_run" and (found := re.match(r"(.+?): last run (\w+)", message)):
        return f"{found[1]} {found[2]}"  # "build failed", "sync refused", "enrich interrupted"
    if check == "last_build":
        return "build failed" if " failed at " in message else "build did not finish"
    if check == "events":
        found = re.match(r"events check: (.+?): ", message)
        source = found[1] if found and not message.startswith("events check: no source") else "no source configured"
        return f"events stale: {source}"
    if check == "unconfirmed_sends":
        return f"unconfirmed sends: {message.split(':', 1)[0]}"
    if check == "run_lock":
        return "stale run lock"
    return check


def row_count_deviations(warehouse: Warehouse, alert_settings: AlertSettings) -> dict[str, str]:
    """Each stage whose last successful run's row count is further than the threshold from the
    median of the successful runs before it (Census's record-count deviation)."""
    found: dict[str, str] = {}
    for stage, column in DEVIATION_COUNTS.items():
        counts = recent_succeeded_counts(warehouse, column, stage, alert_settings.deviation_runs + 1)
        if len(counts) <= MIN_DEVIATION_HISTORY:
            continue
        latest, earlier = counts[0], counts[1:]
        typical = median(earlier)
        if typical == 0:  # a percentage of nothing: no baseline to deviate from
            continue
        change = (latest - typical) / typical * 100
        if abs(change) > alert_settings.deviation_percent:
            found[f"row count deviation: {stage}"] = (
                f"{stage}: {column} {latest} in its last successful run, {change:+.0f}% from the median "
                f"{typical:g} of the {len(earlier)} successful runs before it (more than "
                f"{DEVIATION_PERCENT_ENV}={alert_settings.deviation_percent:g}); check the source, or raise the setting"
            )
    return found


def send_alerts(
    settings: Settings,
    own_lock_id: str | None,
    *,
    alert_settings: AlertSettings | None = None,
    poster: Poster = post_json,
    now: Callable[[], datetime] | None = None,
) -> list[str]:
    """Posts what changed since the last delivered message of each key; returns the lines to print
    (`warning: ...` when the webhook failed). Nothing is read or written without a webhook URL."""
    alert_settings = alert_settings or AlertSettings.from_env()
    url = alert_settings.webhook_url
    if url is None or not warehouse_exists(settings.warehouse):
        return []
    clock = now or (lambda: datetime.now(UTC).replace(tzinfo=None))
    report = collect_status(settings, own_lock_id=own_lock_id)
    host = socket.gethostname()
    with connect(settings.warehouse) as warehouse:
        conditions = current_conditions(report, warehouse, alert_settings)
        delivered = delivered_states(warehouse)
        due = [(key, ALERT_FIRING, message) for key, message in sorted(conditions.items())]
        due = [item for item in due if delivered.get(item[0]) != ALERT_FIRING]
        due += [
            (key, ALERT_RESOLVED, "cleared")
            for key, state in sorted(delivered.items())
            if state == ALERT_FIRING and key not in conditions
        ]
        attempts: list[AlertAttempt] = []
        for key, state, message in due:
            # the key in brackets: a chat rule (or a person) tells the conditions apart
            verb = "ALERT" if state == ALERT_FIRING else "RESOLVED"
            answer = poster(
                url, {"text": f"outreach {verb} on {host} [{key}]: {message}"}, alert_settings.timeout_seconds
            )
            attempts.append(AlertAttempt(key, state, message, clock(), answer.status, answer.delivered, own_lock_id))
            if not answer.delivered:  # one failure per run: a down webhook costs one timeout, not one per alert
                break
        record_alert_attempts(warehouse, attempts)
    if not attempts:
        return []
    failed = attempts[-1] if not attempts[-1].delivered else None
    sent = [attempt.alert_key for attempt in attempts if attempt.delivered]
    lines = [f"[alerts] sent to {alert_settings.webhook_host}: {', '.join(sent)}"] if sent else []
    if failed is not None:
        lines.append(
            f"warning: the alert webhook ({WEBHOOK_URL_ENV}, host {alert_settings.webhook_host}) failed: "
            f"{_answer(failed.response_status)}; {len(due) - len(sent)} alert(s) not sent ({failed.alert_key}, ...), "
            "tried again by the next run"
        )
    return lines


def _answer(response_status: str) -> str:
    return f"HTTP {response_status}" if response_status.isdigit() else response_status
