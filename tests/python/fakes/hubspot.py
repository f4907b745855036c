"""A faithful fake of the HubSpot CRM API (the parts the reverse ETL writes), served by `serve()`.

Behaviour reproduced (CONTRACTS.md section 4, NOTES.md section 4):
- `Authorization: Bearer <token>` on every call: missing or wrong -> 401, category
  `INVALID_AUTHENTICATION`;
- `POST /crm/v3/objects/{contacts,companies}/batch/upsert` with `{"inputs": [...]}`:
  more than 100 inputs, duplicate ids in one batch (emails compared case-insensitively), an
  `idProperty` that is not unique-valued (e.g. `domain` for companies) or a property HubSpot does
  not know (when `known_properties` is set) -> 400 `VALIDATION_ERROR` for the whole batch;
  records kept by their idProperty value, stable ids, `new` true then false on a repeat, every
  property value returned as a string; results come back in **reverse** input order by default
  (HubSpot does not promise any order); as in HubSpot, a property sent as "" (or null) clears
  the stored value, and a property not sent keeps it; every input received is kept in
  `inputs_received` (`properties_sent(object_type, id)` reads it back);
- invalid inputs (an id in `invalid_ids`, or a contact email without "@") -> 207 with `results`
  for the others plus `errors` (each with `context: {"ids": [...]}`) and `numErrors`; ids in
  `transient_ids` the same way with the transient category `RATE_LIMITS`;
- `POST /crm/v3/objects/{contacts,companies}/batch/update` with `{"inputs": [{"id": <object id>,
  "properties": {...}}]}` (or `idProperty` + its value as `id`): the same whole-batch 400s as the
  upsert (over 100 inputs, duplicate ids, no id, unknown properties); an id that matches no
  record, or a unique property value (`outreach_brand_id`, `email`) another record already holds
  -> 207 with `results` for the others and `errors` (`OBJECT_NOT_FOUND` / `VALIDATION_ERROR`, each
  with `context: {"ids": [...]}`); `invalid_ids` / `transient_ids` as for the upsert; a result is
  `{id, properties, createdAt, updatedAt, archived}` (no `new`); a changed unique value re-keys the
  record (`companies` is by `outreach_brand_id`); nothing is ever created;
- `PUT /crm/v4/objects/contacts/{cid}/associations/default/companies/{coid}`: stores the pair once
  (idempotent), 404 when either record does not exist; 200 answers are exactly the
  `BatchResponsePublicDefaultAssociation` shape (`status`, `results` [{from, to, associationSpec}],
  `startedAt`, `completedAt`); faults by contact email: `association_errors_for` answers 200 with
  no result and `errors` + `numErrors` (category `association_error_category`, not stored),
  `association_unconfirmed_for` 200 with `status: COMPLETE` and no results (not stored);
- a rolling window rate limit (`rate_limit` requests per `rate_window_seconds`, default 10 s): 429
  with `{"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}`, with
  a `Retry-After` header only when `send_retry_after` is true;
- `fail_next(n)` answers the next n (authorised) calls with 500.

The clock is injectable (`FakeClock`) so a test can make a recorded sleep advance time.
Read back what was stored with `contacts`, `companies`, `associations`, `calls_by_path`.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.python.fakes.server import Reply, Request, RunningServer, serve
from tests.python.fakes.smartlead import FakeClock

UPSERT_PATH = re.compile(r"^/crm/v3/objects/(?P<object_type>contacts|companies)/batch/upsert/?$")
UPDATE_PATH = re.compile(r"^/crm/v3/objects/(?P<object_type>contacts|companies)/batch/update/?$")
ASSOCIATION_PATH = re.compile(
    r"^/crm/v4/objects/contacts/(?P<contact_id>[^/]+)/associations/default/companies/(?P<company_id>[^/]+)/?$"
)
MAX_INPUTS = 100
CONTACT_TO_COMPANY_TYPE_ID = 279
COMPANY_TO_CONTACT_TYPE_ID = 280

__all__ = ["FakeClock", "FakeHubSpot", "serve_hubspot"]


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def _error(status: int, category: str, message: str, **extra: Any) -> Reply:
    return Reply(
        status,
        {"status": "error", "message": message, "correlationId": "fake-correlation-id", "category": category, **extra},
    )


@dataclass
class FakeHubSpot:
    access_token: str = "pat-na1-fake-token"
    unique_properties: dict[str, set[str]] = field(
        default_factory=lambda: {
            "contacts": {"email", "hs_object_id"},
            "companies": {"outreach_brand_id", "hs_object_id"},
        }
    )
    known_properties: dict[str, set[str]] | None = None  # None: any property is accepted
    invalid_ids: set[str] = field(default_factory=set)  # inputs answered with a 207 error
    transient_ids: set[str] = field(default_factory=set)  # inputs answered with a 207 `RATE_LIMITS` error
    reverse_results: bool = True
    rate_limit: int | None = None  # requests allowed per rolling window; None: unlimited
    rate_window_seconds: float = 10.0
    send_retry_after: bool = False
    policy_name: str = "TEN_SECONDLY_ROLLING"  # or "DAILY", "SECONDLY"
    clock: Callable[[], float] = field(default_factory=FakeClock)
    failures_left: int = 0
    calls: int = 0
    rate_limited: int = 0  # 429s answered
    calls_by_path: Counter[str] = field(default_factory=Counter)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {"contacts": {}, "companies": {}})
    associations: set[tuple[str, str]] = field(default_factory=set)  # (contact id, company id)
    inputs_received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (object type, input)
    association_errors_for: set[str] = field(default_factory=set)  # contact emails: 200 with errors
    association_error_category: str = "VALIDATION_ERROR"
    association_unconfirmed_for: set[str] = field(default_factory=set)  # contact emails: 200 without results
    _next_id: dict[str, int] = field(default_factory=lambda: {"contacts": 1001, "companies": 5001})
    _accepted: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- read back ----------------------------------------------------------------------------

    @property
    def contacts(self) -> dict[str, dict[str, Any]]:
        """Stored contacts by (lower-cased) email: {"id", "properties", "createdAt", "updatedAt"}."""
        return self.records["contacts"]

    @property
    def companies(self) -> dict[str, dict[str, Any]]:
        """Stored companies by their unique id property value."""
        return self.records["companies"]

    def fail_next(self, count: int) -> None:
        self.failures_left = count

    def properties_sent(self, object_type: str, record_id: str) -> list[dict[str, Any]]:
        """The `properties` of every upsert input received for this id, in order."""
        wanted = record_id.strip().lower()
        return [
            dict(item.get("properties") or {})
            for kind, item in self.inputs_received
            if kind == object_type and str(item.get("id", "")).strip().lower() == wanted
        ]

    def typed_by_hand(self, object_type: str, record_id: str, id_property: str, **properties: str) -> None:
        """A record as someone created or edited it in HubSpot's UI (not through this API)."""
        self._store(object_type, {"idProperty": id_property, "id": record_id, "properties": properties})

    # --- the handler --------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            self.calls += 1
            self.calls_by_path[request.path] += 1
            if request.header("Authorization") != f"Bearer {self.access_token}":
                return _error(
                    401,
                    "INVALID_AUTHENTICATION",
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                )
            limited = self._rate_limited()
            if limited is not None:
                return limited
            if self.failures_left > 0:
                self.failures_left -= 1
                return _error(500, "INTERNAL_ERROR", "internal error")
            reply = self._route(request)
            reply.headers.update(self._rate_headers())
            return reply

    def _route(self, request: Request) -> Reply:
        match = UPSERT_PATH.match(request.path)
        if match:
            if request.method != "POST":
                return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed")
            return self._upsert(match.group("object_type"), request)
        match = UPDATE_PATH.match(request.path)
        if match:
            if request.method != "POST":
                return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed")
            return self._update(match.group("object_type"), request)
        match = ASSOCIATION_PATH.match(request.path)
        if match:
            if request.method != "PUT":
                return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed")
            return self._associate(match.group("contact_id"), match.group("company_id"))
        return _error(404, "OBJECT_NOT_FOUND", f"no route for {request.method} {request.path}")

    def _rate_limited(self) -> Reply | None:
        if self.rate_limit is None:
            return None
        now = self.clock()
        while self._accepted and self._accepted[0] <= now - self.rate_window_seconds:
            self._accepted.popleft()
        if len(self._accepted) >= self.rate_limit:
            self.rate_limited += 1
            headers = {
                "X-HubSpot-RateLimit-Max": str(self.rate_limit),
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_window_seconds * 1000)),
            }
            if self.send_retry_after:
                headers["Retry-After"] = str(max(1, math.ceil(self._accepted[0] + self.rate_window_seconds - now)))
            return Reply(
                429,
                {
                    "status": "error",
                    "message": f"You have reached your {self.policy_name.lower()} limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": "fake-correlation-id",
                    "policyName": self.policy_name,
                },
                headers=headers,
            )
        self._accepted.append(now)
        return None

    def _rate_headers(self) -> dict[str, str]:
        if self.rate_limit is None:
            return {}
        return {
            "X-HubSpot-RateLimit-Max": str(self.rate_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.rate_limit - len(self._accepted))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_window_seconds * 1000)),
        }

    # --- endpoints ----------------------------------------------------------------------------

    def _upsert(self, object_type: str, request: Request) -> Reply:
        inputs = _batch_inputs(request)
        if isinstance(inputs, Reply):
            return inputs
        seen: set[str] = set()
        for item in inputs:
            if not isinstance(item, dict) or not item.get("id") or not item.get("idProperty"):
                return _error(400, "VALIDATION_ERROR", "every input needs idProperty and id")
            id_property = str(item["idProperty"])
            if id_property not in self.unique_properties.get(object_type, set()):
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"Property {id_property} is not a unique value property and cannot be used as idProperty",
                )
            key = str(item["id"]).strip().lower()
            if key in seen:
                return _error(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: [{item['id']}]")
            seen.add(key)
            properties = item.get("properties") or {}
            if self.known_properties is not None:
                unknown = sorted(set(properties) - self.known_properties.get(object_type, set()))
                if unknown:
                    return _error(
                        400,
                        "VALIDATION_ERROR",
                        f"Property values were not valid: properties {unknown} do not exist",
                        errors=[
                            {"message": f"Property {name} does not exist", "code": "PROPERTY_DOESNT_EXIST"}
                            for name in unknown
                        ],
                    )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        self.inputs_received += [(object_type, item) for item in inputs]
        for item in inputs:
            record_id = str(item["id"])
            invalid = self._invalid_reason(object_type, str(item["idProperty"]), record_id)
            if invalid is not None:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": invalid,
                        "context": {"ids": [record_id]},
                    }
                )
                continue
            if record_id.lower() in {value.lower() for value in self.transient_ids}:
                errors.append(
                    {
                        "status": "error",
                        "category": "RATE_LIMITS",
                        "message": f"{record_id} was not written: try again later",
                        "context": {"ids": [record_id]},
                    }
                )
                continue
            results.append(self._store(object_type, item))
        if self.reverse_results:
            results.reverse()
        now = _now_iso()
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            payload["errors"] = errors
            payload["numErrors"] = len(errors)
            return Reply(207, payload)
        return Reply(200, payload)

    def _update(self, object_type: str, request: Request) -> Reply:
        inputs = _batch_inputs(request)
        if isinstance(inputs, Reply):
            return inputs
        seen: set[str] = set()
        for item in inputs:
            if not isinstance(item, dict) or not str(item.get("id") or "").strip():
                return _error(400, "VALIDATION_ERROR", "every input needs an id")
            if not isinstance(item.get("properties"), dict):
                return _error(400, "VALIDATION_ERROR", "every input needs properties")
            id_property = str(item.get("idProperty") or "hs_object_id")
            if id_property not in self.unique_properties.get(object_type, set()):
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"Property {id_property} is not a unique value property and cannot be used as idProperty",
                )
            key = str(item["id"]).strip().lower()
            if key in seen:
                return _error(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: [{item['id']}]")
            seen.add(key)
            if self.known_properties is not None:
                unknown = sorted(set(item["properties"]) - self.known_properties.get(object_type, set()))
                if unknown:
                    return _error(
                        400, "VALIDATION_ERROR", f"Property values were not valid: properties {unknown} do not exist"
                    )
        self.inputs_received += [(object_type, item) for item in inputs]
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []

        def error(category: str, message: str, record_id: str) -> None:
            errors.append(
                {"status": "error", "category": category, "message": message, "context": {"ids": [record_id]}}
            )

        for item in inputs:
            record_id = str(item["id"])
            id_property = str(item.get("idProperty") or "hs_object_id")
            found = self._find(object_type, id_property, record_id)
            if record_id.lower() in {value.lower() for value in self.invalid_ids}:
                error("VALIDATION_ERROR", f"Property values were not valid: {record_id} was rejected", record_id)
            elif record_id.lower() in {value.lower() for value in self.transient_ids}:
                error("RATE_LIMITS", f"{record_id} was not written: try again later", record_id)
            elif found is None:
                error(
                    "OBJECT_NOT_FOUND",
                    f"Could not get some {object_type} objects, they may be deleted or not exist",
                    record_id,
                )
            elif (taken := self._unique_value_taken(object_type, found, item["properties"])) is not None:
                error("VALIDATION_ERROR", f"Property values were not valid: {taken}", record_id)
            else:
                results.append(self._apply_update(object_type, found, item["properties"]))
        if self.reverse_results:
            results.reverse()
        now = _now_iso()
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            payload["errors"] = errors
            payload["numErrors"] = len(errors)
            return Reply(207, payload)
        return Reply(200, payload)

    def _store_key_property(self, object_type: str) -> str:
        return "email" if object_type == "contacts" else "outreach_brand_id"

    def _find(self, object_type: str, id_property: str, value: str) -> str | None:
        """The store key of the record whose `id_property` is `value` (HubSpot's id by default)."""
        wanted = value.strip().lower() if id_property == "email" else value.strip()
        for key, record in self.records[object_type].items():
            stored = record["id"] if id_property == "hs_object_id" else record["properties"].get(id_property)
            if stored is not None and (str(stored).lower() if id_property == "email" else str(stored)) == wanted:
                return key
        return None

    def _unique_value_taken(self, object_type: str, key: str, properties: dict[str, Any]) -> str | None:
        """Why a unique property value cannot be set on record `key`: another record holds it."""
        own_id = self.records[object_type][key]["id"]
        for name in sorted(self.unique_properties.get(object_type, set()) - {"hs_object_id"}):
            value = properties.get(name)
            if value in (None, ""):
                continue
            holder = self._find(object_type, name, str(value))
            if holder is not None and self.records[object_type][holder]["id"] != own_id:
                other = self.records[object_type][holder]["id"]
                return f"{value} is already the value of unique property {name} on object {other}"
        return None

    def _apply_update(self, object_type: str, key: str, properties: dict[str, Any]) -> dict[str, Any]:
        store = self.records[object_type]
        record = store[key]
        now = _now_iso()
        record["properties"].update({name: ("" if value is None else str(value)) for name, value in properties.items()})
        record["updatedAt"] = now
        new_key = record["properties"].get(self._store_key_property(object_type)) or key
        if object_type == "contacts":
            new_key = new_key.strip().lower()
        if new_key != key:  # the unique value changed: kept under the new one
            store[new_key] = store.pop(key)
        return {
            "id": record["id"],
            "properties": dict(record["properties"]),
            "createdAt": record["createdAt"],
            "updatedAt": now,
            "archived": False,
        }

    def _invalid_reason(self, object_type: str, id_property: str, record_id: str) -> str | None:
        if record_id.lower() in {value.lower() for value in self.invalid_ids}:
            return f"Property values were not valid: {record_id} was rejected"
        if object_type == "contacts" and id_property == "email" and "@" not in record_id:
            return f"Property values were not valid: Email address {record_id} is invalid (INVALID_EMAIL)"
        return None

    def _store(self, object_type: str, item: dict[str, Any]) -> dict[str, Any]:
        id_property = str(item["idProperty"])
        record_id = str(item["id"])
        store = self.records[object_type]
        key = record_id.strip().lower() if id_property == "email" else record_id
        now = _now_iso()
        properties = {
            name: ("" if value is None else str(value)) for name, value in (item.get("properties") or {}).items()
        }
        properties[id_property] = key if id_property == "email" else record_id
        existing = store.get(key)
        if existing is None:
            hubspot_id = str(self._next_id[object_type])
            self._next_id[object_type] += 1
            existing = {"id": hubspot_id, "properties": {"hs_object_id": hubspot_id}, "createdAt": now}
            store[key] = existing
            new = True
        else:
            new = False
        existing["properties"].update(properties)
        existing["updatedAt"] = now
        return {
            "id": existing["id"],
            "properties": dict(existing["properties"]),
            "createdAt": existing["createdAt"],
            "updatedAt": now,
            "archived": False,
            "new": new,
        }

    def _associate(self, contact_id: str, company_id: str) -> Reply:
        contact_ids = {record["id"] for record in self.contacts.values()}
        company_ids = {record["id"] for record in self.companies.values()}
        if contact_id not in contact_ids:
            return _error(404, "OBJECT_NOT_FOUND", f"contact {contact_id} does not exist")
        if company_id not in company_ids:
            return _error(404, "OBJECT_NOT_FOUND", f"company {company_id} does not exist")
        now = _now_iso()
        email = next(key for key, record in self.contacts.items() if record["id"] == contact_id)
        if email in {value.lower() for value in self.association_errors_for}:
            error = {
                "status": "error",
                "category": self.association_error_category,
                "message": f"Association between contact {contact_id} and company {company_id} could not be created",
                "context": {"fromObjectId": [contact_id], "toObjectId": [company_id]},
                "errors": [],
                "links": {},
            }
            body = {"status": "COMPLETE", "results": [], "errors": [error], "numErrors": 1}
            return Reply(200, {**body, "startedAt": now, "completedAt": now})
        if email in {value.lower() for value in self.association_unconfirmed_for}:
            return Reply(200, {"status": "COMPLETE", "results": [], "startedAt": now, "completedAt": now})
        self.associations.add((contact_id, company_id))
        return Reply(
            200,
            {
                "status": "COMPLETE",
                "startedAt": now,
                "completedAt": now,
                "results": [
                    {
                        "from": {"id": contact_id},
                        "to": {"id": company_id},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": CONTACT_TO_COMPANY_TYPE_ID,
                        },
                    },
                    {
                        "from": {"id": company_id},
                        "to": {"id": contact_id},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": COMPANY_TO_CONTACT_TYPE_ID,
                        },
                    },
                ],
            },
        )


@contextmanager
def serve_hubspot(fake: FakeHubSpot) -> Iterator[RunningServer]:
    """Serve `fake`; the base URL returned is the API root (like https://api.hubapi.com)."""
    with serve(fake) as server:
        yield server


def _batch_inputs(request: Request) -> list[Any] | Reply:
    """A batch endpoint's `inputs`, or the 400 HubSpot answers to a body without usable ones."""
    try:
        body = request.json()
    except ValueError:
        return _error(400, "VALIDATION_ERROR", "Invalid input JSON")
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        return _error(400, "VALIDATION_ERROR", "inputs must be a non-empty list")
    if len(inputs) > MAX_INPUTS:
        return _error(400, "VALIDATION_ERROR", f"Batch input limit of {MAX_INPUTS} exceeded: got {len(inputs)}")
    return inputs
