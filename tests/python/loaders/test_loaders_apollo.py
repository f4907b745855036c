from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from loader_test_support import Warehouse

from loaders.apollo import (
    BrandToEnrich,
    SampleApolloClient,
    enrich_brands,
    filter_recently_looked_up,
    normalize_org_name,
)

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
TITLES = ["ceo", "chief executive", "founder", "owner"]
WORKLIST = [
    BrandToEnrich("b-acme", "ACME KITCHEN"),
    BrandToEnrich("b-beton", "Béton Brut"),
    BrandToEnrich("b-cobalt", "Cobalt Outdoors"),
    BrandToEnrich("b-none", "Nobody Sells This"),
]


class SpyFinder:
    """Wraps a finder and records every call; can fail for one brand name."""

    def __init__(self, inner: SampleApolloClient, fail_for: str | None = None) -> None:
        self.inner = inner
        self.source_kind = inner.source_kind
        self.fail_for = fail_for
        self.bulk_sizes: list[int] = []
        self.searches: list[str] = []

    def find_organization(self, *, domain: str | None, name: str) -> Mapping[str, Any]:
        if name == self.fail_for:
            raise TimeoutError("apollo did not answer in 60 s")
        return self.inner.find_organization(domain=domain, name=name)

    def search_people(
        self,
        *,
        organization_ids: Sequence[str],
        titles: Sequence[str],
        seniorities: Sequence[str],
        page: int = 1,
        per_page: int = 100,
    ) -> Mapping[str, Any]:
        self.searches.extend(organization_ids)
        return self.inner.search_people(
            organization_ids=organization_ids,
            titles=titles,
            seniorities=seniorities,
            page=page,
            per_page=per_page,
        )

    def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        self.bulk_sizes.append(len(details))
        return self.inner.bulk_match(details)


@pytest.fixture
def sample_client(fixtures_dir: Path) -> SampleApolloClient:
    return SampleApolloClient(fixtures_dir / "apollo/organizations.json")


def test_normalize_org_name() -> None:
    assert normalize_org_name("Béton Brut GmbH") == normalize_org_name("beton-brut") == "betonbrut"
    assert normalize_org_name("Acme Kitchen, Inc.") == normalize_org_name("ACME  kitchen") == "acmekitchen"
    assert normalize_org_name("The Levi's Co. L.L.C.") == "levis"
    assert normalize_org_name("Salt & Stone") == "saltandstone"
    assert normalize_org_name("Inc") == "inc"


def test_sample_client_answers_in_apollo_shapes(sample_client: SampleApolloClient) -> None:
    assert sample_client.find_organization(domain=None, name="acme kitchen")["organization"]["id"] == "org-acme"
    assert sample_client.find_organization(domain="www.acme.example", name="x")["organization"]["id"] == "org-acme"
    assert sample_client.find_organization(domain=None, name="Nobody Sells This") == {}
    search = sample_client.search_people(organization_ids=["org-acme"], titles=TITLES, seniorities=[])
    assert search["total_entries"] == 2
    assert [(p["id"], p["last_name_obfuscated"], p["has_email"]) for p in search["people"]] == [
        ("p-ana", "R***z", True),
        ("p-bo", "L***d", False),
    ]
    assert "email" not in search["people"][0]

    response = sample_client.bulk_match([{"id": "p-bo"}, {"id": "missing"}, {"id": "p-ana"}])
    assert [m and m["id"] for m in response["matches"]] == ["p-bo", None, "p-ana"]
    assert response["matches"][2]["email"] == "ana@acme.example"
    assert (
        response["total_requested_enrichments"],
        response["unique_enriched_records"],
        response["missing_records"],
        response["credits_consumed"],
    ) == (3, 2, 1, 1)
    with pytest.raises(ValueError, match="at most 10"):
        sample_client.bulk_match([{"id": str(i)} for i in range(11)])


def test_enrich_brands_writes_people_and_ledger(sample_client: SampleApolloClient, warehouse: Warehouse) -> None:
    finder = SpyFinder(sample_client, fail_for="Cobalt Outdoors")
    summary = enrich_brands(
        WORKLIST,
        finder,
        warehouse.duckdb_path,
        warehouse.pipelines_dir,
        titles=TITLES,
        seniorities=[],
        now=NOW,
    )
    assert summary.rows_loaded == 3
    [(answered,)] = warehouse.rows("select count(distinct request_id) from raw.apollo_calls")  # answered requests
    assert summary.details == {"brands": 4, "ok": 2, "no_match": 1, "error": 1, "credits": 4, "requests": answered}
    assert finder.bulk_sizes == [3]  # Acme's 2 ids and Béton's 1 in one bulk_match

    assert warehouse.rows(
        "select brand_id, brand_name, endpoint, people_found, emails_revealed, credits_consumed, status, "
        "error_message, looked_up_at from raw.apollo_lookups order by brand_id"
    ) == [
        ("b-acme", "ACME KITCHEN", "people/bulk_match", 2, 1, 2, "ok", None, NOW),
        ("b-beton", "Béton Brut", "people/bulk_match", 1, 1, 2, "ok", None, NOW),
        ("b-cobalt", "Cobalt Outdoors", "organizations/enrich", 0, 0, 0, "error",
         "TimeoutError: apollo did not answer in 60 s", NOW),
        ("b-none", "Nobody Sells This", "organizations/enrich", 0, 0, 0, "no_match", None, NOW),
    ]  # fmt: skip
    assert warehouse.column_types("apollo_lookups")["credits_consumed"] == "BIGINT"

    people = warehouse.rows(
        "select brand_id, person_id, name, title, email, email_status, organization_id, organization_name, "
        "organization_domain, departments_json, source_kind, matched_at from raw.apollo_people order by 1, 2"
    )
    assert people == [
        ("b-acme", "p-ana", "Ana Ruiz", "Chief Executive Officer (CEO)", "ana@acme.example", "verified",
         "org-acme", "Acme Kitchen, Inc.", "acme.example", '["master_executive"]', "sample", NOW),
        ("b-acme", "p-bo", "Bo Lind", "Co-Founder", None, "unavailable",
         "org-acme", "Acme Kitchen, Inc.", "acme.example", '["master_executive"]', "sample", NOW),
        ("b-beton", "p-dora", "Dora Maar", "Owner", "dora@betonbrut.example", "likely to engage",
         "org-beton", "Beton Brut GmbH", "betonbrut.example", '["master_executive"]', "sample", NOW),
    ]  # fmt: skip
    extra = json.loads(warehouse.scalar("select extra_fields_json from raw.apollo_people where person_id = 'p-ana'"))
    assert extra["employment_history"] == [{"title": "Chief Executive Officer (CEO)", "current": True}]
    assert extra["organization"] == {"industry": "consumer goods", "estimated_num_employees": 42}
    lookup_ids = warehouse.rows(
        "select count(*) from raw.apollo_people p join raw.apollo_lookups l using (lookup_id, brand_id)"
    )
    assert lookup_ids == [(3,)]


def test_enriching_twice_adds_no_rows(sample_client: SampleApolloClient, warehouse: Warehouse) -> None:
    for _ in range(2):
        enrich_brands(
            WORKLIST[:2],
            sample_client,
            warehouse.duckdb_path,
            warehouse.pipelines_dir,
            titles=TITLES,
            now=NOW,
        )
    assert warehouse.count("apollo_people") == 3
    assert warehouse.count("apollo_lookups") == 2
    enrich_brands(WORKLIST[:2], sample_client, warehouse.duckdb_path, warehouse.pipelines_dir, titles=TITLES,
                  now=NOW + timedelta(days=40))  # fmt: skip
    assert warehouse.count("apollo_people") == 3  # same people, new lookup
    assert warehouse.count("apollo_lookups") == 4


def test_reveals_are_batched_by_at_most_ten(tmp_path: Path, warehouse: Warehouse) -> None:
    organization = {"id": "org-big", "name": "Big Brand Co", "primary_domain": "big.example"}
    people = [
        {"id": f"p-{i:02d}", "first_name": f"P{i}", "last_name": "Doe", "title": "Founder",
         "email": f"p{i}@big.example" if i % 2 else None}
        for i in range(23)
    ]  # fmt: skip
    dataset = tmp_path / "organizations.json"
    dataset.write_text(json.dumps([{"organization": organization, "people": people}]))
    finder = SpyFinder(SampleApolloClient(dataset))

    summary = enrich_brands(
        [BrandToEnrich("b-big", "Big Brand")],
        finder,
        warehouse.duckdb_path,
        warehouse.pipelines_dir,
        titles=["founder"],
        seniorities=[],
        now=NOW,
        max_people_per_brand=50,
    )
    assert finder.bulk_sizes == [10, 10, 3]
    assert summary.files_or_pages == 3
    assert warehouse.rows("select people_found, emails_revealed, credits_consumed, status from raw.apollo_lookups") == [
        (23, 11, 12, "ok")
    ]
    assert warehouse.count("apollo_people") == 23


def test_max_people_per_brand_caps_reveals(sample_client: SampleApolloClient, warehouse: Warehouse) -> None:
    finder = SpyFinder(sample_client)
    enrich_brands(
        WORKLIST[:1], finder, warehouse.duckdb_path, warehouse.pipelines_dir, titles=TITLES, now=NOW,
        max_people_per_brand=1,
    )  # fmt: skip
    assert finder.bulk_sizes == [1]
    assert warehouse.rows("select person_id from raw.apollo_people") == [("p-ana",)]


def test_filter_recently_looked_up(sample_client: SampleApolloClient, warehouse: Warehouse) -> None:
    # no database yet: everything is to be looked up
    assert filter_recently_looked_up(WORKLIST, warehouse.duckdb_path, ttl_days=30, now=NOW) == WORKLIST

    finder = SpyFinder(sample_client, fail_for="Cobalt Outdoors")
    enrich_brands(WORKLIST, finder, warehouse.duckdb_path, warehouse.pipelines_dir, titles=TITLES, now=NOW)

    soon = NOW + timedelta(days=29)
    # ok and no_match are skipped within the TTL; the error is retried
    assert filter_recently_looked_up(WORKLIST, warehouse.duckdb_path, ttl_days=30, now=soon) == [WORKLIST[2]]
    late = NOW + timedelta(days=31)
    assert filter_recently_looked_up(WORKLIST, warehouse.duckdb_path, ttl_days=30, now=late) == WORKLIST


def test_default_filters_reveal_decision_makers_not_entry_level(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    finder = SpyFinder(sample_client)
    enrich_brands(WORKLIST[:1], finder, warehouse.duckdb_path, warehouse.pipelines_dir, now=NOW)
    assert finder.bulk_sizes == [2]
    assert warehouse.rows("select person_id from raw.apollo_people order by 1") == [("p-ana",), ("p-bo",)]


def test_title_filter_is_loose(sample_client: SampleApolloClient) -> None:
    found = sample_client.search_people(organization_ids=["org-acme"], titles=["co founder"], seniorities=[])
    assert [p["id"] for p in found["people"]] == ["p-bo"]
    found = sample_client.search_people(organization_ids=["org-acme"], titles=["CEO"], seniorities=["c_suite"])
    assert [p["id"] for p in found["people"]] == ["p-ana"]
    found = sample_client.search_people(organization_ids=["org-acme"], titles=["CEO"], seniorities=["founder"])
    assert found == {"total_entries": 0, "people": []}


def test_an_interruption_mid_batch_lands_what_was_paid_for(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    class Interrupting(SpyFinder):
        def find_organization(self, *, domain: str | None, name: str) -> Mapping[str, Any]:
            if name == "Nobody Sells This":
                raise KeyboardInterrupt
            return super().find_organization(domain=domain, name=name)

    batches = [WORKLIST[1], WORKLIST[2], WORKLIST[0], WORKLIST[1], WORKLIST[3]]
    finder = Interrupting(sample_client)
    with pytest.raises(KeyboardInterrupt):
        enrich_brands(batches, finder, warehouse.duckdb_path, warehouse.pipelines_dir, titles=TITLES, seniorities=[],
                      now=NOW, batch_size=2)  # fmt: skip
    # batch 1 (béton, cobalt: nobody) revealed in one call; batch 2: acme searched, not revealed
    # when the run was interrupted at b-none (the repeated Béton is looked up once)
    assert finder.bulk_sizes == [1]
    assert warehouse.rows("select brand_id, status, credits_consumed from raw.apollo_lookups order by 1") == [
        ("b-acme", "error", 1),
        ("b-beton", "ok", 2),
        ("b-cobalt", "no_match", 1),
        ("b-none", "error", 0),
    ]
    assert warehouse.count("apollo_people") == 1


def test_credits_of_a_shared_call_are_split_exactly() -> None:
    from loaders.apollo import _apportion

    assert _apportion(7, [2, 1, 0]) == [5, 2, 0]
    assert _apportion(3, [1, 1]) == [2, 1]
    assert _apportion(5, [0, 0]) == [3, 2]
    assert _apportion(0, [4, 2]) == [0, 0]
    assert _apportion(9, []) == []


def test_a_failed_shared_bulk_match_is_an_error_for_each_brand_in_it(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    class FailingFinder(SpyFinder):
        def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
            self.bulk_sizes.append(len(details))
            if {"id": "p-dora"} in details:
                raise TimeoutError("bulk_match did not answer")
            return self.inner.bulk_match(details)

    finder = FailingFinder(sample_client)
    summary = enrich_brands(WORKLIST, finder, warehouse.duckdb_path, warehouse.pipelines_dir, titles=TITLES,
                            seniorities=[], now=NOW)  # fmt: skip
    assert finder.bulk_sizes == [3]
    [(answered,)] = warehouse.rows("select count(distinct request_id) from raw.apollo_calls")  # answered requests
    assert summary.details == {"brands": 4, "ok": 0, "no_match": 2, "error": 2, "credits": 3, "requests": answered}
    assert warehouse.rows("select brand_id, status, error_message from raw.apollo_lookups order by 1") == [
        ("b-acme", "error", "TimeoutError: bulk_match did not answer"),
        ("b-beton", "error", "TimeoutError: bulk_match did not answer"),
        ("b-cobalt", "no_match", None),
        ("b-none", "no_match", None),
    ]


def test_matches_that_cannot_be_attributed_keep_the_credits_and_are_an_error(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    class ShortFinder(SpyFinder):
        def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
            response = dict(self.inner.bulk_match(details))
            response["matches"] = response["matches"][:-1]  # one match missing: positions are off
            return response

    enrich_brands(WORKLIST[:2], ShortFinder(sample_client), warehouse.duckdb_path, warehouse.pipelines_dir,
                  titles=TITLES, seniorities=[], now=NOW)  # fmt: skip
    rows = warehouse.rows("select brand_id, status, credits_consumed, error_message from raw.apollo_lookups order by 1")
    assert [row[:2] for row in rows] == [("b-acme", "error"), ("b-beton", "error")]
    assert sum(row[2] for row in rows) == 2 + 2  # what the call reported is kept, with the 2 organizations
    assert all("2 matches for 3 details" in row[3] for row in rows)
    assert warehouse.count("apollo_people") == 0


def test_an_interruption_inside_a_bulk_match_leaves_its_brands_errors_not_done(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    class InterruptedReveal(SpyFinder):
        def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
            raise KeyboardInterrupt  # e.g. Ctrl-C while waiting for Apollo's answer

    with pytest.raises(KeyboardInterrupt):
        enrich_brands(WORKLIST, InterruptedReveal(sample_client), warehouse.duckdb_path, warehouse.pipelines_dir,
                      titles=TITLES, seniorities=[], now=NOW)  # fmt: skip
    # the brands whose ids were in the call may have been charged and got nothing: errors, so the
    # TTL does not skip them next run; the brands without a match are finished
    assert warehouse.rows("select brand_id, status from raw.apollo_lookups order by 1") == [
        ("b-acme", "error"),
        ("b-beton", "error"),
        ("b-cobalt", "no_match"),
        ("b-none", "no_match"),
    ]
    assert filter_recently_looked_up(WORKLIST, warehouse.duckdb_path, ttl_days=30, now=NOW) == WORKLIST[:2]


@pytest.mark.parametrize(
    ("reported", "ledger"),
    # 1 credit each for the organization, plus the call's credits split 2:1
    [("3", [("b-acme", "ok", 3), ("b-beton", "ok", 2)]), (2.5, [("b-acme", "ok", 3), ("b-beton", "ok", 2)])],
)
def test_fractional_credits_are_rounded_up_in_the_ledger(
    sample_client: SampleApolloClient, warehouse: Warehouse, reported: object, ledger: list[tuple[str, str, int]]
) -> None:
    class Reporting(SpyFinder):
        def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
            return {**self.inner.bulk_match(details), "credits_consumed": reported}

    enrich_brands(WORKLIST[:2], Reporting(sample_client), warehouse.duckdb_path, warehouse.pipelines_dir,
                  titles=TITLES, seniorities=[], now=NOW)  # fmt: skip
    assert warehouse.rows("select brand_id, status, credits_consumed from raw.apollo_lookups order by 1") == ledger


def test_an_unreadable_credit_count_is_an_error_for_the_brands_of_the_call(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    class Garbled(SpyFinder):
        def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
            return {**self.inner.bulk_match(details), "credits_consumed": "three"}

    enrich_brands(WORKLIST[:2], Garbled(sample_client), warehouse.duckdb_path, warehouse.pipelines_dir,
                  titles=TITLES, seniorities=[], now=NOW)  # fmt: skip
    rows = warehouse.rows("select brand_id, status, error_message from raw.apollo_lookups order by 1")
    assert [row[:2] for row in rows] == [("b-acme", "error"), ("b-beton", "error")]
    assert all("credits_consumed is not a number" in row[2] for row in rows)


def test_people_of_another_organization_are_never_revealed(
    sample_client: SampleApolloClient, warehouse: Warehouse
) -> None:
    class PastEmployeesToo(SpyFinder):
        """The search also answers with a former employee, now at another company (as Apollo's
        organization filters match past employers)."""

        def search_people(self, **kwargs: Any) -> Mapping[str, Any]:
            response = dict(super().search_people(**kwargs))
            former = {"id": "p-former", "first_name": "Fo", "organization": {"name": "Other Goods LLC"}}
            return {**response, "people": [*response["people"], former]}

        def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
            self.revealed = [detail["id"] for detail in details]
            return super().bulk_match(details)

    finder = PastEmployeesToo(sample_client)
    enrich_brands(WORKLIST[:1], finder, warehouse.duckdb_path, warehouse.pipelines_dir, titles=TITLES,
                  seniorities=[], now=NOW, progress=None)  # fmt: skip
    assert finder.revealed == ["p-ana", "p-bo"]
