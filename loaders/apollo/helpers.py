"""Apollo people lookup: the `PeopleFinder` protocol, a sample-backed finder, and parsing.

The parsing functions take Apollo's own response shapes (`organizations/enrich`,
`mixed_people/api_search`, `people/bulk_match`), so the HTTP client and `SampleApolloClient`
share them.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from loaders.apollo.settings import (
    LEGAL_SUFFIXES,
    MAX_BULK_MATCH,
    MAX_PER_PAGE,
    ORGANIZATION_FIELDS,
    PERSON_FIELDS,
)
from loaders.common import Row, compact_json, md5_key
from loaders.common.arrow import stringify
from loaders.common.names import fold_compatible, map_confusables


@dataclass(frozen=True)
class KnownOrganization:
    """The Apollo organization a brand was resolved to."""

    organization_id: str
    name: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class BrandToEnrich:
    """A brand to look up. `domain` (the company's web domain, when the warehouse knows one)
    finds its Apollo organization exactly; without it the organization is looked up by name.

    What an earlier lookup of the brand within the TTL already paid for is set by
    `filter_recently_looked_up` and never paid again: `organization` (the organization it
    resolved) and `paid_person_ids` (ids revealed, or whose lost answers were asked again already).
    """

    brand_id: str
    brand_name: str
    domain: str | None = None
    organization: KnownOrganization | None = field(default=None, compare=False)
    paid_person_ids: frozenset[str] = field(default=frozenset(), compare=False)
    # sent in a bulk_match whose answer was lost (it may have been charged): not asked again
    # before `held_until`; `reasked_person_ids` were held and are asked again now
    held_person_ids: frozenset[str] = field(default=frozenset(), compare=False)
    held_until: datetime | None = field(default=None, compare=False)
    reasked_person_ids: frozenset[str] = field(default=frozenset(), compare=False)


class PeopleFinder(Protocol):
    """What `enrich_brands` needs from Apollo (the HTTP client or `SampleApolloClient`).

    `find_organization` is shaped like `organizations/enrich` (`{"organization": {...}}`, `{}`
    when unknown; 1 credit per organization found); `search_people` is the free search (no
    emails) of one organization's people, shaped like `mixed_people/api_search`; `bulk_match`
    reveals up to 10 people and costs credits, shaped like `people/bulk_match`.
    """

    source_kind: str  # written to raw.apollo_people.source_kind: `api` or `sample`

    def find_organization(self, *, domain: str | None, name: str) -> Mapping[str, Any]: ...

    def search_people(
        self,
        *,
        organization_ids: Sequence[str],
        titles: Sequence[str],
        seniorities: Sequence[str],
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> Mapping[str, Any]: ...

    def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...


def normalize_domain(value: str | None) -> str | None:
    """`https://www.Acme.com/shop` -> `acme.com` (Apollo wants no scheme, `www.` or path)."""
    if not value or not value.strip():
        return None
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().casefold())
    host = host.split("@")[-1].split("/")[0].split("?")[0].split("#")[0].split(":")[0]
    host = host.removeprefix("www.").strip(".")
    return host or None


def normalize_org_name(name: str) -> str:
    """`Müller & Söhne GmbH` -> `mullerandsohne`: casefold, accents, punctuation, spaces and a
    trailing legal form (`Inc`, `LLC`, `GmbH`, ...) ignored; non-Latin letters are kept. Format
    characters, apostrophes in every form and look-alike letters are handled as in the brand
    name (loaders/common/names.py): `Acme` spelled with a Cyrillic `a` is Acme here too."""
    decomposed = unicodedata.normalize("NFKD", map_confusables(fold_compatible(name)))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    plain = plain.replace("&", " and ").replace("+", " and ")
    plain = re.sub(r"[.'\u2019`]", "", plain)  # `L.L.C.` -> `llc`, `Levi's` -> `levis`
    tokens = re.sub(r"[\W_]+", " ", plain).split()
    while len(tokens) > 1 and (tokens[-1] in LEGAL_SUFFIXES or tokens[-1] == "and"):
        tokens.pop()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens.pop(0)
    return "".join(tokens)


def normalize_title(title: str) -> str:
    """`Co-Founder & CEO` -> `cofounder and ceo`, for loose title matching."""
    plain = title.casefold().replace("&", " and ")
    plain = re.sub(r"[-.'\u2019]", "", plain)
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def _obfuscate(last_name: Any) -> str | None:
    if not isinstance(last_name, str) or not last_name:
        return None
    return f"{last_name[0]}***{last_name[-1]}" if len(last_name) > 1 else f"{last_name}***"


def _matches_filters(person: Mapping[str, Any], titles: Sequence[str], seniorities: Sequence[str]) -> bool:
    """Apollo-like filters: a title contains one of `titles` (loosely) AND the seniority is one
    of `seniorities`; an empty list does not filter."""
    title = normalize_title(str(person.get("title") or "")).replace(" ", "")
    wanted_titles = [normalize_title(wanted).replace(" ", "") for wanted in titles if wanted.strip()]
    if wanted_titles and not any(wanted in title for wanted in wanted_titles):
        return False
    seniority = str(person.get("seniority") or "").casefold()
    return not seniorities or seniority in {wanted.casefold() for wanted in seniorities}


class SampleApolloClient:
    """A `PeopleFinder` that answers from `sample_data/apollo/organizations.json` (a list of
    `{"organization": {...}, "people": [bulk_match person, ...]}`) in Apollo's shapes."""

    source_kind = "sample"

    def __init__(self, organizations_json_path: Path) -> None:
        with Path(organizations_json_path).open(encoding="utf-8") as handle:
            dataset = json.load(handle)
        if not isinstance(dataset, list):
            raise ValueError("organizations.json must be a list of {organization, people}")
        self._by_name: dict[str, dict[str, Any]] = {}
        self._by_domain: dict[str, dict[str, Any]] = {}
        self._people_by_org: dict[str, list[dict[str, Any]]] = {}
        self._by_id: dict[str, dict[str, Any]] = {}
        self._by_email: dict[str, dict[str, Any]] = {}
        for entry in dataset:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("organization"), Mapping):
                continue
            organization = dict(entry["organization"])
            people = [
                self._with_organization(person, organization)
                for person in entry.get("people") or []
                if isinstance(person, Mapping)
            ]
            key = normalize_org_name(str(organization.get("name") or ""))
            if key:
                self._by_name.setdefault(key, organization)
            domain = normalize_domain(str(organization.get("primary_domain") or ""))
            if domain:
                self._by_domain.setdefault(domain, organization)
            if organization.get("id") is not None:
                self._people_by_org.setdefault(str(organization["id"]), []).extend(people)
            for person in people:
                if person.get("id") is not None:
                    self._by_id.setdefault(str(person["id"]), person)
                if isinstance(person.get("email"), str) and person["email"]:
                    self._by_email.setdefault(person["email"].casefold(), person)

    @staticmethod
    def _with_organization(person: Mapping[str, Any], organization: Mapping[str, Any]) -> dict[str, Any]:
        full = dict(person)
        if not isinstance(full.get("organization"), Mapping):
            full["organization"] = dict(organization)
        if full.get("organization_id") is None:
            full["organization_id"] = organization.get("id")
        return full

    def find_organization(self, *, domain: str | None, name: str) -> dict[str, Any]:
        """By domain when given, else by (normalized) name; `{}` when unknown."""
        organization: dict[str, Any] | None = None
        wanted = normalize_domain(domain)
        if wanted:
            organization = self._by_domain.get(wanted)
        elif name.strip():
            organization = self._by_name.get(normalize_org_name(name))
        return {"organization": copy.deepcopy(organization)} if organization is not None else {}

    def search_people(
        self,
        *,
        organization_ids: Sequence[str],
        titles: Sequence[str],
        seniorities: Sequence[str],
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> dict[str, Any]:
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        page = max(1, page)
        found = [
            person
            for organization_id in dict.fromkeys(organization_ids)
            for person in self._people_by_org.get(str(organization_id), [])
            if _matches_filters(person, titles, seniorities)
        ]
        window = found[(page - 1) * per_page : page * per_page]
        return {
            "total_entries": len(found),
            "people": [
                {
                    "id": person.get("id"),
                    "first_name": person.get("first_name"),
                    "last_name_obfuscated": _obfuscate(person.get("last_name")),
                    "title": person.get("title"),
                    "has_email": bool(person.get("email")),
                    "organization": {"name": (person.get("organization") or {}).get("name")},
                }
                for person in window
            ],
        }

    def bulk_match(self, details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if len(details) > MAX_BULK_MATCH:
            raise ValueError(f"bulk_match accepts at most {MAX_BULK_MATCH} details, got {len(details)}")
        matches = [self._match(detail) for detail in details]
        found = [match for match in matches if match is not None]
        return {
            "status": "success",
            "error_code": None,
            "error_message": None,
            "total_requested_enrichments": len(details),
            "unique_enriched_records": len(found),
            "missing_records": len(details) - len(found),
            "credits_consumed": sum(1 for match in found if match.get("email")),
            "matches": matches,
        }

    def _match(self, detail: Mapping[str, Any]) -> dict[str, Any] | None:
        person: dict[str, Any] | None = None
        if detail.get("id") is not None:
            person = self._by_id.get(str(detail["id"]))
        elif isinstance(detail.get("email"), str):
            person = self._by_email.get(detail["email"].casefold())
        return copy.deepcopy(person) if person is not None else None


def parse_person(
    person: Mapping[str, Any],
    brand_id: str,
    lookup_id: str,
    source_kind: str,
    matched_at: datetime,
) -> Row:
    """One bulk_match person -> a raw.apollo_people row (all source fields as text)."""
    organization = person.get("organization")
    organization = organization if isinstance(organization, Mapping) else {}
    extras: dict[str, Any] = {k: v for k, v in person.items() if k not in PERSON_FIELDS}
    other_org = {k: v for k, v in organization.items() if k not in ORGANIZATION_FIELDS}
    if other_org:
        extras["organization"] = other_org
    departments = person.get("departments")
    return {
        "brand_id": brand_id,
        "person_id": stringify(person.get("id")),
        "first_name": stringify(person.get("first_name")),
        "last_name": stringify(person.get("last_name")),
        "name": stringify(person.get("name")),
        "title": stringify(person.get("title")),
        "headline": stringify(person.get("headline")),
        "seniority": stringify(person.get("seniority")),
        "departments_json": None if departments is None else compact_json(departments),
        "email": stringify(person.get("email")),
        "email_status": stringify(person.get("email_status")),
        "linkedin_url": stringify(person.get("linkedin_url")),
        "city": stringify(person.get("city")),
        "state": stringify(person.get("state")),
        "country": stringify(person.get("country")),
        "organization_id": stringify(person.get("organization_id") or organization.get("id")),
        "organization_name": stringify(organization.get("name")),
        "organization_domain": stringify(organization.get("primary_domain")),
        "organization_website_url": stringify(organization.get("website_url")),
        "extra_fields_json": compact_json(extras) if extras else None,
        "lookup_id": lookup_id,
        "source_kind": source_kind,
        "matched_at": matched_at,
    }


def make_lookup_id(brand_id: str, looked_up_at: datetime) -> str:
    return md5_key(brand_id, looked_up_at.isoformat())
