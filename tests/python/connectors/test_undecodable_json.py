"""A lone surrogate (`"\\ud83d"`, half an emoji) in vendor JSON: valid JSON that no UTF-8 text can
hold. The row becomes a rejection naming the field; its page and its source go on. SmartScout and
the Smartlead poll over real HTTP to the fakes, into a real DuckDB file; then properties of the
parsers (Hypothesis): nothing crashes and every row is either loaded or rejected."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.common import rejected_records_table, rows_to_arrow
from loaders.common.http import RateLimiter, RetryPolicy
from loaders.smartlead import SmartleadPollConfig, poll_campaign_statistics
from loaders.smartlead.helpers import parse_event_blob, read_event_lines, redact_secrets
from loaders.smartlead.poller import _Poll, make_client
from loaders.smartlead.settings import EVENT_COLUMNS
from loaders.smartscout import load_brand_pages, parse_brand_page
from loaders.smartscout.client import SmartScoutApiFetcher, SmartScoutConfig
from loaders.smartscout.settings import BRAND_COLUMNS
from tests.python.fakes.server import serve
from tests.python.fakes.smartlead import FakeSmartlead, serve_smartlead
from tests.python.fakes.smartscout import FAKE_API_KEY, SmartScoutFake, make_brands

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LONE = "\ud83d"  # json.dumps writes it as the escape `\ud83d`, exactly what a vendor may send


def rows(duckdb_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_smartscout_pages_go_on_past_a_brand_with_a_lone_surrogate(tmp_path: Path) -> None:
    brands = make_brands(15)
    brands[2]["brandName"] = f"Acme {LONE}"
    duckdb_path, pipelines = tmp_path / "w.duckdb", tmp_path / "dlt"
    with serve(SmartScoutFake(items=brands)) as server:
        config = SmartScoutConfig(api_key=FAKE_API_KEY, base_url=server.base_url, page_size=10)
        fetcher = SmartScoutApiFetcher(config, retry=RetryPolicy(max_attempts=1), rng=random.Random(1))
        summary = load_brand_pages(fetcher, "US", duckdb_path, pipelines, fetched_at=AT, progress=None)
        assert (summary.rows_loaded, summary.rows_rejected, summary.files_or_pages) == (14, 1, 2)
        again = load_brand_pages(fetcher, "US", duckdb_path, pipelines, fetched_at=AT, progress=None)
        assert again.rows_rejected == 1  # every re-run: the same rejection, no crash
    [(source_file, position, reason, raw_text)] = rows(
        duckdb_path, "select source_file, source_row_number, reason, raw_text from raw.rejected_records"
    )
    assert (source_file, position) == ("page-1", 3)
    assert reason.startswith("invalid unicode escape (a lone surrogate such as \\ud83d) in `brandName`")
    assert "Acme \\ud83d" in raw_text
    assert rows(duckdb_path, "select count(*) from raw.smartscout_brands") == [(14,)]


def test_the_smartlead_poll_goes_on_past_a_row_with_a_lone_surrogate(tmp_path: Path) -> None:
    fake = FakeSmartlead(api_key="sl-key")
    fake.add_campaign(101, "Q4")
    sent = "2026-11-10T09:00:00Z"
    fake.add_stats(101, stats_id="s1", lead_email="ana@a.example", lead_name=f"Ana {LONE}", sent_time=sent)
    fake.add_stats(101, stats_id="s2", lead_email="bo@b.example", sent_time=sent, is_unsubscribed=True)
    duckdb_path = tmp_path / "w.duckdb"
    with serve_smartlead(fake) as server:
        config = SmartleadPollConfig(api_key="sl-key", base_url=server.base_url, lookback_days=14)
        client = make_client(config, rate_limiter=RateLimiter(10_000, burst=10_000), retry=RetryPolicy(max_attempts=1))
        summary = poll_campaign_statistics(config, duckdb_path, tmp_path / "dlt", now=AT, client=client)
    assert summary.rows_rejected >= 1
    events = rows(duckdb_path, "select stats_id, event_type from raw.smartlead_events order by 2")
    assert ("s2", "LEAD_UNSUBSCRIBED") in events and all(stats_id != "s1" for stats_id, _ in events)
    reasons = {reason for (reason,) in rows(duckdb_path, "select reason from raw.rejected_records")}
    assert any("lone surrogate" in reason and "`lead_name`" in reason for reason in reasons)


# --------------------------------------------------------------------------- properties

# any text, lone surrogates included (the JSON escape of one is what a vendor sends)
TEXT = st.text(st.characters(codec=None), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)
FAST_PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST_PROPERTIES
@given(st.lists(JSON_VALUES | st.dictionaries(TEXT, JSON_VALUES, max_size=4), max_size=6))
def test_every_brand_item_is_loaded_or_rejected(items: list[Any]) -> None:
    envelope = json.loads(json.dumps({"data": items, "paging": {"hasMoreRecords": False}}))
    loaded, rejected = parse_brand_page(envelope, "US", "page-1", AT)
    assert len(loaded) + len(rejected) == len(items)
    rows_to_arrow(loaded, BRAND_COLUMNS)  # everything kept can be stored
    rejected_records_table(rejected)


STATS_ROWS = st.fixed_dictionaries(
    {"stats_id": TEXT, "sent_time": TEXT},
    optional={name: TEXT for name in ("lead_email", "lead_name", "email_subject", "reply_time", "lead_category")},
).flatmap(lambda known: st.dictionaries(TEXT, JSON_VALUES, max_size=2).map(lambda extra: {**extra, **known}))


@FAST_PROPERTIES
@given(st.lists(STATS_ROWS, max_size=6))
def test_every_polled_row_is_loaded_or_rejected(stats_rows: list[dict[str, Any]]) -> None:
    poll = _Poll(AT, None)
    added = 0
    for position, stats in enumerate(json.loads(json.dumps(stats_rows)), start=1):
        events = poll.add_email_row("101", stats, "Q4", "campaigns/101/statistics", position)
        added += 1 if events is not None else 0
    assert added + len(poll.rejected) == len(stats_rows)
    rows_to_arrow(poll.events, EVENT_COLUMNS)  # everything kept can be stored
    rejected_records_table(poll.rejected)


def spool_line(value: Any, index: int, garbage: bytes) -> bytes:
    """A line of a spool file: an event (made unique by `n`), a JSON value, or raw bytes."""
    if isinstance(value, dict):
        return json.dumps({**value, "n": index}).encode()
    if value == "garbage":
        return garbage.replace(b"\n", b" ").replace(b"\r", b" ") + b" #%d" % index
    return json.dumps(value).encode()


@FAST_PROPERTIES
@given(
    st.lists(st.dictionaries(TEXT, JSON_VALUES, max_size=4) | JSON_VALUES | st.just("garbage"), max_size=8),
    st.binary(max_size=30),
)
def test_every_spool_line_is_loaded_or_rejected(values: list[Any], garbage: bytes) -> None:
    lines = [spool_line(value, index, garbage) for index, value in enumerate(values)]
    blob = b"".join(line + b"\n" for line in lines)
    nonblank = sum(1 for line in blob.decode("utf-8", "replace").split("\n") if line.strip())
    table, rejected = parse_event_blob(blob, 1, "events-x.jsonl", "webhook", AT)
    assert table.num_rows + len(rejected) == nonblank  # rows in = rows loaded + rows rejected
    rejected_records_table(rejected)
    reference = [event or rejection for event, rejection in _read_lines(blob)]
    assert len(reference) == nonblank


def _read_lines(blob: bytes) -> list[tuple[Any, Any]]:
    path = Path(f"/tmp/spool-property-{id(blob)}.jsonl")
    path.write_bytes(blob)
    try:
        return list(read_event_lines(path, "webhook", AT))
    finally:
        path.unlink()


SECRET = "whsec-SHARED-0123456789"
KEY_SPELLINGS = st.sampled_from(
    ["secret_key", "secret\\u005fkey", "Secret-Key", "SECRETKEY", "secret key", "secretKey", "secret\\u005Fke\\u0079"]
)
PLAIN_TEXT = st.text(st.characters(exclude_characters='"\\', codec="utf-8"), max_size=20)


@settings(max_examples=40, deadline=None)
@given(PLAIN_TEXT, KEY_SPELLINGS, st.sampled_from(['"', "'", ""]), PLAIN_TEXT, st.booleans())
def test_a_secret_key_in_unparsable_text_is_redacted_however_spelled(
    before: str, key: str, quote: str, after: str, terminated: bool
) -> None:
    value = f'"{SECRET}"' if terminated else f'"{SECRET}'
    text = f"{before}, {quote}{key}{quote}: {value}{', ' + after if terminated else ''}"
    assert SECRET not in redact_secrets(text)
