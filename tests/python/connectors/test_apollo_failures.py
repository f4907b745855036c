"""Apollo failures that used to look like success or cost credits twice, over real HTTP to the
fake Apollo and into a real DuckDB file: a dead or failing API stops the source after a few
failures in a row, an hourly rate limit stops it until the next run, a run whose every lookup
failed is an error, a lost bulk_match answer is held then asked again (at bounded cost), and brands
of one organization pay for it once. (A kill -9 mid-run: tests/python/connectors/test_live_mode_cli.py.)

Time never really passes: the client's sleep and clock and the fake's windows share a `FakeClock`.
"""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.apollo import (
    ApolloApiClient,
    ApolloConfig,
    BrandToEnrich,
    enrich_brands,
    filter_recently_looked_up,
    people_revealed_within,
)
from loaders.apollo.journal import PaidJournal, journal_path, land_paid_journal
from loaders.common.http import ApiRequestError, SourceStoppedError
from loaders.common.settings_env import ConfigError
from tests.python.connectors.test_apollo_api import KEY, NOW, FakeClock
from tests.python.fakes.apollo import ORGANIZATION_PATH, SEARCH_PATH, FakeApollo
from tests.python.fakes.server import serve

BRANDS = [
    BrandToEnrich("b-acme", "ACME KITCHEN"),
    BrandToEnrich("b-beton", "Béton Brut"),
    BrandToEnrich("b-cobalt", "Cobalt Outdoors"),
]


def _client(base_url: str, clock: FakeClock, **settings: object) -> ApolloApiClient:
    config = ApolloConfig(api_key=KEY, base_url=base_url, requests_per_second=1000.0, **settings)  # type: ignore[arg-type]
    return ApolloApiClient(config, sleep=clock.sleep, clock=clock.time)


def _enrich(client: ApolloApiClient, tmp_path: Path, brands: list[BrandToEnrich] = BRANDS) -> object:
    return enrich_brands(
        brands,
        client,
        tmp_path / "db.duckdb",
        tmp_path / "pipelines",
        now=NOW,
        progress=None,
        fail_when_every_brand_fails=True,
    )


def _ledger(tmp_path: Path) -> dict[str, str]:
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as connection:
        return dict(connection.execute("select brand_id, status from raw.apollo_lookups").fetchall())


def _one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message and KEY not in message
    return message


def test_an_apollo_answering_500_stops_after_failures_in_a_row_and_the_run_fails(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time)
    fake.fail_next = 10**6  # every request answers 500
    brands = BRANDS + [BrandToEnrich(f"b-{number}", f"Brand {number}") for number in range(7)]
    with serve(fake) as server, pytest.raises(SourceStoppedError) as stopped:
        _enrich(_client(server.base_url, clock, max_consecutive_failures=5), tmp_path, brands)
    message = _one_line(stopped.value)
    assert "5 failed requests in a row" in message and "SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES" in message
    assert len(fake.answers) == 5  # then nothing more, whatever the length of the work list
    # the brands it tried are error rows (retried next run); the other 5 were not started
    assert _ledger(tmp_path) == {brand.brand_id: "error" for brand in brands[:5]}


def test_an_unreachable_apollo_stops_within_seconds_not_minutes_per_brand(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]  # nothing listens once the socket is closed
    clock = FakeClock()
    client = _client(f"http://127.0.0.1:{closed_port}", clock)
    with pytest.raises(SourceStoppedError) as stopped:
        _enrich(client, tmp_path)
    assert "connection failed" in _one_line(stopped.value)
    assert client.calls == 6  # the default: 6 failed requests in a row
    assert sum(clock.sleeps) < 30  # it used to wait ~90 s for every brand


def test_a_run_whose_every_paid_call_failed_is_an_error_not_a_success(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time)
    # searches answer, every bulk_match fails: the failures are never in a row, yet nothing worked
    fake.fail_person_ids.update({"acme-01", "acme-11", "beton-1", "cobalt-1"})
    with serve(fake) as server, pytest.raises(ApiRequestError) as failed:
        _enrich(_client(server.base_url, clock), tmp_path)
    message = _one_line(failed.value)
    assert "every one of the 3 brands looked up failed" in message and "bulk_match" in message
    assert _ledger(tmp_path) == {"b-acme": "error", "b-beton": "error", "b-cobalt": "error"}


def test_an_hourly_429_stops_the_source_until_the_next_run_after_one_call(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time, hour_limit=600)
    fake.use_quota(SEARCH_PATH, 600, window_seconds=3600)  # another client used this hour's searches
    with serve(fake) as server, pytest.raises(SourceStoppedError) as stopped:
        _enrich(_client(server.base_url, clock), tmp_path)
    message = _one_line(stopped.value)
    assert "600 calls per hour" in message and "next run" in message
    assert fake.statuses(SEARCH_PATH) == [429]  # one refused call, not 6 for every brand
    assert sum(clock.sleeps) < 1
    assert _ledger(tmp_path) == {"b-acme": "error"}  # its organization (paid) is kept for the retry


def test_a_used_up_hourly_quota_stops_before_a_call_that_could_only_get_a_429(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time, hour_limit=2)
    with serve(fake) as server, pytest.raises(SourceStoppedError) as stopped:
        _enrich(_client(server.base_url, clock), tmp_path)
    assert "hourly quota is used up" in _one_line(stopped.value)
    assert 429 not in fake.statuses()
    assert fake.statuses(ORGANIZATION_PATH) == [200, 200]  # the second said: none left this hour


def test_a_minute_429_waits_for_the_next_window_instead_of_backing_off(tmp_path: Path) -> None:
    clock = FakeClock()  # 10 s into a minute window
    fake = FakeApollo(clock=clock.time, minute_limit=5)
    fake.use_quota(SEARCH_PATH, 5)
    with serve(fake) as server:
        client = _client(server.base_url, clock)
        client.search_people(organization_ids=["org-cobalt"], titles=[], seniorities=[])
    assert fake.statuses(SEARCH_PATH) == [429, 200]
    assert clock.sleeps[-1] == pytest.approx(51.0)  # to the window's end + 1 s, one retry


class _Runs:
    """Enrich runs of Acme over time against one fake Apollo and one warehouse."""

    def __init__(self, tmp_path: Path, fake: FakeApollo, base_url: str, clock: FakeClock) -> None:
        self.tmp_path, self.fake, self.base_url, self.clock = tmp_path, fake, base_url, clock

    def run(self, hours: float, hold_hours: float = 24.0) -> tuple[list[BrandToEnrich], dict[str, object]]:
        moment = NOW + timedelta(hours=hours)
        due = filter_recently_looked_up(BRANDS[:1], self.tmp_path / "db.duckdb", 30, moment, hold_hours=hold_hours)
        summary = enrich_brands(
            due, _client(self.base_url, self.clock), self.tmp_path / "db.duckdb", self.tmp_path / "pipelines",
            now=moment, progress=None, max_people_per_brand=25,
        )  # fmt: skip
        return due, summary.details

    def acme_people(self) -> int:
        with duckdb.connect(str(self.tmp_path / "db.duckdb"), read_only=True) as connection:
            row = connection.execute("select count(distinct person_id) from raw.apollo_people").fetchone()
        return int(row[0]) if row else 0


def test_a_lost_bulk_match_answer_is_held_a_day_then_asked_again(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time)
    fake.fail_person_ids.add("acme-12")  # Acme's 2nd bulk_match (acme-11, -12, -ghost): 500, charged
    with serve(fake) as server:
        runs = _Runs(tmp_path, fake, server.base_url, clock)
        runs.run(0)
        fake.fail_person_ids.clear()
        sent = list(fake.bulk_match_ids)
        due, details = runs.run(1)  # within the hold: nothing is asked again yet
        assert due[0].held_person_ids == {"acme-11", "acme-12", "acme-ghost"}
        assert fake.bulk_match_ids == sent and details["held_people"] == 3 and details["error"] == 1
        charged = fake.credits_consumed
        due, details = runs.run(25)  # the hold is over: asked again, the extra cost reported
        assert fake.bulk_match_ids[len(sent) :] == ["acme-11", "acme-12", "acme-ghost"]
        assert details["reasked_people"] == 3 and details["ok"] == 1
        assert fake.credits_consumed - charged == 2  # 2 emails: what a lost answer may cost twice
        assert runs.acme_people() == 12  # every decision-maker, not 10 of 12 for the whole TTL
        assert runs.run(26)[0] == []  # done for the TTL


def test_lost_answers_cost_at_most_one_extra_credit_per_person_and_a_hold_can_be_released(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time)
    fake.fail_person_ids.add("acme-12")  # fails every time
    with serve(fake) as server:
        runs = _Runs(tmp_path, fake, server.base_url, clock)
        runs.run(0)
        runs.run(1, hold_hours=0)  # the operator released the hold: asked again at once (lost again)
        assert fake.bulk_match_ids.count("acme-12") == 2
        due, details = runs.run(50)  # lost twice: never asked a third time within the TTL
        assert "acme-12" in due[0].paid_person_ids and not due[0].held_person_ids
        assert fake.bulk_match_ids.count("acme-12") == 2 and details["ok"] == 1


def test_brands_of_one_organization_pay_for_its_lookup_and_its_people_once(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeApollo(clock=clock.time)
    storefronts = [  # two storefronts of one firm, and the firm by its name
        BrandToEnrich("b-acme", "Acme Kitchen", "acmekitchen.com"),
        BrandToEnrich("b-acme-outlet", "Acme Kitchen Outlet", "https://www.acmekitchen.com/outlet"),
        BrandToEnrich("b-acme-by-name", "ACME KITCHEN"),
    ]
    duckdb_path, pipelines_dir = tmp_path / "db.duckdb", tmp_path / "pipelines"
    with serve(fake) as server:
        client = _client(server.base_url, clock)
        summary = enrich_brands(storefronts, client, duckdb_path, pipelines_dir, now=NOW, max_people_per_brand=25)
        # one organization answer per request (by domain, by name), each person revealed once
        assert fake.calls[ORGANIZATION_PATH] == 2
        assert sorted(fake.bulk_match_ids) == sorted(set(fake.bulk_match_ids))
        assert fake.credits_consumed == 2 + 11  # not 3 + 3 * 11
        assert summary.details["reused_people"] == 2 * 12 and summary.details["ok"] == 3

        # a storefront added later: its organization and people were paid for within the TTL
        later = NOW + timedelta(days=2)
        store = BrandToEnrich("b-acme-store", "Acme Store", "acmekitchen.com")
        due = filter_recently_looked_up([store], duckdb_path, 30, later)
        assert due[0].organization is not None
        charged, asked = fake.credits_consumed, len(fake.bulk_match_ids)
        known = people_revealed_within(duckdb_path, 30, later)
        enrich_brands(due, client, duckdb_path, pipelines_dir, now=later, max_people_per_brand=25, known_people=known)
        assert fake.credits_consumed == charged
        assert fake.bulk_match_ids[asked:] == ["acme-ghost"]  # only the one Apollo never matched (free)
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        people = dict(connection.execute("select brand_id, count(*) from raw.apollo_people group by 1").fetchall())
        ledger = connection.execute("select sum(credits_consumed) from raw.apollo_lookups").fetchone()
    assert people == {"b-acme": 12, "b-acme-outlet": 12, "b-acme-by-name": 12, "b-acme-store": 12}
    assert ledger == (fake.credits_consumed,)  # the ledger still sums what Apollo charged


def test_failure_settings_are_read_and_a_bad_value_names_its_variable() -> None:
    base = {"SOURCES__APOLLO__API_KEY": KEY}
    config = ApolloConfig.from_env(
        {**base, "SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES": "3", "SOURCES__APOLLO__REVEAL_HOLD_HOURS": "0"}
    )
    assert (config.max_consecutive_failures, config.reveal_hold_hours) == (3, 0.0)  # 0: release every hold
    assert (ApolloConfig.from_env(base).max_consecutive_failures, ApolloConfig.from_env(base).reveal_hold_hours) == (
        6,
        24.0,
    )
    for name, value in [
        ("MAX_CONSECUTIVE_FAILURES", "0"),
        ("MAX_CONSECUTIVE_FAILURES", "many"),
        ("REVEAL_HOLD_HOURS", "-1"),
    ]:
        with pytest.raises(ConfigError, match=f"SOURCES__APOLLO__{name}"):
            ApolloConfig.from_env({**base, f"SOURCES__APOLLO__{name}": value})


def test_the_paid_answer_journal_skips_a_torn_line_and_lookups_their_batch_already_landed(tmp_path: Path) -> None:
    warehouse = tmp_path / "db.duckdb"
    with duckdb.connect(str(warehouse)) as connection:  # l-landed: its batch landed before the kill
        connection.execute("create schema raw")
        connection.execute("create table raw.apollo_lookups as select 'l-landed' as lookup_id")
    journal = PaidJournal(journal_path(tmp_path / "pipelines"))
    for lookup_id, status in [("l-landed", "error"), ("l-killed", "error"), ("l-killed", "error")]:
        journal.append({"lookups": [{"lookup_id": lookup_id, "status": status, "looked_up_at": NOW}]})
    with journal.path.open("a") as handle:
        handle.write('{"lookups": [{"lookup_id": "l-torn"')  # killed while writing: never answered
    landed: list[dict[str, list[dict[str, object]]]] = []
    assert land_paid_journal(warehouse, tmp_path / "pipelines", landed.append) == 1
    assert [row["lookup_id"] for row in landed[0]["lookups"]] == ["l-killed"]  # once, its last entry
    assert landed[0]["lookups"][0]["looked_up_at"] == NOW  # timestamps come back as timestamps
    assert not journal.path.exists()


@given(
    limit=st.integers(min_value=1, max_value=10**6),
    period=st.sampled_from(["minute", "hour", "day", "Hour", "DAY"]),
    endpoint=st.sampled_from(["api/v1/people/bulk_match", "api/v1/mixed_people/api_search"]),
    second=st.floats(min_value=0, max_value=59.999),
)
@settings(max_examples=60, deadline=None)
def test_a_429_is_read_by_the_window_it_names(limit: int, period: str, endpoint: str, second: float) -> None:
    clock = FakeClock(now=1_800_000_000.0 + second)
    client = _client("http://127.0.0.1:9", clock)  # never called: the 429 is read, not fetched
    response = requests.Response()
    response.status_code = 429
    response._content = json.dumps(
        {"message": f"The maximum number of api calls allowed for {endpoint} is {limit:,} times per {period}."}
    ).encode()
    if period.casefold() == "minute":
        wait = client._rate_limited(f"POST {endpoint}", response)
        assert wait is not None and 1.0 <= wait <= 61.0  # to the next minute window, plus a margin
        assert client.breaker.stopped is None
    else:
        with pytest.raises(SourceStoppedError) as stopped:
            client._rate_limited(f"POST {endpoint}", response)
        assert f"{limit:,} calls per {period.casefold()}" in str(stopped.value)
