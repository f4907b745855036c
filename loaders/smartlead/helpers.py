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


_SECRET_KEY_CACHE: dict[str, bool] = {}  # a webhook has a dozen distinct keys: decide each once


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    found = _SECRET_KEY_CACHE.get(key)
    if found is None:
        found = re.sub(r"[_\-\s]", "", key.casefold()) in SECRET_KEYS
        if len(_SECRET_KEY_CACHE) < 10_000:
            _SECRET_KEY_CACHE[key] = found
    return found


_SCALARS = frozenset({str, int, float, bool, type(None)})  # nothing to remove inside these


def without_secrets(value: Any) -> Any:
    """A copy of `value` with every `secret_key` entry removed, at any depth."""
    if isinstance(value, Mapping):
        return {k: v if type(v) in _SCALARS else without_secrets(v) for k, v in value.items() if not _is_secret_key(k)}
    if isinstance(value, list):
        return [item if type(item) in _SCALARS else without_secrets(item) for item in value]
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


def _text(value: Any) -> str | None:
    """`_first` of one value."""
    if value is None:
        return None
    if type(value) is str:
        return value if value.strip() else None
    return _first(value)


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
    get = payload.get
    campaign = get("campaign")
    campaign = campaign if isinstance(campaign, Mapping) else None
    category = get("lead_category")
    # each column takes the first present candidate; the later ones (other envelope, other
    # spellings) are only looked at when the earlier ones are missing: this runs per event
    to_email = _text(get("to_email"))
    if to_email is None:
        to_email = _first(_get(payload, "lead", "email"), get("sl_lead_email"), get("lead_email"))
    to_name = _text(get("to_name"))
    if to_name is None:
        to_name = _first(_full_name(get("lead")), get("lead_name"))
    campaign_id = _text(get("campaign_id"))
    if campaign_id is None and campaign is not None:
        campaign_id = _text(campaign.get("id"))
    campaign_name = _text(get("campaign_name"))
    if campaign_name is None and campaign is not None:
        campaign_name = _text(campaign.get("name"))
    reply_text = None
    if "reply_message" in payload or "reply" in payload or "reply_text" in payload:
        reply_text = _first(
            _text_of(get("reply_message"), "text"),
            _text_of(get("reply"), "text"),
            get("reply_text"),
        )
    return {
        "event_key": canonical_md5(payload=payload),
        "event_type": _text(get("event_type")) or _text(get("event")),
        "event_timestamp": _first(get("event_timestamp"), get("timestamp"), get("time")),
        "to_email": to_email,
        "to_name": to_name,
        "from_email": _text(get("from_email")),
        "campaign_id": campaign_id,
        "campaign_name": campaign_name,
        "sequence_number": _text(get("sequence_number")),
        "stats_id": _text(get("stats_id")),
        "subject": _text(get("subject")) or _text(get("email_subject")),
        "lead_category_old": None if category is None else _text(_get(category, "old_name")),
        "lead_category_new": None if category is None else _text_of(category, "new_name"),
        "reply_text": reply_text,
        "bounce_message": _text(get("bounce_message")),
        "webhook_id": _text(get("webhook_id")),
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
