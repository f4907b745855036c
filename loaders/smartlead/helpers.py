"""Smartlead webhook parsing: both envelopes flattened to raw.smartlead_events columns.

The webhook body carries `secret_key`: it is removed before anything is hashed or stored
and is never logged.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from loaders.common.arrow import Row, stringify
from loaders.common.columns import arrow_schema
from loaders.common.keys import canonical_md5, compact_json, parsed_json_key_and_text
from loaders.common.rejected import make_rejection
from loaders.common.undecodable import lone_surrogate_path, undecodable_reason
from loaders.smartlead.settings import EVENT_COLUMNS, SECRET_KEYS

# A key (JSON string, quoted or bare word, escapes allowed: `"secret\\u005fkey"`), `:` or `=`,
# and its value (an unterminated string runs to the end: text cut short keeps no part of a secret).
# A bare key must start a word, so the scan stays linear on long runs of letters.
_KEY_AND_VALUE = re.compile(
    r"""(?P<key>"(?:[^"\\\n]|\\.){1,200}"|'[^'\n]{1,200}'|(?<![\w\\-])[\w\\-]{1,60}(?:[ \t]+[\w\\-]{1,60})?)"""
    r"""(?P<separator>\s*[:=]\s*)(?P<value>"(?:[^"\\]|\\.)*"?|'[^']*'?|[^,}\]\s]*)"""
)
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.DOTALL)


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


# per key set of a dict (a webhook has few): its secret keys, and whether the rest is in order
_SECRETS_BY_KEYS: dict[tuple[str, ...], tuple[tuple[str, ...], bool]] = {}
FLOATS = 1  # strip_secrets: a float is left in the value
UNSORTED = 2  # strip_secrets: a dict's keys are not in sorted order


def strip_secrets(value: Any) -> int:
    """`without_secrets` in place, for the dicts and lists that `orjson.loads` just built.

    Returns FLOATS | UNSORTED flags: a float's JSON text needs a closer look (see keys.py); with
    every dict in key order, the compact JSON is the canonical JSON."""
    flags = 0
    if type(value) is dict:
        keys = tuple(value)
        known = _SECRETS_BY_KEYS.get(keys)
        if known is None:
            secrets = tuple(key for key in keys if _is_secret_key(key))
            kept = [key for key in keys if key not in secrets]
            known = (secrets, all(type(key) is str for key in kept) and kept == sorted(kept))
            if len(_SECRETS_BY_KEYS) < 10_000:
                _SECRETS_BY_KEYS[keys] = known
        for key in known[0]:
            del value[key]
        if not known[1]:
            flags = UNSORTED
        items: Any = value.values()
    elif type(value) is list:
        items = value
    else:
        return FLOATS if type(value) is float else 0
    for item in items:
        kind = type(item)
        if kind is dict or kind is list:
            flags |= strip_secrets(item)
        elif kind is float:
            flags |= FLOATS
    return flags


def _unescaped(key_token: str) -> str:
    """A key as written (quotes, `\\u005f`, `\\x5f`, `\\_`) to the text it stands for."""
    if key_token[:1] in {'"', "'"}:
        key_token = key_token[1:-1]
    return _ESCAPE.sub(_unescape_one, key_token)


def _unescape_one(found: re.Match[str]) -> str:
    hex_digits = found.group(1) or found.group(2)
    return chr(int(hex_digits, 16)) if hex_digits else found.group(3)


def _redact_value(match: re.Match[str]) -> str:
    if not _is_secret_key(_unescaped(match.group("key")).strip()):
        return match.group(0)
    return f'{match.group("key")}{match.group("separator")}"[REDACTED]"'


def redact_secrets(raw_text: str) -> str:
    """Blank out the value of every `secret_key` in text that could not be parsed as JSON, however
    the key is spelled: quoted or not, `secretKey`, `secret-key`, `Secret Key`, `secret\\u005fkey`."""
    return _KEY_AND_VALUE.sub(_redact_value, raw_text)


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
    kind = type(value)
    if kind is str:
        return value if value.strip() else None
    if value is None:
        return None
    if kind is int:
        return str(value)
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


def _event_fields(payload: Mapping[str, Any]) -> tuple[str | None, ...]:
    """The text columns from `event_type` to `webhook_id` (EVENT_COLUMNS order) of a payload."""
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
    event_timestamp = get("event_timestamp")
    if type(event_timestamp) is not str or not event_timestamp.strip():
        event_timestamp = _first(event_timestamp, get("timestamp"), get("time"))
    return (
        _text(get("event_type")) or _text(get("event")),
        event_timestamp,
        to_email,
        to_name,
        _text(get("from_email")),
        campaign_id,
        campaign_name,
        _text(get("sequence_number")),
        _text(get("stats_id")),
        _text(get("subject")) or _text(get("email_subject")),
        None if category is None else _text(_get(category, "old_name")),
        None if category is None else _text_of(category, "new_name"),
        reply_text,
        _text(get("bounce_message")),
        _text(get("webhook_id")),
    )


_FIELD_NAMES = [column.name for column in EVENT_COLUMNS[1:16]]
_EVENT_SCHEMA = arrow_schema(EVENT_COLUMNS)


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
    return {
        "event_key": canonical_md5(payload=payload),
        **dict(zip(_FIELD_NAMES, _event_fields(payload), strict=True)),
        "payload_json": compact_json(payload),
        "source_kind": source_kind,
        "source_file": source_file,
        "source_row_number": row_number,
        "received_at": received_at,
        "extra_fields_json": None,
    }


def text_lines(blob: bytes) -> list[str]:
    """The lines of a piece of a JSONL file as Python's text mode reads them (UTF-8, bad bytes
    replaced, universal newlines: `\\r\\n`, `\\r` and `\\n` all end a line), without their ends."""
    text = blob.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the text ended with a line end
    return lines


def count_text_lines(blob: bytes) -> int:
    """`len(text_lines(blob))`, cheaply when the piece has no carriage return."""
    if b"\r" in blob:
        return len(text_lines(blob))
    return blob.count(b"\n") + (0 if blob.endswith(b"\n") or not blob else 1)


def read_event_blobs(path: Path, lines_per_blob: int) -> Iterator[tuple[bytes, int]]:
    """Pieces of a JSONL file of about `lines_per_blob` lines each, cut after a `\\n` (so text
    decoding and line numbers are the same as reading the whole file), with the text-mode number
    of their first line."""
    first_line = 1
    with path.open("rb") as handle:
        while True:
            lines = handle.readlines() if lines_per_blob <= 0 else _take(handle, lines_per_blob)
            if not lines:
                return
            blob = b"".join(lines)
            yield blob, first_line
            first_line += count_text_lines(blob)


def _take(handle: Any, count: int) -> list[bytes]:
    lines: list[bytes] = []
    for line in handle:
        lines.append(line)
        if len(lines) >= count:
            break
    return lines


def parse_event_blob(
    blob: bytes, first_line: int, source_file: str, source_kind: str, received_at: datetime
) -> tuple[pa.Table, list[Row]]:
    """Events of a piece of a JSONL file as an arrow table (EVENT_COLUMNS, the first event of
    each `event_key` kept) and its rejected lines. A module-level function: it runs in worker
    processes too.

    Each line is parsed with orjson; the stdlib path of `parse_webhook_event` takes over whenever
    orjson refuses the line or its JSON text could differ from the stdlib's (keys stay exact).
    """
    collecting = gc.isenabled()
    gc.disable()  # the loop makes only short-lived objects and acyclic rows: no cycles to find
    try:
        rows, rejected = _parse_lines(text_lines(blob), first_line, source_file, source_kind, received_at)
    finally:
        if collecting:
            gc.enable()
    return events_table(rows, source_kind, source_file, received_at), rejected


def _parse_lines(
    lines: list[str], first_line: int, source_file: str, source_kind: str, received_at: datetime
) -> tuple[list[tuple[Any, ...]], list[Row]]:
    rows: list[tuple[Any, ...]] = []
    rejected: list[Row] = []
    seen: set[str] = set()
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    for line_number, text in enumerate(lines, start=first_line):
        if not text.strip():
            continue
        try:
            obj = loads(text)
        except decode_error:
            obj = None
        key_and_json = None
        if type(obj) is dict:
            payload = obj
            flags = strip_secrets(payload)
            key_and_json = parsed_json_key_and_text(
                payload, floats=bool(flags & FLOATS), sorted_keys=not flags & UNSORTED
            )
        if key_and_json is None:  # the stdlib decides (rejections, big integers, tiny floats)
            event, rejection = _parse_line(text, line_number, source_kind, source_file, received_at)
            if rejection is not None:
                rejected.append(rejection)
            if event is None or event["event_key"] in seen:
                continue
            seen.add(event["event_key"])
            rows.append((*(event[column.name] for column in EVENT_COLUMNS[:17]), line_number))
            continue
        key = key_and_json[0]
        if key in seen:
            continue
        seen.add(key)
        rows.append((key, *_event_fields(payload), key_and_json[1], line_number))
    return rows, rejected


def events_table(
    rows: list[tuple[Any, ...]], source_kind: str, source_file: str | None, received_at: datetime
) -> pa.Table:
    """Arrow table of EVENT_COLUMNS from (event_key, ...text columns..., payload_json,
    source_row_number) tuples; source_kind, source_file and received_at are the same for all
    rows, extra_fields_json is null (webhook payloads are stored whole)."""
    count = len(rows)
    columns: list[Any] = [list(values) for values in zip(*rows, strict=True)] if rows else [[] for _ in range(18)]
    arrays = [pa.array(values, type=pa.string()) for values in columns[:17]]
    arrays.append(pa.array([source_kind] * count, type=pa.string()))
    arrays.append(pa.array([source_file] * count, type=pa.string()))
    arrays.append(pa.array(columns[17], type=pa.int64()))
    arrays.append(pa.array([received_at] * count, type=_EVENT_SCHEMA.field("received_at").type))
    arrays.append(pa.nulls(count, type=pa.string()))  # extra_fields_json: the payload keeps it all
    return pa.Table.from_arrays(arrays, schema=_EVENT_SCHEMA)


def _parse_line(
    text: str, line_number: int, source_kind: str, source_file: str, received_at: datetime
) -> tuple[Row | None, Row | None]:
    """(event row, None) or (None, rejected row) for one non-blank line, with the stdlib."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"invalid JSON at line {line_number}, column {error.colno}: {error.msg}"
        return None, _reject(source_file, line_number, reason, text, received_at)
    if not isinstance(obj, Mapping):
        reason = f"event is not a JSON object ({type(obj).__name__})"
        return None, _reject(source_file, line_number, reason, text, received_at)
    try:
        return parse_webhook_event(obj, source_kind, source_file, line_number, received_at), None
    except UnicodeEncodeError:  # valid JSON, but no UTF-8 text can hold it: kept as a rejection
        reason = undecodable_reason(lone_surrogate_path(obj) or "$")
        return None, _reject(source_file, line_number, reason, text, received_at)


def read_event_lines(path: Path, source_kind: str, received_at: datetime) -> Iterator[tuple[Row | None, Row | None]]:
    """Yield (event row, None) or (None, rejected row) for each non-blank line of a JSONL file."""
    source_file = path.name
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.rstrip("\r\n")  # keep the columns of the original line
            if not text.strip():
                continue
            yield _parse_line(text, line_number, source_kind, source_file, received_at)


def _reject(source_file: str, line_number: int, reason: str, text: str, at: datetime) -> Row:
    return make_rejection("smartlead", source_file, line_number, reason, redact_secrets(text), at)
