"""Apollo decision-makers for brands -> raw.apollo_people, with a ledger in raw.apollo_lookups.

Credits are money: every brand looked up gets a ledger row (also on no match or error), and
`filter_recently_looked_up` drops brands whose last successful lookup is within the TTL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from loaders.apollo.client import ApolloApiClient, ApolloConfig
from loaders.apollo.helpers import (
    BrandToEnrich,
    PeopleFinder,
    SampleApolloClient,
    make_lookup_id,
    normalize_org_name,
    parse_person,
)
from loaders.apollo.settings import (
    BULK_MATCH_ENDPOINT,
    CALL_COLUMNS,
    CALLS_TABLE,
    DEFAULT_MAX_PEOPLE_PER_BRAND,
    DEFAULT_SENIORITIES,
    DEFAULT_TITLES,
    LOOKUP_COLUMNS,
    LOOKUPS_TABLE,
    MAX_BULK_MATCH,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_PER_PAGE,
    MAX_SEARCH_PAGES,
    PEOPLE_COLUMNS,
    PEOPLE_TABLE,
    PIPELINE_NAME,
    SEARCH_ENDPOINT,
)
from loaders.common import (
    RAW_DATASET,
    LoadSummary,
    Row,
    Stopwatch,
    canonical_json,
    dedupe_rows,
    ensure_utc,
    make_rejection,
    md5_key,
    rejected_records,
    rows_to_arrow,
    run_pipeline,
    table_hints,
    utc_now,
)
from loaders.common.http import ApiAuthError
from pipeline.warehouse import WarehouseLike, connect, warehouse_exists

__all__ = [
    "ApolloApiClient",
    "ApolloConfig",
    "BrandToEnrich",
    "PeopleFinder",
    "SampleApolloClient",
    "apollo_lookups",
    "apollo_people",
    "apollo_source",
    "create_empty_tables",
    "enrich_brands",
    "filter_recently_looked_up",
    "normalize_org_name",
    "parse_person",
]


@dlt.resource(**table_hints(PEOPLE_TABLE, PEOPLE_COLUMNS, primary_key=["brand_id", "person_id"]))
def apollo_people(people: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(dedupe_rows(people, ["brand_id", "person_id"]), PEOPLE_COLUMNS)


@dlt.resource(**table_hints(LOOKUPS_TABLE, LOOKUP_COLUMNS, primary_key="lookup_id"))
def apollo_lookups(lookups: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(dedupe_rows(lookups, ["lookup_id"]), LOOKUP_COLUMNS)


@dlt.resource(**table_hints(CALLS_TABLE, CALL_COLUMNS, primary_key="call_id"))
def apollo_calls(calls: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(dedupe_rows(calls, ["call_id"]), CALL_COLUMNS)


@dlt.source(name="apollo", max_table_nesting=0)
def apollo_source(
    people: Sequence[Row], lookups: Sequence[Row], rejected: Sequence[Row], calls: Sequence[Row] = ()
) -> tuple[DltResource, DltResource, DltResource, DltResource]:
    return apollo_people(people), apollo_lookups(lookups), rejected_records(rejected), apollo_calls(calls)


@dataclass
class _BrandLookup:
    brand: BrandToEnrich
    lookup_id: str
    looked_up_at: datetime
    people: list[Row] = field(default_factory=list)
    rejected: list[Row] = field(default_factory=list)
    credits_consumed: int = 0
    bulk_calls: int = 0
    calls: list[Row] = field(default_factory=list)
    error: str | None = None
    auth_error: ApiAuthError | None = None  # the key was refused: no point looking up the rest

    def record_call(self, endpoint: str, requested: int, returned: int, credits: int) -> None:
        number = len(self.calls) + 1
        self.calls.append(
            {
                "call_id": md5_key(self.lookup_id, number),
                "lookup_id": self.lookup_id,
                "brand_id": self.brand.brand_id,
                "call_number": number,
                "endpoint": endpoint,
                "records_requested": requested,
                "records_returned": returned,
                "credits_consumed": credits,
                "called_at": self.looked_up_at,
            }
        )

    def ledger_row(self) -> Row:
        emails = sum(1 for row in self.people if row.get("email"))
        status = "error" if self.error is not None else "ok" if self.people else "no_match"
        return {
            "lookup_id": self.lookup_id,
            "brand_id": self.brand.brand_id,
            "brand_name": self.brand.brand_name,
            "endpoint": BULK_MATCH_ENDPOINT if self.bulk_calls else SEARCH_ENDPOINT,
            "people_found": len(self.people),
            "emails_revealed": emails,
            "credits_consumed": self.credits_consumed,
            "status": status,
            "error_message": self.error,
            "looked_up_at": self.looked_up_at,
        }


def _search_candidates(
    finder: PeopleFinder,
    lookup: _BrandLookup,
    titles: Sequence[str],
    seniorities: Sequence[str],
    max_people: int,
) -> list[str]:
    """Person ids from the free search, at most `max_people`, in search order."""
    per_page = max(1, min(MAX_PER_PAGE, max_people))
    ids: list[str] = []
    for page in range(1, MAX_SEARCH_PAGES + 1):
        response = finder.search_people(
            organization_name=lookup.brand.brand_name,
            titles=list(titles),
            seniorities=list(seniorities),
            page=page,
            per_page=per_page,
        )
        people = response.get("people") or []
        lookup.record_call(SEARCH_ENDPOINT, per_page, len(people), 0)  # search is free
        for person in people:
            if isinstance(person, Mapping) and person.get("id") is not None:
                person_id = str(person["id"])
                if person_id not in ids:
                    ids.append(person_id)
        total = response.get("total_entries")
        if len(ids) >= max_people or len(people) < per_page:
            break
        if isinstance(total, int) and page * per_page >= total:
            break
    return ids[:max_people]


def _lookup_brand(
    finder: PeopleFinder,
    brand: BrandToEnrich,
    titles: Sequence[str],
    seniorities: Sequence[str],
    max_people: int,
    looked_up_at: datetime,
) -> _BrandLookup:
    lookup = _BrandLookup(brand, make_lookup_id(brand.brand_id, looked_up_at), looked_up_at)
    try:
        candidates = _search_candidates(finder, lookup, titles, seniorities, max_people)
        for start in range(0, len(candidates), MAX_BULK_MATCH):
            batch = candidates[start : start + MAX_BULK_MATCH]
            response = finder.bulk_match([{"id": person_id} for person_id in batch])
            lookup.bulk_calls += 1
            credits = int(response.get("credits_consumed") or 0)
            lookup.credits_consumed += credits
            returned = sum(1 for match in response.get("matches") or [] if match is not None)
            lookup.record_call(BULK_MATCH_ENDPOINT, len(batch), returned, credits)
            for position, match in enumerate(response.get("matches") or [], start=1):
                _add_match(lookup, finder.source_kind, match, start + position)
    except ApiAuthError as error:
        lookup.error = f"{type(error).__name__}: {error}"[:MAX_ERROR_MESSAGE_CHARS]
        lookup.auth_error = error
    except Exception as error:  # recorded in the ledger; the other brands go on
        lookup.error = f"{type(error).__name__}: {error}"[:MAX_ERROR_MESSAGE_CHARS]
    return lookup


def _add_match(lookup: _BrandLookup, source_kind: str, match: object, position: int) -> None:
    if match is None:
        return  # a miss: Apollo returns null in that position
    if isinstance(match, Mapping) and match.get("id") is not None:
        row = parse_person(match, lookup.brand.brand_id, lookup.lookup_id, source_kind, lookup.looked_up_at)
        lookup.people.append(row)
        return
    reason = "bulk_match result is not a person with an id"
    lookup.rejected.append(
        make_rejection(
            "apollo",
            f"{BULK_MATCH_ENDPOINT}:{lookup.brand.brand_id}",
            position,
            reason,
            canonical_json(match),
            lookup.looked_up_at,
        )
    )


def enrich_brands(
    worklist: Sequence[BrandToEnrich],
    finder: PeopleFinder,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    titles: Sequence[str] = DEFAULT_TITLES,
    seniorities: Sequence[str] = DEFAULT_SENIORITIES,
    now: datetime | None = None,
    max_people_per_brand: int = DEFAULT_MAX_PEOPLE_PER_BRAND,
) -> LoadSummary:
    """Search decision-makers per brand, reveal them in bulk_match calls of at most 10,
    and load people + one ledger row per brand looked up (status ok / no_match / error).

    The worklist is not filtered here: call `filter_recently_looked_up` first. If Apollo refuses
    the key (`ApiAuthError`), the remaining brands are not looked up; what was looked up so far
    (credits already spent) is still loaded, then the `ApiAuthError` is raised.
    """
    watch = Stopwatch()
    looked_up_at = ensure_utc(now) if now else utc_now()
    unique = {brand.brand_id: brand for brand in reversed(worklist)}  # first occurrence wins
    brands = [unique[brand_id] for brand_id in dict.fromkeys(b.brand_id for b in worklist)]
    lookups: list[_BrandLookup] = []
    for brand in brands:
        lookups.append(_lookup_brand(finder, brand, titles, seniorities, max_people_per_brand, looked_up_at))
        if lookups[-1].auth_error is not None:
            break
    people = dedupe_rows([row for lookup in lookups for row in lookup.people], ["brand_id", "person_id"])
    ledger = [lookup.ledger_row() for lookup in lookups]
    rejected = [row for lookup in lookups for row in lookup.rejected]
    calls = [call for lookup in lookups for call in lookup.calls]
    run_pipeline(PIPELINE_NAME, destination, pipelines_dir, apollo_source(people, ledger, rejected, calls))
    if lookups and lookups[-1].auth_error is not None:
        raise lookups[-1].auth_error
    statuses = [row["status"] for row in ledger]
    return LoadSummary(
        source="apollo",
        rows_loaded=len(people),
        rows_rejected=len(rejected),
        files_or_pages=sum(lookup.bulk_calls for lookup in lookups),
        seconds=watch.seconds,
        details={
            "brands": len(brands),
            "ok": statuses.count("ok"),
            "no_match": statuses.count("no_match"),
            "error": statuses.count("error"),
            "credits": sum(lookup.credits_consumed for lookup in lookups),
        },
    )


def filter_recently_looked_up(
    worklist: Sequence[BrandToEnrich],
    destination: WarehouseLike,
    ttl_days: float,
    now: datetime | None = None,
) -> list[BrandToEnrich]:
    """Drop brands with an `ok`/`no_match` lookup newer than `ttl_days` (errors are retried).

    Reads raw.apollo_lookups when the warehouse and the table exist; otherwise keeps all.
    """
    if not worklist or not warehouse_exists(destination):
        return list(worklist)
    cutoff = (ensure_utc(now) if now else utc_now()) - timedelta(days=ttl_days)
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, LOOKUPS_TABLE):
            return list(worklist)
        # compared here, not in SQL: the column is timestamptz on DuckDB and TIMESTAMP_TZ on Snowflake
        latest = warehouse.execute(
            f"select brand_id, max(looked_up_at) from {RAW_DATASET}.{LOOKUPS_TABLE} "
            "where status in ('ok', 'no_match') group by brand_id"
        )
    skip = {brand_id for brand_id, looked_up_at in latest if looked_up_at and ensure_utc(looked_up_at) > cutoff}
    return [brand for brand in worklist if brand.brand_id not in skip]


def create_empty_tables(destination: WarehouseLike, pipelines_dir: Path) -> None:
    """Create raw.apollo_people / raw.apollo_lookups (empty, typed) so dbt can build before the
    first enrichment; loading nothing through the same resources keeps the schema in one place."""
    run_pipeline(PIPELINE_NAME, destination, pipelines_dir, apollo_source([], [], []))
