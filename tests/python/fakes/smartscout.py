"""A faithful fake of SmartScout `POST /api/v2/brands/search` (contract: shared/api-specs/CONTRACTS.md §1).

Use it as the handler of `serve()`:

    fake = SmartScoutFake(items=make_brands(25))
    with serve(fake) as server:
        ...  # base_url = server.base_url; server.requests = what the client sent

Behaviour: 401 without or with a wrong `X-Api-Key`; 400 without (or with an unknown) `marketplace`,
with a bad `page[size]` or an unknown cursor; opaque cursor ids; `page[size]` clamped to
`page_cap`; `data: null` on an empty result; body filters applied (text, range, list, boolean);
the body is checked against SearchBrandsV2Request (`additionalProperties: false` at both levels,
RangeInt bounds whole numbers): an unknown filter name or filter key -> 400.
Misbehaviour on demand: `inject(...)` queues replies sent before normal service (429 with or
without Retry-After, 500s, slow replies), `fail_from_page` (500 forever from page N),
`malformed_page` (invalid JSON on page N), `last_page` (how the dataset ends).

Shape of the brand items (`shape`): "published" (the default) answers exactly as SmartScout's
published schema `Bb.Pub.Brand` (BRAND_SCHEMA_TYPES below, from the vendor's OpenAPI): only its
properties, so no `storefrontUrl`, `subcategoryId` or any other extra
field, whatever the items given hold. "observed" sends the items as given: the extra fields a
third-party adapter was seen to receive (`storefrontUrl`, `subcategoryId`), or anything a test adds.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.python.fakes.server import Reply, Request

SEARCH_PATH = "/api/v2/brands/search"
MARKETPLACES = frozenset({"US", "UK", "DE", "FR", "IT", "ES", "CA", "MX", "IN", "AU", "JP"})
FAKE_API_KEY = "fake-smartscout-key-0123456789"
CATEGORIES = ["Home & Kitchen", "Sports & Outdoors", "Beauty & Personal Care", "Pet Supplies", "Toys & Games"]
_NAME_PARTS = ["Acme", "Cobalt", "Béton", "Nordic", "Verde", "Lumen", "Atlas", "Kite", "Orca", "Juniper"]
_NAME_SUFFIXES = ["Kitchen", "Outdoors", "Labs", "Co.", "Goods", "& Sons", "Studio", "Supply"]

# How the dataset ends:
#   normal            last data page: nextPageId null, hasMoreRecords false
#   cursor_on_last    last data page: hasMoreRecords false but a nextPageId still set
#   empty_page        last data page claims more; the next page has data [] and no cursor
#   empty_with_cursor last data page claims more; the next page has data null and yet a cursor
LastPage = Literal["normal", "cursor_on_last", "empty_page", "empty_with_cursor"]

# the brand items' shape: the vendor's published schema, or as given (see the module docstring)
Shape = Literal["published", "observed"]

# Bb.Pub.Brand as SmartScout's published OpenAPI declares it (components/schemas): property -> JSON
# type. Every property is nullable but the booleans; the object allows no other property.
BRAND_SCHEMA_TYPES: dict[str, str] = {
    "brandName": "string",
    "categoryName": "string",
    "subcategoryName": "string",
    "amazonIsr": "number",
    "avgFbaSellers": "number",
    "avgSellers": "number",
    "avgPrice": "number",
    "avgVolume": "number",
    "reviewRating": "number",
    "totalProducts": "integer",
    "totalReviews": "integer",
    "monthlyRevenue": "number",
    "monthlyUnitsSold": "integer",
    "brandScore": "number",
    "hasStorefront": "boolean",
    "hasSingleSeller": "boolean",
    "dominantSellerProfileId": "integer",
    "dominantSellerBrandCoverage": "number",
    "monthGrowth": "number",
    "monthGrowth12": "number",
    "trailing12Months": "number",
}
BRAND_PROPERTIES: frozenset[str] = frozenset(BRAND_SCHEMA_TYPES)

# the search answer (PagedSearchResponse[Brand]) as a JSON Schema, for tests holding the fake to it
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "dataCount": {"type": "integer"},
        "paging": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"nextPageId": {"type": ["string", "null"]}, "hasMoreRecords": {"type": "boolean"}},
        },
        "data": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    name: {"type": kind if kind == "boolean" else [kind, "null"]}
                    for name, kind in BRAND_SCHEMA_TYPES.items()
                },
            },
        },
    },
}


def published_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as the published schema allows it: its properties only (additionalProperties: false)."""
    return {name: value for name, value in item.items() if name in BRAND_PROPERTIES}


# SearchBrandsV2Request (the vendor's OpenAPI, components/schemas): property -> schema
SEARCH_BRANDS_V2_REQUEST: dict[str, str] = {
    "brandNames": "ListFilter",
    "brandName": "TextFilter",
    "amazonIsr": "RangeFilter",
    "avgSellers": "RangeFilter",
    "avgPrice": "RangeFilter",
    "avgVolume": "RangeFilter",
    "reviewRating": "RangeFilter",
    "totalReviews": "RangeInt",
    "totalProducts": "RangeInt",
    "avgFbaSellers": "RangeFilter",
    "brandScore": "RangeFilter",
    "monthlyRevenue": "RangeFilter",
    "note": "TextFilter",
    "category": "TextFilter",
    "categoryName": "TextFilter",
    "subcategoryName": "TextFilter",
    "hasStorefront": "boolean",
    "searchTerms": "RangeInt",
    "sponsoredProducts": "RangeInt",
    "sponsoredBrandWinRate": "RangeDecimal",
    "sponsoredVideoWinRate": "RangeDecimal",
    "topSpotWinRate": "RangeDecimal",
    "topGroupWinRate": "RangeDecimal",
    "monthGrowth": "RangeDecimal",
    "monthGrowth12": "RangeDecimal",
    "trailing12Months": "RangeDecimal",
}
_SCHEMA_KEYS = {
    "ListFilter": {"filter"},
    "TextFilter": {"type", "filter"},
    "RangeFilter": {"min", "max"},
    "RangeDecimal": {"min", "max"},
    "RangeInt": {"min", "max"},
}


def body_problem(body: Mapping[str, Any]) -> str | None:
    """Why the body does not fit SearchBrandsV2Request (all properties nullable), or None."""
    for name, value in body.items():
        schema = SEARCH_BRANDS_V2_REQUEST.get(name)
        if schema is None:
            return f"'{name}' is not a property of SearchBrandsV2Request"
        if value is None:
            continue
        if schema == "boolean":
            if not isinstance(value, bool):
                return f"'{name}' must be a boolean"
            continue
        if not isinstance(value, Mapping):
            return f"'{name}' must be an object ({schema})"
        extra = set(value) - _SCHEMA_KEYS[schema]
        if extra:
            return f"'{name}.{sorted(extra)[0]}' is not a property of {schema}"
        for key, bound in value.items():
            if bound is None:
                continue
            if schema == "RangeInt" and (isinstance(bound, bool) or not isinstance(bound, int)):
                return f"'{name}.{key}' must be an integer"
            if schema in ("RangeFilter", "RangeDecimal") and (
                isinstance(bound, bool) or not isinstance(bound, int | float)
            ):
                return f"'{name}.{key}' must be a number"
        if schema == "TextFilter" and not all(isinstance(value.get(k), str | None) for k in ("type", "filter")):
            return f"'{name}' type and filter must be strings"
        if schema == "ListFilter" and not (
            value.get("filter") is None
            or (isinstance(value["filter"], list) and all(isinstance(item, str) for item in value["filter"]))
        ):
            return f"'{name}.filter' must be an array of strings"
    return None


def make_brands(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Deterministic brand items in the vendor's camelCase shape (nullable numerics included). Some carry
    `storefrontUrl` / `subcategoryId`, which only a fake with `shape="observed"` sends."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for index in range(count):
        name = f"{_NAME_PARTS[index % len(_NAME_PARTS)]} {_NAME_SUFFIXES[index % len(_NAME_SUFFIXES)]} {index:04d}"
        category = CATEGORIES[index % len(CATEGORIES)]
        revenue = round(rng.uniform(1_000, 2_000_000), 2)
        item: dict[str, Any] = {
            "brandName": name,
            "categoryName": category,
            "subcategoryName": f"{category} / sub {index % 3}",
            "monthlyRevenue": revenue,
            "monthlyUnitsSold": rng.randint(10, 50_000),
            "monthGrowth": round(rng.uniform(-50, 200), 2) if index % 7 else None,
            "monthGrowth12": round(rng.uniform(-80, 500), 2) if index % 5 else None,
            "trailing12Months": round(revenue * rng.uniform(8, 14), 2),
            "totalProducts": rng.randint(1, 400),
            "totalReviews": rng.randint(0, 90_000) if index % 9 else None,
            "reviewRating": round(rng.uniform(2.5, 5.0), 1) if index % 9 else None,
            "avgPrice": round(rng.uniform(5, 300), 2),
            "avgVolume": round(rng.uniform(10, 4000), 1) if index % 4 else None,
            "avgSellers": round(rng.uniform(1, 12), 2),
            "avgFbaSellers": round(rng.uniform(0, 8), 2),
            "amazonIsr": round(rng.uniform(0, 1), 3) if index % 6 else None,
            "brandScore": rng.randint(1, 10),
            "hasStorefront": index % 3 != 0,
            "hasSingleSeller": index % 4 == 0,
            "dominantSellerProfileId": rng.randint(10_000, 99_999) if index % 8 else None,
            "dominantSellerBrandCoverage": round(rng.uniform(0.1, 1), 3),
        }
        if index % 3 != 0:
            item["storefrontUrl"] = f"https://www.amazon.com/stores/page/{rng.getrandbits(64):016X}"
        if index % 2:
            item["subcategoryId"] = 1000 + index % 17
        items.append(item)
    return items


def problem(status: int, title: str, detail: str) -> Reply:
    """An RFC 7807 problem+json reply."""
    return Reply(
        status,
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        {"Content-Type": "application/problem+json"},
    )


def rate_limited(retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    reply = problem(429, "Too Many Requests", "rate limit exceeded")
    return Reply(429, reply.body, {**reply.headers, **headers})


def server_error() -> Reply:
    return problem(500, "Internal Server Error", "something went wrong")


def slow(reply: Reply | None = None, seconds: float = 1.0) -> Reply:
    """`reply` (default: a marker meaning 'the normal page') sent after `seconds`."""
    base = reply or Reply(-1)
    return Reply(base.status, base.body, base.headers, delay_seconds=seconds)


def _matches(item: Mapping[str, Any], name: str, condition: Any) -> bool:
    field_name = "brandName" if name == "brandNames" else name
    value = item.get(field_name)
    if isinstance(condition, bool):
        return value is condition
    if not isinstance(condition, Mapping):
        return True
    if "type" in condition:
        kind = condition["type"]
        text = (value or "").casefold() if isinstance(value, str) or value is None else str(value).casefold()
        wanted = str(condition.get("filter") or "").casefold()
        checks = {
            "startsWith": lambda: text.startswith(wanted),
            "endsWith": lambda: text.endswith(wanted),
            "contains": lambda: wanted in text,
            "notContains": lambda: wanted not in text,
            "equals": lambda: text == wanted,
            "exact": lambda: text == wanted,
            "notEquals": lambda: text != wanted,
            "blanks": lambda: not text,
        }
        return checks.get(kind, lambda: True)()
    if "filter" in condition and isinstance(condition["filter"], list):
        return value in condition["filter"]
    if "min" in condition or "max" in condition:
        if value is None:
            return False
        low, high = condition.get("min"), condition.get("max")
        return (low is None or value >= low) and (high is None or value <= high)
    return True


@dataclass
class SmartScoutFake:
    items: list[dict[str, Any]] = field(default_factory=lambda: make_brands(25))
    api_key: str = FAKE_API_KEY
    page_cap: int = 1000
    last_page: LastPage = "normal"
    shape: Shape = "published"
    fail_from_page: int | None = None  # 500 forever from this 1-based page number
    malformed_page: int | None = None  # this page's body is invalid JSON
    secret: str = "fake-cursor-salt"
    # counters (read them in tests)
    calls: int = 0
    pages_served: int = 0  # 200 replies carrying a page envelope (malformed pages included)
    page_numbers_served: list[int] = field(default_factory=list)
    _queue: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, *replies: Reply) -> SmartScoutFake:
        """Replies sent, in order, before normal service (a status of -1 = the normal reply, delayed)."""
        with self._lock:
            self._queue.extend(replies)
        return self

    # ------------------------------------------------------------------ cursors
    def cursor_for(self, offset: int) -> str:
        tag = hashlib.sha256(f"{self.secret}:{offset}".encode()).hexdigest()[:10]
        return base64.urlsafe_b64encode(f"o{offset}.{tag}".encode()).decode().rstrip("=")

    def _offset_of(self, cursor: str) -> int | None:
        try:
            decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            offset = int(decoded[1 : decoded.index(".")])
        except (ValueError, UnicodeDecodeError):
            return None
        return offset if self.cursor_for(offset) == cursor else None

    # ------------------------------------------------------------------ handler
    def __call__(self, request: Request) -> Reply:
        with self._lock:
            self.calls += 1
            injected = self._queue.pop(0) if self._queue else None
        if request.path != SEARCH_PATH:
            return problem(404, "Not Found", f"no route {request.path}")
        if request.method != "POST":
            return problem(405, "Method Not Allowed", "use POST")
        if request.header("X-Api-Key") != self.api_key:
            return problem(401, "Unauthorized", "missing or invalid API key")
        if injected is not None and injected.status != -1:
            return injected
        reply = self._search(request)
        if injected is not None:  # a slow normal reply
            reply.delay_seconds = injected.delay_seconds
        return reply

    def _search(self, request: Request) -> Reply:
        marketplace = request.param("marketplace")
        if not marketplace:
            return problem(400, "Bad Request", "marketplace is required")
        if marketplace.upper() not in MARKETPLACES:
            return problem(400, "Bad Request", f"unknown marketplace {marketplace}")
        try:
            size = int(request.param("page[size]") or 25)
        except ValueError:
            return problem(400, "Bad Request", "page[size] must be an integer")
        if size < 1:
            return problem(400, "Bad Request", "page[size] must be positive")
        size = min(size, self.page_cap)
        cursor = request.param("page[id]")
        offset = 0
        if cursor:
            found = self._offset_of(cursor)
            if found is None:
                return problem(400, "Bad Request", "unknown page id")
            offset = found
        try:
            filters = request.json() or {}
        except ValueError:
            return problem(400, "Bad Request", "body is not JSON")
        if not isinstance(filters, dict):
            return problem(400, "Bad Request", "body must be a JSON object")
        refused = body_problem(filters)
        if refused is not None:
            return problem(400, "Bad Request", refused)

        matching = [item for item in self.items if all(_matches(item, k, v) for k, v in filters.items())]
        sort_by = request.param("sort[by]")
        if sort_by:
            reverse = (request.param("sort[order]") or "asc") == "desc"
            present = [item for item in matching if item.get(sort_by) is not None]
            missing = [item for item in matching if item.get(sort_by) is None]
            matching = sorted(present, key=lambda item: item[sort_by], reverse=reverse) + missing

        page_number = offset // size + 1
        if self.fail_from_page is not None and page_number >= self.fail_from_page:
            return server_error()
        with self._lock:
            self.pages_served += 1
            self.page_numbers_served.append(page_number)
        if self.malformed_page == page_number:
            return Reply(200, '{"dataCount": 3, "paging": {"nextPageId": "x", "hasM', {})
        return Reply(200, self._envelope(matching, offset, size))

    def _envelope(self, matching: list[dict[str, Any]], offset: int, size: int) -> dict[str, Any]:
        total = len(matching)
        data = matching[offset : offset + size]
        if not data:  # beyond the end, or nothing matched
            liar_id = self.cursor_for(offset + size) if self.last_page == "empty_with_cursor" and total else None
            empty: list[Any] | None = [] if self.last_page == "empty_page" and total else None
            more = self.last_page == "empty_with_cursor" and bool(total)
            return {"dataCount": total, "paging": {"nextPageId": liar_id, "hasMoreRecords": more}, "data": empty}
        if self.shape == "published":
            data = [published_item(item) if isinstance(item, Mapping) else item for item in data]
        end = offset + len(data)
        more = end < total
        next_id: str | None = self.cursor_for(end) if more else None
        if not more and self.last_page in {"empty_page", "empty_with_cursor"}:
            more, next_id = True, self.cursor_for(end)  # claims more; the next page is empty
        elif not more and self.last_page == "cursor_on_last":
            next_id = self.cursor_for(end)
        return {"dataCount": total, "paging": {"nextPageId": next_id, "hasMoreRecords": more}, "data": data}
