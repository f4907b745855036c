"""SmartScout API loads end to end: SmartScoutApiFetcher -> real HTTP fake -> real DuckDB file."""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
import requests

from loaders.common.http import ApiAuthError, ApiClient, ApiRequestError, MissingSecretError, RetryPolicy
from loaders.smartscout import LoadProgress, PageCursor, load_brand_pages, parse_brand_page, print_progress
from loaders.smartscout.client import SmartScoutApiFetcher, SmartScoutConfig, load_smartscout_api, validate_filters
from loaders.smartscout.settings import FILTER_KINDS
from tests.python.fakes.server import Reply, Request, RunningServer, serve
from tests.python.fakes.smartscout import (
    FAKE_API_KEY,
    RESPONSE_SCHEMA,
    SEARCH_BRANDS_V2_REQUEST,
    SEARCH_PATH,
    SmartScoutFake,
    make_brands,
    rate_limited,
    server_error,
    slow,
)

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ENV = "SOURCES__SMARTSCOUT__"


class _Swap:
    """One fake server for the module (stopping a server costs ~0.5 s); each test installs its fake."""

    def __init__(self) -> None:
        self.fake = SmartScoutFake()

    def __call__(self, request: Request) -> Reply:
        return self.fake(request)


_SWAP = _Swap()


@pytest.fixture(scope="module")
def _server() -> Iterator[RunningServer]:
    with serve(_SWAP) as server:
        yield server


@dataclass
class Api:
    server: RunningServer
    duckdb_path: Path
    pipelines_dir: Path
    sleeps: list[float]

    def install(self, fake: SmartScoutFake) -> SmartScoutFake:
        _SWAP.fake = fake
        self.server.requests.clear()
        return fake

    def config(self, **overrides: Any) -> SmartScoutConfig:
        values: dict[str, Any] = {"api_key": FAKE_API_KEY, "base_url": self.server.base_url, "page_size": 10}
        values.update(overrides)
        return SmartScoutConfig(**values)

    def fetcher(self, config: SmartScoutConfig, **retry: float) -> SmartScoutApiFetcher:
        policy = RetryPolicy(**{"max_attempts": 3, "timeout_seconds": 5.0, **retry})  # type: ignore[arg-type]
        return SmartScoutApiFetcher(config, retry=policy, sleep=self.sleeps.append, rng=random.Random(1))

    def load(self, config: SmartScoutConfig, **kwargs: Any) -> Any:
        retry = kwargs.pop("retry", {})
        fetched_at = kwargs.pop("fetched_at", AT)
        return load_smartscout_api(
            self.duckdb_path, self.pipelines_dir, fetcher=self.fetcher(config, **retry), fetched_at=fetched_at, **kwargs
        )

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path)) as connection:
            return connection.execute(sql, params or []).fetchall()

    def count(self, table: str) -> int:
        if not self.duckdb_path.exists():
            return 0
        return int(self.rows(f"select count(*) from raw.{table}")[0][0])

    def searches(self) -> list[Request]:
        return [request for request in self.server.requests if request.path == SEARCH_PATH]

    def cursors_sent(self) -> list[str | None]:
        return [request.param("page[id]") for request in self.searches()]


@pytest.fixture
def api(_server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Api:
    for name in ("API_KEY", "BASE_URL", "MARKETPLACE", "PAGE_SIZE", "FILTERS", "SORT_BY", "SORT_ORDER"):
        monkeypatch.delenv(f"{ENV}{name}", raising=False)
    return Api(_server, tmp_path / "warehouse" / "outreach.duckdb", tmp_path / "dlt_pipelines", [])


# --------------------------------------------------------------------------- the fake itself


def test_the_fake_checks_key_marketplace_and_clamps_page_size(api: Api) -> None:
    api.install(SmartScoutFake(items=make_brands(1200)))
    url = f"{api.server.base_url}{SEARCH_PATH}"
    key = {"X-Api-Key": FAKE_API_KEY}
    assert requests.post(url, params={"marketplace": "US"}, json={}, timeout=5).status_code == 401
    wrong = requests.post(url, params={"marketplace": "US"}, json={}, headers={"X-Api-Key": "nope"}, timeout=5)
    assert wrong.status_code == 401
    assert requests.post(url, json={}, headers=key, timeout=5).status_code == 400
    page = requests.post(url, params={"marketplace": "US", "page[size]": "5000"}, json={}, headers=key, timeout=5)
    body = page.json()
    assert len(body["data"]) == 1000 and body["dataCount"] == 1200 and body["paging"]["hasMoreRecords"] is True
    forged = requests.post(
        url, params={"marketplace": "US", "page[id]": "bzEwMC5hYmM"}, json={}, headers=key, timeout=5
    )
    assert forged.status_code == 400
    api.install(SmartScoutFake(items=[]))
    empty = requests.post(url, params={"marketplace": "US"}, json={}, headers=key, timeout=5).json()
    assert empty == {"dataCount": 0, "paging": {"nextPageId": None, "hasMoreRecords": False}, "data": None}


def _sample_filter(schema: str) -> object:
    return {
        "ListFilter": {"filter": ["Acme Kitchen 0000"]},
        "TextFilter": {"type": "contains", "filter": "a"},
        "RangeFilter": {"min": 0.5, "max": 1e9},
        "RangeDecimal": {"min": -100.0, "max": 1e9},
        "RangeInt": {"min": 0, "max": 1_000_000},
        "boolean": True,
    }[schema]


def test_every_filter_of_the_spec_is_accepted_and_sent(api: Api) -> None:
    api.install(SmartScoutFake(items=make_brands(5)))
    every = {name: _sample_filter(schema) for name, schema in SEARCH_BRANDS_V2_REQUEST.items()}
    for name, value in every.items():
        filters = {name: value}
        assert validate_filters(filters) == filters, name
        page = api.fetcher(api.config(filters=filters)).fetch_page(None)  # the fake answers 400 to anything else
        assert isinstance(page, dict) and "paging" in page, name
    summary = api.load(api.config(filters=every), progress=None)  # all at once, through the loader
    assert summary.details["stop_reason"] == "no_more_records"
    assert [request.json() for request in api.searches()][-1] == every
    assert set(FILTER_KINDS) == set(SEARCH_BRANDS_V2_REQUEST)
    assert validate_filters({"category": {"type": "exact", "filter": "Home"}})  # `exact` as working clients send


def test_the_fake_refuses_what_the_schema_does_not_allow(api: Api) -> None:
    api.install(SmartScoutFake(items=make_brands(5)))
    client = ApiClient("smartscout", api.server.base_url, headers={"X-Api-Key": FAKE_API_KEY})
    for body, detail in [
        ({"monthlyRevenu": {"min": 1}}, "'monthlyRevenu' is not a property of SearchBrandsV2Request"),
        ({"avgPrice": {"min": 1, "step": 2}}, "'avgPrice.step' is not a property of RangeFilter"),
        ({"totalReviews": {"min": 1.5}}, "'totalReviews.min' must be an integer"),
    ]:
        with pytest.raises(ApiRequestError) as refused:
            client.request("POST", SEARCH_PATH, params={"marketplace": "US"}, json=body)
        assert refused.value.status == 400 and detail in str(refused.value)
    # and the loader refuses them before any request
    for body, message in [
        ({"monthlyRevenu": {"min": 1}}, "unknown SmartScout filter 'monthlyRevenu'"),
        ({"avgPrice": {"min": 1, "step": 2}}, "expected {min, max}"),
        ({"totalReviews": {"min": 1.5}}, "must be whole numbers"),
        ({"note": {"type": "contains", "filter": "x", "case": "any"}}, "expected {type, filter}"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            validate_filters(body)


def _schema_errors(page: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(RESPONSE_SCHEMA)
    return sorted(f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(page))


def test_the_fake_answers_in_the_published_brand_schema_exactly(api: Api) -> None:
    """By default every page validates against SmartScout's published PagedSearchResponse[Brand]
    (Bb.Pub.Brand has no storefrontUrl and sets additionalProperties: false), so no test can lean
    on a field the real API does not send; the adapter-observed extras are opt-in."""
    url = f"{api.server.base_url}{SEARCH_PATH}"
    key = {"X-Api-Key": FAKE_API_KEY}
    items = make_brands(40)
    assert any("storefrontUrl" in item for item in items) and any("subcategoryId" in item for item in items)
    items[3]["tiktokShopUrl"] = "https://shop.tiktok.com/x"  # whatever a test adds, the published shape drops
    api.install(SmartScoutFake(items=items))
    cursor: str | None = None
    served = 0
    while True:
        params = {"marketplace": "US", "page[size]": "15", **({"page[id]": cursor} if cursor else {})}
        page = requests.post(url, params=params, json={}, headers=key, timeout=5).json()
        assert _schema_errors(page) == []
        served += len(page["data"] or [])
        cursor = page["paging"]["nextPageId"]
        if not cursor:
            break
    assert served == 40
    api.install(SmartScoutFake(items=items, shape="observed"))
    observed = requests.post(url, params={"marketplace": "US"}, json={}, headers=key, timeout=5).json()
    assert any("storefrontUrl" in error for error in _schema_errors(observed))


# --------------------------------------------------------------------------- full loads


def test_full_load_over_several_pages_committed_as_it_goes(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = api.install(SmartScoutFake(items=make_brands(25)))
    seen: list[LoadProgress] = []
    config = api.config(sort_by="monthlyRevenue", sort_order="DESC", commit_every_pages=2, commit_min_seconds=0)
    summary = api.load(config, progress=seen.append, progress_every_pages=1)

    assert (summary.rows_loaded, summary.rows_rejected, summary.files_or_pages) == (25, 0, 3)
    assert str(summary).startswith("smartscout api US: 25 rows loaded, 0 rejected, 3 files/pages")
    assert "stop_reason=no_more_records" in str(summary) and "commits=2" in str(summary)
    assert api.count("smartscout_brands") == 25
    assert {row[0] for row in api.rows("select brand_name from raw.smartscout_brands")} == {
        item["brandName"] for item in fake.items
    }
    assert api.rows("select distinct source_kind, marketplace from raw.smartscout_brands") == [("api", "US")]
    assert api.rows("select count(*) from raw.smartscout_brands where source_file = 'page-3'") == [(5,)]

    sent = api.searches()
    assert [request.method for request in sent] == ["POST"] * 3
    assert all(request.header("X-Api-Key") == FAKE_API_KEY for request in sent)
    assert {request.param("marketplace") for request in sent} == {"US"}
    assert {request.param("page[size]") for request in sent} == {"10"}
    assert {(request.param("sort[by]"), request.param("sort[order]")) for request in sent} == {
        ("monthlyRevenue", "desc")
    }
    assert [request.json() for request in sent] == [{}] * 3
    assert api.cursors_sent() == [None, fake.cursor_for(10), fake.cursor_for(20)]
    # the requested sort reached the API: page 1 holds exactly the ten highest revenues
    page_one = api.rows("select monthly_revenue from raw.smartscout_brands where source_file = 'page-1'")
    top_ten = sorted((item["monthlyRevenue"] for item in fake.items), reverse=True)[:10]
    assert sorted(float(r[0]) for r in page_one) == sorted(top_ten)

    assert [p.pages for p in seen] == [1, 2, 3] and seen[-1].done and seen[-1].rows == 25
    assert "rows/s" in str(seen[-1])
    assert FAKE_API_KEY not in caplog.text

    progress = api.rows(
        "select status, stop_reason, next_page_id, pages_done, rows_loaded from raw.smartscout_load_progress"
    )
    assert progress == [("finished", "no_more_records", None, 3, 25)]
    # (a re-run of a finished query starting fresh and adding no rows: see the crash test)


def test_filters_and_page_size_are_sent_as_configured_and_progress_goes_to_stderr(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = api.install(SmartScoutFake(items=make_brands(60)))
    filters = {
        "monthlyRevenue": {"min": 100000, "max": 1900000},
        "hasStorefront": True,
        "categoryName": {"type": "contains", "filter": "kitchen"},
        "brandNames": {"filter": [item["brandName"] for item in fake.items[:30]]},
    }
    expected = [
        item
        for item in fake.items[:30]
        if item["hasStorefront"]
        and 100000 <= item["monthlyRevenue"] <= 1900000
        and item["categoryName"] == "Home & Kitchen"
    ]
    assert expected  # the filters keep something
    config = api.config(filters=filters, page_size=2, marketplace="uk")
    summary = api.load(config, progress=print_progress, progress_every_pages=1)
    assert summary.rows_loaded == len(expected) == api.count("smartscout_brands")
    assert summary.source == "smartscout api UK"
    sent = api.searches()
    assert all(request.json() == filters for request in sent)
    assert {request.param("page[size]") for request in sent} == {"2"}
    assert {request.param("marketplace") for request in sent} == {"UK"}
    assert all(request.param("sort[by]") is None for request in sent)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("[progress] smartscout api UK: loading, 1 pages, 2 rows, 0 rejected, ")
    assert lines[-1].startswith(
        f"[progress] smartscout api UK: done, {len(sent)} pages, {len(expected)} rows, 0 rejected, "
    )
    assert all(line.endswith("rows/s") for line in lines)


@pytest.mark.parametrize(
    ("last_page", "requests_made", "stop_reason"),
    [
        ("normal", 3, "no_more_records"),
        ("cursor_on_last", 3, "no_more_records"),  # hasMoreRecords false wins over a leftover cursor
        ("empty_page", 4, "no_more_records"),  # an empty last page with honest flags
        ("empty_with_cursor", 4, "empty_page"),  # an empty page that still claims more, with a cursor
    ],
)
def test_paging_stops_where_the_data_ends(api: Api, last_page: Any, requests_made: int, stop_reason: str) -> None:
    fake = api.install(SmartScoutFake(items=make_brands(30), last_page=last_page))
    cursor = PageCursor(api.fetcher(api.config()))
    pages = list(cursor)
    assert len(api.searches()) == requests_made == len(pages)
    assert cursor.stop_reason == stop_reason
    assert sum(len(page.envelope["data"] or []) for page in pages) == 30
    assert api.cursors_sent() == [None, *(fake.cursor_for(n) for n in range(10, 10 * requests_made, 10))]


def test_an_empty_result_loads_nothing_and_creates_the_tables(api: Api) -> None:
    api.install(SmartScoutFake(items=[]))
    summary = api.load(api.config(), progress=None)
    assert (summary.rows_loaded, summary.files_or_pages) == (0, 1)
    assert api.count("smartscout_brands") == 0 and api.count("rejected_records") == 0


# --------------------------------------------------------------------------- bad pages, failures, resume


def test_a_malformed_page_is_rejected_earlier_pages_are_kept_and_the_query_resumes_there(api: Api) -> None:
    fake = api.install(SmartScoutFake(items=make_brands(25), malformed_page=2))
    summary = api.load(api.config(), progress=None)
    assert (summary.rows_loaded, summary.rows_rejected, summary.files_or_pages) == (10, 1, 2)
    assert summary.details["stop_reason"] == "malformed_page"
    assert api.count("smartscout_brands") == 10
    [(source, source_file, reason, raw_text)] = api.rows(
        "select source, source_file, reason, raw_text from raw.rejected_records"
    )
    assert (source, source_file) == ("smartscout", "page-2")
    assert "not JSON" in reason and raw_text.startswith('{"dataCount"')
    assert api.rows("select status, next_page_id, pages_done from raw.smartscout_load_progress") == [
        ("interrupted", fake.cursor_for(10), 1)
    ]

    fixed = api.install(SmartScoutFake(items=make_brands(25)))
    summary = api.load(api.config(), progress=None)
    assert api.cursors_sent() == [fixed.cursor_for(10), fixed.cursor_for(20)]
    assert summary.details["resumed_at_page"] == 2
    assert api.count("smartscout_brands") == 25 and api.count("rejected_records") == 1


def test_data_that_is_not_a_list_is_rejected_and_stops(api: Api) -> None:
    class NotAList(SmartScoutFake):
        def __call__(self, request: Request) -> Reply:
            reply = super().__call__(request)
            if request.param("page[id]") and reply.status == 200:
                return Reply(200, {"dataCount": 3, "paging": {"nextPageId": "zz", "hasMoreRecords": True}, "data": {}})
            return reply

    api.install(NotAList(items=make_brands(25)))
    cursor = PageCursor(api.fetcher(api.config()))
    pages = list(cursor)
    assert cursor.stop_reason == "malformed_page" and len(api.searches()) == 2 and cursor.next_page_id is None
    rows, rejected = parse_brand_page(pages[1].envelope, "US", "page-2", AT)
    assert rows == [] and [r["reason"] for r in rejected] == ["page `data` is not a list (dict)"]


def test_a_crash_keeps_the_pages_before_it_and_a_rerun_resumes_from_the_saved_cursor(api: Api) -> None:
    first = api.install(SmartScoutFake(items=make_brands(25), fail_from_page=3))
    config = api.config(page_size=5, commit_every_pages=3)  # the commit comes from the error path
    with pytest.raises(ApiRequestError, match="HTTP 500; gave up after 3 attempts"):
        api.load(config, progress=None)
    assert api.count("smartscout_brands") == 10  # pages 1-2 committed before the failure
    assert api.rows("select status, stop_reason, next_page_id, pages_done from raw.smartscout_load_progress") == [
        ("interrupted", "fetch_error", first.cursor_for(10), 2)
    ]
    assert len(api.sleeps) == 2  # retried page 3 with backoff, not for real

    second = api.install(SmartScoutFake(items=make_brands(25)))
    config = api.config(page_size=5)  # same query (commit cadence is not part of it)
    summary = api.load(config, progress=None)
    assert api.cursors_sent()[0] == first.cursor_for(10)
    assert first.pages_served + second.pages_served == 5  # every page paid for once
    assert second.page_numbers_served == [3, 4, 5]
    assert (summary.rows_loaded, summary.files_or_pages, summary.details["resumed_at_page"]) == (15, 3, 3)
    assert api.count("smartscout_brands") == 25
    assert api.rows("select distinct source_file from raw.smartscout_brands order by 1") == [
        (f"page-{n}",) for n in range(1, 6)
    ]
    assert api.rows("select status, pages_done, rows_loaded from raw.smartscout_load_progress") == [("finished", 5, 25)]

    third = api.install(SmartScoutFake(items=make_brands(25)))  # finished: a new run starts fresh
    again = api.load(config, progress=None)
    assert api.cursors_sent()[0] is None and third.pages_served == 5
    # the same figures again: nothing re-landed (the incremental models see no change), no row added
    assert (again.rows_loaded, again.details["unchanged"]) == (0, 25) and api.count("smartscout_brands") == 25
    assert api.count("rejected_records") == 0


def test_a_cursor_the_vendor_no_longer_knows_starts_the_query_over(api: Api) -> None:
    api.install(SmartScoutFake(items=make_brands(25), fail_from_page=2, secret="cursors-of-yesterday"))
    config = api.config(page_size=5)
    with pytest.raises(ApiRequestError):
        api.load(config, progress=None)
    fake = api.install(SmartScoutFake(items=make_brands(25)))  # other cursor secret: the saved id is unknown
    summary = api.load(config, progress=None)
    assert api.cursors_sent()[:2] == [SmartScoutFake(secret="cursors-of-yesterday").cursor_for(5), None]
    assert fake.pages_served == 5 and summary.files_or_pages == 5 and "resumed_at_page" not in summary.details
    assert api.count("smartscout_brands") == 25
    assert api.rows("select status, pages_done, rows_loaded from raw.smartscout_load_progress") == [("finished", 5, 25)]


def test_no_resume_for_another_query_or_after_the_resume_window(api: Api) -> None:
    api.install(SmartScoutFake(items=make_brands(25), fail_from_page=2))
    config = api.config(page_size=5)
    with pytest.raises(ApiRequestError):
        api.load(config, progress=None)
    assert api.count("smartscout_brands") == 5

    api.install(SmartScoutFake(items=make_brands(25)))
    other = api.load(api.config(page_size=5, filters={"hasStorefront": True}), progress=None)
    assert api.cursors_sent()[0] is None and "resumed_at_page" not in other.details
    assert len(api.rows("select * from raw.smartscout_load_progress")) == 2

    api.install(SmartScoutFake(items=make_brands(25)))
    later = datetime.now(UTC) + timedelta(hours=25)
    summary = load_brand_pages(
        api.fetcher(config), "US", api.duckdb_path, api.pipelines_dir, progress=None, clock=lambda: later
    )
    assert api.cursors_sent()[0] is None and summary.files_or_pages == 5
    assert "resumed_at_page" not in summary.details
    assert api.count("smartscout_brands") == 25


def test_429_500_and_slow_replies_are_retried_with_the_requested_waits(api: Api) -> None:
    fake = api.install(SmartScoutFake(items=make_brands(25)))
    fake.inject(rate_limited("2"), rate_limited("0"), rate_limited(), server_error(), slow(seconds=0.5))
    cursor = PageCursor(api.fetcher(api.config(), max_attempts=6, timeout_seconds=0.2))
    pages = list(cursor)
    assert sum(len(page.envelope["data"]) for page in pages) == 25 and cursor.stop_reason == "no_more_records"
    assert api.sleeps[:2] == [2.0, 1.0]  # Retry-After 2, then Retry-After 0 -> the floor, not 0
    assert 4 * 0.75 <= api.sleeps[2] <= 4 * 1.25  # no Retry-After: exponential backoff (retry 3) with jitter
    assert len(api.sleeps) == 5
    assert len(api.searches()) == 3 + 5 and fake.pages_served == 4  # the timed-out page was served once, too


def test_a_refused_key_raises_a_clear_auth_error_and_writes_nothing(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.install(SmartScoutFake(items=make_brands(25)))
    config = api.config(api_key="wrong-key-5f1e2d")
    with pytest.raises(ApiAuthError) as caught:
        api.load(config, progress=None)
    error = caught.value
    assert error.source == "smartscout" and error.status == 401
    assert "check the API key/token for smartscout" in str(error)
    assert "wrong-key-5f1e2d" not in str(error) and "wrong-key-5f1e2d" not in caplog.text
    assert "wrong-key-5f1e2d" not in repr(config)
    assert len(api.searches()) == 1 and api.sleeps == []
    assert not api.duckdb_path.exists()  # nothing fetched, nothing written


# --------------------------------------------------------------------------- configuration and display


def test_pages_that_come_fast_are_committed_in_larger_groups(api: Api) -> None:
    """Every page would be a commit (commit_every_pages=1), but not within commit_min_seconds of
    the previous one: the 3 pages of a fast API land in the final commit."""
    api.install(SmartScoutFake(items=make_brands(25)))
    summary = api.load(api.config(commit_every_pages=1, commit_min_seconds=3600))
    assert summary.rows_loaded == 25 and "commits=1" in str(summary)
    assert api.count("smartscout_brands") == 25
    with pytest.raises(ValueError, match="commit_min_seconds"):
        api.config(commit_min_seconds=-1)


def test_config_from_env(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV}API_KEY", "env-key")
    monkeypatch.setenv(f"{ENV}BASE_URL", api.server.base_url)
    monkeypatch.setenv(f"{ENV}MARKETPLACE", "de")
    monkeypatch.setenv(f"{ENV}PAGE_SIZE", "250")
    monkeypatch.setenv(f"{ENV}REQUESTS_PER_SECOND", "0.5")
    monkeypatch.setenv(f"{ENV}FILTERS", json.dumps({"brandScore": {"min": 5}}))
    monkeypatch.setenv(f"{ENV}SORT_BY", "brandScore")
    monkeypatch.setenv(f"{ENV}SORT_ORDER", "desc")
    config = SmartScoutConfig.from_env()
    assert (config.api_key, config.base_url, config.marketplace, config.page_size) == (
        "env-key",
        api.server.base_url,
        "DE",
        250,
    )
    assert (config.requests_per_second, config.burst, config.sort_by, config.sort_order) == (
        0.5,
        10,
        "brandScore",
        "desc",
    )
    assert config.filters == {"brandScore": {"min": 5}}
    slower = SmartScoutConfig.from_env({f"{ENV}API_KEY": "k", f"{ENV}COMMIT_MIN_SECONDS": "2.5"})
    assert slower.commit_min_seconds == 2.5
    defaults = SmartScoutConfig.from_env({f"{ENV}API_KEY": "k"})
    assert (defaults.commit_every_pages, defaults.commit_min_seconds) == (20, 10.0)
    assert (defaults.base_url, defaults.marketplace, defaults.page_size, defaults.requests_per_second) == (
        "https://api.smartscout.com",
        "US",
        100,
        2.0,
    )


def test_config_refuses_what_would_waste_pages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(f"{ENV}API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .dlt/secrets.toml here
    with pytest.raises(MissingSecretError, match=f"{ENV}API_KEY"):
        SmartScoutConfig.from_env({})
    with pytest.raises(ValueError, match="unknown SmartScout filter 'monthlyRevenu'"):
        SmartScoutConfig("k", filters={"monthlyRevenu": {"min": 1}})
    with pytest.raises(ValueError, match="`type` must be one of"):
        SmartScoutConfig("k", filters={"brandName": {"type": "like", "filter": "a"}})
    with pytest.raises(ValueError, match="`min` is above `max`"):
        SmartScoutConfig("k", filters={"monthlyRevenue": {"min": 9, "max": 1}})
    with pytest.raises(ValueError, match=r"page_size must be 1\.\.1000"):
        SmartScoutConfig("k", page_size=5000)
    with pytest.raises(ValueError, match="unknown marketplace"):
        SmartScoutConfig("k", marketplace="XX")
    with pytest.raises(ValueError, match="FILTERS is not valid JSON"):
        SmartScoutConfig.from_env({f"{ENV}API_KEY": "k", f"{ENV}FILTERS": "{nope"})
    with pytest.raises(ValueError, match="sort_order must be asc or desc"):
        SmartScoutConfig("k", sort_by="brandScore", sort_order="up")


def test_a_rescan_lands_only_the_brands_whose_figures_changed(api: Api) -> None:
    items = make_brands(25)
    api.install(SmartScoutFake(items=items))
    config = api.config(sort_by="monthlyRevenue", sort_order="DESC")
    api.load(config, progress=None)
    first_load_ids = api.rows("select distinct _dlt_load_id from raw.smartscout_brands")

    changed = [dict(item) for item in items]
    changed[3]["monthlyRevenue"] = 1.5  # B
    api.install(SmartScoutFake(items=changed))
    rescan = api.load(config, progress=None, fetched_at=AT + timedelta(days=1))
    assert (rescan.rows_loaded, rescan.details["unchanged"]) == (1, 24)
    assert api.count("smartscout_brands") == 26  # the old figures stay as an older observation
    untouched = api.rows(
        "select count(*) from raw.smartscout_brands where _dlt_load_id in (select * from (values "
        + ", ".join(f"('{row[0]}')" for row in first_load_ids)
        + "))"
    )
    assert untouched == [(25,)]

    api.install(SmartScoutFake(items=items))  # back to A: its newest observation is B, so A is landed again
    back = api.load(config, progress=None, fetched_at=AT + timedelta(days=2))
    assert (back.rows_loaded, back.details["unchanged"]) == (1, 24)
    newest = api.rows(
        "select monthly_revenue from raw.smartscout_brands where brand_name = ? order by fetched_at desc limit 1",
        [items[3]["brandName"]],
    )
    assert float(newest[0][0]) == items[3]["monthlyRevenue"]
    # the first A row was replaced (a merge), not landed twice
    assert api.rows("select count(*), count(distinct record_hash) from raw.smartscout_brands") == [(26, 26)]


def test_non_finite_and_huge_numbers_in_an_answer_land_as_text_for_clean_to_quarantine(api: Api) -> None:
    """A server may write NaN/Infinity (not JSON, but what many serializers emit) or a number no
    double holds; the page still loads, each value lands as text, CLEAN quarantines the row
    (`monthly_revenue is not a finite number`: models/clean/smartscout/_smartscout__unit_tests.yml)."""
    items = make_brands(4)
    items[0]["monthlyRevenue"] = float("nan")  # written as NaN
    items[1]["monthlyRevenue"] = float("-inf")  # written as -Infinity
    items[2]["avgPrice"] = 10**400  # a JSON number beyond any double
    api.install(SmartScoutFake(items=items))
    summary = api.load(api.config(), progress=None)
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 0)
    landed = dict(api.rows("select brand_name, [monthly_revenue, avg_price] from raw.smartscout_brands"))
    assert landed[items[0]["brandName"]][0] == "nan"
    assert landed[items[1]["brandName"]][0] == "-inf"
    assert landed[items[2]["brandName"]][1] == str(10**400)
    assert landed[items[3]["brandName"]] == [repr(items[3]["monthlyRevenue"]), repr(items[3]["avgPrice"])]
