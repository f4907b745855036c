"""ApolloApiClient over real HTTP against the fake Apollo, loading a real DuckDB file.

Time never really passes: the client's sleep and clock and the fake's minute windows share a
`FakeClock`, so backoff and window waits are recorded instead of waited for.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from loaders.apollo import (
    ApolloApiClient,
    ApolloConfig,
    BrandToEnrich,
    enrich_brands,
    filter_recently_looked_up,
)
from loaders.common.http import ApiAuthError, ApiRequestError, MissingSecretError, RetryPolicy
from tests.python.fakes.apollo import (
    BULK_MATCH_PATH,
    ORGANIZATION_PATH,
    SEARCH_PATH,
    FakeApollo,
    big_organization,
    org_key,
)
from tests.python.fakes.server import RunningServer, serve

KEY = "test-master-key"
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
WORKLIST = [
    BrandToEnrich("b-acme", "ACME KITCHEN"),
    BrandToEnrich("b-beton", "Béton Brut"),
    BrandToEnrich("b-cobalt", "Cobalt Outdoors"),
    BrandToEnrich("b-none", "Nobody Sells This"),
]
MAX_PEOPLE = 25


@dataclass
class FakeClock:
    now: float = 1_800_000_010.0  # 10 s into a minute window
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Harness:
    fake: FakeApollo
    server: RunningServer
    clock: FakeClock
    duckdb_path: Path
    pipelines_dir: Path

    def client(self, key: str = KEY, requests_per_second: float = 1000.0) -> ApolloApiClient:
        config = ApolloConfig(api_key=key, base_url=self.server.base_url, requests_per_second=requests_per_second)
        return ApolloApiClient(config, sleep=self.clock.sleep, clock=self.clock.time, rng=random.Random(7))

    def enrich(
        self, worklist: list[BrandToEnrich], now: datetime, client: ApolloApiClient | None = None, **kwargs: Any
    ) -> Any:
        return enrich_brands(
            worklist,
            client or self.client(),
            self.duckdb_path,
            self.pipelines_dir,
            now=now,
            **{"max_people_per_brand": MAX_PEOPLE, **kwargs},
        )

    def due(self, now: datetime, ttl_days: float = 30) -> list[BrandToEnrich]:
        return filter_recently_looked_up(WORKLIST, self.duckdb_path, ttl_days, now)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path)) as connection:
            return connection.execute(sql).fetchall()

    def ledger(self) -> dict[str, tuple[Any, ...]]:
        """Latest ledger row per brand: (status, people_found, emails_revealed, credits, error)."""
        rows = self.rows(
            "select brand_id, status, people_found, emails_revealed, credits_consumed, error_message "
            "from raw.apollo_lookups order by looked_up_at"
        )
        return {row[0]: row[1:] for row in rows}

    def searched_organizations(self) -> list[str]:
        """The `organization_ids[]` of each people search, in order."""
        return [
            id_
            for request in self.server.requests
            if request.path == SEARCH_PATH
            for id_ in request.query["organization_ids[]"]
        ]

    def organization_lookups(self) -> list[dict[str, str]]:
        return [
            {name: values[0] for name, values in request.query.items()}
            for request in self.server.requests
            if request.path == ORGANIZATION_PATH
        ]


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time, non_master_keys=["plain-key"])
    with serve(fake) as server:
        yield Harness(fake, server, clock, tmp_path / "warehouse" / "outreach.duckdb", tmp_path / "pipelines")


def test_enrich_over_http_loads_people_and_ledger(harness: Harness) -> None:
    summary = harness.enrich(WORKLIST, NOW)

    ledger = harness.ledger()
    assert {brand: row[0] for brand, row in ledger.items()} == {
        "b-acme": "ok",
        "b-beton": "ok",
        "b-cobalt": "ok",
        "b-none": "no_match",
    }
    # Acme: 12 decision-makers + an unmatchable one found by search (null in bulk_match); intern
    # filtered out; credits: 11 emails + 1 for the organization
    assert ledger["b-acme"][1:4] == (12, 11, 12)
    assert ledger["b-beton"][1:4] == (2, 1, 2)
    assert ledger["b-none"][1:4] == (0, 0, 0)  # no organization: nothing searched, nothing paid
    people = harness.rows("select brand_id, person_id, email, source_kind, organization_domain from raw.apollo_people")
    assert len(people) == 12 + 2 + 3
    assert {row[3] for row in people} == {"api"}
    assert ("b-cobalt", "cobalt-1", "cara@cobaltoutdoors.com", "api", "cobaltoutdoors.com") in people
    assert not any(row[1] in {"acme-ghost", "acme-intern"} for row in people)

    # credits: what Apollo charged (15 emails, 3 organizations) is what the ledger sums
    assert sum(row[3] for row in ledger.values()) == harness.fake.credits_consumed == 18
    assert summary.details["credits"] == 18

    # the ids of several brands share a bulk_match call (13 Acme + 2 Béton + 3 Cobalt = 18 ids)
    bulk = [request for request in harness.server.requests if request.path == BULK_MATCH_PATH]
    assert [len(request.json()["details"]) for request in bulk] == [10, 8]
    assert harness.fake.calls[BULK_MATCH_PATH] == 2 and harness.fake.calls[SEARCH_PATH] == 3
    assert harness.fake.calls[ORGANIZATION_PATH] == 4
    assert all(request.header("x-api-key") == KEY for request in harness.server.requests)
    assert summary.files_or_pages == 2

    # Acme's search also finds a former employee, now at another company: never paid for
    assert "supplies-1" not in harness.fake.bulk_match_ids
    assert len(harness.fake.bulk_match_ids) == 18

    # every call is in the per-call ledger, one row per (request, brand it served), with what it
    # asked for and what it cost; request_id names the request, so requests can be counted
    calls = harness.rows(
        "select brand_id, endpoint, records_requested, records_returned, credits_consumed, request_id, "
        "brands_in_request from raw.apollo_calls order by brand_id, call_number"
    )
    assert len({row[5] for row in calls}) == len(harness.server.requests) == 9
    bulk_rows = [row for row in calls if row[1] == "people/bulk_match"]
    assert [(row[0], row[2], row[3], row[6]) for row in bulk_rows] == [
        ("b-acme", 10, 10, 1),
        ("b-acme", 3, 2, 3),  # acme-11, acme-12 and the ghost (null) with Béton's and Cobalt's ids
        ("b-beton", 2, 2, 3),
        ("b-cobalt", 3, 3, 3),
    ]
    assert sum(row[4] for row in calls) == harness.fake.credits_consumed
    per_brand = harness.rows("select brand_id, sum(credits_consumed) from raw.apollo_calls group by 1 order by 1")
    assert per_brand == [("b-acme", 12), ("b-beton", 2), ("b-cobalt", 4), ("b-none", 0)]
    organization_calls = [row for row in calls if row[1] == "organizations/enrich"]
    assert [(row[0], row[3], row[4]) for row in organization_calls] == [
        ("b-acme", 1, 1),
        ("b-beton", 1, 1),
        ("b-cobalt", 1, 1),
        ("b-none", 0, 0),
    ]

    # the organization first (GET, by name: the work list has no domain here), then its people;
    # the search's filters go in the query string, as the OpenAPI documents them, with no body
    assert harness.organization_lookups()[0] == {"name": "ACME KITCHEN"}
    searches = [request for request in harness.server.requests if request.path == SEARCH_PATH]
    assert all(request.method == "POST" and not request.body for request in searches)
    assert searches[0].query["organization_ids[]"] == ["org-acme"]
    assert searches[0].query["per_page"] == [str(MAX_PEOPLE)]
    assert "director" in searches[0].query["person_seniorities[]"]
    assert "intern" not in searches[0].query["person_seniorities[]"]
    assert harness.rows(
        "select brand_id, organization_id, organization_name from raw.apollo_lookups order by brand_id"
    ) == [
        ("b-acme", "org-acme", "Acme Kitchen"),
        ("b-beton", "org-beton", "Béton Brut"),
        ("b-cobalt", "org-cobalt", "Cobalt Outdoors"),
        ("b-none", None, None),
    ]


def test_second_run_inside_ttl_calls_apollo_zero_times(harness: Harness) -> None:
    harness.enrich(WORKLIST, NOW)
    calls, credits = len(harness.server.requests), harness.fake.credits_consumed

    for later in (NOW + timedelta(hours=1), NOW + timedelta(days=29)):
        due = harness.due(later)
        assert due == []
        client = harness.client()
        summary = harness.enrich(due, later, client)
        assert client.calls == 0
        assert summary.details["credits"] == 0
    assert len(harness.server.requests) == calls
    assert harness.fake.credits_consumed == credits
    assert len(harness.rows("select * from raw.apollo_lookups")) == 4

    # after the TTL, all four (no_match included) are due again and are looked up again
    after_ttl = NOW + timedelta(days=30, hours=1)
    assert harness.due(after_ttl) == WORKLIST
    harness.enrich(harness.due(after_ttl), after_ttl)
    assert len(harness.server.requests) > calls
    assert harness.fake.credits_consumed == 2 * credits
    assert len(harness.rows("select * from raw.apollo_lookups")) == 8
    assert harness.rows("select count(*) from raw.apollo_people")[0][0] == 17  # merged on (brand_id, person_id)


def test_a_500_on_one_brand_is_an_error_row_retried_next_run(harness: Harness) -> None:
    harness.fake.fail_organizations.add(org_key("Cobalt Outdoors"))
    summary = harness.enrich(WORKLIST, NOW)

    ledger = harness.ledger()
    assert ledger["b-cobalt"][0] == "error"
    assert "500" in ledger["b-cobalt"][4] and "apollo" in ledger["b-cobalt"][4]
    assert ledger["b-cobalt"][3] == 1  # its organization was found (and paid) before the search failed
    assert {ledger[brand][0] for brand in ("b-acme", "b-beton")} == {"ok"}
    assert summary.details["error"] == 1
    cobalt_searches = harness.searched_organizations().count("org-cobalt")
    assert cobalt_searches == 4  # the free search is retried by the shared layer (APOLLO_RETRY_POLICY), then given up
    assert sum(1 for seconds in harness.clock.sleeps if seconds >= 1) == 3  # backoff between its 4 attempts

    harness.fake.fail_organizations.clear()
    later = NOW + timedelta(hours=6)
    due = harness.due(later)
    assert due == [BrandToEnrich("b-cobalt", "Cobalt Outdoors")]
    assert due[0].organization is not None and due[0].organization.organization_id == "org-cobalt"
    before, lookups_before = len(harness.searched_organizations()), len(harness.organization_lookups())
    harness.enrich(due, later)
    assert harness.searched_organizations()[before:] == ["org-cobalt"]
    assert len(harness.organization_lookups()) == lookups_before  # the organization is not paid for twice
    assert harness.ledger()["b-cobalt"][0] == "ok"
    assert harness.due(later + timedelta(minutes=1)) == []


def test_error_after_credits_were_spent_keeps_those_credits_and_the_retry_pays_nothing_twice(
    harness: Harness,
) -> None:
    harness.fake.fail_person_ids.add("acme-12")  # the second bulk_match batch of Acme fails (charged)
    harness.enrich(WORKLIST[:1], NOW)

    status, found, emails, credits, error = harness.ledger()["b-acme"]
    assert status == "error"
    assert "bulk_match" in error
    assert credits == 1 + 9  # the organization, then the first batch: 10 people, one without email
    assert harness.fake.credits_consumed == credits + 2  # what the failed call charged is unknown to us
    assert (found, emails) == (10, 9)
    assert harness.fake.bulk_match_ids.count("acme-12") == 1  # never resent after the 500
    reveals = dict(harness.rows("select person_id, outcome from raw.apollo_reveals"))
    assert [reveals[f"acme-{index:02d}"] for index in (1, 10, 11, 12)] == ["revealed", "revealed", "unknown", "unknown"]

    # an error is retried next run, but nothing it paid for is paid again, and the ids whose
    # answer was lost (maybe charged) are held for a day (SOURCES__APOLLO__REVEAL_HOLD_HOURS)
    later = NOW + timedelta(hours=1)
    due = harness.due(later)
    assert due == WORKLIST
    assert len(due[0].paid_person_ids) == 10 and due[0].organization is not None
    assert due[0].held_person_ids == {"acme-11", "acme-12", "acme-ghost"}
    sent, charged = len(harness.fake.bulk_match_ids), harness.fake.credits_consumed
    summary = harness.enrich(due[:1], later)
    assert len(harness.fake.bulk_match_ids) == sent and harness.fake.credits_consumed == charged
    assert harness.fake.calls[ORGANIZATION_PATH] == 1
    status, *_, error = harness.ledger()["b-acme"]
    assert status == "error" and "3 people held until 2026-11-11T09:00" in error  # not done: asked again later
    assert summary.details["held_people"] == 3
    assert harness.due(later + timedelta(minutes=1)) == WORKLIST


def test_a_retry_reveals_only_the_people_not_yet_paid_for(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(_many_organizations(1, 25), clock=clock.time)
    fake.fail_person_ids.add("brand00-0015")  # the second of three bulk_match calls fails
    brand = BrandToEnrich("b-00", "Brand 00")
    duckdb_path, pipelines_dir = tmp_path / "db.duckdb", tmp_path / "pipelines"
    with serve(fake) as server:
        config = ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0)
        client = ApolloApiClient(config, sleep=clock.sleep, clock=clock.time)
        enrich_brands([brand], client, duckdb_path, pipelines_dir, now=NOW, max_people_per_brand=25)
        first = list(fake.bulk_match_ids)
        # ids 1-10 revealed, 11-20 sent in the failed call (charged), 21-25 never sent
        assert first == [f"brand00-{index:04d}" for index in range(1, 21)]

        fake.fail_person_ids.clear()
        later = NOW + timedelta(hours=2)
        due = filter_recently_looked_up([brand], duckdb_path, 30, later)  # 11-20 are held for a day
        assert due == [brand]
        charged = fake.credits_consumed
        enrich_brands(due, client, duckdb_path, pipelines_dir, now=later, max_people_per_brand=25)
        retried = fake.bulk_match_ids[len(first) :]
    assert retried == [f"brand00-{index:04d}" for index in range(21, 26)]
    assert fake.credits_consumed - charged == 5  # only the people never sent before
    with duckdb.connect(str(duckdb_path)) as connection:
        ledger = connection.execute(
            "select status, people_found, credits_consumed from raw.apollo_lookups order by looked_up_at"
        ).fetchall()
        people = connection.execute("select count(*) from raw.apollo_people").fetchone()
    assert ledger == [("error", 10, 11), ("error", 5, 5)]  # not done: 11-20 are asked again after the hold
    assert people == (15,)


@pytest.mark.parametrize("failure", ["server error", "read timeout"])
def test_bulk_match_is_sent_once_after_a_500_or_a_read_timeout(tmp_path: Path, failure: str) -> None:
    clock = FakeClock()
    fake = FakeApollo(_many_organizations(2, 5), clock=clock.time)
    if failure == "server error":
        fake.fail_person_ids.add("brand00-0001")
    else:
        fake.slow_person_ids.add("brand00-0001")
        fake.slow_seconds = 1.0
    worklist = [BrandToEnrich("b-00", "Brand 00"), BrandToEnrich("b-01", "Brand 01")]
    duckdb_path = tmp_path / "db.duckdb"
    with serve(fake) as server:
        config = ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0)
        retry = RetryPolicy(max_attempts=6, backoff_base_seconds=0.01, timeout_seconds=0.3)
        client = ApolloApiClient(config, retry=retry, sleep=clock.sleep, clock=clock.time)
        summary = enrich_brands(worklist, client, duckdb_path, tmp_path / "pipelines", now=NOW)
        bulk_requests = [request for request in server.requests if request.path == BULK_MATCH_PATH]
    assert len(bulk_requests) == 1  # one shared call (10 ids of both brands), never resent
    assert fake.bulk_match_ids.count("brand00-0001") == 1
    assert summary.details["error"] == 2
    with duckdb.connect(str(duckdb_path)) as connection:
        ledger = connection.execute(
            "select brand_id, status, credits_consumed, error_message from raw.apollo_lookups order by 1"
        ).fetchall()
        outcomes = connection.execute("select distinct outcome from raw.apollo_reveals").fetchall()
    assert [(row[0], row[1], row[2]) for row in ledger] == [("b-00", "error", 1), ("b-01", "error", 1)]
    assert all("bulk_match" in row[3] for row in ledger)
    assert outcomes == [("unknown",)]  # Apollo may have charged them: held, then asked again
    due = filter_recently_looked_up(worklist, duckdb_path, 30, NOW + timedelta(hours=1))
    assert [len(brand.held_person_ids) for brand in due] == [5, 5]


def test_429_without_retry_after_backs_off_then_succeeds(harness: Harness) -> None:
    harness.fake.minute_limit = 5
    harness.fake.use_quota(SEARCH_PATH, 5)  # another client used up this minute's window
    client = harness.client()

    result = client.search_people(organization_ids=["org-cobalt"], titles=[], seniorities=[])

    assert result["total_entries"] == 3
    statuses = harness.fake.statuses(SEARCH_PATH)
    assert statuses[-1] == 200 and 429 in statuses
    throttled = [answer for answer in harness.fake.answers if answer.status == 429]
    assert all("Retry-After" not in answer.headers for answer in throttled)
    assert all(answer.headers["x-minute-requests-left"] == "0" for answer in throttled)
    assert sum(harness.clock.sleeps) >= 50  # backed off into the next minute window


def test_minute_requests_left_zero_waits_for_next_window_without_a_429(harness: Harness) -> None:
    harness.fake.minute_limit = 3
    client = harness.client()
    for _ in range(5):
        client.search_people(organization_ids=["org-beton"], titles=[], seniorities=[])
    assert harness.fake.statuses() == [200] * 5
    assert 50.0 <= max(harness.clock.sleeps) <= 51.5  # to the window's end (50 s away) + 1 s margin
    assert sum(1 for seconds in harness.clock.sleeps if seconds > 10) == 1


def test_requests_are_paced_by_requests_per_second(harness: Harness) -> None:
    client = harness.client(requests_per_second=1.0)
    for _ in range(3):
        client.search_people(organization_ids=["org-beton"], titles=[], seniorities=[])
    assert sum(harness.clock.sleeps) >= 1.5


def test_bad_key_raises_auth_error_naming_apollo_without_the_key(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-live-very-secret-123"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ApiAuthError) as raised:
        harness.enrich(WORKLIST, NOW, harness.client(key=secret))

    assert raised.value.source == "apollo"
    assert raised.value.status == 401
    assert "apollo" in str(raised.value)
    assert secret not in str(raised.value) and secret not in repr(raised.value)
    assert secret not in caplog.text
    assert len(harness.server.requests) == 1  # never retried, and the other brands are not tried
    # the attempt is in the ledger as an error (retried next run), with no credits
    ledger = harness.ledger()
    assert list(ledger) == ["b-acme"]
    status, found, _emails, credits, error = ledger["b-acme"]
    assert (status, found, credits) == ("error", 0, 0)
    assert "ApiAuthError" in error and secret not in error


def test_non_master_key_gets_403_on_search(harness: Harness) -> None:
    with pytest.raises(ApiAuthError) as raised:
        harness.client(key="plain-key").search_people(organization_ids=["org-acme"], titles=[], seniorities=[])
    assert raised.value.status == 403
    assert "plain-key" not in str(raised.value)


def test_bulk_match_refuses_more_than_ten_before_sending(harness: Harness) -> None:
    client = harness.client()
    with pytest.raises(ValueError, match="at most 10"):
        client.bulk_match([{"id": f"acme-{index:02d}"} for index in range(1, 12)])
    assert harness.server.requests == []
    assert client.bulk_match([]) == {"status": "success", "credits_consumed": 0, "matches": []}
    assert harness.server.requests == []

    response = client.bulk_match([{"id": "cobalt-2"}, {"id": "nobody"}, {"id": "cobalt-1"}])
    assert [match and match["id"] for match in response["matches"]] == ["cobalt-2", None, "cobalt-1"]
    assert response["credits_consumed"] == 2


def test_search_pages_through_results(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo([big_organization("Giant Goods", "giant.example", 130)], clock=clock.time)
    with serve(fake) as server:
        config = ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0)
        client = ApolloApiClient(config, sleep=clock.sleep, clock=clock.time)
        summary = enrich_brands(
            [BrandToEnrich("b-giant", "Giant Goods")],
            client,
            tmp_path / "db.duckdb",
            tmp_path / "pipelines",
            now=NOW,
            max_people_per_brand=120,
        )
        pages = [request.query for request in server.requests if request.path == SEARCH_PATH]
        assert [(page["page"], page["per_page"]) for page in pages] == [(["1"], ["100"]), (["2"], ["100"])]
        assert summary.rows_loaded == 120
        assert all(len(r.json()["details"]) <= 10 for r in server.requests if r.path == BULK_MATCH_PATH)

        with pytest.raises(ValueError, match="500"):
            client.search_people(organization_ids=["org-giantgoods"], titles=[], seniorities=[], page=501)


def test_fake_caps_per_page_and_pages_and_rejects_big_bulk_match() -> None:
    fake = FakeApollo([big_organization("Giant Goods", "giant.example", 130)])
    with serve(fake) as server:
        headers = {"x-api-key": KEY}
        wide = requests.post(
            f"{server.base_url}{SEARCH_PATH}",
            params=[("q_organization_domains_list[]", "giant.example"), ("per_page", "500")],
            headers=headers,
            timeout=5,
        ).json()
        assert wide["total_entries"] == 130 and len(wide["people"]) == 100
        assert "pagination" not in wide
        assert not any("email" in person for person in wide["people"])
        beyond = requests.post(
            f"{server.base_url}{SEARCH_PATH}?page=501&q_keywords=Giant%20Goods", headers=headers, timeout=5
        ).json()
        assert beyond["people"] == []
        # only what the OpenAPI documents, where it documents it: the search takes no JSON body
        as_body = requests.post(
            f"{server.base_url}{SEARCH_PATH}", json={"q_keywords": "Giant"}, headers=headers, timeout=5
        )
        undocumented = requests.post(
            f"{server.base_url}{SEARCH_PATH}?organization_name=Giant", headers=headers, timeout=5
        )
        assert (as_body.status_code, undocumented.status_code) == (422, 422)
        too_many = requests.post(
            f"{server.base_url}{BULK_MATCH_PATH}", json={"details": [{"id": "x"}] * 11}, headers=headers, timeout=5
        )
        assert too_many.status_code == 400
        assert too_many.json()["error_code"] == "RECORD_LIMIT_EXCEEDED"
        bad_key = requests.post(f"{server.base_url}{SEARCH_PATH}", json={}, headers={"x-api-key": "no"}, timeout=5)
        assert (bad_key.status_code, bad_key.text) == (401, "Invalid access credentials.")
    assert fake.credits_consumed == 0


def test_config_from_env() -> None:
    config = ApolloConfig.from_env(
        {
            "SOURCES__APOLLO__API_KEY": "k-123",
            "SOURCES__APOLLO__BASE_URL": "http://127.0.0.1:9/api/v1/",
            "SOURCES__APOLLO__TITLES": "CEO, founder ,,",
            "SOURCES__APOLLO__SENIORITIES": "owner,c_suite",
            "SOURCES__APOLLO__REQUESTS_PER_SECOND": "2.5",
            "SOURCES__APOLLO__TTL_DAYS": "14",
            "SOURCES__APOLLO__CONCURRENCY": "4",
        }
    )
    assert config.concurrency == 4
    assert config.base_url == "http://127.0.0.1:9/api/v1"
    assert config.titles == ("CEO", "founder")
    assert config.seniorities == ("owner", "c_suite")
    assert (config.requests_per_second, config.ttl_days) == (2.5, 14.0)
    assert "k-123" not in repr(config)

    defaults = ApolloConfig.from_env({"SOURCES__APOLLO__API_KEY": "k"})
    assert defaults.base_url == "https://api.apollo.io/api/v1"
    assert (defaults.requests_per_second, defaults.ttl_days, defaults.titles) == (1.0, 30.0, ())
    assert "director" in defaults.seniorities

    with pytest.raises(MissingSecretError, match="SOURCES__APOLLO__API_KEY"):
        ApolloConfig.from_env({})
    assert defaults.concurrency == 1
    with pytest.raises(ValueError, match="CONCURRENCY"):
        ApolloConfig.from_env({"SOURCES__APOLLO__API_KEY": "k", "SOURCES__APOLLO__CONCURRENCY": "0"})
    with pytest.raises(ValueError, match="REQUESTS_PER_SECOND"):
        ApolloConfig.from_env({"SOURCES__APOLLO__API_KEY": "k", "SOURCES__APOLLO__REQUESTS_PER_SECOND": "0"})


def test_config_from_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__APOLLO__API_KEY", "env-key")
    monkeypatch.setenv("SOURCES__APOLLO__TTL_DAYS", "7")
    config = ApolloConfig.from_env()
    assert (config.api_key, config.ttl_days) == ("env-key", 7.0)
    client = ApolloApiClient.from_env()
    assert client.source_kind == "api"
    assert client.http.session.headers["x-api-key"] == "env-key"


def test_non_json_body_is_a_request_error(tmp_path: Path) -> None:
    from tests.python.fakes.server import Reply

    with serve(lambda request: Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"})) as server:
        client = ApolloApiClient(ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0))
        with pytest.raises(ApiRequestError, match="not JSON"):
            client.search_people(organization_ids=["x"], titles=[], seniorities=[])


def _many_organizations(count: int, people: int) -> list[dict[str, Any]]:
    """`count` organizations `Brand 00`... with `people` decision-makers each, all with an email."""
    organizations = []
    for number in range(count):
        organization = big_organization(f"Brand {number:02d}", f"brand{number:02d}.example", people)
        for person in organization["people"]:
            person["email"] = f"{person['id']}@brand{number:02d}.example"
        organizations.append(organization)
    return organizations


def test_each_batch_is_landed_and_an_auth_error_in_batch_3_keeps_batches_1_and_2(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(_many_organizations(10, 3), clock=clock.time)
    worklist = [BrandToEnrich(f"b-{number:02d}", f"Brand {number:02d}") for number in range(10)]
    duckdb_path = tmp_path / "db.duckdb"
    with serve(fake) as server:
        client = ApolloApiClient(
            ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0),
            sleep=clock.sleep,
            clock=clock.time,
        )
        search = client.search_people

        def revoke_key_at_brand_07(**kwargs: Any) -> dict[str, Any]:
            if kwargs["organization_ids"] == ["org-brand07"]:
                fake.api_keys.discard(KEY)  # the key is revoked while batch 3 (brands 06-08) runs
            return search(**kwargs)

        client.search_people = revoke_key_at_brand_07  # type: ignore[method-assign]
        with pytest.raises(ApiAuthError):
            enrich_brands(worklist, client, duckdb_path, tmp_path / "pipelines", now=NOW, batch_size=3)

    with duckdb.connect(str(duckdb_path)) as connection:
        ledger = connection.execute(
            "select brand_id, status, people_found, credits_consumed, error_message, _dlt_load_id "
            "from raw.apollo_lookups order by brand_id"
        ).fetchall()
        people = connection.execute("select brand_id, count(*) from raw.apollo_people group by 1 order by 1").fetchall()
    # batches 1 and 2 landed whole, each by its own pipeline run
    assert [(row[0], row[1], row[2], row[3]) for row in ledger[:6]] == [
        (f"b-{number:02d}", "ok", 3, 4) for number in range(6)
    ]
    assert len({row[5] for row in ledger}) == 3  # batches 1, 2 and what batch 3 got to
    assert people == [(f"b-{number:02d}", 3) for number in range(6)]
    # batch 3: brand 06 was searched, its reveal was refused; brand 07's search was refused (both
    # had paid for their organization); brand 08 and batch 4 were never looked up
    assert [(row[0], row[1], row[3]) for row in ledger[6:]] == [("b-06", "error", 1), ("b-07", "error", 1)]
    assert all("ApiAuthError" in row[4] for row in ledger[6:])
    # every credit Apollo charged is in the ledger; one bulk_match per batch (9 ids of 3 brands)
    assert sum(row[3] for row in ledger) == fake.credits_consumed == 18 + 8
    assert fake.calls[BULK_MATCH_PATH] == 2
    assert fake.calls[SEARCH_PATH] == 7


def test_bulk_match_calls_are_shared_by_brands(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(_many_organizations(25, 2), clock=clock.time)
    worklist = [BrandToEnrich(f"b-{number:02d}", f"Brand {number:02d}") for number in range(25)]
    with serve(fake) as server:
        client = ApolloApiClient(
            ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0),
            sleep=clock.sleep,
            clock=clock.time,
        )
        summary = enrich_brands(worklist, client, tmp_path / "db.duckdb", tmp_path / "pipelines", now=NOW)
        sizes = [len(request.json()["details"]) for request in server.requests if request.path == BULK_MATCH_PATH]
        answered = len(server.requests)  # every request the fake answered, each counted once
    assert fake.calls[SEARCH_PATH] == 25
    assert fake.calls[BULK_MATCH_PATH] == 5 == summary.files_or_pages  # 50 ids: 5 calls, not 25
    assert sizes == [10] * 5
    assert summary.details == {"brands": 25, "ok": 25, "no_match": 0, "error": 0, "credits": 75, "requests": answered}
    with duckdb.connect(str(tmp_path / "db.duckdb")) as connection:
        credits = connection.execute(
            "select count(distinct brand_id), min(credits_consumed), max(credits_consumed), sum(credits_consumed) "
            "from raw.apollo_lookups"
        ).fetchone()
        requests_made = connection.execute(
            "select endpoint, count(distinct request_id), max(brands_in_request) from raw.apollo_calls group by 1 "
            "order by 1"
        ).fetchall()
    assert credits == (25, 3, 3, 75)  # 2 emails and the organization each
    assert requests_made == [
        ("mixed_people/api_search", 25, 1),
        ("organizations/enrich", 25, 1),
        ("people/bulk_match", 5, 5),
    ]


def test_concurrent_searches_give_the_same_lookups_and_shared_bulk_calls(tmp_path: Path) -> None:
    fake = FakeApollo(_many_organizations(25, 2))
    worklist = [BrandToEnrich(f"b-{number:02d}", f"Brand {number:02d}") for number in range(25)]
    worklist += [BrandToEnrich(f"b-none-{number}", f"Nobody {number}") for number in range(5)]
    with serve(fake) as server:
        config = ApolloConfig(api_key=KEY, base_url=server.base_url, requests_per_second=1000.0, concurrency=4)
        client = ApolloApiClient(config)
        assert client.concurrency == 4
        summary = enrich_brands(worklist, client, tmp_path / "db.duckdb", tmp_path / "pipelines", now=NOW)
        sizes = [len(request.json()["details"]) for request in server.requests if request.path == BULK_MATCH_PATH]
        answered = len(server.requests)  # every request the fake answered, each counted once
    assert summary.details == {"brands": 30, "ok": 25, "no_match": 5, "error": 0, "credits": 75, "requests": answered}
    assert fake.calls[ORGANIZATION_PATH] == 30
    assert fake.calls[SEARCH_PATH] == 25  # no organization, no search
    assert sizes == [10] * 5
    with duckdb.connect(str(tmp_path / "db.duckdb")) as connection:
        people = connection.execute("select brand_id, count(*) from raw.apollo_people group by 1").fetchall()
        credits = connection.execute("select sum(credits_consumed) from raw.apollo_calls").fetchone()
    assert sorted(people) == [(f"b-{number:02d}", 2) for number in range(25)]
    assert credits == (75,) and fake.credits_consumed == 75


def test_organization_by_domain_or_exact_name_only(harness: Harness) -> None:
    worklist = [
        BrandToEnrich("b-acme-site", "Acme Store", domain="https://www.AcmeKitchen.com/shop"),
        BrandToEnrich("b-acme-loose", "Acme"),  # Apollo's loose name match finds `Acme Kitchen`
    ]
    summary = harness.enrich(worklist, NOW)

    # by domain: the organization is the brand's whatever its name; the request carries no scheme or www
    assert harness.organization_lookups() == [
        {"domain": "acmekitchen.com", "name": "Acme Store"},
        {"name": "Acme"},
    ]
    ledger = harness.ledger()
    assert ledger["b-acme-site"][:2] == ("ok", 12)
    # by name, another company's organization is not the brand's: paid for, never searched or revealed
    assert ledger["b-acme-loose"][:4] == ("no_match", 0, 0, 1)
    assert harness.searched_organizations() == ["org-acme"]
    assert not any(person_id.startswith("supplies") for person_id in harness.fake.bulk_match_ids)
    assert summary.details["credits"] == harness.fake.credits_consumed == 12 + 1


def test_progress_lines_on_stderr(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    harness.enrich(WORKLIST, NOW, progress_every_seconds=0.0)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 2
    assert lines[0].startswith("apollo: enriching, ") and "/4 brands" in lines[0]
    assert lines[-1].startswith("apollo: done, 4/4 brands, 9 requests, 17 people, 18 credits, 0 errors, ")
    assert lines[-1].endswith(" brands/s")


def test_progress_is_throttled(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    harness.enrich(WORKLIST, NOW, progress_every_seconds=3600.0)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apollo: done, 4/4 brands")
