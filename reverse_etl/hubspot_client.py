"""`HubSpotClient`: batch upserts of contacts and companies, and contact->company associations.

CONTRACTS.md section 4 / NOTES.md section 4, over the shared HTTP layer (`loaders.common.http`):

- `POST /crm/v3/objects/contacts/batch/upsert` and `.../companies/batch/upsert`, at most 100
  inputs, no duplicate ids in one batch (both refused here, before anything is sent);
- a 200 maps every input to its HubSpot id and `new`; a **207** is a 2xx whose `errors` name the
  failed inputs (read here, row by row); a 400 (e.g. `VALIDATION_ERROR`) fails the whole batch
  for good (`permanent=True`); 429/5xx are retried by the shared layer, and if the retries run out
  the rows fail with `permanent=False` (send them again on a later run);
- HubSpot's 429 may come without `Retry-After`: when its body says
  `policyName: TEN_SECONDLY_ROLLING` the client waits the whole 10 s window (`SECONDLY`: 1 s),
  otherwise the shared exponential backoff applies;
- a property with an empty or null value is never sent (HubSpot reads "" as "clear it"): it is
  left out of the input, so HubSpot keeps what is stored there;
- `POST /crm/v3/objects/companies/batch/update` (inputs `{id: <HubSpot object id>, properties}`,
  at most 100): a company HubSpot knows by its object id, e.g. one created under a brand id that
  has changed since (its `outreach_brand_id` is rewritten); answered like the upsert (200, or 207
  with `errors` naming the failed ids), results matched by object id;
- `PUT /crm/v4/objects/contacts/{id}/associations/default/companies/{id}` (idempotent): its 200
  (`BatchResponsePublicDefaultAssociation`) may carry `errors`/`numErrors`, so the body is read:
  errors, a status other than COMPLETE, or no result for this contact -> company pair raise
  `AssociationNotConfirmed` (permanent for a non-transient error category);
- auth header `Authorization: Bearer <token>`; the token never appears in errors or logs.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from loaders.common.http import (
    ApiAuthError,
    ApiClient,
    ApiRequestError,
    MissingSecretError,
    RateLimiter,
    RetryPolicy,
    require_secret,
)
from loaders.common.settings_env import integer, positive_float
from reverse_etl.payloads import HUBSPOT_BATCH_SIZE, is_unknown

logger = logging.getLogger(__name__)

SOURCE = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
MAX_BATCH_SIZE = 100
DEFAULT_BATCH_SIZE = HUBSPOT_BATCH_SIZE
DEFAULT_REQUESTS_PER_SECOND = 9.0  # Free/Starter: 100 requests per rolling 10 s, with a margin
DEFAULT_COMPANY_ID_PROPERTY = "outreach_brand_id"
CONTACT_ID_PROPERTY = "email"

ACCESS_TOKEN_ENV = "DESTINATION__HUBSPOT__ACCESS_TOKEN"
ACCESS_TOKEN_DLT = "destination.hubspot.access_token"
BASE_URL_ENV = "DESTINATION__HUBSPOT__BASE_URL"
BATCH_SIZE_ENV = "DESTINATION__HUBSPOT__BATCH_SIZE"
REQUESTS_PER_SECOND_ENV = "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND"

CONTACTS_UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
COMPANIES_UPSERT_PATH = "/crm/v3/objects/companies/batch/upsert"
COMPANIES_UPDATE_PATH = "/crm/v3/objects/companies/batch/update"
ASSOCIATION_PATH = "/crm/v4/objects/contacts/{contact_id}/associations/default/companies/{company_id}"

# Seconds to wait on a 429 without Retry-After, by HubSpot's `policyName` (the official Node SDK
# waits 10 s x attempt for the ten-secondly window). A rolling window is clear once it has passed.
POLICY_WAIT_SECONDS: dict[str, float] = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}

# Upserts by a unique property are idempotent, so 5xx are retried as well as 429. Without a
# Retry-After or a known policyName, backoff 2, 4, 8, 16 s (+-25%) outlasts a 10 s window.
HUBSPOT_RETRY_POLICY = RetryPolicy(max_attempts=5, backoff_base_seconds=2.0, backoff_max_seconds=60.0)

# Per-input error categories (207) that may pass on a later try; any other category is permanent.
TRANSIENT_ERROR_CATEGORIES = frozenset({"RATE_LIMIT", "RATE_LIMITS", "INTERNAL_ERROR", "LOCKED", "TIMEOUT"})


@dataclass(frozen=True)
class HubSpotConfig:
    """HubSpot connection settings; `access_token` is excluded from repr so it never lands in a log."""

    access_token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    batch_size: int = DEFAULT_BATCH_SIZE
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    company_id_property: str = DEFAULT_COMPANY_ID_PROPERTY

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"HubSpot batch_size must be between 1 and {MAX_BATCH_SIZE}, got {self.batch_size}")
        if self.requests_per_second <= 0:
            raise ValueError(f"HubSpot requests_per_second must be positive, got {self.requests_per_second}")
        if not self.company_id_property:
            raise ValueError("HubSpot company_id_property must be a (unique) property name")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubSpotConfig:
        """Read DESTINATION__HUBSPOT__* (the token may also be `destination.hubspot.access_token`
        in dlt secrets). Raises `MissingSecretError` (naming the variable, never a value)."""
        env = os.environ if environ is None else environ
        if environ is None:
            token = require_secret(SOURCE, ACCESS_TOKEN_ENV, ACCESS_TOKEN_DLT)
        else:  # an explicit mapping (tests): no fallback to the process environment
            token = environ.get(ACCESS_TOKEN_ENV) or ""
            if not token:
                raise MissingSecretError(SOURCE, f"no credential configured: set {ACCESS_TOKEN_ENV}")
        return cls(
            access_token=token,
            base_url=(env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/"),
            batch_size=integer(BATCH_SIZE_ENV, env.get(BATCH_SIZE_ENV), DEFAULT_BATCH_SIZE),
            requests_per_second=positive_float(
                REQUESTS_PER_SECOND_ENV, env.get(REQUESTS_PER_SECOND_ENV), DEFAULT_REQUESTS_PER_SECOND
            ),
        )


class AssociationNotConfirmed(Exception):
    """HubSpot answered an association with a 2xx that does not confirm it: errors in its body,
    or no result for the pair. `permanent`: the same request would fail the same way."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class RowResult:
    """What happened to one input. `permanent` failures will fail again with the same payload;
    the others (rate limit or server errors that outlasted the retries) may succeed later."""

    record_key: str
    ok: bool
    hubspot_id: str | None = None
    is_new: bool | None = None
    error: str | None = None
    permanent: bool = False


def _key(value: Any) -> str:
    """How HubSpot compares id values: emails (and our ids) case-insensitively."""
    return str(value).strip().casefold()


def _confirm_association(body: Any, contact_id: str, company_id: str, status: int) -> None:
    """Raise unless a `BatchResponsePublicDefaultAssociation` confirms contact -> company."""
    pair = f"contact {contact_id} -> company {company_id}"
    if not isinstance(body, dict):
        raise AssociationNotConfirmed(f"not confirmed by HubSpot: {pair} answered {status} without a JSON object")
    errors = [error for error in body.get("errors") or [] if isinstance(error, dict)]
    if errors or (_as_count(body.get("numErrors")) or 0) > 0:
        messages = []
        for error in errors:
            category = str(error.get("category") or "")
            message = str(error.get("message") or "error")
            messages.append(f"{category}: {message}" if category else message)
        # an error HubSpot does not describe is not known to pass on a retry either
        permanent = bool(errors) and all(
            str(error.get("category") or "").upper() not in TRANSIENT_ERROR_CATEGORIES for error in errors
        )
        detail = "; ".join(messages) or f"numErrors {body.get('numErrors')}"
        raise AssociationNotConfirmed(f"HubSpot refused {pair}: {detail}", permanent=permanent)
    if str(body.get("status") or "").upper() != "COMPLETE":
        raise AssociationNotConfirmed(f"not confirmed by HubSpot: {pair} answered status {body.get('status')!r}")
    for result in body.get("results") or []:
        if not isinstance(result, dict):
            continue
        source, target = result.get("from"), result.get("to")
        if (
            isinstance(source, dict)
            and isinstance(target, dict)
            and str(source.get("id")) == contact_id
            and str(target.get("id")) == company_id
        ):
            return
    raise AssociationNotConfirmed(f"not confirmed by HubSpot: no result for {pair} in its answer")


def _as_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int)]
    if isinstance(value, int):
        return [str(value)]
    return []


class HubSpotClient:
    """Batch upserts and associations against HubSpot; `sleep` is injectable so tests never wait
    (it paces the rate limiter and the retry waits)."""

    def __init__(
        self,
        config: HubSpotConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.http = ApiClient(
            SOURCE,
            config.base_url,
            headers={"Authorization": f"Bearer {config.access_token}", "Content-Type": "application/json"},
            rate_limiter=RateLimiter(config.requests_per_second, sleep=sleep),
            retry=retry or HUBSPOT_RETRY_POLICY,
            session=session,
            sleep=sleep,
            rng=rng,
        )
        self._last_error_body: dict[str, Any] | None = None
        self.http.session.hooks["response"].append(self._on_response)

    @classmethod
    def from_env(cls, **kwargs: Any) -> HubSpotClient:
        return cls(HubSpotConfig.from_env(), **kwargs)

    @property
    def calls(self) -> int:
        """HTTP requests actually sent (retries included)."""
        return self.http.calls

    # --- public API ---------------------------------------------------------------------------

    def upsert_contacts(self, inputs: Sequence[Mapping[str, Any]]) -> list[RowResult]:
        """Upsert one batch (<= batch_size) of contacts by `email`; one `RowResult` per input, in order."""
        return self._upsert(CONTACTS_UPSERT_PATH, inputs, CONTACT_ID_PROPERTY)

    def upsert_companies(self, inputs: Sequence[Mapping[str, Any]]) -> list[RowResult]:
        """Upsert one batch of companies by `config.company_id_property` (a custom unique property:
        `domain` is not unique in HubSpot)."""
        return self._upsert(COMPANIES_UPSERT_PATH, inputs, self.config.company_id_property)

    def update_companies(self, inputs: Sequence[Mapping[str, Any]]) -> list[RowResult]:
        """Update one batch of companies by HubSpot object id (`{"id": <object id>, "properties":
        {...}}`); one `RowResult` per input, in order, whose `record_key` is the object id."""
        for position, item in enumerate(inputs):
            if "idProperty" in item:
                raise ValueError(f"input {position} has an idProperty: companies are updated by object id here")
        return self._send(COMPANIES_UPDATE_PATH, inputs, None)

    def associate_contact_company(self, contact_id: str, company_id: str) -> None:
        """Default (unlabeled) contact -> company association; idempotent, so safe to repeat.
        Returns only when HubSpot's answer confirms it; raises `ApiAuthError` / `ApiRequestError`
        when the request fails, `AssociationNotConfirmed` when a 2xx does not confirm it."""
        for name, value in (("contact_id", contact_id), ("company_id", company_id)):
            if not str(value).strip() or "/" in str(value):
                raise ValueError(f"{name} must be a HubSpot object id, got {value!r}")
        path = ASSOCIATION_PATH.format(contact_id=contact_id, company_id=company_id)
        response = self.http.request("PUT", path, idempotent=True)
        try:
            body = response.json()
        except ValueError:
            body = None
        _confirm_association(body, str(contact_id), str(company_id), response.status_code)

    # --- internals ----------------------------------------------------------------------------

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Response hook: remember the body of an error answer (the shared layer raises without
        it), and give a 429 without Retry-After the wait its `policyName` calls for."""
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        self._last_error_body = body if isinstance(body, dict) else None
        if response.status_code == 429 and not response.headers.get("Retry-After") and isinstance(body, dict):
            wait = POLICY_WAIT_SECONDS.get(str(body.get("policyName") or "").upper())
            if wait is not None:
                response.headers["Retry-After"] = f"{wait:g}"

    def _prepare(self, inputs: Sequence[Mapping[str, Any]], id_property: str | None) -> list[dict[str, Any]]:
        """Checked request inputs; `id_property` None: by HubSpot object id (batch/update)."""
        if len(inputs) > self.config.batch_size:
            raise ValueError(f"HubSpot batch upsert takes at most {self.config.batch_size} inputs, got {len(inputs)}")
        prepared: list[dict[str, Any]] = []
        seen: set[str] = set()
        for position, item in enumerate(inputs):
            record_id = item.get("id")
            if record_id is None or not str(record_id).strip():
                raise ValueError(f"input {position} has no `id` (the {id_property or 'object id'} value)")
            if id_property is not None:
                given_property = item.get("idProperty", id_property)
                if given_property != id_property:
                    raise ValueError(f"input {position} has idProperty {given_property!r}, expected {id_property!r}")
            key = _key(record_id)
            if key in seen:
                raise ValueError(f"duplicate id {record_id!r} in one HubSpot batch")
            seen.add(key)
            body = {**item, "id": str(record_id)}
            if id_property is not None:
                body["idProperty"] = id_property
            # never an empty or null value: HubSpot would clear what someone typed there
            properties = item.get("properties") or {}
            body["properties"] = {name: value for name, value in properties.items() if not is_unknown(value)}
            body.setdefault("objectWriteTraceId", str(record_id))
            prepared.append(body)
        return prepared

    def _upsert(self, path: str, inputs: Sequence[Mapping[str, Any]], id_property: str) -> list[RowResult]:
        return self._send(path, inputs, id_property)

    def _send(self, path: str, inputs: Sequence[Mapping[str, Any]], id_property: str | None) -> list[RowResult]:
        prepared = self._prepare(inputs, id_property)
        if not prepared:
            return []
        keys = [body["id"] for body in prepared]
        self._last_error_body = None
        try:
            response = self.http.request("POST", path, json={"inputs": prepared}, idempotent=True)
        except ApiAuthError:
            raise
        except ApiRequestError as error:
            return self._batch_failed(keys, error)
        try:
            payload = response.json()
        except ValueError:
            message = f"POST {path} returned {response.status_code} with a body that is not JSON"
            return [RowResult(key, ok=False, error=message, permanent=False) for key in keys]
        if not isinstance(payload, dict):
            payload = {}
        return self._row_results(prepared, id_property, payload)

    def _batch_failed(self, keys: list[str], error: ApiRequestError) -> list[RowResult]:
        """The whole batch failed: for good on a 4xx (the same payload fails again), for now on
        429/5xx/connection errors that outlasted the retries."""
        status = error.status
        permanent = status is not None and 400 <= status < 500 and status not in (408, 423, 429)
        body = self._last_error_body or {}
        if permanent and body.get("message"):
            category = body.get("category") or body.get("errorType") or f"HTTP {status}"
            message = f"{category}: {body['message']}"
        else:
            message = str(error)
        logger.warning(
            "%s: batch of %d rows failed (%s): %s",
            SOURCE,
            len(keys),
            "permanent" if permanent else "retryable",
            message,
        )
        return [RowResult(key, ok=False, error=message, permanent=permanent) for key in keys]

    def _row_results(
        self, prepared: list[dict[str, Any]], id_property: str | None, payload: dict[str, Any]
    ) -> list[RowResult]:
        by_key = {_key(body["id"]): body["id"] for body in prepared}
        # errors (207): each names its inputs in `context` (ids or objectWriteTraceIds), or at worst
        # in the message
        failed: dict[str, tuple[str, bool]] = {}
        unattributed: list[str] = []
        for error in payload.get("errors") or []:
            if not isinstance(error, dict):
                continue
            category = str(error.get("category") or "")
            message = str(error.get("message") or category or "error")
            if category:
                message = f"{category}: {message}"
            permanent = category.upper() not in TRANSIENT_ERROR_CATEGORIES
            named: set[str] = set()
            context = error.get("context")
            if isinstance(context, dict):
                for value in context.values():
                    named.update(k for k in map(_key, _strings_in(value)) if k in by_key)
            if not named:
                text = message.casefold()
                named.update(k for k in by_key if k in text)
            if not named:
                unattributed.append(message)
            for key in named:
                failed.setdefault(key, (message, permanent))
        # results: matched by the idProperty value HubSpot echoes back (order is not guaranteed)
        succeeded: dict[str, dict[str, Any]] = {}
        unmatched: list[dict[str, Any]] = []
        for result in payload.get("results") or []:
            if not isinstance(result, dict):
                continue
            properties = result.get("properties") or {}
            if id_property is None:  # by object id: HubSpot's id is the input's
                value = result.get("id")
            else:
                value = properties.get(id_property) if isinstance(properties, dict) else None
            trace = result.get("objectWriteTraceId")
            echoed = _key(value) if value is not None else (_key(trace) if trace is not None else None)
            if echoed is not None and echoed in by_key:
                succeeded[echoed] = result
            else:
                unmatched.append(result)
        pending = [k for k in by_key if k not in succeeded and k not in failed]
        if unmatched and len(unmatched) == len(pending) and not payload.get("errors"):
            # a 200 that does not echo the id property: the only case where order can be trusted
            succeeded.update(zip(pending, unmatched, strict=True))
        results: list[RowResult] = []
        for body in prepared:
            key = _key(body["id"])
            record_key = body["id"]
            if key in failed:
                message, permanent = failed[key]
                results.append(RowResult(record_key, ok=False, error=message, permanent=permanent))
            elif key in succeeded:
                result = succeeded[key]
                new = result.get("new")
                results.append(
                    RowResult(
                        record_key,
                        ok=True,
                        hubspot_id=str(result["id"]) if result.get("id") is not None else None,
                        is_new=bool(new) if new is not None else None,
                    )
                )
            else:
                reason = "; ".join(unattributed) or "missing from HubSpot's answer"
                results.append(
                    RowResult(record_key, ok=False, error=f"not confirmed by HubSpot: {reason}", permanent=False)
                )
        return results
