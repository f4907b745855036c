from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from loader_test_support import Warehouse

from loaders.smartlead import load_event_files, parse_webhook_event, redact_secrets, without_secrets

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
