"""Canonical JSON and content-derived md5 keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any

KEY_SEPARATOR = "\x1f"


def _json_default(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, unicode kept: the same data always gives the same text."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=True,
        default=_json_default,
    )


def compact_json(value: Any) -> str:
    """JSON text without whitespace, key order as given (for storing source values)."""
    return json.dumps(
        value,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=True,
        default=_json_default,
    )


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def md5_key(*parts: object) -> str:
    """md5 of the parts joined by a separator that cannot occur in normal text (None -> '')."""
    return md5_hex(KEY_SEPARATOR.join("" if part is None else str(part) for part in parts))


def canonical_md5(*prefix: object, payload: Any) -> str:
    """md5 of the prefix parts followed by the canonical JSON of `payload`."""
    return md5_key(*prefix, canonical_json(payload))
