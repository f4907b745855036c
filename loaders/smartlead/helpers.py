"""Smartlead webhook parsing: both envelopes flattened to raw.smartlead_events columns.

The webhook body carries `secret_key`: it is removed before anything is hashed or stored
and is never logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from loaders.common import Row, canonical_md5, compact_json, make_rejection
from loaders.common.arrow import stringify
from loaders.smartlead.settings import SECRET_KEYS

_SECRET_IN_TEXT = re.compile(
    r"""(?P<key>["']?secret[_-]?key["']?\s*[:=]\s*)(?P<value>"(?:[^"\\]|\\.)*"?|'[^']*'?|[^,}\s]*)""",
    re.IGNORECASE,
)


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and re.sub(r"[_\-\s]", "", key.casefold()) in SECRET_KEYS


def without_secrets(value: Any) -> Any:
    """A copy of `value` with every `secret_key` entry removed, at any depth."""
    if isinstance(value, Mapping):
        return {k: without_secrets(v) for k, v in value.items() if not _is_secret_key(k)}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def redact_secrets(raw_text: str) -> str:
    """Blank out `"secret_key": "..."` in text that could not be parsed as JSON."""
    return _SECRET_IN_TEXT.sub(lambda match: f'{match.group("key")}"[REDACTED]"', raw_text)


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _first(*values: Any) -> str | None:
    """The first value that is present (not None / empty string), as text."""
    for value in values:
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        return stringify(value)
    return None


def _full_name(lead: Any) -> str | None:
    if not isinstance(lead, Mapping):
        return None
    parts = [stringify(lead.get(key)) for key in ("first_name", "last_name")]
    joined = " ".join(part.strip() for part in parts if part and part.strip())
    return joined or _first(lead.get("name"), lead.get("full_name"))


def _text_of(value: Any, *keys: str) -> str | None:
    """`value` itself when it is text, else the first of `keys` in it."""
    if isinstance(value, Mapping):
        return _first(*(value.get(key) for key in keys))
    return _first(value)


def parse_webhook_event(
    obj: Mapping[str, Any],
    source_kind: str,
    source_file: str | None,
    row_number: int | None,
    received_at: datetime,
) -> Row:
    """Flatten one webhook delivery (flat or `event`/`lead{}` envelope) into a RAW row.

    `event_key` = md5 of the canonical payload without `secret_key`, so a delivery that
    arrives twice collapses on merge.
    """
    payload = without_secrets(obj)
    lead = payload.get("lead")
    campaign = payload.get("campaign")
    category = payload.get("lead_category")
    return {
        "event_key": canonical_md5(payload=payload),
        "event_type": _first(payload.get("event_type"), payload.get("event")),
        "event_timestamp": _first(payload.get("event_timestamp"), payload.get("timestamp"), payload.get("time")),
        "to_email": _first(
            payload.get("to_email"),
            _get(payload, "lead", "email"),
            payload.get("sl_lead_email"),
            payload.get("lead_email"),
        ),
        "to_name": _first(payload.get("to_name"), _full_name(lead), payload.get("lead_name")),
        "from_email": _first(payload.get("from_email")),
        "campaign_id": _first(
            payload.get("campaign_id"),
            _get(payload, "campaign", "id") if isinstance(campaign, Mapping) else None,
        ),
        "campaign_name": _first(
            payload.get("campaign_name"),
            _get(payload, "campaign", "name") if isinstance(campaign, Mapping) else None,
        ),
        "sequence_number": _first(payload.get("sequence_number")),
        "stats_id": _first(payload.get("stats_id")),
        "subject": _first(payload.get("subject"), payload.get("email_subject")),
        "lead_category_old": _first(_get(category, "old_name")),
        "lead_category_new": _text_of(category, "new_name"),
        "reply_text": _first(
            _text_of(payload.get("reply_message"), "text"),
            _text_of(payload.get("reply"), "text"),
            payload.get("reply_text"),
        ),
        "bounce_message": _first(payload.get("bounce_message")),
        "webhook_id": _first(payload.get("webhook_id")),
        "payload_json": compact_json(payload),
        "source_kind": source_kind,
        "source_file": source_file,
        "source_row_number": row_number,
        "received_at": received_at,
    }


def read_event_lines(path: Path, source_kind: str, received_at: datetime) -> Iterator[tuple[Row | None, Row | None]]:
    """Yield (event row, None) or (None, rejected row) for each non-blank line of a JSONL file."""
    source_file = path.name
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.rstrip("\r\n")  # keep the columns of the original line
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as error:
                reason = f"invalid JSON at line {line_number}, column {error.colno}: {error.msg}"
                yield None, _reject(source_file, line_number, reason, text, received_at)
                continue
            if not isinstance(obj, Mapping):
                reason = f"event is not a JSON object ({type(obj).__name__})"
                yield None, _reject(source_file, line_number, reason, text, received_at)
                continue
            yield parse_webhook_event(obj, source_kind, source_file, line_number, received_at), None


def _reject(source_file: str, line_number: int, reason: str, text: str, at: datetime) -> Row:
    return make_rejection("smartlead", source_file, line_number, reason, redact_secrets(text), at)
