"""Apollo decision-makers for brands -> raw.apollo_people, with a ledger in raw.apollo_lookups.

Per brand: its Apollo organization (`organizations/enrich`, by the brand's domain when the
warehouse knows one, else by name; a name match must be the brand's own name), then the free
people search inside that organization (`organization_ids[]`, the configured titles and
seniorities), keeping only people whose organization is the brand's, then the reveal of their
emails in `people/bulk_match` calls of at most 10 ids, shared by several brands.

Credits are money: every brand looked up gets a ledger row (also on no match or error), every
request a row in raw.apollo_calls with the credits it consumed, and every person id sent to
bulk_match a row in raw.apollo_reveals, written before the call goes out.
`filter_recently_looked_up` drops brands whose last finished lookup is within the TTL, and hands
the brands it retries (their lookup failed part-way) what was already paid for within the TTL:
the organization is not looked up again and ids revealed (or sent in a call whose outcome is
unknown) are not sent to bulk_match again.

`enrich_brands` streams: brands are looked up in batches, each landed by its own pipeline run
(memory stays flat; a failure keeps what earlier batches paid for). It prints a progress line
on stderr every few seconds (brands, requests, people, credits, rate).
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from loaders.apollo.client import DEFAULT_REVEAL_HOLD_HOURS, ApolloApiClient, ApolloConfig
from loaders.apollo.helpers import (
    BrandToEnrich,
    KnownOrganization,
    PeopleFinder,
    SampleApolloClient,
    make_lookup_id,
    normalize_domain,
    normalize_org_name,
    parse_person,
)
from loaders.apollo.journal import PaidJournal, journal_path, land_paid_journal
from loaders.apollo.settings import (
    ALIASES_SCHEMA,
    ALIASES_TABLE,
    BULK_MATCH_ENDPOINT,
    CALL_COLUMNS,
    CALLS_TABLE,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_PEOPLE_PER_BRAND,
    DEFAULT_PROGRESS_EVERY_SECONDS,
    DEFAULT_SENIORITIES,
    DEFAULT_TITLES,
    LOOKUP_COLUMNS,
    LOOKUPS_TABLE,
    MAX_BATCH_SECONDS,
    MAX_BULK_MATCH,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_LOST_REVEALS,
    MAX_PER_PAGE,
    MAX_SEARCH_PAGES,
    MISSED,
    ORGANIZATION_ENDPOINT,
    PEOPLE_COLUMNS,
    PEOPLE_TABLE,
    PIPELINE_NAME,
    PRIOR_LOOKUP_CHUNK,
    REVEAL_COLUMNS,
    REVEALED,
    REVEALS_TABLE,
    SEARCH_ENDPOINT,
    UNKNOWN,
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
from loaders.common.http import ApiAuthError, ApiError, ApiRequestError, SourceStoppedError
from warehouse_layer import Warehouse, WarehouseLike, connect, warehouse_exists
from warehouse_layer.fault_injection import kill_point

__all__ = [
    "ApolloApiClient",
    "ApolloConfig",
    "BrandToEnrich",
    "EnrichProgress",
    "KnownOrganization",
    "PeopleFinder",
    "SampleApolloClient",
    "apollo_lookups",
    "apollo_people",
    "apollo_source",
    "brand_id_aliases",
    "create_empty_tables",
    "enrich_brands",
    "filter_recently_looked_up",
    "land_interrupted_lookups",
    "normalize_org_name",
    "parse_person",
    "people_revealed_within",
    "print_progress",
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


@dlt.resource(**table_hints(REVEALS_TABLE, REVEAL_COLUMNS, primary_key=["lookup_id", "person_id"]))
def apollo_reveals(reveals: Sequence[Row]) -> Iterator[pa.Table]:
    yield rows_to_arrow(dedupe_rows(reveals, ["lookup_id", "person_id"]), REVEAL_COLUMNS)


@dlt.source(name="apollo", max_table_nesting=0)
def apollo_source(
    people: Sequence[Row],
    lookups: Sequence[Row],
    rejected: Sequence[Row],
    calls: Sequence[Row] = (),
    reveals: Sequence[Row] = (),
) -> tuple[DltResource, ...]:
    return (
        apollo_people(people),
        apollo_lookups(lookups),
        rejected_records(rejected),
        apollo_calls(calls),
        apollo_reveals(reveals),
    )


class _SharedAnswers:
    """Paid answers reused for every brand they answer: two brands of one Apollo organization (a
    holding company, two storefronts of one firm) pay for its lookup and its people once.
    Organizations by request (the brand's domain, else its normalized name), people by id: the
    RAW row of a person revealed in this run or within the TTL (`known_people`). Thread-safe."""

    def __init__(self, known_people: Mapping[str, Row] | None = None) -> None:
        self._organizations: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._people: dict[str, Row] = dict(known_people or {})
        self._lock = threading.Lock()

    def organization(self, key: tuple[str, str]) -> Mapping[str, Any] | None:
        with self._lock:
            return self._organizations.get(key)

    def remember_organization(self, key: tuple[str, str], response: Mapping[str, Any]) -> None:
        with self._lock:
            self._organizations.setdefault(key, response)

    def person(self, person_id: str) -> Row | None:
        with self._lock:
            return self._people.get(person_id)

    def remember_person(self, row: Row) -> None:
        with self._lock:
            self._people.setdefault(str(row["person_id"]), row)


@dataclass(eq=False)  # identity: a lookup is a key while its ids wait for bulk_match
class _BrandLookup:
    brand: BrandToEnrich
    lookup_id: str
    looked_up_at: datetime
    people: list[Row] = field(default_factory=list)
    rejected: list[Row] = field(default_factory=list)
    credits_consumed: int = 0
    bulk_calls: int = 0
    calls: list[Row] = field(default_factory=list)
    reveals: list[Row] = field(default_factory=list)  # each id sent to bulk_match, and its outcome
    organization: KnownOrganization | None = None
    already_paid: int = 0  # people found again whose reveal was paid (or may have been) within the TTL
    held: int = 0  # people found again whose bulk_match answer was lost, still on hold
    reasked: int = 0  # people asked again after a lost answer (each: at most one extra credit)
    error: str | None = None
    # the key was refused, or the source stopped (failures in a row, a long rate-limit lockout):
    # no point looking up the rest
    stop_error: ApiError | None = None
    pending: int = 0  # ids found by the search and not yet sent to bulk_match (or 1: searching)
    journal: PaidJournal | None = None  # where each paid answer is saved before the next paid call
    shared: _SharedAnswers | None = None  # paid answers of this run (and earlier ones) for every brand
    reused: int = 0  # people this brand got from another brand's paid answer (no credit)

    def record_call(
        self,
        endpoint: str,
        requested: int,
        returned: int,
        credits: int,
        *,
        request_id: str | None = None,
        brands_in_request: int = 1,
    ) -> None:
        number = len(self.calls) + 1
        call_id = md5_key(self.lookup_id, number)
        self.calls.append(
            {
                "call_id": call_id,
                "lookup_id": self.lookup_id,
                "brand_id": self.brand.brand_id,
                "call_number": number,
                "endpoint": endpoint,
                "records_requested": requested,
                "records_returned": returned,
                "credits_consumed": credits,
                "called_at": self.looked_up_at,
                "request_id": request_id or call_id,
                "brands_in_request": brands_in_request,
            }
        )

    def fail(self, error: BaseException, message: str | None = None) -> None:
        """Keep the first error (the ledger row's status becomes `error`, retried next run)."""
        if self.error is None:
            self.error = (message or f"{type(error).__name__}: {error}")[:MAX_ERROR_MESSAGE_CHARS]
        if isinstance(error, ApiAuthError | SourceStoppedError) and self.stop_error is None:
            self.stop_error = error

    def ledger_row(self) -> Row:
        """`ok` when people were revealed, now or (for a retried brand) within the TTL already;
        `no_match` when there is no one (more) to reveal; `error` when it failed part-way (retried
        next run, without paying again for what it got)."""
        emails = sum(1 for row in self.people if row.get("email"))
        status = "error" if self.error is not None else "ok" if self.people or self.already_paid else "no_match"
        error = self.error
        if self.held and error is None:  # not finished: retried once the hold is over
            status = "error"
            until = self.brand.held_until.isoformat(timespec="minutes") if self.brand.held_until else "later"
            error = (
                f"{self.held} people held until {until}: their bulk_match answer was lost (5xx, timeout "
                "or kill) and may have been charged; they are asked again after the hold "
                "(release now: SOURCES__APOLLO__REVEAL_HOLD_HOURS=0 outreach enrich)"
            )
        organization = self.organization
        return {
            "lookup_id": self.lookup_id,
            "brand_id": self.brand.brand_id,
            "brand_name": self.brand.brand_name,
            "endpoint": self._furthest_endpoint(),
            "people_found": len(self.people),
            "emails_revealed": emails,
            "credits_consumed": self.credits_consumed,
            "status": status,
            "error_message": error,
            "looked_up_at": self.looked_up_at,
            "organization_id": organization.organization_id if organization else None,
            "organization_name": organization.name if organization else None,
            "organization_domain": organization.domain if organization else None,
        }

    def journal_entry(self) -> dict[str, list[Row]]:
        """The RAW rows of the lookup so far. It is journaled before it finishes, so its ledger
        row says `error`: landed from the journal, the brand is retried (paying nothing twice)."""
        ledger = self.ledger_row()
        if ledger["status"] != "error":
            ledger = {
                **ledger,
                "status": "error",
                "error_message": "interrupted: the run stopped before this lookup was landed "
                "(landed from the paid-answer journal by the next run)",
            }
        return {
            "lookups": [ledger],
            "people": list(self.people),
            "calls": list(self.calls),
            "reveals": [dict(row) for row in self.reveals],
            "rejected": list(self.rejected),
        }

    def _furthest_endpoint(self) -> str:
        if self.bulk_calls:
            return BULK_MATCH_ENDPOINT
        if self.calls:
            return str(self.calls[-1]["endpoint"])
        return SEARCH_ENDPOINT if self.brand.organization is not None else ORGANIZATION_ENDPOINT


@dataclass(frozen=True)
class _Candidate:
    """A person id found by a brand's search, waiting for a bulk_match (position: 1-based, within
    the brand's own candidates, as in the rejection rows)."""

    lookup: _BrandLookup
    person_id: str
    position: int


def _save_paid(lookups: Sequence[_BrandLookup]) -> None:
    """Make what these lookups paid for (or are about to) durable before the next paid call."""
    journal = next((lookup.journal for lookup in lookups if lookup.journal is not None), None)
    if journal is None:
        return
    entry: dict[str, list[Row]] = {}
    for lookup in lookups:
        for table, rows in lookup.journal_entry().items():
            entry.setdefault(table, []).extend(rows)
    journal.append(entry)


def _resolve_organization(finder: PeopleFinder, lookup: _BrandLookup) -> KnownOrganization | None:
    """The brand's Apollo organization (`organizations/enrich`: 1 credit when one is found), or
    None. Found by domain, it is the brand's; found by name, its name must be the brand's
    (normalized): Apollo's name match is loose, and its people must not be paid for."""
    brand = lookup.brand
    domain = normalize_domain(brand.domain)
    key = ("domain", domain) if domain else ("name", normalize_org_name(brand.brand_name))
    reused = lookup.shared.organization(key) if lookup.shared is not None else None
    response = reused if reused is not None else finder.find_organization(domain=domain, name=brand.brand_name)
    found = response.get("organization")
    organization = found if isinstance(found, Mapping) and found.get("id") is not None else None
    if reused is None:
        credits = 1 if organization is not None else 0  # Apollo: 1 credit per organization found
        lookup.credits_consumed += credits
        lookup.record_call(ORGANIZATION_ENDPOINT, 1, 0 if organization is None else 1, credits)
        if organization is not None and lookup.shared is not None:
            lookup.shared.remember_organization(key, response)
    if organization is None:
        return None
    known = _accepted_organization(lookup, organization, domain)
    lookup.organization = known
    if reused is None:
        _save_paid([lookup])
        kill_point("apollo.paid_answer_saved")
    return known


def _accepted_organization(
    lookup: _BrandLookup, organization: Mapping[str, Any], domain: str | None
) -> KnownOrganization | None:
    brand = lookup.brand
    known = KnownOrganization(
        organization_id=str(organization["id"]),
        name=_text(organization.get("name")),
        domain=normalize_domain(_text(organization.get("primary_domain")) or _text(organization.get("website_url"))),
    )
    same_domain = domain is not None and known.domain == domain
    if not same_domain and normalize_org_name(known.name or "") != normalize_org_name(brand.brand_name):
        return None  # another company with a similar name: its people are not the brand's
    return known


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _works_at(person: Mapping[str, Any], organization: KnownOrganization) -> bool:
    """Whether a search result is employed by `organization` now. The search matches past
    employers too, and answers with the organization's name only (an id when there is one)."""
    employer = person.get("organization")
    if not isinstance(employer, Mapping):
        return False
    if employer.get("id") is not None:
        return str(employer["id"]) == organization.organization_id
    name = _text(employer.get("name"))
    if name is None or organization.name is None:
        return False
    return normalize_org_name(name) == normalize_org_name(organization.name)


def _find_candidates(
    finder: PeopleFinder,
    lookup: _BrandLookup,
    titles: Sequence[str],
    seniorities: Sequence[str],
    max_people: int,
) -> list[str]:
    """Person ids to reveal for the brand: the organization's people from the free search (at
    most `max_people`, in search order, only those who work there), minus those already paid
    for within the TTL."""
    organization = lookup.brand.organization or _resolve_organization(finder, lookup)
    if organization is None:
        return []
    lookup.organization = organization
    per_page = max(1, min(MAX_PER_PAGE, max_people))
    ids: list[str] = []
    for page in range(1, MAX_SEARCH_PAGES + 1):
        response = finder.search_people(
            organization_ids=[organization.organization_id],
            titles=list(titles),
            seniorities=list(seniorities),
            page=page,
            per_page=per_page,
        )
        people = response.get("people") or []
        lookup.record_call(SEARCH_ENDPOINT, per_page, len(people), 0)  # search is free
        for person in people:
            if isinstance(person, Mapping) and person.get("id") is not None and _works_at(person, organization):
                person_id = str(person["id"])
                if person_id not in ids:
                    ids.append(person_id)
        total = response.get("total_entries")
        if len(ids) >= max_people or len(people) < per_page:
            break
        if isinstance(total, int) and page * per_page >= total:
            break
    found = ids[:max_people]
    brand = lookup.brand
    fresh = [p for p in found if p not in brand.paid_person_ids and p not in brand.held_person_ids]
    lookup.held = sum(1 for person_id in found if person_id in brand.held_person_ids)
    lookup.already_paid = len(found) - len(fresh) - lookup.held
    lookup.reasked = sum(1 for person_id in fresh if person_id in brand.reasked_person_ids)
    return fresh


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` by `weights` (largest remainder), so the shares always add up to `total`."""
    weight_sum = sum(weights)
    if not weights:
        return []
    if weight_sum <= 0:
        weights, weight_sum = [1] * len(weights), len(weights)
    shares = [total * weight // weight_sum for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for index in remainders[: total - sum(shares)]:
        shares[index] += 1
    return shares


def _reveal(finder: PeopleFinder, chunk: Sequence[_Candidate]) -> None:
    """One bulk_match for up to 10 ids of one or several brands; matches come back in input
    order, so each is attributed to the brand whose id sat at that position.

    The call's credits are split among its brands: by the emails each one got (Apollo's charge
    for a reveal) when that adds up to what the call reports, else by matches found; the shares
    always add up to the call's `credits_consumed`, so the ledger keeps every credit paid.
    A failed call is an error for every brand that had an id in it (retried next run).

    Each id is recorded (raw.apollo_reveals) as `unknown` before the call goes out, and becomes
    `revealed` / `missed` once the answer is read: an id whose call failed after it was sent
    (5xx, timeout, unreadable answer, interruption) may have been charged, so the brand's retry
    does not send it again within the TTL.
    """
    owners = list(dict.fromkeys(candidate.lookup for candidate in chunk))
    request_id = md5_key(BULK_MATCH_ENDPOINT, *(f"{c.lookup.lookup_id}:{c.person_id}" for c in chunk))
    attempts = [_attempt(candidate, request_id) for candidate in chunk]
    _save_paid(owners)  # the ids about to be sent: a kill during the call may have been charged
    # `pending` drops only once the call's outcome is recorded: an interruption inside the call
    # (or anything raised after it) leaves the brands pending, which the caller turns into error
    # rows, retried next run, never into a finished `ok` / `no_match`
    try:
        # one id asked by two brands of one organization is sent (and paid) once
        person_ids = list(dict.fromkeys(candidate.person_id for candidate in chunk))
        response = _per_candidate(finder.bulk_match([{"id": person_id} for person_id in person_ids]), person_ids, chunk)
        credits = _credits(response.get("credits_consumed"))
    except Exception as error:  # auth errors included: the caller stops the run
        for owner in owners:
            owner.fail(error)
        _settle(owners, chunk)
        return
    try:
        _attribute(finder, chunk, owners, response, credits, request_id)
        _record_outcomes(attempts, response)
        _count_shared_matches(chunk, response)
    except Exception as error:  # a response we cannot read: an error row for each brand in it
        for owner in owners:
            owner.fail(error, f"{BULK_MATCH_ENDPOINT} response not understood: {type(error).__name__}: {error}")
    _save_paid(owners)  # the answer (people, credits) is durable before the next paid call
    kill_point("apollo.paid_answer_saved")
    _settle(owners, chunk)


def _per_candidate(
    response: Mapping[str, Any], person_ids: Sequence[str], chunk: Sequence[_Candidate]
) -> Mapping[str, Any]:
    """The matches of a call sent with `person_ids` (each once), one per candidate of `chunk`."""
    matches = response.get("matches")
    if len(person_ids) == len(chunk) or not isinstance(matches, list) or len(matches) != len(person_ids):
        return response
    by_id = dict(zip(person_ids, matches, strict=True))
    return {**response, "matches": [by_id[candidate.person_id] for candidate in chunk]}


def _count_shared_matches(chunk: Sequence[_Candidate], response: Mapping[str, Any]) -> None:
    """A person asked for by several brands in one call is paid once: the brands after the first
    count it as reused."""
    matches = response.get("matches")
    if not isinstance(matches, list) or len(matches) != len(chunk):
        return
    seen: set[str] = set()
    for candidate, match in zip(chunk, matches, strict=True):
        if candidate.person_id in seen and isinstance(match, Mapping):
            candidate.lookup.reused += 1
        seen.add(candidate.person_id)


def _reuse_revealed(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """Candidates whose person was already revealed (in this run, for another brand, or within the
    TTL) get that answer's row, for nothing; returns the others, still to reveal."""
    remaining: list[_Candidate] = []
    for candidate in candidates:
        lookup = candidate.lookup
        known = lookup.shared.person(candidate.person_id) if lookup.shared is not None else None
        if known is None:
            remaining.append(candidate)
            continue
        brand_id = lookup.brand.brand_id
        lookup.people.append(
            {**known, "brand_id": brand_id, "lookup_id": lookup.lookup_id, "matched_at": lookup.looked_up_at}
        )
        lookup.reused += 1
    return remaining


def _attempt(candidate: _Candidate, request_id: str) -> Row:
    lookup = candidate.lookup
    row: Row = {
        "lookup_id": lookup.lookup_id,
        "person_id": candidate.person_id,
        "brand_id": lookup.brand.brand_id,
        "request_id": request_id,
        "outcome": UNKNOWN,
        "attempted_at": lookup.looked_up_at,
    }
    lookup.reveals.append(row)
    return row


def _record_outcomes(attempts: Sequence[Row], response: Mapping[str, Any]) -> None:
    """`revealed` / `missed` by position, once the matches could be attributed (else `unknown`)."""
    matches = response.get("matches")
    if not isinstance(matches, list) or len(matches) != len(attempts):
        return
    for attempt, match in zip(attempts, matches, strict=True):
        person = isinstance(match, Mapping) and match.get("id") is not None
        attempt["outcome"] = MISSED if match is None else REVEALED if person else UNKNOWN


def _settle(owners: Sequence[_BrandLookup], chunk: Sequence[_Candidate]) -> None:
    for owner in owners:
        owner.pending -= sum(1 for candidate in chunk if candidate.lookup is owner)


def _credits(value: object) -> int:
    """`credits_consumed` as whole credits. Some plans charge fractions (the API says: parse it
    as a decimal); the ledger's column counts credits, so a fraction is rounded up: the ledger
    never shows less than was spent."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"credits_consumed is not a number: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"credits_consumed is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"credits_consumed is not a count of credits: {value!r}")
    return int(amount.to_integral_value(rounding=ROUND_CEILING))


def _attribute(
    finder: PeopleFinder,
    chunk: Sequence[_Candidate],
    owners: Sequence[_BrandLookup],
    response: Mapping[str, Any],
    credits: int,
    request_id: str,
) -> None:
    """The matches of one bulk_match to their brands, by position, with the call's credits."""
    raw_matches = response.get("matches")
    matches: list[object] = list(raw_matches) if isinstance(raw_matches, list) else []
    received = len(matches)
    aligned = received == len(chunk)
    if not aligned:
        matches = [None] * len(chunk)  # cannot attribute by position: reveal nothing, keep the cost
    found = {owner.lookup_id: 0 for owner in owners}
    emails = dict(found)
    for candidate, match in zip(chunk, matches, strict=True):
        if isinstance(match, Mapping) and match.get("id") is not None:
            found[candidate.lookup.lookup_id] += 1
            emails[candidate.lookup.lookup_id] += 1 if match.get("email") else 0
    weights = [emails[owner.lookup_id] for owner in owners]
    if sum(weights) != credits:
        weights = [found[owner.lookup_id] for owner in owners]
    shares = _apportion(credits, weights)
    for owner, share in zip(owners, shares, strict=True):
        owner.bulk_calls += 1
        owner.credits_consumed += share
        requested = sum(1 for candidate in chunk if candidate.lookup is owner)
        returned = sum(
            1
            for candidate, match in zip(chunk, matches, strict=True)
            if candidate.lookup is owner and match is not None
        )
        owner.record_call(
            BULK_MATCH_ENDPOINT, requested, returned, share, request_id=request_id, brands_in_request=len(owners)
        )
        if not aligned:
            owner.fail(
                ValueError(),
                f"ApiRequestError: {BULK_MATCH_ENDPOINT} returned {received} matches for {len(chunk)} details",
            )
    for candidate, match in zip(chunk, matches, strict=True):
        _add_match(candidate.lookup, finder.source_kind, match, candidate.position)


def _add_match(lookup: _BrandLookup, source_kind: str, match: object, position: int) -> None:
    if match is None:
        return  # a miss: Apollo returns null in that position
    if isinstance(match, Mapping) and match.get("id") is not None:
        row = parse_person(match, lookup.brand.brand_id, lookup.lookup_id, source_kind, lookup.looked_up_at)
        lookup.people.append(row)
        if lookup.shared is not None:
            lookup.shared.remember_person(row)
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


def _enrich_batch(
    finder: PeopleFinder,
    brands: Iterable[BrandToEnrich],
    lookups: list[_BrandLookup],
    titles: Sequence[str],
    seniorities: Sequence[str],
    max_people: int,
    looked_up_at: datetime,
    deadline: float = math.inf,
    progress: Callable[[Sequence[_BrandLookup]], None] | None = None,
    journal: PaidJournal | None = None,
    shared: _SharedAnswers | None = None,
) -> None:
    """Search each brand, and reveal the ids found in bulk_match calls of 10 shared by brands
    (a call goes out as soon as 10 ids wait), until `brands` ends or `deadline` (monotonic) has
    passed. Fills `lookups` as it goes, so that a caller interrupted part-way still has every
    lookup started. Stops at an auth error: no new brand is searched, the ids found so far are
    revealed (a refused reveal makes the rest `not revealed` errors)."""
    stop = threading.Event()
    waiting: list[_Candidate] = []
    reveal_refused: ApiError | None = None
    searches = _searches(
        finder, brands, lookups, titles, seniorities, max_people, looked_up_at, deadline, stop, journal, shared
    )
    try:
        for lookup, candidates in searches:
            if candidates is None:  # the search failed: an error row, the other brands go on
                if lookup.stop_error is not None:
                    stop.set()  # the key is refused: reveal what was found so far, then stop
                continue
            found = _reuse_revealed(
                [_Candidate(lookup, person_id, position) for position, person_id in enumerate(candidates, 1)]
            )
            lookup.pending = len(found)
            if reveal_refused is not None:  # searches still in flight when the key was refused
                _abandon(found, reveal_refused)
                continue
            waiting.extend(found)
            waiting, reveal_refused = _reveal_waiting(finder, waiting, flush=False)
            if reveal_refused is not None:
                stop.set()
            if progress is not None:
                progress(lookups)
    finally:
        searches.close()  # waits for searches in flight (a pool's threads)
    if reveal_refused is None:
        _reveal_waiting(finder, waiting, flush=True)


def _searches(
    finder: PeopleFinder,
    brands: Iterable[BrandToEnrich],
    lookups: list[_BrandLookup],
    titles: Sequence[str],
    seniorities: Sequence[str],
    max_people: int,
    looked_up_at: datetime,
    deadline: float,
    stop: threading.Event,
    journal: PaidJournal | None = None,
    shared: _SharedAnswers | None = None,
) -> Generator[tuple[_BrandLookup, list[str] | None], None, None]:
    """(lookup, person ids found, or None if the search failed) per brand, in work-list order.

    With a finder whose `concurrency` is above 1 (`ApolloApiClient`: SOURCES__APOLLO__CONCURRENCY)
    the free searches run in that many threads, a few brands ahead; they share the client's
    thread-safe rate limiter and retry policy, so the pace the API allows is unchanged. No new
    brand is started once `stop` is set or `deadline` has passed (each batch gets at least one).
    """

    def start(brand: BrandToEnrich) -> _BrandLookup:
        lookup = _BrandLookup(
            brand, make_lookup_id(brand.brand_id, looked_up_at), looked_up_at, journal=journal, shared=shared
        )
        lookup.pending = 1  # unfinished until its search is done (an interruption makes it an error)
        lookups.append(lookup)
        return lookup

    def search(lookup: _BrandLookup) -> list[str] | None:
        try:
            return _find_candidates(finder, lookup, titles, seniorities, max_people)
        except Exception as error:  # recorded in the ledger
            lookup.fail(error)
            return None

    def may_start() -> bool:
        return not stop.is_set() and (not lookups or time.monotonic() < deadline)

    source = iter(brands)
    workers = max(1, int(getattr(finder, "concurrency", 1) or 1))
    if workers == 1:
        while may_start():
            brand = next(source, None)
            if brand is None:
                return
            lookup = start(brand)
            yield lookup, search(lookup)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apollo-search") as pool:
        in_flight: deque[tuple[_BrandLookup, Future[list[str] | None]]] = deque()
        while True:
            while len(in_flight) < 2 * workers and may_start():
                brand = next(source, None)
                if brand is None:
                    break
                lookup = start(brand)
                in_flight.append((lookup, pool.submit(search, lookup)))
            if not in_flight:
                return
            lookup, future = in_flight.popleft()
            yield lookup, future.result()


def _reveal_waiting(
    finder: PeopleFinder, waiting: list[_Candidate], *, flush: bool
) -> tuple[list[_Candidate], ApiError | None]:
    """Send the waiting ids in bulk_match calls of 10 (with `flush`, the rest too); returns what
    still waits, and the auth error that stopped it, if any. A brand whose reveal failed has its
    other ids dropped: its ledger row says `error`, it is retried whole next run, so no more
    credits are spent on it now."""
    while len(waiting) >= MAX_BULK_MATCH or (flush and waiting):
        still_waiting = _reuse_revealed(waiting)  # revealed by an earlier call of this run since
        kept = {id(candidate) for candidate in still_waiting}
        for candidate in waiting:
            if id(candidate) not in kept:
                candidate.lookup.pending -= 1
        waiting = still_waiting
        if not waiting or (len(waiting) < MAX_BULK_MATCH and not flush):
            break
        chunk, waiting = waiting[:MAX_BULK_MATCH], waiting[MAX_BULK_MATCH:]
        _reveal(finder, chunk)
        if any(candidate.lookup.error is not None for candidate in chunk):
            for candidate in waiting:
                if candidate.lookup.error is not None:
                    candidate.lookup.pending -= 1
            waiting = [candidate for candidate in waiting if candidate.lookup.error is None]
        stop_error = next((c.lookup.stop_error for c in chunk if c.lookup.stop_error is not None), None)
        if stop_error is not None:
            _abandon(waiting, stop_error)
            return [], stop_error
    return waiting, None


def _abandon(waiting: Sequence[_Candidate], error: BaseException) -> None:
    """Brands whose ids were never sent to bulk_match: an error row each (no credits spent)."""
    for candidate in waiting:
        candidate.lookup.pending = 0
        candidate.lookup.fail(error, f"not revealed: {type(error).__name__}: {error}")


def _unique(worklist: Iterable[BrandToEnrich]) -> Iterator[BrandToEnrich]:
    """Each brand once (its first occurrence). The work list is only iterated, so it may be a
    generator reading the warehouse in pages; only the ids seen are kept."""
    seen: set[str] = set()
    for brand in worklist:
        if brand.brand_id not in seen:
            seen.add(brand.brand_id)
            yield brand


@dataclass
class _Totals:
    brands: int = 0
    people: int = 0
    rejected: int = 0
    requests: int = 0
    bulk_requests: int = 0
    credits: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: {"ok": 0, "no_match": 0, "error": 0})
    first_error: str | None = None
    held: int = 0
    reasked: int = 0
    reused: int = 0


def _requests(lookups: Iterable[_BrandLookup], endpoint: str | None = None) -> int:
    """Requests answered (a shared bulk_match is one request, whatever its brands)."""
    return len(
        {
            call["request_id"]
            for lookup in lookups
            for call in lookup.calls
            if endpoint is None or call["endpoint"] == endpoint
        }
    )


def _land(lookups: Sequence[_BrandLookup], destination: WarehouseLike, pipelines_dir: Path, totals: _Totals) -> None:
    """One pipeline run for one batch: its people, ledger rows, calls, reveals and rejections."""
    people = dedupe_rows([row for lookup in lookups for row in lookup.people], ["brand_id", "person_id"])
    ledger = [lookup.ledger_row() for lookup in lookups]
    rejected = [row for lookup in lookups for row in lookup.rejected]
    calls = [call for lookup in lookups for call in lookup.calls]
    reveals = [row for lookup in lookups for row in lookup.reveals]
    run_pipeline(PIPELINE_NAME, destination, pipelines_dir, apollo_source(people, ledger, rejected, calls, reveals))
    totals.brands += len(lookups)
    totals.people += len(people)
    totals.rejected += len(rejected)
    totals.requests += _requests(lookups)
    totals.bulk_requests += _requests(lookups, BULK_MATCH_ENDPOINT)
    totals.credits += sum(lookup.credits_consumed for lookup in lookups)
    totals.held += sum(lookup.held for lookup in lookups)
    totals.reasked += sum(lookup.reasked for lookup in lookups)
    totals.reused += sum(lookup.reused for lookup in lookups)
    for row in ledger:
        totals.statuses[row["status"]] += 1
        if row["status"] == "error" and totals.first_error is None:
            totals.first_error = row["error_message"]


@dataclass(frozen=True)
class EnrichProgress:
    """Where a running enrichment is: handed to the progress callback every few seconds and at
    the end (the same one-line form as SmartScout's `LoadProgress`)."""

    source: str
    brands: int  # looked up so far in this run
    total: int | None  # brands on the work list, when known
    requests: int  # answered by Apollo
    people: int  # revealed
    credits: int
    errors: int  # brands whose lookup failed (retried next run)
    seconds: float
    done: bool = False

    @property
    def brands_per_second(self) -> float:
        return self.brands / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        state = "done" if self.done else "enriching"
        of_total = f"/{self.total}" if self.total is not None else ""
        return (
            f"{self.source}: {state}, {self.brands}{of_total} brands, {self.requests} requests, "
            f"{self.people} people, {self.credits} credits, {self.errors} errors, "
            f"{self.brands_per_second:.1f} brands/s"
        )


def print_progress(progress: EnrichProgress) -> None:
    """Progress callback for a terminal: one line on stderr."""
    print(progress, file=sys.stderr, flush=True)


class _ProgressReporter:
    """Calls `callback` at most every `every_seconds` while brands are looked up, and once at the
    end; the numbers are only counted when a line is due."""

    def __init__(
        self,
        callback: Callable[[EnrichProgress], None] | None,
        every_seconds: float,
        total: int | None,
        totals: _Totals,
        watch: Stopwatch,
    ) -> None:
        self.callback = callback
        self.every_seconds = every_seconds
        self.total = total
        self.totals = totals
        self.watch = watch
        self.last_report = watch.seconds

    def during(self, batch: Sequence[_BrandLookup]) -> None:
        if self.callback is None or self.watch.seconds - self.last_report < self.every_seconds:
            return
        finished = [lookup for lookup in batch if not lookup.pending]
        self._report(
            brands=len(finished),
            requests=_requests(batch),
            people=sum(len(lookup.people) for lookup in batch),
            credits=sum(lookup.credits_consumed for lookup in batch),
            errors=sum(1 for lookup in finished if lookup.error is not None),
            done=False,
        )

    def finished(self) -> None:
        if self.callback is not None:
            self._report(brands=0, requests=0, people=0, credits=0, errors=0, done=True)

    def _report(self, *, brands: int, requests: int, people: int, credits: int, errors: int, done: bool) -> None:
        assert self.callback is not None
        totals = self.totals
        self.last_report = self.watch.seconds
        self.callback(
            EnrichProgress(
                source="apollo",
                brands=totals.brands + brands,
                total=self.total,
                requests=totals.requests + requests,
                people=totals.people + people,
                credits=totals.credits + credits,
                errors=totals.statuses["error"] + errors,
                seconds=self.last_report,
                done=done,
            )
        )


def enrich_brands(
    worklist: Iterable[BrandToEnrich],
    finder: PeopleFinder,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    titles: Sequence[str] = DEFAULT_TITLES,
    seniorities: Sequence[str] = DEFAULT_SENIORITIES,
    now: datetime | None = None,
    max_people_per_brand: int = DEFAULT_MAX_PEOPLE_PER_BRAND,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_seconds: float = MAX_BATCH_SECONDS,
    progress: Callable[[EnrichProgress], None] | None = print_progress,
    progress_every_seconds: float = DEFAULT_PROGRESS_EVERY_SECONDS,
    fail_when_every_brand_fails: bool = False,
    known_people: Mapping[str, Row] | None = None,
) -> LoadSummary:
    """Search decision-makers per brand, reveal them in bulk_match calls of at most 10 ids
    (shared by several brands), and load people + one ledger row per brand looked up
    (status ok / no_match / error).

    The work list is processed in batches of `batch_size` brands, or of what was looked up in
    `max_batch_seconds` if that comes first (against the real, rate-limited API a batch lands
    every minute or so); each batch is landed by its own pipeline run, so memory does not grow
    with the work list and a failure part-way keeps every earlier batch (and the credits it
    spent) in RAW. The work list is not filtered here:
    call `filter_recently_looked_up` first. If Apollo refuses the key (`ApiAuthError`), the
    remaining brands are not looked up; what was looked up so far (credits already spent) is
    still loaded, then the `ApiAuthError` is raised. Any other exception escaping mid-batch
    lands that batch's lookups (unrevealed brands as errors) before it propagates.

    `progress` gets an `EnrichProgress` at most every `progress_every_seconds` and once at the
    end (default: a line on stderr; None: silent). With `fail_when_every_brand_fails` (the
    `enrich` stage) a run whose every lookup failed raises `ApiRequestError` once it is landed:
    a run of errors must not look like a finished enrichment. When the source stops (the key is
    refused, failures in a row, an hourly or daily rate limit used up: `SourceStoppedError`),
    what was looked up is landed and the error is raised.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    watch = Stopwatch()
    looked_up_at = ensure_utc(now) if now else utc_now()
    totals = _Totals()
    reporter = _ProgressReporter(
        progress, progress_every_seconds, len(worklist) if isinstance(worklist, Sized) else None, totals, watch
    )
    journal = PaidJournal(journal_path(pipelines_dir))
    shared = _SharedAnswers(known_people)
    land_interrupted_lookups(destination, pipelines_dir)  # normally done by the caller, before its work list
    landed_any = False
    brands = _unique(worklist)
    while True:
        lookups: list[_BrandLookup] = []
        deadline = time.monotonic() + max_batch_seconds
        batch = itertools.islice(brands, batch_size)
        try:
            _enrich_batch(
                finder,
                batch,
                lookups,
                titles,
                seniorities,
                max_people_per_brand,
                looked_up_at,
                deadline,
                reporter.during,
                journal,
                shared,
            )
        except BaseException as error:  # keep what was paid for, then let it propagate
            for lookup in lookups:
                if lookup.pending:
                    lookup.fail(error, f"not revealed: run interrupted by {type(error).__name__}")
            _land(lookups, destination, pipelines_dir, totals)
            journal.clear()
            raise
        if not lookups:
            break
        _land(lookups, destination, pipelines_dir, totals)
        journal.clear()  # the batch is in RAW
        landed_any = True
        stop_error = next((lookup.stop_error for lookup in lookups if lookup.stop_error is not None), None)
        if stop_error is not None:
            raise stop_error
    if not landed_any:  # nothing to look up: still create the (empty) tables, as before
        create_empty_tables(destination, pipelines_dir)
    reporter.finished()
    every_brand_failed = totals.statuses["error"] and not totals.statuses["ok"] and not totals.statuses["no_match"]
    if fail_when_every_brand_fails and every_brand_failed:
        # nothing succeeded: a run of errors must not look like a finished enrichment
        raise ApiRequestError(
            "apollo",
            f"every one of the {totals.brands} brands looked up failed (first: {totals.first_error}); "
            "their error rows are landed and they are retried by the next run: check Apollo's status and the key",
        )
    return LoadSummary(
        source="apollo",
        rows_loaded=totals.people,
        rows_rejected=totals.rejected,
        files_or_pages=totals.bulk_requests,
        seconds=watch.seconds,
        details={
            "brands": totals.brands,
            **totals.statuses,
            "credits": totals.credits,
            "requests": totals.requests,
            # people whose lost bulk_match answer is on hold / was asked again (at most one
            # extra credit each): reported so what a lost answer costs is visible
            **({"held_people": totals.held} if totals.held else {}),
            **({"reasked_people": totals.reasked} if totals.reasked else {}),
            # people paid for by another brand of the same organization, reused for nothing
            **({"reused_people": totals.reused} if totals.reused else {}),
        },
    )


def filter_recently_looked_up(
    worklist: Sequence[BrandToEnrich],
    destination: WarehouseLike,
    ttl_days: float,
    now: datetime | None = None,
    *,
    hold_hours: float = DEFAULT_REVEAL_HOLD_HOURS,
) -> list[BrandToEnrich]:
    """Drop brands with an `ok`/`no_match` lookup newer than `ttl_days` (errors are retried).

    A brand retried within the TTL (its lookup failed part-way) comes back with what that lookup
    already paid for: its `organization` (not looked up again) and `paid_person_ids` (ids
    revealed: never sent again). An id sent in a bulk_match whose answer was lost (outcome
    `unknown`: it may have been charged) is held for `hold_hours` after that call
    (`held_person_ids`), then asked again (`reasked_person_ids`); after `MAX_LOST_REVEALS` lost
    answers within the TTL it is not asked again (`paid_person_ids`): a lost answer costs at most
    one extra credit per person. Reads raw.apollo_lookups / apollo_people / apollo_reveals when
    the warehouse and the tables exist; otherwise keeps all. Rows landed under an id an earlier
    name normalization made count for the brand's id now (clean.stg_brand_id_aliases, when
    built): a new id is never paid for twice.
    """
    if not worklist or not warehouse_exists(destination):
        return list(worklist)
    moment = ensure_utc(now) if now else utc_now()
    cutoff = moment - timedelta(days=ttl_days)
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, LOOKUPS_TABLE):
            return list(worklist)
        # compared here, not in SQL: the column is timestamptz on DuckDB and TIMESTAMP_TZ on Snowflake
        latest = warehouse.execute(
            "select brand_id, max(case when status in ('ok', 'no_match') then looked_up_at end), "
            f"max(looked_up_at) from {RAW_DATASET}.{LOOKUPS_TABLE} group by brand_id"
        )
        aliases = brand_id_aliases(warehouse)
        skip = {aliases.get(brand_id, brand_id) for brand_id, finished, _ in latest if _within(finished, cutoff)}
        due = [brand for brand in worklist if brand.brand_id not in skip]
        retried = {aliases.get(brand_id, brand_id) for brand_id, _, started in latest if _within(started, cutoff)}
        prior = _paid_within_ttl(
            warehouse, [brand.brand_id for brand in due if brand.brand_id in retried], cutoff, aliases
        )
        by_domain = _organizations_by_domain(warehouse, {normalize_domain(brand.domain) for brand in due}, cutoff)
    hold = timedelta(hours=hold_hours)
    due = [
        _with_prior(brand, prior[brand.brand_id], moment, hold) if brand.brand_id in prior else brand for brand in due
    ]
    # another brand of the same domain paid for its organization within the TTL: not paid again
    return [
        replace(brand, organization=by_domain[domain])
        if brand.organization is None and (domain := normalize_domain(brand.domain) or "") in by_domain
        else brand
        for brand in due
    ]


def _organizations_by_domain(
    warehouse: Warehouse, domains: set[str | None], cutoff: datetime
) -> dict[str, KnownOrganization]:
    """Organizations resolved within the TTL whose primary domain is one of `domains` (what an
    `organizations/enrich` by that domain answers)."""
    wanted = sorted(domain for domain in domains if domain)
    if not wanted or not _has_column(warehouse, LOOKUPS_TABLE, "organization_domain"):
        return {}
    found: dict[str, tuple[datetime, KnownOrganization]] = {}
    for start in range(0, len(wanted), PRIOR_LOOKUP_CHUNK):
        chunk = wanted[start : start + PRIOR_LOOKUP_CHUNK]
        placeholders = ", ".join("?" for _ in chunk)
        for organization_id, name, domain, looked_up_at in warehouse.execute(
            "select organization_id, organization_name, organization_domain, looked_up_at "
            f"from {RAW_DATASET}.{LOOKUPS_TABLE} "
            f"where organization_id is not null and organization_domain in ({placeholders})",
            chunk,
        ):
            moment = ensure_utc(looked_up_at) if looked_up_at else None
            if moment is None or moment <= cutoff or (domain in found and found[domain][0] >= moment):
                continue
            found[str(domain)] = (moment, KnownOrganization(str(organization_id), name, domain))
    return {domain: organization for domain, (_, organization) in found.items()}


def _within(moment: datetime | None, cutoff: datetime) -> bool:
    return moment is not None and ensure_utc(moment) > cutoff


@dataclass
class _Prior:
    """What a brand's earlier lookups within the TTL got: the organization, the ids revealed, and
    per id whose answers were all lost, when (ids missed, i.e. no match and no charge, are not kept)."""

    organization: tuple[datetime, KnownOrganization] | None = None
    revealed: set[str] = field(default_factory=set)
    lost: dict[str, list[datetime]] = field(default_factory=dict)
    missed_last: dict[str, datetime] = field(default_factory=dict)


def _with_prior(brand: BrandToEnrich, prior: _Prior, now: datetime, hold: timedelta) -> BrandToEnrich:
    paid, held, reasked = set(prior.revealed), set(), set()
    held_until: datetime | None = None
    for person_id, attempts in prior.lost.items():
        last = max(attempts)
        if person_id in paid or prior.missed_last.get(person_id, last) > last:
            continue  # revealed, or asked again since and missed (no charge)
        if len(attempts) >= MAX_LOST_REVEALS:
            paid.add(person_id)  # the extra credits a lost answer may cost are bounded
        elif last + hold > now:
            held.add(person_id)
            held_until = max(held_until or last + hold, last + hold)
        else:
            reasked.add(person_id)
    return replace(
        brand,
        organization=brand.organization or (prior.organization[1] if prior.organization else None),
        paid_person_ids=frozenset(paid),
        held_person_ids=frozenset(held),
        held_until=held_until,
        reasked_person_ids=frozenset(reasked),
    )


def brand_id_aliases(warehouse: Warehouse) -> dict[str, str]:
    """Old brand id -> the brand's id now (clean.stg_brand_id_aliases; empty before it is built)."""
    if not warehouse.table_exists(ALIASES_SCHEMA, ALIASES_TABLE):
        return {}
    rows = warehouse.execute(f"select old_brand_id, brand_id from {ALIASES_SCHEMA}.{ALIASES_TABLE}")
    return {str(old): str(new) for old, new in rows}


def _paid_within_ttl(
    warehouse: Warehouse, brand_ids: Sequence[str], cutoff: datetime, aliases: Mapping[str, str]
) -> dict[str, _Prior]:
    """Per brand: the organization its lookups resolved, the person ids revealed and those whose
    bulk_match answers were lost, since `cutoff`; rows under an old id (`aliases`) count for the
    brand's id now."""
    priors: dict[str, _Prior] = {}
    has_organization = _has_column(warehouse, LOOKUPS_TABLE, "organization_id")  # older ledgers lack it
    has_reveals = warehouse.table_exists(RAW_DATASET, REVEALS_TABLE)
    has_people = warehouse.table_exists(RAW_DATASET, PEOPLE_TABLE)
    wanted = set(brand_ids)
    recorded = [*brand_ids, *sorted(old for old, new in aliases.items() if new in wanted)]
    for start in range(0, len(recorded), PRIOR_LOOKUP_CHUNK):
        chunk = list(recorded[start : start + PRIOR_LOOKUP_CHUNK])
        placeholders = ", ".join("?" for _ in chunk)
        if has_organization:
            for recorded_id, organization_id, name, domain, looked_up_at in warehouse.execute(
                "select brand_id, organization_id, organization_name, organization_domain, looked_up_at "
                f"from {RAW_DATASET}.{LOOKUPS_TABLE} "
                f"where organization_id is not null and brand_id in ({placeholders})",
                chunk,
            ):
                moment = ensure_utc(looked_up_at) if looked_up_at else None
                if moment is None or moment <= cutoff:
                    continue
                prior = priors.setdefault(aliases.get(recorded_id, recorded_id), _Prior())
                if prior.organization is None or prior.organization[0] < moment:
                    prior.organization = (moment, KnownOrganization(str(organization_id), name, domain))
        if has_people:  # revealed people: also those landed before raw.apollo_reveals existed
            for recorded_id, person_id, matched_at in warehouse.execute(
                f"select brand_id, person_id, matched_at from {RAW_DATASET}.{PEOPLE_TABLE} "
                f"where brand_id in ({placeholders})",
                chunk,
            ):
                if _within(matched_at, cutoff):
                    priors.setdefault(aliases.get(recorded_id, recorded_id), _Prior()).revealed.add(str(person_id))
        if has_reveals:
            for recorded_id, person_id, attempted_at, outcome in warehouse.execute(
                f"select brand_id, person_id, attempted_at, outcome from {RAW_DATASET}.{REVEALS_TABLE} "
                f"where brand_id in ({placeholders})",
                chunk,
            ):
                if not _within(attempted_at, cutoff):
                    continue
                prior = priors.setdefault(aliases.get(recorded_id, recorded_id), _Prior())
                moment = ensure_utc(attempted_at)
                if outcome == MISSED:
                    prior.missed_last[str(person_id)] = max(moment, prior.missed_last.get(str(person_id), moment))
                elif outcome == UNKNOWN:
                    prior.lost.setdefault(str(person_id), []).append(moment)
                else:
                    prior.revealed.add(str(person_id))
    return priors


def _has_column(warehouse: Warehouse, table: str, column: str) -> bool:
    row = warehouse.fetch_one(
        "select count(*) from information_schema.columns "
        "where upper(table_schema) = upper(?) and upper(table_name) = upper(?) and upper(column_name) = upper(?)",
        [RAW_DATASET, table, column],
    )
    return bool(row and row[0])


def people_revealed_within(destination: WarehouseLike, ttl_days: float, now: datetime | None = None) -> dict[str, Row]:
    """Person id -> its raw.apollo_people row, for every person revealed within the TTL (for any
    brand): `enrich_brands(known_people=...)` gives them to another brand of the same
    organization without paying again."""
    if not warehouse_exists(destination):
        return {}
    cutoff = (ensure_utc(now) if now else utc_now()) - timedelta(days=ttl_days)
    names = [column.name for column in PEOPLE_COLUMNS]
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, PEOPLE_TABLE):
            return {}
        rows = warehouse.execute(f"select {', '.join(names)} from {RAW_DATASET}.{PEOPLE_TABLE}")
    known: dict[str, Row] = {}
    for values in rows:
        row = dict(zip(names, values, strict=True))
        if _within(row["matched_at"], cutoff):  # compared here: timestamptz / TIMESTAMP_TZ
            known.setdefault(str(row["person_id"]), row)
    return known


def land_interrupted_lookups(destination: WarehouseLike, pipelines_dir: Path) -> int:
    """Land what a killed `enrich` saved in its paid-answer journal (before reading the work list:
    those brands then come back with what they paid for). Returns the lookups landed."""

    def land(rows: dict[str, list[Row]]) -> None:
        source = apollo_source(rows["people"], rows["lookups"], rows["rejected"], rows["calls"], rows["reveals"])
        run_pipeline(PIPELINE_NAME, destination, pipelines_dir, source)

    return land_paid_journal(destination, pipelines_dir, land)


def create_empty_tables(destination: WarehouseLike, pipelines_dir: Path) -> None:
    """Create raw.apollo_people / raw.apollo_lookups (empty, typed) so dbt can build before the
    first enrichment; loading nothing through the same resources keeps the schema in one place."""
    run_pipeline(PIPELINE_NAME, destination, pipelines_dir, apollo_source([], [], [], [], []))
