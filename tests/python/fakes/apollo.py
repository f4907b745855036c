"""A fake Apollo.io API (organization enrich, people search, bulk_match) on the real local HTTP
server of `server.py`.

Faithful to what the loader relies on (see /work/shared/api-specs CONTRACTS.md section 2 and
apollo.openapi.json); it accepts only the parameters the OpenAPI documents, where it documents
them, so a client that sends them elsewhere gets a 422:

- auth by `x-api-key`: 401 plain text `Invalid access credentials.` for a missing or unknown
  key; 403 `{error, error_code: API_INACCESSIBLE}` when a non-master key calls the search;
- `GET /organizations/enrich?domain=&name=&website=&linkedin_url=` (query only): by domain
  (exact), else by name, loosely as Apollo does (a name contained in another company's name
  finds that company); `{"organization": {...}}`, `{}` when unknown; 1 credit per organization
  found, added to `FakeApollo.credits_consumed`;
- `POST /mixed_people/api_search`: parameters in the query string only (`organization_ids[]`,
  `q_organization_domains_list[]`, `q_keywords`, `person_titles[]`, `person_seniorities[]`,
  `page`, `per_page`...); a JSON body or an undocumented parameter is a 422. Organization ids and
  domains match current AND past employers (`employment_history`), keywords match loosely (any
  word, in the organization's name, the person's name or title), as Apollo does. `per_page` is
  capped at 100, pages beyond 500 are empty; the answer is `{total_entries, people: [{id,
  first_name, last_name_obfuscated, title, has_email, organization: {name}}]}` - never an email,
  no `pagination` object;
- `POST /people/bulk_match` with a JSON body `{details: [...]}`: more than 10 details -> 400
  `{status: failed, error_code: RECORD_LIMIT_EXCEEDED}`; matches in input order, `null` for an
  unknown id; one credit per revealed email, reported as `credits_consumed` and added to
  `FakeApollo.credits_consumed`; every id asked for is kept in `FakeApollo.bulk_match_ids`;
- fixed one-minute and one-hour windows per endpoint (on an injectable clock, so a test's fake
  sleep moves time): headers `x-rate-limit-minute` / `x-minute-requests-left` and
  `x-rate-limit-hourly` / `x-hourly-requests-left`, and once a window is used up, 429
  `{"message": "The maximum number of api calls allowed for ... is N times per minute|hour..."}`
  with NO Retry-After;
- configurable failures: 500s for an organization's searches, for bulk_match of given person
  ids (after charging them, as a server failing part-way may), or for the next N requests; a
  slow bulk_match (charged, answered after `slow_seconds`) for given person ids.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.python.fakes.server import Reply, Request

SEARCH_PATH = "/mixed_people/api_search"
BULK_MATCH_PATH = "/people/bulk_match"
ORGANIZATION_PATH = "/organizations/enrich"
# what the OpenAPI documents for each endpoint (query parameters; bulk_match's details go in the body)
ORGANIZATION_PARAMS = frozenset({"domain", "name", "website", "linkedin_url"})
SEARCH_PARAMS = frozenset(
    {
        "person_titles[]", "include_similar_titles", "q_keywords", "person_locations[]",
        "person_seniorities[]", "organization_locations[]", "q_organization_domains_list[]",
        "contact_email_status[]", "organization_ids[]", "organization_num_employees_ranges[]",
        "revenue_range[min]", "revenue_range[max]", "currently_using_all_of_technology_uids[]",
        "currently_using_any_of_technology_uids[]", "currently_not_using_any_of_technology_uids[]",
        "q_organization_job_titles[]", "organization_job_locations[]", "organization_num_jobs_range[min]",
        "organization_num_jobs_range[max]", "organization_job_posted_at_range[min]",
        "organization_job_posted_at_range[max]", "page", "per_page",
    }
)  # fmt: skip
BULK_MATCH_PARAMS = frozenset(
    {"run_waterfall_email", "run_waterfall_phone", "reveal_personal_emails", "reveal_phone_number", "webhook_url"}
)
MAX_PER_PAGE = 100
MAX_PAGES = 500
MAX_BULK_MATCH = 10
UNMATCHABLE = "_unmatchable"  # dataset flag: found by search, but bulk_match returns null


def org_key(name: str) -> str:
    """Loose organization-name key: accents, case, punctuation and spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return re.sub(r"[\W_]+", "", plain.replace("&", "and"))


def _person(
    person_id: str,
    first: str,
    last: str,
    title: str,
    seniority: str,
    email: str | None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": person_id,
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "title": title,
        "headline": f"{title}",
        "seniority": seniority,
        "departments": ["c_suite"] if seniority in {"c_suite", "founder", "owner"} else ["master_operations"],
        "email": email,
        "email_status": "verified" if email else None,
        "linkedin_url": f"http://www.linkedin.com/in/{first.casefold()}-{last.casefold()}",
        "city": "Austin",
        "state": "Texas",
        "country": "United States",
        **extra,
    }


def _organization(org_id: str, name: str, domain: str) -> dict[str, Any]:
    return {
        "id": org_id,
        "name": name,
        "primary_domain": domain,
        "website_url": f"http://www.{domain}",
        "linkedin_url": f"http://www.linkedin.com/company/{domain.split('.')[0]}",
        "industry": "consumer goods",
        "estimated_num_employees": 40,
        "founded_year": 2015,
    }


def default_organizations() -> list[dict[str, Any]]:
    """A small deterministic dataset: `Acme Kitchen` has 12 decision-makers (two bulk_match
    batches), one person search finds but bulk_match cannot (null), and one intern."""
    seniorities = ["founder", "c_suite", "vp", "director", "head", "manager"]
    acme_people = [
        _person(
            f"acme-{index:02d}",
            f"Ann{index:02d}",
            f"Smith{index:02d}",
            f"Director of Ops {index:02d}",
            seniorities[index % len(seniorities)],
            f"ann{index:02d}@acmekitchen.com" if index != 5 else None,  # one has no email
        )
        for index in range(1, 13)
    ]
    acme_people.append(_person("acme-intern", "Ian", "Young", "Marketing Intern", "intern", "ian@acmekitchen.com"))
    acme_people.append(
        _person("acme-ghost", "Gus", "Host", "VP Sales", "vp", "gus@acmekitchen.com", **{UNMATCHABLE: True})
    )
    acme = _organization("org-acme", "Acme Kitchen", "acmekitchen.com")
    return [
        {"organization": acme, "people": acme_people},
        {
            # another company whose name contains `Acme Kitchen`; its founder used to work at Acme
            # (a search of Acme's people finds her: past employers match)
            "organization": _organization("org-acme-supplies", "Acme Kitchen Supplies", "acmesupplies.com"),
            "people": [
                _person(
                    "supplies-1",
                    "Sue",
                    "Pply",
                    "Founder",
                    "founder",
                    "sue@acmesupplies.com",
                    employment_history=[
                        {
                            "organization_id": "org-acme-supplies",
                            "organization_name": "Acme Kitchen Supplies",
                            "title": "Founder",
                            "current": True,
                        },
                        {
                            "organization_id": "org-acme",
                            "organization_name": "Acme Kitchen",
                            "title": "Director of Ops",
                            "current": False,
                        },
                    ],
                ),
            ],
        },
        {
            "organization": _organization("org-beton", "Béton Brut", "betonbrut.de"),
            "people": [
                _person("beton-1", "Lena", "Krause", "Geschäftsführerin", "owner", "lena@betonbrut.de"),
                _person("beton-2", "Max", "Vogel", "Head of E-Commerce", "head", None),
            ],
        },
        {
            "organization": _organization("org-cobalt", "Cobalt Outdoors", "cobaltoutdoors.com"),
            "people": [
                _person("cobalt-1", "Cara", "Blue", "CEO", "c_suite", "cara@cobaltoutdoors.com"),
                _person("cobalt-2", "Dan", "Reed", "VP Amazon", "vp", "dan@cobaltoutdoors.com"),
                _person("cobalt-3", "Eve", "Stone", "Director of Marketing", "director", "eve@cobaltoutdoors.com"),
            ],
        },
    ]


def big_organization(name: str, domain: str, people: int) -> dict[str, Any]:
    """One organization with `people` decision-makers (for paging and per_page caps)."""
    return {
        "organization": _organization(f"org-{org_key(name)}", name, domain),
        "people": [
            _person(f"{org_key(name)}-{index:04d}", f"P{index:04d}", f"Q{index:04d}", "Director", "director", None)
            for index in range(1, people + 1)
        ],
    }


def load_organizations(path: Path) -> list[dict[str, Any]]:
    """`sample_data/apollo/organizations.json`: a list of `{organization, people}`."""
    with Path(path).open(encoding="utf-8") as handle:
        data = json.load(handle)
    assert isinstance(data, list)
    return data


@dataclass(frozen=True)
class Answer:
    """One reply the fake sent (for assertions on statuses and headers)."""

    path: str
    status: int
    headers: dict[str, str]


def _obfuscate(last_name: Any) -> str | None:
    if not isinstance(last_name, str) or not last_name:
        return None
    return f"{last_name[0]}***{last_name[-1]}"


class FakeApollo:
    """The handler for `serve(...)`. Counters are thread-safe; read them after the calls."""

    def __init__(
        self,
        organizations: Iterable[Mapping[str, Any]] | None = None,
        *,
        api_keys: Iterable[str] = ("test-master-key",),
        non_master_keys: Iterable[str] = (),
        minute_limit: int | None = None,
        hour_limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_keys = set(api_keys)
        self.non_master_keys = set(non_master_keys)
        self.minute_limit = minute_limit
        self.hour_limit = hour_limit
        self.clock = clock
        self.credits_consumed = 0
        self.answers: list[Answer] = []
        self.calls: Counter[str] = Counter()
        self.bulk_match_ids: list[str] = []  # every id asked for, in order (repeats included)
        self.fail_organizations: set[str] = set()  # org_key(...) of names whose people search answers 500
        self.fail_person_ids: set[str] = set()  # bulk_match asking for one of these answers 500 (after charging)
        self.slow_person_ids: set[str] = set()  # bulk_match asking for one of these answers after `slow_seconds`
        self.slow_seconds = 2.0
        self.fail_next = 0  # the next N requests answer 500
        self._window_counts: Counter[tuple[str, tuple[int, int]]] = Counter()
        self._lock = threading.Lock()
        self._organizations: list[dict[str, Any]] = []
        self._people: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        for entry in organizations if organizations is not None else default_organizations():
            organization = dict(entry["organization"])
            self._organizations.append(organization)
            for raw in entry.get("people") or []:
                person = dict(raw)
                person.setdefault("organization", organization)
                person.setdefault("organization_id", organization.get("id"))
                self._people.append(person)
                self._by_id.setdefault(str(person["id"]), person)

    # -- test controls -------------------------------------------------------------------------

    def use_quota(self, path: str, count: int, window_seconds: int = 60) -> None:
        """Spend `count` calls of the current minute (or hour: 3600) window of `path` (another
        client did)."""
        with self._lock:
            self._window_counts[(path, self._window(window_seconds))] += count

    def credits_for(self, person_ids: Iterable[str]) -> int:
        """What revealing these people costs (1 credit per email)."""
        return sum(1 for person_id in person_ids if (self._by_id.get(person_id) or {}).get("email"))

    def statuses(self, path: str | None = None) -> list[int]:
        return [answer.status for answer in self.answers if path is None or answer.path == path]

    # -- the handler ---------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        reply = self._handle(request)
        with self._lock:
            self.answers.append(Answer(request.path, reply.status, dict(reply.headers)))
        return reply

    def _window(self, seconds: int = 60) -> tuple[int, int]:
        return seconds, int(self.clock() // seconds)

    def _handle(self, request: Request) -> Reply:
        routes = {(ORGANIZATION_PATH, "GET"), (SEARCH_PATH, "POST"), (BULK_MATCH_PATH, "POST")}
        if (request.path, request.method) not in routes:
            return Reply(404, {"error": "Not found"})
        key = request.header("x-api-key")
        if not key or key not in self.api_keys | self.non_master_keys:
            return Reply(401, "Invalid access credentials.", {"Content-Type": "text/plain"})
        if request.path == SEARCH_PATH and key in self.non_master_keys:
            return Reply(
                403,
                {
                    "error": "api/v1/mixed_people/api_search is not accessible with this api_key",
                    "error_code": "API_INACCESSIBLE",
                },
            )
        with self._lock:
            self.calls[request.path] += 1
            rate_headers: dict[str, str] = {}
            limits = [(self.minute_limit, 60, "minute", "minute"), (self.hour_limit, 3600, "hour", "hourly")]
            for limit, seconds, period, header in limits:
                if limit is None:
                    continue
                window = (request.path, self._window(seconds))
                if self._window_counts[window] >= limit:
                    endpoint = "api/v1" + request.path
                    return Reply(
                        429,
                        {
                            "message": f"The maximum number of api calls allowed for {endpoint} is "
                            f"{limit} times per {period}. Please upgrade your plan from "
                            "https://app.apollo.io/#/settings/plans/upgrade."
                        },
                        {**rate_headers, f"x-rate-limit-{header}": str(limit), f"x-{header}-requests-left": "0"},
                    )
                rate_headers[f"x-rate-limit-{header}"] = str(limit)
                rate_headers[f"x-{header}-requests-left"] = str(limit - self._window_counts[window] - 1)
            for limit, seconds, _, _ in limits:  # counted only when no window refused the call
                if limit is not None:
                    self._window_counts[(request.path, self._window(seconds))] += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return Reply(500, {"error": "Internal server error"}, rate_headers)
        undocumented = set(request.query) - self._documented(request.path)
        if undocumented:
            return Reply(422, {"error": f"Invalid parameters: {', '.join(sorted(undocumented))}"}, rate_headers)
        if request.path == BULK_MATCH_PATH:
            reply = self._bulk_match(request)
        elif request.body:  # the OpenAPI has no request body for these: parameters go in the query
            reply = Reply(422, {"error": "Invalid parameters: send them in the query string"})
        elif request.path == SEARCH_PATH:
            reply = self._search(request.query)
        else:
            reply = self._enrich_organization(request.query)
        reply.headers.update(rate_headers)
        return reply

    @staticmethod
    def _documented(path: str) -> frozenset[str]:
        return {ORGANIZATION_PATH: ORGANIZATION_PARAMS, SEARCH_PATH: SEARCH_PARAMS}.get(path, BULK_MATCH_PARAMS)

    # -- organizations/enrich --------------------------------------------------------------------

    def _enrich_organization(self, query: Mapping[str, list[str]]) -> Reply:
        domain = _first(query, "domain").casefold().removeprefix("www.")
        name = _first(query, "name")
        if not domain and not name and not _first(query, "website") and not _first(query, "linkedin_url"):
            return Reply(422, {"error": "Required parameter 'domain' missing"})
        organization = self._organization_by_domain(domain) if domain else None
        if organization is None and name:
            organization = self._organization_by_name(name)
        if organization is None:
            return Reply(200, {})
        with self._lock:
            self.credits_consumed += 1  # 1 credit per organization found
        return Reply(200, {"organization": copy.deepcopy(organization)})

    def _organization_by_domain(self, domain: str) -> dict[str, Any] | None:
        return next(
            (org for org in self._organizations if str(org.get("primary_domain") or "").casefold() == domain), None
        )

    def _organization_by_name(self, name: str) -> dict[str, Any] | None:
        """Exact (loose key) first, else the first company whose name contains it: Apollo's name
        match finds *a* company, not necessarily the brand's."""
        wanted = org_key(name)
        if not wanted:
            return None
        keys = [(org_key(str(org.get("name") or "")), org) for org in self._organizations]
        exact = next((org for key, org in keys if key == wanted), None)
        return exact or next((org for key, org in keys if wanted in key), None)

    # -- mixed_people/api_search -----------------------------------------------------------------

    def _search(self, query: Mapping[str, list[str]]) -> Reply:
        try:
            page = max(1, int(_first(query, "page") or 1))
            per_page = max(1, min(MAX_PER_PAGE, int(_first(query, "per_page") or 25)))
        except ValueError:
            return Reply(422, {"error": "Invalid parameters"})
        organization_ids = set(query.get("organization_ids[]", []))
        domains = {domain.casefold() for domain in query.get("q_organization_domains_list[]", [])}
        keywords = org_key_words(_first(query, "q_keywords"))
        searched = [org for org in self._organizations if str(org.get("id")) in organization_ids]
        searched += [org for org in self._organizations if str(org.get("primary_domain") or "").casefold() in domains]
        if any(org_key(str(org.get("name") or "")) in self.fail_organizations for org in searched):
            return Reply(500, {"error": "Internal server error"})
        titles = [title.casefold() for title in query.get("person_titles[]", [])]
        seniorities = {value.casefold() for value in query.get("person_seniorities[]", [])}
        found = [
            person
            for person in self._people
            if (not organization_ids or organization_ids & _employer_ids(person))
            and (not domains or domains & _employer_domains(person, self._organizations))
            and (not keywords or _mentions_any(person, keywords))
            and (not titles or any(title in str(person.get("title") or "").casefold() for title in titles))
            and (not seniorities or str(person.get("seniority") or "").casefold() in seniorities)
        ]
        window = [] if page > MAX_PAGES else found[(page - 1) * per_page : page * per_page]
        return Reply(
            200,
            {
                "total_entries": len(found),
                "people": [
                    {
                        "id": person["id"],
                        "first_name": person.get("first_name"),
                        "last_name_obfuscated": _obfuscate(person.get("last_name")),
                        "title": person.get("title"),
                        "last_refreshed_at": "2026-10-01T00:00:00.000+00:00",
                        "has_email": bool(person.get("email")),
                        "has_direct_phone": "Maybe: please request direct dial via people/bulk_match",
                        "organization": {"name": (person.get("organization") or {}).get("name")},
                    }
                    for person in window
                ],
            },
        )

    # -- people/bulk_match -----------------------------------------------------------------------

    def _bulk_match(self, request: Request) -> Reply:
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = None
        details = body.get("details") if isinstance(body, dict) else None
        if not isinstance(details, list) or not details:
            return Reply(
                400,
                {"status": "failed", "error_code": "INVALID_REQUEST", "error_message": "details must be a list"},
            )
        if len(details) > MAX_BULK_MATCH:
            return Reply(
                400,
                {
                    "status": "failed",
                    "error_code": "RECORD_LIMIT_EXCEEDED",
                    "error_message": f"Maximum of {MAX_BULK_MATCH} records allowed per request",
                },
            )
        ids = [str(detail.get("id")) for detail in details if isinstance(detail, dict)]
        matches: list[dict[str, Any] | None] = []
        for detail in details:
            person = self._by_id.get(str(detail.get("id"))) if isinstance(detail, dict) else None
            if person is None or person.get(UNMATCHABLE):
                matches.append(None)
                continue
            revealed = {key: copy.deepcopy(value) for key, value in person.items() if key != UNMATCHABLE}
            matches.append(revealed)
        credits = sum(1 for match in matches if match is not None and match.get("email"))
        with self._lock:  # charged before anything can fail: the client cannot know what it paid
            self.bulk_match_ids.extend(ids)
            self.credits_consumed += credits
        if self.fail_person_ids.intersection(ids):
            return Reply(500, {"error": "Internal server error"})
        found = [match for match in matches if match is not None]
        return Reply(
            200,
            {
                "status": "success",
                "error_code": None,
                "error_message": None,
                "total_requested_enrichments": len(details),
                "unique_enriched_records": len({match["id"] for match in found}),
                "missing_records": len(details) - len(found),
                "credits_consumed": credits,
                "matches": matches,
                "request_id": 1,
            },
            delay_seconds=self.slow_seconds if self.slow_person_ids.intersection(ids) else 0.0,
        )


def _first(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0].strip()


def org_key_words(text: str) -> list[str]:
    """Keywords as Apollo matches them: any word, loosely."""
    return [org_key(word) for word in text.split() if org_key(word)]


def _mentions_any(person: Mapping[str, Any], words: Iterable[str]) -> bool:
    organization = person.get("organization") or {}
    haystack = org_key(
        " ".join(str(v or "") for v in (organization.get("name"), person.get("name"), person.get("title")))
    )
    return any(word in haystack for word in words)


def _employer_ids(person: Mapping[str, Any]) -> set[str]:
    """Current and past employers (Apollo's organization filters match both)."""
    ids = {str(person.get("organization_id"))}
    for job in person.get("employment_history") or []:
        if isinstance(job, Mapping) and job.get("organization_id") is not None:
            ids.add(str(job["organization_id"]))
    return ids


def _employer_domains(person: Mapping[str, Any], organizations: Iterable[Mapping[str, Any]]) -> set[str]:
    ids = _employer_ids(person)
    return {str(org.get("primary_domain") or "").casefold() for org in organizations if str(org.get("id")) in ids}
