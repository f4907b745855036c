from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from loader_test_support import Warehouse

from loaders.smartlead import load_event_files, parse_webhook_event, redact_secrets, without_secrets
from loaders.smartlead.helpers import parse_event_blob, read_event_blobs, read_event_lines

AT = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
SECRETS = ("fixture-webhook-secret-1", "fixture-rotated-secret-2")


def test_flat_envelope_is_flattened() -> None:
    event = {
        "webhook_id": 77,
        "event_type": "EMAIL_REPLY",
        "event_timestamp": "2026-11-02T10:15:00Z",
        "to_email": "ana@acme.example",
        "to_name": "Ana Ruiz",
        "from_email": "sales@ourco.example",
        "campaign_id": 4242,
        "campaign_name": "Q4",
        "sequence_number": 2,
        "stats_id": "st-1",
        "subject": "Re: hi",
        "reply_message": {"text": "Yes please", "html": "<p>Yes</p>"},
        "lead_category": {"old_name": "Interested", "new_name": "Meeting Request"},
        "bounce_message": None,
        "secret_key": "s3cr3t",
    }
    row = parse_webhook_event(event, "webhook", "hook.jsonl", 4, AT)
    assert {key: row[key] for key in row if key not in ("event_key", "payload_json", "received_at")} == {
        "event_type": "EMAIL_REPLY",
        "event_timestamp": "2026-11-02T10:15:00Z",
        "to_email": "ana@acme.example",
        "to_name": "Ana Ruiz",
        "from_email": "sales@ourco.example",
        "campaign_id": "4242",
        "campaign_name": "Q4",
        "sequence_number": "2",
        "stats_id": "st-1",
        "subject": "Re: hi",
        "lead_category_old": "Interested",
        "lead_category_new": "Meeting Request",
        "reply_text": "Yes please",
        "bounce_message": None,
        "webhook_id": "77",
        "source_kind": "webhook",
        "source_file": "hook.jsonl",
        "source_row_number": 4,
        "extra_fields_json": None,  # the payload is stored whole
    }
    payload = json.loads(row["payload_json"])
    assert "secret_key" not in payload
    assert payload["reply_message"]["html"] == "<p>Yes</p>"


def test_newer_envelope_is_flattened() -> None:
    event = {
        "event": "EMAIL_REPLIED",
        "timestamp": "2026-11-03T09:00:00+00:00",
        "lead": {"email": "jo@echo.example", "first_name": "Jo", "last_name": "Park"},
        "campaign": {"id": 4243, "name": "Audio brands"},
        "reply_message": {"text": "Not interested"},
        "secret_key": "s3cr3t",
    }
    row = parse_webhook_event(event, "sample", "f.jsonl", 1, AT)
    assert (
        row["event_type"],
        row["event_timestamp"],
        row["to_email"],
        row["to_name"],
        row["campaign_id"],
        row["campaign_name"],
        row["reply_text"],
    ) == (
        "EMAIL_REPLIED",
        "2026-11-03T09:00:00+00:00",
        "jo@echo.example",
        "Jo Park",
        "4243",
        "Audio brands",
        "Not interested",
    )


def test_event_key_ignores_secret_key_and_key_order() -> None:
    base = {"event_type": "EMAIL_OPEN", "to_email": "a@b.example", "stats_id": "1"}
    first = parse_webhook_event({**base, "secret_key": "one"}, "webhook", None, None, AT)
    again = parse_webhook_event({"secret_key": "two", **dict(reversed(base.items()))}, "webhook", None, None, AT)
    other = parse_webhook_event({**base, "stats_id": "2"}, "webhook", None, None, AT)
    assert first["event_key"] == again["event_key"] != other["event_key"]


def test_secret_helpers() -> None:
    assert without_secrets({"a": 1, "secret_key": "x", "n": [{"secretKey": "y", "b": 2}]}) == {
        "a": 1,
        "n": [{"b": 2}],
    }
    redacted = redact_secrets('{"to_email": "a@b", "secret_key": "s3cr\\"et", "x": 1')
    assert "s3cr" not in redacted
    assert redacted == '{"to_email": "a@b", "secret_key": "[REDACTED]", "x": 1'
    assert "abc" not in redact_secrets('{"secret_key": "abc')


def test_load_event_files(fixtures_dir: Path, warehouse: Warehouse) -> None:
    path = fixtures_dir / "smartlead/webhook_events.jsonl"
    summary = load_event_files([path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=AT)
    # 7 parsed lines minus 2 duplicate deliveries; invalid JSON and a bare array rejected
    assert (summary.rows_loaded, summary.rows_rejected, summary.files_or_pages) == (4, 2, 1)

    assert warehouse.rows(
        "select event_type, to_email, to_name, campaign_id, campaign_name, lead_category_new, reply_text, "
        "bounce_message, source_row_number from raw.smartlead_events order by source_row_number"
    ) == [
        ("EMAIL_REPLY", "ana@acme.example", "Ana Ruiz", "4242", "Q4 Amazon brands", None,
         "Yes, let's talk next week.", None, 1),
        ("LEAD_CATEGORY_UPDATED", "ana@acme.example", None, "4242", None, "Meeting Request", None, None, 2),
        ("EMAIL_REPLIED", "jo@echo.example", "Jo Park", "4243", "Audio brands", None,
         "Not interested, thanks.", None, 5),
        ("EMAIL_BOUNCE", "bad@delta.example", None, "4242", None, None, None,
         "550 5.1.1 mailbox unavailable", 6),
    ]  # fmt: skip
    assert warehouse.rows(
        "select source, source_file, source_row_number, reason from raw.rejected_records order by 3"
    ) == [
        ("smartlead", "webhook_events.jsonl", 4, "invalid JSON at line 4, column 84: Expecting value"),
        ("smartlead", "webhook_events.jsonl", 9, "event is not a JSON object (list)"),
    ]
    assert warehouse.scalar("select count(*) from raw.smartlead_events where received_at = ?", [AT]) == 4


def test_secret_key_is_stored_nowhere(fixtures_dir: Path, warehouse: Warehouse) -> None:
    path = fixtures_dir / "smartlead/webhook_events.jsonl"
    assert all(secret in path.read_text() for secret in SECRETS)  # the fixture does carry them
    load_event_files([path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=AT)

    stored = warehouse.all_stored_text()
    assert "ana@acme.example" in stored  # the scan does see the loaded data
    for secret in SECRETS:
        assert secret not in stored
    payloads = [json.loads(row[0]) for row in warehouse.rows("select payload_json from raw.smartlead_events")]
    assert payloads and all("secret_key" not in payload for payload in payloads)
    for state_file in warehouse.pipelines_dir.rglob("*"):
        if state_file.is_file():
            assert not any(secret.encode() in state_file.read_bytes() for secret in SECRETS), state_file


def test_loading_events_twice_adds_no_rows(fixtures_dir: Path, warehouse: Warehouse) -> None:
    path = fixtures_dir / "smartlead/webhook_events.jsonl"
    load_event_files([path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=AT)
    later = datetime(2026, 11, 6, tzinfo=UTC)
    load_event_files([path, path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=later)
    assert warehouse.count("smartlead_events") == 4
    assert warehouse.count("rejected_records") == 2


def test_events_stream_in_chunks_and_duplicates_collapse_across_chunks(
    fixtures_dir: Path, warehouse: Warehouse
) -> None:
    path = fixtures_dir / "smartlead/webhook_events.jsonl"
    # chunks of 2 parsed events: a delivery and its duplicate land in different chunks
    summary = load_event_files(
        [path, path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=AT, chunk_rows=2
    )
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 4)
    assert warehouse.count("smartlead_events") == 4
    assert warehouse.scalar("select count(distinct _dlt_load_id) from raw.smartlead_events") == 1


TRICKY_LINES = [
    b'{"event_type": "EMAIL_SENT", "secret_key": "hush-1", "to_email": "a@b.example", "score": 1e-5}',
    b'{"event_type":"EMAIL_OPEN","SECRET-KEY":"hush-2","lead":{"email":"c@d.example","Secret_Key":"hush-3"},"n":1.5E-7}',
    b'{"event_type": "BIG", "stats_id": 123456789012345678901234567890, "webhook_id": -9223372036854775809}',
    b'{"event_type": "NAN", "value": NaN, "other": -Infinity}',
    b'{"event_type": "UNI", "subject": "caf\\u00e9 \\u2028 \xe2\x80\xa9 \\u0000\\u001f \\ud83d\\ude00", "x": 0.0001}',
    b'{"event_type": "CTRL", "reply_text": "line\\nbreak\\ttab\\"q\\\\", "f": [1.0, 1e16, -0.0, 2.5]}',
    b'  {"event_type": "SPACES", "campaign": {"name": "Q", "id": 7}, "nested": [{"secretkey": "hush-4"}]}  ',
    b'{"event_type": "BAD-UTF8", "to_name": "J\xff\xfeo"}',
    b"",
    b"   ",
    b'{"event_type": "CR", "a": 1}\r',
    b'{"event_type": "LONE-CR", "a": 1,\r "b": 2}',
    b"[1, 2]",
    b'"just text"',
    b"12345678901234567890123",
    b'{"broken": ',
    b'\xef\xbb\xbf{"event_type": "BOM"}',
    b'{"event_type": "DUP", "a": 1, "a": 2}',
    b'{"a": {"b": 1, "c": [{"d": 2.5, "e": null}]}, "event_type": "SORTED", "secret_key": "hush-6"}',
    b'{"event_type": "EMAIL_SENT", "secret_key": "hush-5", "to_email": "a@b.example", "score": 1e-5}',
]


def test_fast_parsing_gives_the_stdlib_rows(tmp_path: Path) -> None:
    """orjson parses the lines; the rows (keys included) are those of the stdlib reference path."""
    path = tmp_path / "tricky.jsonl"
    path.write_bytes(b"\n".join(TRICKY_LINES) + b"\r\n" + b'{"event_type": "LAST"}')
    expected_events, expected_rejections = [], []
    for event, rejection in read_event_lines(path, "webhook", AT):
        if event is not None and event["event_key"] not in {row["event_key"] for row in expected_events}:
            expected_events.append(event)
        if rejection is not None:
            expected_rejections.append(rejection)
    for lines_per_blob in (0, 1, 3, 50_000):
        events, rejections = [], []
        for blob, first_line in read_event_blobs(path, lines_per_blob):
            table, rejected = parse_event_blob(blob, first_line, path.name, "webhook", AT)
            events.extend(table.to_pylist())
            rejections.extend(rejected)
        if lines_per_blob in (0, 50_000):  # one piece: the same duplicates are dropped
            assert events == expected_events
        else:
            first: dict[str, object] = {}
            for row in events:  # each piece keeps its own first delivery: the merge drops the rest
                first.setdefault(row["event_key"], row)
            assert list(first.values()) == expected_events
        assert rejections == expected_rejections
    assert (len(expected_events), len(expected_rejections)) == (12, 7)
    assert "hush" not in str(expected_events)


def test_parse_workers_give_the_same_rows(fixtures_dir: Path, tmp_path: Path) -> None:
    path = fixtures_dir / "smartlead/webhook_events.jsonl"
    loaded = []
    for workers in (0, 2):
        warehouse = tmp_path / f"w{workers}.duckdb"
        summary = load_event_files(
            [path, path], warehouse, tmp_path / f"p{workers}", received_at=AT, chunk_rows=3, parse_workers=workers
        )
        assert (summary.rows_loaded, summary.rows_rejected) == (4, 4)
        with duckdb.connect(str(warehouse)) as connection:
            loaded.append(
                connection.execute(
                    "select * exclude (_dlt_load_id, _dlt_id, source_row_number) from raw.smartlead_events "
                    "order by event_key"
                ).fetchall()
            )
    assert loaded[0] == loaded[1]


def test_events_load_in_one_process_when_the_pool_cannot_start(
    fixtures_dir: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loaders.smartlead as smartlead

    def no_pool(*args: object, **kwargs: object) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(smartlead, "ProcessPoolExecutor", no_pool)
    path = fixtures_dir / "smartlead/webhook_events.jsonl"
    summary = load_event_files([path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=AT, parse_workers=2)
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 2)


def test_a_lone_surrogate_escape_is_rejected_not_a_crash(tmp_path: Path, warehouse: Warehouse) -> None:
    path = tmp_path / "events.jsonl"
    good = '{"event_type": "EMAIL_SENT", "to_email": "a@b.example", "campaign_id": 1, "secret_key": "s3cr3t"}'
    broken = '{"event_type": "EMAIL_REPLY", "to_email": "c@d.io", "reply_message": "hi \\ud83d", "secret_key": "x"}'
    path.write_text(f"{good}\n{broken}\n")
    summary = load_event_files([path], warehouse.duckdb_path, warehouse.pipelines_dir, received_at=AT)
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)
    [(line, reason, text)] = warehouse.rows("select source_row_number, reason, raw_text from raw.rejected_records")
    assert line == 2 and "lone surrogate" in reason
    assert "[REDACTED]" in text and "\\ud83d" in text
