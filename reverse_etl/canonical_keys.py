"""Canonical email and domain keys: the Python mirror of macros/canonical_keys.sql (and of the
fold table in macros/unicode_fold.sql). Suppression compares these keys, in the warehouse and in
the send-time guard alike, so `John@Acme-Mail.com` also blocks `john+x@acme-mail.com`,
`john@acme-mail.com.` and the same address with a zero-width space or in fullwidth letters.

The steps, identical in SQL (a test runs both on generated addresses through DuckDB):
1. fold: every character whose NFKC form is one ASCII character becomes that character
   (fullwidth U+FF4A -> `j`, bold U+1D423 -> `j`, no-break and other spaces -> ` `), format characters
   (category Cf: zero-width space/joiners, word joiner, soft hyphen, BOM, bidi marks, tags) and
   variation selectors are removed. A character NFKC maps to several letters (U+FB01 `fi`) is kept: it
   leaves the address invalid, which is quarantined, never matched loosely;
2. trim spaces, drop trailing dots (`acme.com.` is the same host);
3. the address is valid only when what is left is plain ASCII `local@domain.tld` (checked before
   lower-casing: lower() of non-ASCII letters differs between Python, DuckDB and Snowflake);
4. lower-case; the matching key also drops the `+tag` of the local part.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# characters the SQL literal cannot hold portably (Snowflake reads a backslash as an escape);
# neither may appear in an address, so leaving their fullwidth forms unfolded changes nothing
_UNFOLDABLE_TARGETS = frozenset("'\\")
# invisible marks removed besides category Cf: variation selectors and the grapheme joiner
_EXTRA_REMOVED = [0x034F, *range(0x180B, 0x180E), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
# planes that hold every NFKC-to-ASCII mapping and format character (BMP, SMP, tags)
_SCANNED = [range(0x00, 0x20000), range(0xE0000, 0xE1000)]

_VALID_EMAIL = re.compile(r"[A-Za-z0-9._%-][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_WWW_OR_AT = re.compile(r"^(@|[wW]{3}\.)")
_VALID_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


@cache
def fold_mapping() -> tuple[str, str, str]:
    """(characters mapped, their ASCII replacements, characters removed), in code point order:
    the three strings macros/unicode_fold.sql holds (a test compares them)."""
    sources: list[str] = []
    targets: list[str] = []
    removed: list[str] = []
    extra = set(_EXTRA_REMOVED)
    for block in _SCANNED:
        for code_point in block:
            char = chr(code_point)
            if unicodedata.category(char) == "Cf" or code_point in extra:
                removed.append(char)
            elif char.isspace() and char != " ":
                sources.append(char)
                targets.append(" ")
            elif code_point >= 0x80:
                folded = unicodedata.normalize("NFKC", char)
                if len(folded) == 1 and folded.isascii() and folded not in _UNFOLDABLE_TARGETS:
                    sources.append(char)
                    targets.append(folded)
    return "".join(sources), "".join(targets), "".join(removed)


@cache
def _fold_table() -> dict[int, str | None]:
    sources, targets, removed = fold_mapping()
    table: dict[int, str | None] = {ord(source): target for source, target in zip(sources, targets, strict=True)}
    table.update(dict.fromkeys(map(ord, removed)))
    return table


def unicode_fold(text: str) -> str:
    """NFKC-to-ASCII folding, format characters removed (macro `unicode_fold`)."""
    return text.translate(_fold_table())


def _email_folded(raw: str) -> str:
    return unicode_fold(raw).strip(" ").rstrip(".")


def canonical_email(raw: str | None) -> str | None:
    """The address to store and send: folded, trimmed, trailing dots dropped, lower-cased; the
    `+tag` is kept (macro `canonical_email`). None for None."""
    return None if raw is None else _email_folded(raw).lower()


def email_problem(raw: str | None) -> str | None:
    """Why the address cannot be used, or None (macro `email_problem`)."""
    if raw is None or _email_folded(raw) == "":
        return "no email revealed"
    if _VALID_EMAIL.fullmatch(_email_folded(raw)) is None:
        return "invalid email syntax"
    return None


def email_key(raw: str | None) -> str | None:
    """The suppression matching key: the canonical address without the local part's `+tag`
    (macro `email_key`). Computed for any text, valid or not (an invalid key matches no valid
    address); None for None."""
    address = canonical_email(raw)
    if address is None:
        return None
    parts = address.split("@")
    # split_part semantics, as in SQL: the text before the first '@' and between the first two
    return parts[0].split("+")[0] + "@" + (parts[1] if len(parts) > 1 else "")


def _domain_folded(raw: str) -> str:
    return _WWW_OR_AT.sub("", unicode_fold(raw).strip(" ").rstrip("."), count=1)


def canonical_domain(raw: str | None) -> str | None:
    """A domain key: folded, trimmed, trailing dots and a leading `@` or `www.` dropped,
    lower-cased (macro `canonical_domain`). None for None."""
    return None if raw is None else _domain_folded(raw).lower()


def domain_problem(raw: str | None) -> str | None:
    """Why the text is not a usable domain key, or None (macro `domain_problem`)."""
    if raw is None or _domain_folded(raw) == "":
        return "is empty"
    return None if _VALID_DOMAIN.fullmatch(_domain_folded(raw)) else "is not a domain"
