"""The Apollo TTL check counts lookups landed under a brand id an earlier name normalization made
(clean.stg_brand_id_aliases): a brand whose id changed is not paid for twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from loaders.apollo import BrandToEnrich, KnownOrganization, filter_recently_looked_up

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def make_warehouse(path: Path, *, with_aliases: bool) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.apollo_lookups (lookup_id varchar, brand_id varchar, brand_name varchar, "
            "status varchar, looked_up_at timestamptz, organization_id varchar, organization_name varchar, "
            "organization_domain varchar)"
        )
        connection.execute(
            "create table raw.apollo_people (brand_id varchar, person_id varchar, matched_at timestamptz)"
        )
        connection.execute(
            "create table raw.apollo_reveals (lookup_id varchar, brand_id varchar, person_id varchar, "
            "outcome varchar, attempted_at timestamptz)"
        )
        yesterday = NOW - timedelta(days=1)
        # looked up (ok) under its old id; another brand failed part-way under its old id, after
        # Apollo resolved its organization and revealed one person
        connection.executemany(
            "insert into raw.apollo_lookups values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("l1", "old-done", "The Nature's Co", "ok", yesterday, "org-1", "Natures", "natures.com"),
                ("l2", "old-retry", "The Acme Co", "error", yesterday, "org-2", "Acme", "acme.com"),
            ],
        )
        connection.execute("insert into raw.apollo_people values ('old-retry', 'p-1', ?)", [yesterday])
        connection.execute(
            "insert into raw.apollo_reveals values ('l2', 'old-retry', 'p-2', 'unknown', ?)", [yesterday]
        )
        if with_aliases:
            connection.execute("create schema clean")
            connection.execute(
                "create table clean.stg_brand_id_aliases as select * from "
                "(values ('old-done', 'new-done'), ('old-retry', 'new-retry')) as aliases(old_brand_id, brand_id)"
            )


def test_a_lookup_under_an_old_id_counts_for_the_brands_id_now(tmp_path: Path) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    make_warehouse(warehouse, with_aliases=True)
    worklist = [
        BrandToEnrich("new-done", "The Nature's Co"),
        BrandToEnrich("new-retry", "The Acme Co"),
        BrandToEnrich("never", "Globex"),
    ]

    due = filter_recently_looked_up(worklist, warehouse, ttl_days=30, now=NOW)

    # the brand looked up within the TTL is skipped; the one that failed part-way is retried with
    # what its lookup under the old id already paid for (organization, revealed or maybe-charged ids)
    assert [brand.brand_id for brand in due] == ["new-retry", "never"]
    retried = due[0]
    assert retried.organization == KnownOrganization("org-2", "Acme", "acme.com")
    assert retried.paid_person_ids == frozenset({"p-1"})
    assert retried.reasked_person_ids == frozenset({"p-2"})  # its answer was lost a day ago: the hold is over
    assert due[1] == worklist[2]

    # before the first build (no clean schema yet) nothing is mapped, and nothing fails
    unbuilt = tmp_path / "unbuilt.duckdb"
    make_warehouse(unbuilt, with_aliases=False)
    worklist = [BrandToEnrich("new-done", "The Nature's Co"), BrandToEnrich("old-done", "The Nature's Co")]
    assert filter_recently_looked_up(worklist, unbuilt, ttl_days=30, now=NOW) == [worklist[0]]
