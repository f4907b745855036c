"""Smartlead poller (campaign statistics and the activity feed) against the fake API over real HTTP,
into a real DuckDB file."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders.common import LoadProgress
from loaders.common.http import ApiAuthError, ApiClient, ApiRequestError, MissingSecretError, RateLimiter, RetryPolicy
from loaders.common.settings_env import ConfigError
from loaders.smartlead import SmartleadPollConfig, load_event_files, poll_campaign_statistics
from loaders.smartlead.poller import make_client, statistics_row_events
from tests.python.cli_runner import PROJECT_DIR
from tests.python.fakes.smartlead import FakeClock, FakeSmartlead, parse_api_time, serve_smartlead

KEY = "sl-SECRET-key-0123456789"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Db:
    def __init__(self, tmp_path: Path) -> None:
        self.duckdb_path = tmp_path / "warehouse" / "outreach.duckdb"
        self.pipelines_dir = tmp_path / "dlt_pipelines"

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as connection:
            return connection.execute(sql, params or []).fetchall()

    def count(self, where: str = "true") -> int:
        return int(self.rows(f"select count(*) from raw.smartlead_events where {where}")[0][0])


@pytest.fixture
def db(tmp_path: Path) -> Db:
    return Db(tmp_path)


def _fake() -> FakeSmartlead:
    fake = FakeSmartlead(api_key=KEY)
    fake.add_campaign(101, "Q4 brands")
    fake.add_campaign(202, "Kitchen")
    fake.add_stats(
        101,
        stats_id="s1",
        lead_email="ana@acme.example",
        lead_name="Ana Ruiz",
        sent_time="2026-11-10T09:00:00.000Z",
        open_time="2026-11-10T10:00:00.000Z",
        click_time="2026-11-10T10:05:00.000Z",
        reply_time="2026-11-11T08:00:00.000Z",
        open_count=3,
        click_count=1,
        lead_category="Interested",
    )
    fake.add_stats(101, stats_id="s2", lead_email="bo@beta.example", sent_time="2026-11-10T09:01:00.000Z")
    fake.add_stats(
        101,
        stats_id="s3",
        lead_email="cy@gamma.example",
        sent_time="2026-11-12T09:00:00.000Z",
        is_bounced=True,
    )
    fake.add_stats(
        202,
        stats_id="s4",
        lead_email="di@delta.example",
        sent_time="2026-11-13T09:00:00.000Z",
        open_time="2026-11-13T11:00:00.000Z",
        is_unsubscribed="true",
    )
    fake.add_stats(202, stats_id="s5", lead_email="ed@eps.example", sent_time="2026-11-14T09:00:00.000Z")
    return fake


def _config(base_url: str, **overrides: Any) -> SmartleadPollConfig:
    values: dict[str, Any] = {"api_key": KEY, "base_url": base_url, "page_limit": 2, "lookback_days": 14}
    values.update(overrides)
    return SmartleadPollConfig(**values)


def _client(
    config: SmartleadPollConfig, sleeps: list[float], clock: FakeClock | None = None, attempts: int = 5
) -> ApiClient:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if clock is not None:
            clock.advance(seconds)

    return make_client(
        config,
        sleep=sleep,
        rate_limiter=RateLimiter(10_000, burst=10_000),
        retry=RetryPolicy(max_attempts=attempts, timeout_seconds=5, backoff_base_seconds=0.5),
    )


def _poll(db: Db, config: SmartleadPollConfig, sleeps: list[float] | None = None, **kwargs: Any) -> Any:
    client = _client(config, sleeps if sleeps is not None else [], kwargs.pop("clock", None))
    return poll_campaign_statistics(config, db.duckdb_path, db.pipelines_dir, now=kwargs.pop("now", NOW), client=client)


def test_loads_every_campaign_as_one_event_per_fact(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url))
    by_type = dict(db.rows("select event_type, count(*) from raw.smartlead_events group by 1"))
    assert by_type == {
        "EMAIL_SENT": 5,
        "EMAIL_OPEN": 2,
        "EMAIL_LINK_CLICK": 1,
        "EMAIL_REPLY": 1,
        "EMAIL_BOUNCE": 1,
        "LEAD_UNSUBSCRIBED": 1,
        "LEAD_CATEGORY_UPDATED": 1,
    }
    assert summary.rows_loaded == 12
    assert summary.details["campaigns"] == 2
    reply = db.rows(
        "select stats_id, to_email, to_name, campaign_id, campaign_name, event_timestamp, source_kind, subject "
        "from raw.smartlead_events where event_type = 'EMAIL_REPLY'"
    )
    assert reply == [
        ("s1", "ana@acme.example", "Ana Ruiz", "101", "Q4 brands", "2026-11-11T08:00:00.000Z", "api_poll", "Hello")
    ]
    category = db.rows(
        "select lead_category_new, event_timestamp from raw.smartlead_events where event_type = 'LEAD_CATEGORY_UPDATED'"
    )
    assert category == [("Interested", "2026-11-10T09:00:00.000Z")]  # sent_time stands in
    assert db.rows("select count(*) from raw.smartlead_events where event_timestamp is null") == [(0,)]
    progress = dict(db.rows("select campaign_id, window_end from raw.smartlead_poll_progress"))
    assert set(progress) == {"101", "202"}
    # the campaign list is a bare array, statistics are paged by offset with string totals
    stats_calls = [r for r in server.requests if r.path.endswith("/statistics")]
    assert [(r.path, r.param("offset")) for r in stats_calls] == [
        ("/api/v1/campaigns/101/statistics", "0"),
        ("/api/v1/campaigns/101/statistics", "2"),
        ("/api/v1/campaigns/202/statistics", "0"),
    ]
    assert all(int(r.param("limit") or 0) <= 1000 for r in stats_calls)
    assert all(r.param("sent_time_start_date") is None for r in stats_calls)  # first poll: whole history


def test_api_key_on_every_call_and_never_logged(db: Db, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = _fake()
    fake.fail_next(1)  # a 500 is retried (recorded backoff), then the poll succeeds
    sleeps: list[float] = []
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url), sleeps)
        assert len(sleeps) == 1 and db.count() == 12
        assert server.requests and all(r.param("api_key") == KEY for r in server.requests)
        fake.fail_next(10)
        with pytest.raises(ApiRequestError) as failed:
            _poll(db, _config(server.base_url, campaign_ids=("101",)))
    assert "statistics" in str(failed.value) and KEY not in str(failed.value)
    assert "api_key=[REDACTED]" in caplog.text  # urllib3's DEBUG request lines, redacted
    assert KEY not in caplog.text


def test_repoll_adds_nothing_and_a_late_reply_adds_one_event(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url))
        keys_before = {row[0] for row in db.rows("select event_key from raw.smartlead_events")}
        _poll(db, _config(server.base_url), now=NOW + timedelta(hours=1))
        assert {row[0] for row in db.rows("select event_key from raw.smartlead_events")} == keys_before

        fake.update_stats("s2", reply_time="2026-11-20T12:30:00.000Z", open_time="2026-11-20T12:10:00.000Z")
        fake.update_stats("s1", open_count=9)  # a counter moving is not a new event
        later = NOW + timedelta(hours=2)
        _poll(db, _config(server.base_url), now=later)
    new = db.rows(
        "select event_type, stats_id from raw.smartlead_events where event_key not in "
        f"({', '.join(repr(k) for k in keys_before)}) order by 1"
    )
    assert new == [("EMAIL_OPEN", "s2"), ("EMAIL_REPLY", "s2")]
    # the incremental window: re-reads `lookback_days` before the previous window end
    last_calls = [r for r in server.requests if r.path.endswith("/101/statistics")][-2:]
    start = parse_api_time(last_calls[0].param("sent_time_start_date") or "")
    end = parse_api_time(last_calls[0].param("sent_time_end_date") or "")
    assert start == NOW + timedelta(hours=1) - timedelta(days=14)
    assert end == later


def test_lookback_excludes_old_rows_and_is_configurable(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url, poll_activities=False))
        fake.update_stats("s2", reply_time="2026-12-30T00:00:00.000Z")  # sent 11-10: outside a 1-day lookback
        config = _config(server.base_url, lookback_days=1, poll_activities=False)
        summary = _poll(db, config, now=NOW + timedelta(days=40))
    # the statistics alone filter on sent_time: this late reply is missed (the feed catches it)
    assert db.count("event_type = 'EMAIL_REPLY' and stats_id = 's2'") == 0
    assert summary.details["statistics_rows"] == 0
    assert not [r for r in server.requests if r.path.endswith("/all-leads-activities")]


def test_a_reply_thirty_days_after_sending_comes_from_the_activity_feed(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url))
        first_feed = [r for r in server.requests if r.path.endswith("/all-leads-activities")]
        # the first poll reads the feed over the lookback (the statistics read the whole history)
        assert parse_api_time(first_feed[0].param("event_time_from") or "") == NOW - timedelta(days=14)
        assert parse_api_time(first_feed[0].param("event_time_to") or "") == NOW

        daily = NOW + timedelta(days=10)
        _poll(db, _config(server.base_url), now=daily)  # the statistics window now starts on 11-16
        fake.update_stats("s2", reply_time="2026-12-10T09:01:00.000Z")  # 30 days after its send (11-10)
        later = NOW + timedelta(days=21)
        summary = _poll(db, _config(server.base_url), now=later)
        feed = [r for r in server.requests if r.path.endswith("/all-leads-activities")][-1]
        # the cursor (the previous window's end, in dlt state) minus the overlap, not the send time
        assert parse_api_time(feed.param("event_time_from") or "") == daily - timedelta(hours=1)
        assert parse_api_time(feed.param("event_time_to") or "") == later
        assert db.rows(
            "select stats_id, to_email, event_timestamp, source_file from raw.smartlead_events "
            "where event_type = 'EMAIL_REPLY' and stats_id = 's2'"
        ) == [("s2", "bo@beta.example", "2026-12-10T09:01:00.000Z", "campaigns/all-leads-activities")]
        assert summary.details["statistics_rows"] == 0  # outside the statistics lookback
        assert summary.details["activity_rows"] == 1

        # the cursor lives in the warehouse too: a lost pipelines folder resumes from it
        shutil.rmtree(db.pipelines_dir)
        _poll(db, _config(server.base_url), now=later + timedelta(hours=2))
        feed = [r for r in server.requests if r.path.endswith("/all-leads-activities")][-1]
        assert parse_api_time(feed.param("event_time_from") or "") == later - timedelta(hours=1)
    assert db.count("event_type = 'EMAIL_REPLY'") == 2


def test_the_same_fact_from_both_endpoints_is_one_row(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url))
        assert [r for r in server.requests if r.path.endswith("/all-leads-activities")]
        assert summary.details["activity_rows"] == 5  # every email of the fixture is in the feed window
    assert summary.rows_loaded == 12 and db.count() == 12


def test_a_feed_the_account_does_not_have_is_skipped(db: Db) -> None:
    fake = _fake()
    fake.activities_enabled = False
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url))
    assert summary.details["activity_rows"] == "unavailable (404)"
    assert summary.details["incomplete"] == "activities"
    assert db.count() == 12


def test_a_malformed_page_is_rejected_and_the_other_campaigns_load(db: Db) -> None:
    fake = _fake()
    fake.statistics_bodies[("101", 0)] = "<html>502 Bad Gateway</html>"
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url, poll_activities=False))
        assert db.count("campaign_id = '202'") == 4 and db.count("campaign_id = '101'") == 0
        assert summary.rows_rejected == 1 and summary.details["incomplete"] == "101"
        rejected = db.rows("select source, source_file, source_row_number, reason, raw_text from raw.rejected_records")
        assert rejected == [
            (
                "smartlead",
                "campaigns/101/statistics",
                None,
                "GET /campaigns/101/statistics at offset 0: body is not JSON (HTTP 200, 28 chars)",
                "<html>502 Bad Gateway</html>",
            )
        ]
        # campaign 101 kept no window: the next poll re-reads its whole history
        assert {row[0] for row in db.rows("select campaign_id from raw.smartlead_poll_progress")} == {"202"}
        del fake.statistics_bodies[("101", 0)]
        _poll(db, _config(server.base_url, poll_activities=False), now=NOW + timedelta(hours=1))
        retried = [r for r in server.requests if r.path.endswith("/101/statistics")][-1]
        assert retried.param("sent_time_start_date") is None
    assert db.count() == 12


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([{"stats_id": "x"}], "body is a list, expected an object"),
        ({"total_stats": "1", "data": {"stats_id": "x"}}, "`data` is an object, expected a list"),
    ],
)
def test_a_page_of_the_wrong_shape_is_rejected(db: Db, body: object, reason: str) -> None:
    fake = _fake()
    fake.statistics_bodies[("202", 0)] = body
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url, poll_activities=False))
    assert summary.rows_rejected == 1 and db.count("campaign_id = '101'") == 8
    assert db.rows("select reason from raw.rejected_records") == [
        (f"GET /campaigns/202/statistics at offset 0: {reason}",)
    ]


def test_rows_that_are_not_objects_or_have_wrong_types_are_rejected_with_the_reason(db: Db) -> None:
    fake = _fake()
    fake.statistics["202"].insert(0, "not a row")
    fake.add_stats(202, stats_id="s6", lead_email=["ed@eps.example"], sent_time={"at": "2026-11-14"})
    fake.add_stats(202, stats_id="s7", lead_email="fi@phi.example", sent_time="2026-11-15T09:00:00Z", is_bounced=[1])
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url, page_limit=1000, poll_activities=False))
    assert summary.rows_rejected == 3
    assert summary.rows_loaded == 12  # the good rows of both campaigns, whatever the bad ones
    assert summary.details["statistics_rows"] == 7  # the objects read (the string is not one)
    rejected = db.rows("select source_row_number, reason from raw.rejected_records order by 1")
    assert rejected == [
        (1, "statistics row is text, expected an object"),
        (4, "wrong field type: lead_email is a list, sent_time is an object"),
        (5, "wrong field type: is_bounced is a list"),
    ]
    raw = db.rows("select raw_text from raw.rejected_records where source_row_number = 4")[0][0]
    assert json.loads(raw)["stats_id"] == "s6"  # nothing disappears: the row is kept as sent
    assert db.count("stats_id in ('s6', 's7')") == 0


def test_new_vendor_fields_are_kept_out_of_the_key_and_counted(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url, poll_activities=False))
        keys_before = {row[0] for row in db.rows("select event_key from raw.smartlead_events")}
        fake.update_stats("s1", sentiment="positive", ai_score=0.92)
        fake.update_stats("s4", sentiment="neutral")
        summary = _poll(db, _config(server.base_url, poll_activities=False), now=NOW + timedelta(hours=1))
    assert {row[0] for row in db.rows("select event_key from raw.smartlead_events")} == keys_before
    extras = dict(
        db.rows("select distinct stats_id, extra_fields_json from raw.smartlead_events where stats_id in ('s1', 's4')")
    )
    assert json.loads(extras["s1"]) == {"ai_score": 0.92, "sentiment": "positive"}
    assert json.loads(extras["s4"]) == {"sentiment": "neutral"}
    assert summary.rows_with_new_fields == 2
    assert "2 rows with new fields: ai_score, sentiment" in str(summary)


def test_429_without_retry_after_and_with_a_malformed_body_backs_off(db: Db) -> None:
    fake = _fake()
    fake.throttle_next(2, body="<<not json>>")
    sleeps: list[float] = []
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url), sleeps)
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.625 and 0.75 <= sleeps[1] <= 1.25  # exponential backoff from 0.5 s, jittered
    assert summary.rows_rejected == 0 and db.count() == 12


def test_a_slow_answer_times_out_and_is_retried(db: Db) -> None:
    def timing_out_client(config: SmartleadPollConfig, attempts: int, sleeps: list[float]) -> ApiClient:
        return make_client(
            config,
            sleep=sleeps.append,
            rate_limiter=RateLimiter(10_000, burst=10_000),
            retry=RetryPolicy(max_attempts=attempts, timeout_seconds=0.3, backoff_base_seconds=0.1),
        )

    fake = _fake()
    sleeps: list[float] = []
    with serve_smartlead(fake) as server:
        config = _config(server.base_url, poll_activities=False)
        fake.delay_next(1, 1.5)  # the first answer comes after the client's 0.3 s timeout
        poll_campaign_statistics(
            config, db.duckdb_path, db.pipelines_dir, now=NOW, client=timing_out_client(config, 3, sleeps)
        )
        assert len(sleeps) == 1 and db.count() == 12

        fake.delay_next(10, 1.0)
        with pytest.raises(ApiRequestError) as failed:
            poll_campaign_statistics(
                config, db.duckdb_path, db.pipelines_dir, now=NOW, client=timing_out_client(config, 2, sleeps)
            )
    assert "GET /campaigns/ timed out; gave up after 2 attempts" in str(failed.value)
    assert str(failed.value).startswith("smartlead: ") and KEY not in str(failed.value)


def test_a_malformed_feed_page_is_rejected_and_its_cursor_not_advanced(db: Db) -> None:
    fake = _fake()
    fake.activity_bodies[0] = "{truncated"
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url))
        assert summary.details["incomplete"] == "activities" and summary.rows_rejected == 1
        assert db.count() == 12  # the statistics still loaded
        del fake.activity_bodies[0]
        _poll(db, _config(server.base_url), now=NOW + timedelta(hours=1))
        feed = [r for r in server.requests if r.path.endswith("/all-leads-activities")][-1]
    # no cursor was saved: the feed is read over the lookback again
    assert parse_api_time(feed.param("event_time_from") or "") == NOW + timedelta(hours=1) - timedelta(days=14)


def test_feed_items_that_cannot_be_read_are_rejected(db: Db) -> None:
    fake = _fake()
    good = {
        "lead_email": "gu@gamma.example",
        "campaign_id": 101,
        "campaign_name": "Q4 brands",
        "activities": [
            {
                "stats_id": "s9",
                "subject": "Hi",
                "sent_time": "2026-11-19T09:00:00Z",
                "reply_details": {"time": "2026-11-19T10:00:00Z"},
            },
            "garbage",
        ],
    }
    fake.activity_bodies[0] = {
        "data": [good, 7, {"lead_email": "x@y.example", "activities": {"a": 1}}],
        "hasMore": False,
    }
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url, campaign_ids=("101",)))
    assert db.rows(
        "select event_type, subject, source_row_number from raw.smartlead_events where stats_id = 's9' order by 1"
    ) == [("EMAIL_REPLY", "Hi", 1), ("EMAIL_SENT", "Hi", 1)]
    assert db.rows("select source_row_number, reason from raw.rejected_records order by 1, 2") == [
        (1, "activity 2 is text, expected an object"),
        (2, "activity item is a number, expected an object"),
        (3, "`activities` is an object, expected a list"),
    ]
    assert summary.rows_rejected == 3


def test_progress_reports_pages_rows_and_the_end(db: Db) -> None:
    seen: list[LoadProgress] = []
    fake = _fake()
    with serve_smartlead(fake) as server:
        config = _config(server.base_url)
        client = _client(config, [])
        poll_campaign_statistics(config, db.duckdb_path, db.pipelines_dir, now=NOW, client=client, progress=seen.append)
    assert [p.pages for p in seen] == [1, 2, 3, 4, 5, 6, 6]  # 101 (2 pages), 202, the feed (3); the end
    assert seen[-1].done and not any(p.done for p in seen[:-1])
    assert seen[-1].rows == 24  # events read: each fact from both endpoints, 12 distinct in RAW
    assert seen[-1].source == "smartlead poll"


def test_total_stats_is_a_string_and_large_pages_use_limit_1000(db: Db) -> None:
    fake = FakeSmartlead(api_key=KEY)
    fake.add_campaign(7, "Big")
    for index in range(1_203):
        fake.add_stats(7, stats_id=f"b{index}", lead_email=f"l{index}@x.example", sent_time="2026-11-01T00:00:00Z")
    with serve_smartlead(fake) as server:
        summary = _poll(db, _config(server.base_url, page_limit=1000))
    calls = [r for r in server.requests if r.path.endswith("/statistics")]
    assert [(r.param("offset"), r.param("limit")) for r in calls] == [("0", "1000"), ("1000", "1000")]
    assert summary.rows_loaded == 1_203 and db.count() == 1_203


def test_429_retry_after_is_honoured(db: Db) -> None:
    clock = FakeClock()
    fake = _fake()
    fake.clock = clock
    fake.rate_limit = 2
    fake.rate_window_seconds = 30
    sleeps: list[float] = []
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url), sleeps, clock=clock)
    assert fake.rate_limited >= 1
    assert len(sleeps) == fake.rate_limited
    assert 30.0 in sleeps  # Retry-After: 30 from the sliding window, slept (recorded) as given
    assert db.count() == 12


def test_401_raises_auth_error_naming_smartlead(db: Db) -> None:
    fake = _fake()
    with serve_smartlead(fake) as server:
        config = SmartleadPollConfig(api_key="wrong-key-SECRET", base_url=server.base_url)
        with pytest.raises(ApiAuthError) as refused:
            _poll(db, config)
    assert "smartlead" in str(refused.value)
    assert "wrong-key-SECRET" not in str(refused.value)
    assert len(server.requests) == 1  # never retried
    assert not db.duckdb_path.exists() or db.rows(
        "select count(*) from information_schema.tables where table_name = 'smartlead_events'"
    ) == [(0,)]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({}, "an empty object"),
        ({"data": [{"id": 101}]}, "an object with keys data"),
        ([{"name": "no id"}], "item 1 is an object with keys name"),
    ],
)
def test_a_campaign_list_that_is_not_a_list_of_campaigns_is_an_error_not_none(db: Db, body: object, said: str) -> None:
    fake = _fake()
    fake.campaigns_body = body  # the contract: GET /campaigns/ answers a bare array of campaigns
    with serve_smartlead(fake) as server, pytest.raises(ApiRequestError) as failed:
        _poll(db, _config(server.base_url))
    message = str(failed.value)
    assert "\n" not in message and said in message
    assert "SOURCES__SMARTLEAD__CAMPAIGN_IDS" in message  # names the way around it
    assert KEY not in message


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SOURCES__SMARTLEAD__API_KEY": KEY,
        "SOURCES__SMARTLEAD__BASE_URL": "http://127.0.0.1:9/api/v1/",
        "SOURCES__SMARTLEAD__CAMPAIGN_IDS": " 101, 202 ,",
        "SOURCES__SMARTLEAD__REQUESTS_PER_SECOND": "0.5",
        "SOURCES__SMARTLEAD__LOOKBACK_DAYS": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = SmartleadPollConfig.from_env()
    assert config.campaign_ids == ("101", "202")
    assert config.base_url == "http://127.0.0.1:9/api/v1"
    assert config.requests_per_second == 0.5 and config.lookback_days == 3
    assert KEY not in repr(config)
    monkeypatch.delenv("SOURCES__SMARTLEAD__API_KEY")
    monkeypatch.delenv("SOURCES__SMARTLEAD__CAMPAIGN_IDS")
    monkeypatch.setenv("SOURCES__SMARTLEAD__API_KEY", "")
    with pytest.raises(MissingSecretError, match="SOURCES__SMARTLEAD__API_KEY"):
        SmartleadPollConfig.from_env()
    defaults = SmartleadPollConfig.from_env({"SOURCES__SMARTLEAD__API_KEY": "k"})
    assert (defaults.base_url, defaults.campaign_ids, defaults.requests_per_second, defaults.lookback_days) == (
        "https://server.smartlead.ai/api/v1",
        (),
        1.0,
        14,
    )
    assert defaults.poll_activities and defaults.activity_overlap_hours == 1.0
    for name, value, message in [
        ("SOURCES__SMARTLEAD__LOOKBACK_DAYS", "two", "SOURCES__SMARTLEAD__LOOKBACK_DAYS must be a number, got 'two'"),
        ("SOURCES__SMARTLEAD__REQUESTS_PER_SECOND", "0", "SOURCES__SMARTLEAD__REQUESTS_PER_SECOND must be positive"),
        ("SOURCES__SMARTLEAD__POLL_ACTIVITIES", "maybe", "SOURCES__SMARTLEAD__POLL_ACTIVITIES must be true or false"),
    ]:
        with pytest.raises(ConfigError) as bad:
            SmartleadPollConfig.from_env({"SOURCES__SMARTLEAD__API_KEY": KEY, name: value})
        assert message in str(bad.value) and KEY not in str(bad.value)
    off = SmartleadPollConfig.from_env(
        {"SOURCES__SMARTLEAD__API_KEY": "k", "SOURCES__SMARTLEAD__POLL_ACTIVITIES": "no"}
    )
    assert not off.poll_activities


def test_requests_are_paced_by_the_configured_rate() -> None:
    waits: list[float] = []
    config = SmartleadPollConfig(api_key=KEY, requests_per_second=0.5)
    ticks: Callable[[], float] = lambda: 0.0  # noqa: E731 - a frozen clock: every call must wait
    client = make_client(config, rate_limiter=RateLimiter(config.requests_per_second, clock=ticks, sleep=waits.append))
    assert client.rate_limiter is not None
    client.rate_limiter.acquire()
    client.rate_limiter.acquire()
    assert waits == [2.0]


def test_event_keys_ignore_counters_and_campaign_name() -> None:
    stats = {"stats_id": "x", "lead_email": "a@b.example", "sent_time": "2026-11-01T00:00:00Z", "open_count": 1}
    first = statistics_row_events("5", stats, campaign_name=None, received_at=NOW)
    second = statistics_row_events("5", {**stats, "open_count": 7}, campaign_name="Named", received_at=NOW)
    assert [row["event_key"] for row in first] == [row["event_key"] for row in second]


def test_connection_errors_do_not_leak_the_key_through_the_traceback(db: Db) -> None:
    import socket
    import traceback

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _config(f"http://127.0.0.1:{port}/api/v1")
    sleeps: list[float] = []
    with pytest.raises(ApiRequestError) as failed:
        _poll(db, config, sleeps)
    text = "".join(traceback.format_exception(failed.value))
    assert "connection failed" in text and KEY not in text
    assert len(sleeps) == 4  # retried with (recorded) backoff before giving up


def test_a_polled_reply_and_its_webhook_delivery_are_one_event_downstream(db: Db, tmp_path: Path) -> None:
    """The poll and the webhook build the same `event_id` in CLEAN (stats_id, canonical type,
    email, parsed time), whatever the spelling of the type or the time text."""
    fake = _fake()
    with serve_smartlead(fake) as server:
        _poll(db, _config(server.base_url))
    delivery = {
        "event_type": "EMAIL_REPLIED",  # the other documented spelling
        "stats_id": "s1",
        "to_email": "Ana@Acme.example",
        "event_timestamp": "2026-11-11T08:00:00Z",  # the polled text has milliseconds
        "campaign_id": 101,
        "reply_message": {"text": "Yes, tell me more"},
        "secret_key": "whsec",
    }
    spool_file = tmp_path / "events-20261111T08Z.jsonl"
    spool_file.write_text(json.dumps(delivery) + "\n")
    load_event_files([spool_file], db.duckdb_path, db.pipelines_dir, source_kind="webhook")

    env = {**os.environ, "OUTREACH_DUCKDB_PATH": str(db.duckdb_path), "DBT_TARGET": "duckdb"}
    dbt = [str(Path(sys.executable).with_name("dbt")), "--no-use-colors"]
    paths = ["--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path)]
    for args in (["seed", "--select", "smartlead_event_types"], ["run", "--select", "+stg_smartlead__events"]):
        done = subprocess.run([*dbt, *args, *paths], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]
    replies = db.rows(
        "select stats_id, email, delivery_count from clean.stg_smartlead__events where event_type = 'EMAIL_REPLY'"
    )
    assert replies == [("s1", "ana@acme.example", 2)]  # polled once, delivered once: one event
