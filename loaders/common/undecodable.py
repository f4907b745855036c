"""Text that JSON can carry but UTF-8 cannot: lone surrogates such as `"\\ud83d"`.

`json.loads` accepts the escape of half an emoji and gives a Python string that no UTF-8 file,
hash or warehouse column can hold (`UnicodeEncodeError: surrogates not allowed`). orjson refuses
such text, the stdlib does not, so a value parsed by the stdlib is checked before it is hashed or
stored: the row is rejected with the field that holds the bad text, and the rest goes on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["UNDECODABLE_REASON", "lone_surrogate_path", "storable_text", "undecodable_reason"]

_SURROGATE = re.compile("[\ud800-\udfff]")

UNDECODABLE_REASON = "invalid unicode escape (a lone surrogate such as \\ud83d)"


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """Where in `value` (a parsed JSON value) a lone surrogate is, e.g. `lead.name` or
    `data[3]`, `<key>` for an object key; `$` for `value` itself; None when there is none."""
    kind = type(value)
    if kind is str:
        return (path or "$") if _has_surrogate(value) else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            if _has_surrogate(key_text):
                return f"{path}.<key>" if path else "<key>"
            found = lone_surrogate_path(item, f"{path}.{key_text}" if path else key_text)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = lone_surrogate_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def undecodable_reason(path: str) -> str:
    """The rejection reason for a value whose field `path` holds a lone surrogate."""
    return f"{UNDECODABLE_REASON} in `{storable_text(path)}`: the text cannot be stored as UTF-8"


def storable_text(text: str) -> str:
    """`text` with each lone surrogate written as its escape (`\\ud83d`), so it can be stored."""
    if not _has_surrogate(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
