"""The live SmartScout API: `POST /api/v2/brands/search` pages over the shared HTTP layer.

`SmartScoutApiFetcher` implements `PageFetcher`, so `load_brand_pages` drives it exactly like
recorded pages (cursor paging, incremental commits, resume). `load_smartscout_api` is the
one-call entry point: configuration from dlt-style environment variables, then the load.

Environment (dlt convention; the key may also be `sources.smartscout.api_key` in .dlt/secrets.toml):

    SOURCES__SMARTSCOUT__API_KEY              required
    SOURCES__SMARTSCOUT__BASE_URL             default https://api.smartscout.com
    SOURCES__SMARTSCOUT__MARKETPLACE          default US
    SOURCES__SMARTSCOUT__PAGE_SIZE            default 100 (1..1000)
    SOURCES__SMARTSCOUT__SORT_BY              optional, e.g. monthlyRevenue
    SOURCES__SMARTSCOUT__SORT_ORDER           asc | desc (only with SORT_BY)
    SOURCES__SMARTSCOUT__FILTERS              JSON object, e.g. {"monthlyRevenue": {"min": 10000}}
    SOURCES__SMARTSCOUT__REQUESTS_PER_SECOND  default 2.0
    SOURCES__SMARTSCOUT__BURST                default 10
    SOURCES__SMARTSCOUT__COMMIT_EVERY_PAGES   default 20
    SOURCES__SMARTSCOUT__COMMIT_MIN_SECONDS   default 10 (commits at least this far apart; 0 = every N pages)
    SOURCES__SMARTSCOUT__RESUME_WINDOW_HOURS  default 24 (0 = never resume)
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loaders.common import LoadSummary
from loaders.common.http import ApiClient, RateLimiter, RetryPolicy, require_secret
from loaders.common.progress import LoadProgress, log_progress
from loaders.common.settings_env import ConfigError
from loaders.smartscout import load_brand_pages
from loaders.smartscout.helpers import UNPARSED, MalformedPage, fast_json_loads
from loaders.smartscout.settings import (
    API_SOURCE,
    DEFAULT_BASE_URL,
    DEFAULT_BURST,
    DEFAULT_COMMIT_EVERY_PAGES,
    DEFAULT_COMMIT_MIN_SECONDS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REQUESTS_PER_SECOND,
    DEFAULT_RESUME_WINDOW_HOURS,
    FILTER_KINDS,
    MARKETPLACES,
    MAX_PAGE_SIZE,
    MAX_PAGES,
    SEARCH_PATH,
    TEXT_FILTER_TYPES,
)
from warehouse_layer import WarehouseLike

ENV_PREFIX = "SOURCES__SMARTSCOUT__"
API_KEY_ENV = f"{ENV_PREFIX}API_KEY"
API_KEY_DLT = "sources.smartscout.api_key"
RAW_TEXT_CHARS = 2_000  # how much of a malformed body is kept in rejected_records

__all__ = [
    "API_KEY_ENV",
    "SmartScoutApiFetcher",
    "SmartScoutConfig",
    "load_smartscout_api",
    "validate_filters",
]


def validate_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Check the `brands/search` body against SearchBrandsV2Request: known filter names and
    the shape each one needs (the schema allows no other property, at either level).

    Unknown names are refused here rather than sent: the API answers 400 to them, and a query
    that cannot run should fail before it spends a request.
    """
    if not isinstance(filters, Mapping):
        raise ValueError(f"filters must be a JSON object, got {type(filters).__name__}")
    for name, value in filters.items():
        kind = FILTER_KINDS.get(name)
        if kind is None:
            raise ValueError(f"unknown SmartScout filter {name!r}; known: {', '.join(sorted(FILTER_KINDS))}")
        problem = _filter_problem(kind, value)
        if problem:
            raise ValueError(f"SmartScout filter {name!r} ({kind}): {problem}")
    return dict(filters)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _filter_problem(kind: str, value: Any) -> str | None:
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if not isinstance(value, Mapping):
        return "expected a JSON object"
    if kind == "text":
        if set(value) - {"type", "filter"}:
            return "expected {type, filter}"
        if value.get("type") not in TEXT_FILTER_TYPES:
            return f"`type` must be one of {', '.join(sorted(TEXT_FILTER_TYPES))}"
        if value["type"] != "blanks" and not isinstance(value.get("filter"), str):
            return "`filter` must be text"
        return None
    if kind in ("range", "range_int"):
        if not value or set(value) - {"min", "max"}:
            return "expected {min, max}"
        if not all(bound is None or _is_number(bound) for bound in value.values()):
            return "`min`/`max` must be numbers"
        if kind == "range_int" and not all(bound is None or isinstance(bound, int) for bound in value.values()):
            return "`min`/`max` must be whole numbers"
        low, high = value.get("min"), value.get("max")
        if low is not None and high is not None and low > high:
            return "`min` is above `max`"
        return None
    if kind == "list":
        if set(value) - {"filter"}:
            return "expected {filter: [...]}"
        items = value.get("filter")
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            return "`filter` must be a list of text"
        return None
    return f"unsupported filter kind {kind}"  # pragma: no cover


@dataclass(frozen=True)
class SmartScoutConfig:
    """One `brands/search` query and how to call the API for it."""

    api_key: str = field(repr=False)
    marketplace: str = "US"
    base_url: str = DEFAULT_BASE_URL
    page_size: int = DEFAULT_PAGE_SIZE
    sort_by: str | None = None
    sort_order: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    burst: int = DEFAULT_BURST
    commit_every_pages: int = DEFAULT_COMMIT_EVERY_PAGES
    commit_min_seconds: float = DEFAULT_COMMIT_MIN_SECONDS
    resume_window_hours: float = DEFAULT_RESUME_WINDOW_HOURS

    def __post_init__(self) -> None:
        marketplace = self.marketplace.strip().upper()
        if marketplace not in MARKETPLACES:
            raise ValueError(f"unknown marketplace {self.marketplace!r}; one of {', '.join(sorted(MARKETPLACES))}")
        object.__setattr__(self, "marketplace", marketplace)
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE} (the server clamps above), got {self.page_size}")
        if self.sort_order is not None:
            order = self.sort_order.strip().lower()
            if order not in {"asc", "desc"}:
                raise ValueError(f"sort_order must be asc or desc, got {self.sort_order!r}")
            if not self.sort_by:
                raise ValueError("sort_order needs sort_by")
            object.__setattr__(self, "sort_order", order)
        if self.requests_per_second <= 0 or self.burst < 1:
            raise ValueError("requests_per_second must be positive and burst at least 1")
        if self.commit_every_pages < 1:
            raise ValueError("commit_every_pages must be at least 1")
        if self.commit_min_seconds < 0:
            raise ValueError("commit_min_seconds must not be negative")
        object.__setattr__(self, "filters", validate_filters(self.filters))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmartScoutConfig:
        """Read the SOURCES__SMARTSCOUT__* variables (see the module docstring).

        The API key comes from `environ` when given, else from the environment or dlt secrets.
        """
        env = os.environ if environ is None else environ
        api_key = env.get(API_KEY_ENV) or require_secret(API_SOURCE, API_KEY_ENV, API_KEY_DLT)

        def get(name: str) -> str | None:
            value = env.get(f"{ENV_PREFIX}{name}")
            return value.strip() if value and value.strip() else None

        def number(name: str, convert: Callable[[str], Any], default: Any) -> Any:
            raw = get(name)
            if raw is None:
                return default
            try:
                return convert(raw)
            except ValueError:
                raise ConfigError(f"{ENV_PREFIX}{name} is not a number: {raw!r}") from None

        filters: dict[str, Any] = {}
        raw_filters = get("FILTERS")
        if raw_filters:
            try:
                filters = validate_filters(json.loads(raw_filters))
            except json.JSONDecodeError as error:
                raise ConfigError(f"{ENV_PREFIX}FILTERS is not valid JSON: {error}") from None
            except ValueError as error:  # a filter the API does not accept
                raise ConfigError(f"{ENV_PREFIX}FILTERS: {error}") from None
        marketplace = get("MARKETPLACE") or "US"
        if marketplace.upper() not in MARKETPLACES:
            known = ", ".join(sorted(MARKETPLACES))
            raise ConfigError(f"{ENV_PREFIX}MARKETPLACE: unknown marketplace {marketplace!r}; one of {known}")
        values = {
            "page_size": number("PAGE_SIZE", int, DEFAULT_PAGE_SIZE),
            "requests_per_second": number("REQUESTS_PER_SECOND", float, DEFAULT_REQUESTS_PER_SECOND),
            "burst": number("BURST", int, DEFAULT_BURST),
            "commit_every_pages": number("COMMIT_EVERY_PAGES", int, DEFAULT_COMMIT_EVERY_PAGES),
            "commit_min_seconds": number("COMMIT_MIN_SECONDS", float, DEFAULT_COMMIT_MIN_SECONDS),
            "resume_window_hours": number("RESUME_WINDOW_HOURS", float, DEFAULT_RESUME_WINDOW_HOURS),
        }
        try:
            return cls(
                api_key=api_key,
                marketplace=marketplace,
                base_url=get("BASE_URL") or DEFAULT_BASE_URL,
                sort_by=get("SORT_BY"),
                sort_order=get("SORT_ORDER"),
                filters=filters,
                **values,
            )
        except ValueError as error:  # the messages name the field: name the variable instead
            message = re.sub(
                r"\b(page_size|sort_order|sort_by|requests_per_second|burst|commit_every_pages|commit_min_seconds)\b",
                lambda found: f"{ENV_PREFIX}{found.group(1).upper()}",
                str(error),
            )
            raise ConfigError(f"{message}: fix it, or unset it for the default") from None

    @property
    def query(self) -> dict[str, Any]:
        """What identifies the query for resuming it (no key, no URL, no pacing)."""
        return {
            "marketplace": self.marketplace,
            "filters": self.filters,
            "sort_by": self.sort_by,
            "sort_order": self.sort_order,
            "page_size": self.page_size,
        }


class SmartScoutApiFetcher:
    """`PageFetcher` over `POST /api/v2/brands/search` (auth, pacing, retries: `ApiClient`).

    A 2xx body that is not JSON comes back as `MalformedPage` (rejected, stops the query);
    401/403 raise `ApiAuthError`, exhausted retries and other errors `ApiRequestError`.
    """

    def __init__(
        self,
        config: SmartScoutConfig,
        client: ApiClient | None = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.client = client or ApiClient(
            API_SOURCE,
            config.base_url,
            headers={"X-Api-Key": config.api_key},
            rate_limiter=RateLimiter(config.requests_per_second, config.burst, clock=clock, sleep=sleep),
            retry=retry,
            sleep=sleep,
            rng=rng,
        )

    @property
    def query(self) -> dict[str, Any]:
        return self.config.query

    def params(self, page_id: str | None) -> dict[str, str]:
        params = {"marketplace": self.config.marketplace, "page[size]": str(self.config.page_size)}
        if page_id is not None:
            params["page[id]"] = page_id
        if self.config.sort_by:
            params["sort[by]"] = self.config.sort_by
            params["sort[order]"] = self.config.sort_order or "asc"
        return params

    def fetch_page(self, page_id: str | None) -> Any:
        response = self.client.request("POST", SEARCH_PATH, params=self.params(page_id), json=self.config.filters)
        is_utf8 = (response.encoding or "utf-8").lower().replace("_", "-") in {"utf-8", "utf8"}
        if is_utf8:
            parsed = fast_json_loads(response.content)  # what json.loads would give, faster
            if parsed is not UNPARSED:
                return parsed
        try:
            # the stdlib parser, as for recorded pages: it reads NaN/Infinity (CLEAN quarantines
            # them) where response.json() may use simplejson, which refuses them, and one such
            # value would reject the whole page, and stop the query there on every run
            return json.loads(response.content if is_utf8 else response.text)
        except ValueError:
            text = response.text
            return MalformedPage(
                reason=f"page body is not JSON (HTTP {response.status_code}, {len(text)} chars)",
                raw_text=text[:RAW_TEXT_CHARS],
            )


def load_smartscout_api(
    destination: WarehouseLike,
    pipelines_dir: Path,
    config: SmartScoutConfig | None = None,
    *,
    fetcher: SmartScoutApiFetcher | None = None,
    max_pages: int = MAX_PAGES,
    progress: Callable[[LoadProgress], None] | None = log_progress,
    progress_every_pages: int = 10,
    fetched_at: datetime | None = None,
) -> LoadSummary:
    """Load one SmartScout query into raw.smartscout_brands (config from the environment by default)."""
    config = config or (fetcher.config if fetcher else SmartScoutConfig.from_env())
    fetcher = fetcher or SmartScoutApiFetcher(config)
    return load_brand_pages(
        fetcher,
        config.marketplace,
        destination,
        pipelines_dir,
        fetched_at=fetched_at,
        max_pages=max_pages,
        query=config.query,
        commit_every_pages=config.commit_every_pages,
        commit_min_seconds=config.commit_min_seconds,
        resume_window=timedelta(hours=config.resume_window_hours) if config.resume_window_hours > 0 else None,
        progress=progress,
        progress_every_pages=progress_every_pages,
    )
