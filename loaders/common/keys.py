"""Canonical JSON and content-derived md5 keys.

Keys are persisted, so the text hashed must never change: it is `json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False, allow_nan=True)`. orjson writes the same bytes much
faster except for floats below 1e-4 in magnitude (orjson `0.00001` / `1.5e-7`, Python `1e-05` /
`1.5e-07`), NaN/Infinity (orjson writes null), ints beyond 64 bits and non-JSON types (orjson
raises). So: orjson first, and the stdlib whenever orjson raises or its text holds a number with
an exponent or four leading decimal zeros (a false alarm only costs time).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import orjson

KEY_SEPARATOR = "\x1f"

# a JSON number token that orjson may write differently from Python (see the module docstring);
# in compact JSON a number starts the text or follows `:`, `,` or `[`
_NUMBER = rb"-?(?:[0-9]+(?:\.[0-9]+)?[eE]|0\.0000)"
_SUSPECT_NUMBER = re.compile(rb"[:,\[]" + _NUMBER)  # (no `^|` in it: that makes the search slow)
_SUSPECT_AT_START = re.compile(_NUMBER)
# everything that is not plain JSON data goes to `_refuse`, so the stdlib writes it; one exception
# no option covers: orjson writes a plain `Enum` member as its value (the stdlib: `str(member)`).
# Keys are computed from parsed JSON and CSV text, which never holds one: do not pass enums.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
_ORJSON_SORTED = _ORJSON_OPTIONS | orjson.OPT_SORT_KEYS


def _suspect(text: bytes) -> bool:
    """True when a number in orjson's `text` may be written differently by the stdlib."""
    # every exponent has a sign (`1e+16`, `1.5e-7`); plain substring tests are fast, the regex
    # only confirms that the match is a number and not text
    if b"e-" in text or b"e+" in text or b"0.0000" in text:
        return _SUSPECT_NUMBER.search(text) is not None or _SUSPECT_AT_START.match(text) is not None
    return False


def _json_default(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _refuse(value: Any) -> Any:
    raise TypeError


def _stdlib_json(value: Any, *, sort_keys: bool) -> str:
    return json.dumps(
        value,
        sort_keys=sort_keys,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=True,
        default=_json_default,
    )


def _fast(value: Any, option: int) -> bytes | None:
    """orjson's text when it is certainly the stdlib's too, else None."""
    try:
        text = orjson.dumps(value, default=_refuse, option=option)
    except (orjson.JSONEncodeError, TypeError):
        return None
    if b"null" in text and _has_non_finite(value):
        return None
    return None if _suspect(text) else text


def _has_non_finite(value: Any) -> bool:
    """NaN/Infinity somewhere in `value` (orjson writes them as null, the stdlib as NaN...)."""
    if type(value) is float:
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(item) for item in value)
    return False


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, unicode kept: the same data always gives the same text."""
    text = _fast(value, _ORJSON_SORTED)
    return text.decode("utf-8") if text is not None else _stdlib_json(value, sort_keys=True)


def compact_json(value: Any) -> str:
    """JSON text without whitespace, key order as given (for storing source values)."""
    text = _fast(value, _ORJSON_OPTIONS)
    return text.decode("utf-8") if text is not None else _stdlib_json(value, sort_keys=False)


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def md5_key(*parts: object) -> str:
    """md5 of the parts joined by a separator that cannot occur in normal text (None -> '')."""
    return md5_hex(KEY_SEPARATOR.join("" if part is None else str(part) for part in parts))


def canonical_md5(*prefix: object, payload: Any) -> str:
    """md5 of the prefix parts followed by the canonical JSON of `payload`."""
    if prefix:
        return md5_key(*prefix, canonical_json(payload))
    text = _fast(payload, _ORJSON_SORTED)
    if text is None:
        return md5_hex(_stdlib_json(payload, sort_keys=True))
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


def parsed_json_key_and_text(
    payload: dict[str, Any], *, floats: bool = True, sorted_keys: bool = False
) -> tuple[str, str] | None:
    """(`canonical_md5(payload=payload)`, `compact_json(payload)`) for a dict that `orjson.loads`
    built (plain JSON types, no NaN/Infinity), or None when the stdlib must decide: orjson loads
    integers beyond 64 bits as floats, so the caller then parses the source text again with `json`.

    `floats=False` (the caller saw no float in `payload`) skips the check of numbers: without
    floats, orjson's text is the stdlib's. `sorted_keys=True` (the caller saw every dict's keys
    in sorted order) reuses the canonical text as the compact one.
    """
    try:
        canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    if floats and _suspect(canonical):
        return None
    key = hashlib.md5(canonical, usedforsecurity=False).hexdigest()
    return key, (canonical if sorted_keys else orjson.dumps(payload)).decode("utf-8")
