"""Smartlead lead upload for the reverse ETL: `POST /campaigns/{id}/leads` and the global block list.

Built on the shared HTTP layer (`loaders.common.http`): `api_key` travels as a query parameter
(Smartlead has no header option), so it is never logged and never part of an error message
(errors name the method and path only; urllib3's URL logging is redacted).

`add_leads` sends one batch (at most `batch_size` leads) with the four `ignore_*` settings all
false, and turns Smartlead's batch-level answer into one outcome per lead:

- email in `invalid_emails`     -> failed, permanent ("invalid email");
- email in `unsubscribed_leads` -> refused, permanent ("unsubscribed in Smartlead");
- anything else                 -> accepted (added, or already in the campaign), but only when
  the answer's counts account for the whole batch; otherwise -> unconfirmed.

A 2xx is not a confirmation by itself (`200 {}` confirms nothing). The counts must add up to the
batch: added (the largest of `added_count`, `inserted_count`, `total_leads`, `upload_count`:
sources disagree on which one counts the leads taken in) + `already_added_to_campaign` +
`duplicate_count` + invalid (`invalid_email_count` or the list) + unsubscribed
(`unsubscribed_leads`, a list or a number) + `block_count` + `bounce_count` + `skipped_count` +
`lead_import_stopped_count`. When they fall short, the leads not named one by one cannot be told
apart, so all of them are `unconfirmed`: they may have been added, or not. Counts that cannot be
attributed to a lead (`block_count`, `bounce_count`, ...) stay batch-level in
`AddLeadsResult.raw_counts`. 400/404/422 answers fail the whole batch permanently (returned as
outcomes, not raised), except a refusal of the batch's size (413, a message about a cap, or any
400/422 for a batch above the confirmed 100): that is a configuration error, the rows stay
retryable and `AddLeadsResult.batch_size_refused` is set. 401/403 raise `ApiAuthError`; 429/5xx
are retried (re-adding an email to the same campaign is harmless: Smartlead counts it as
`already_added_to_campaign`), and retries exhausted raise `ApiRequestError`.

Batch size: CONTRACTS.md says "use 100"; NOTES.md says the current docs allow 400 a request,
older docs and clients 100 (unconfirmed, to check with a live key). So the default is 100, and
up to 400 (the largest documented cap) is accepted for an account where 400 was confirmed.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from loaders.common.http import (
    ApiClient,
    ApiRequestError,
    RateLimiter,
    RetryPolicy,
    install_url_redaction,
    require_secret,
)
from loaders.common.settings_env import integer, positive_float
from reverse_etl.payloads import SMARTLEAD_BATCH_SIZE, SMARTLEAD_LEAD_SETTINGS

logger = logging.getLogger(__name__)

__all__ = [
    "API_SOURCE",
    "BATCH_SIZE_ENV",
    "BLOCK_LIST_BATCH_SIZE",
    "CONFIRMED_BATCH_SIZE",
    "DEFAULT_BASE_URL",
    "MAX_BATCH_SIZE",
    "AddLeadsResult",
    "RowOutcome",
    "SmartleadLeadsClient",
    "SmartleadLeadsConfig",
]

API_SOURCE = "smartlead"
DEFAULT_BASE_URL = "https://server.smartlead.ai/api/v1"
DEFAULT_REQUESTS_PER_SECOND = 1.0
CONFIRMED_BATCH_SIZE = 100  # every source accepts it (CONTRACTS.md: "use 100")
MAX_BATCH_SIZE = 400  # the current docs' cap, the largest any source documents (others: 100, 350)
BLOCK_LIST_BATCH_SIZE = 100

API_KEY_ENV = "DESTINATION__SMARTLEAD__API_KEY"
API_KEY_DLT = "destination.smartlead.api_key"
BASE_URL_ENV = "DESTINATION__SMARTLEAD__BASE_URL"
BATCH_SIZE_ENV = "DESTINATION__SMARTLEAD__BATCH_SIZE"
REQUESTS_PER_SECOND_ENV = "DESTINATION__SMARTLEAD__REQUESTS_PER_SECOND"

# statuses that reject the batch itself: retrying the same body cannot help
PERMANENT_BATCH_STATUSES = frozenset({400, 404, 409, 413, 422})
# words of an answer that refuses the number of leads in one request
CAP_MESSAGE = re.compile(r"at most|maximum|\bmax\b|limit|exceed|too (?:many|large)", re.IGNORECASE)

# every count either documented response shape may carry (observed shape and the docs guide's)
COUNT_KEYS = (
    "upload_count",
    "total_leads",
    "already_added_to_campaign",
    "duplicate_count",
    "invalid_email_count",
    "block_count",
    "bounce_count",
    "lead_import_stopped_count",
    "added_count",
    "inserted_count",
    "skipped_count",
)
# counts of leads taken into the campaign (one per documented shape); the largest one is read
ADDED_KEYS = ("added_count", "inserted_count", "total_leads", "upload_count")
# counts of leads not added for a reason (besides the invalid and unsubscribed ones)
NOT_ADDED_KEYS = (
    "already_added_to_campaign",
    "duplicate_count",
    "block_count",
    "bounce_count",
    "skipped_count",
    "lead_import_stopped_count",
)
UNSUBSCRIBED_COUNT = "unsubscribed_leads"  # in raw_counts: how many, whether listed or counted

INVALID_EMAIL_ERROR = "invalid email"
UNSUBSCRIBED_ERROR = "unsubscribed in Smartlead"

Status = Literal["accepted", "failed", "refused", "unconfirmed"]


@dataclass(frozen=True)
class SmartleadLeadsConfig:
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    batch_size: int = SMARTLEAD_BATCH_SIZE
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(
                f"{BATCH_SIZE_ENV} must be between 1 and {MAX_BATCH_SIZE} (documented caps disagree: 100/350/400; "
                f"100 is the safe default), got {self.batch_size}"
            )
        if self.requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {self.requests_per_second}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmartleadLeadsConfig:
        """Settings from the environment (dlt names); the key may also come from .dlt/secrets.toml."""
        env = os.environ if environ is None else environ
        api_key = env.get(API_KEY_ENV) or require_secret(API_SOURCE, API_KEY_ENV, API_KEY_DLT)
        return cls(
            api_key=api_key,
            base_url=(env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"),
            batch_size=integer(BATCH_SIZE_ENV, env.get(BATCH_SIZE_ENV), SMARTLEAD_BATCH_SIZE),
            requests_per_second=positive_float(
                REQUESTS_PER_SECOND_ENV, env.get(REQUESTS_PER_SECOND_ENV), DEFAULT_REQUESTS_PER_SECOND
            ),
        )


@dataclass(frozen=True)
class RowOutcome:
    record_key: str  # the lead's email, as sent
    status: Status
    error: str | None = None
    permanent: bool = False


@dataclass(frozen=True)
class AddLeadsResult:
    outcomes: list[RowOutcome]
    raw_counts: dict[str, int] = field(default_factory=dict)
    lead_limit_exhausted: bool = False
    batch_status: int | None = None  # HTTP status when the whole batch was rejected (400/404/422)
    batch_size_refused: bool = False  # the batch was too large for the server: a configuration error
    accounted: int | None = None  # leads the answer's counts account for (None: batch rejected)

    @property
    def unconfirmed(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "unconfirmed"]

    @property
    def accepted(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "accepted"]

    @property
    def failed(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "failed"]

    @property
    def refused(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "refused"]

    @property
    def block_count(self) -> int:
        """Leads Smartlead held back for its global block list: batch-level, not attributable."""
        return self.raw_counts.get("block_count", 0)

    @property
    def bounce_count(self) -> int:
        """Leads held back for the community bounce list: batch-level, not attributable."""
        return self.raw_counts.get("bounce_count", 0)


class SmartleadLeadsClient:
    """Adds leads to Smartlead campaigns, one batch per call, paced and retried."""

    def __init__(
        self,
        config: SmartleadLeadsConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        install_url_redaction()
        self.config = config
        self._api = ApiClient(
            API_SOURCE,
            config.base_url,
            query_auth={"api_key": config.api_key},
            rate_limiter=RateLimiter(config.requests_per_second, burst=1, sleep=sleep),
            retry=retry or RetryPolicy(),
            session=session,
            sleep=sleep,
        )

    @classmethod
    def from_env(cls, **kwargs: Any) -> SmartleadLeadsClient:
        return cls(SmartleadLeadsConfig.from_env(), **kwargs)

    @property
    def calls(self) -> int:
        """HTTP requests actually sent, retries included."""
        return self._api.calls

    # --- add leads ------------------------------------------------------------------------------

    def add_leads(self, campaign_id: int, leads: Sequence[Mapping[str, Any]]) -> AddLeadsResult:
        """Send one batch of `lead_list` items (see `reverse_etl.payloads.smartlead_lead`)."""
        keys = _validate_batch(leads, self.config.batch_size)
        if not leads:
            return AddLeadsResult(outcomes=[])
        body = {"lead_list": [dict(lead) for lead in leads], "settings": dict(SMARTLEAD_LEAD_SETTINGS)}
        path = f"/campaigns/{int(campaign_id)}/leads"
        try:
            # not idempotent in general, but re-adding an email to the same campaign is harmless
            # (counted as already_added_to_campaign), so 5xx are retried too
            answer = self._api.request_json("POST", path, json=body, idempotent=True)
        except ApiRequestError as error:
            if error.status in PERMANENT_BATCH_STATUSES:
                logger.warning("%s: campaign %s batch of %d rejected: %s", API_SOURCE, campaign_id, len(keys), error)
                if _refuses_batch_size(error.status, len(keys), str(error)):
                    # nothing wrong with the rows: they are sent again once the batch size fits
                    message = (
                        f"Smartlead refused a batch of {len(keys)} leads (HTTP {error.status}), most likely over "
                        f"its per-request cap (documented as 100 or 400): set {BATCH_SIZE_ENV} lower "
                        f"(default {SMARTLEAD_BATCH_SIZE}); {error}"
                    )
                    outcomes = [RowOutcome(key, "failed", message, permanent=False) for key in keys]
                    return AddLeadsResult(outcomes=outcomes, batch_status=error.status, batch_size_refused=True)
                message = str(error)
                outcomes = [RowOutcome(key, "failed", message, permanent=True) for key in keys]
                return AddLeadsResult(outcomes=outcomes, batch_status=error.status)
            raise
        result = parse_add_leads_response(keys, answer)
        logger.info(
            "%s: campaign %s batch of %d: %d accepted, %d failed, %d refused, %d unconfirmed, counts %s",
            API_SOURCE,
            campaign_id,
            len(keys),
            len(result.accepted),
            len(result.failed),
            len(result.refused),
            len(result.unconfirmed),
            result.raw_counts,
        )
        return result

    # --- global block list ----------------------------------------------------------------------

    def add_to_global_block_list(self, entries: Iterable[str]) -> int:
        """Add domains and/or emails to the account-wide block list; returns the entries sent."""
        cleaned: list[str] = []
        seen: set[str] = set()
        for entry in entries:
            if not isinstance(entry, str) or not entry.strip():
                raise ValueError(f"block list entries must be non-empty strings, got {entry!r}")
            value = entry.strip().lower()
            if value not in seen:
                seen.add(value)
                cleaned.append(value)
        for start in range(0, len(cleaned), BLOCK_LIST_BATCH_SIZE):
            chunk = cleaned[start : start + BLOCK_LIST_BATCH_SIZE]
            # adding an entry twice leaves the list unchanged: safe to retry
            response = self._api.request("POST", "/leads/add-domain-block-list", json={"domain_block_list": chunk})
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if isinstance(answer, Mapping) and answer.get("ok") is False:
                message = str(answer.get("message") or answer.get("error") or "ok=false")[:300]
                raise ApiRequestError(API_SOURCE, f"the global block list refused {len(chunk)} entries: {message}")
        if cleaned:
            logger.info("%s: %d entries added to the global block list", API_SOURCE, len(cleaned))
        return len(cleaned)


# --- helpers ----------------------------------------------------------------------------------


def _refuses_batch_size(status: int | None, batch_length: int, message: str) -> bool:
    """Whether a rejected batch was (most likely) rejected for its size, not for its content."""
    if status == 413:
        return True
    if status not in (400, 422):
        return False
    return batch_length > CONFIRMED_BATCH_SIZE or CAP_MESSAGE.search(message) is not None


def _normalise_email(value: str) -> str:
    return value.strip().casefold()


def _validate_batch(leads: Sequence[Mapping[str, Any]], batch_size: int) -> list[str]:
    """The batch's record keys (emails as sent); ValueError before anything is sent."""
    if len(leads) > batch_size:
        raise ValueError(f"{len(leads)} leads in one call, more than batch_size {batch_size}: split them first")
    keys: list[str] = []
    seen: set[str] = set()
    for position, lead in enumerate(leads):
        email = lead.get("email") if isinstance(lead, Mapping) else None
        if not isinstance(email, str) or not email.strip():
            raise ValueError(f"lead at position {position} has no email")
        normalised = _normalise_email(email)
        if normalised in seen:
            raise ValueError(f"duplicate email in one call: {email!r} (position {position})")
        seen.add(normalised)
        keys.append(email)
    return keys


def _emails_in(items: Any) -> set[str]:
    """Emails from a list of strings or of objects carrying `email` / `lead_email`."""
    found: set[str] = set()
    if not isinstance(items, list):
        return found
    for item in items:
        value: Any = item
        if isinstance(item, Mapping):
            value = item.get("email") or item.get("lead_email") or item.get("to_email")
        if isinstance(value, str) and value.strip():
            found.add(_normalise_email(value))
    return found


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def parse_add_leads_response(keys: Sequence[str], answer: Any) -> AddLeadsResult:
    """Per-lead outcomes from Smartlead's batch answer (both documented shapes)."""
    if not isinstance(answer, Mapping):
        raise ApiRequestError(API_SOURCE, f"add leads answered {type(answer).__name__}, expected an object")
    raw_counts: dict[str, int] = {}
    for key in COUNT_KEYS:
        number = _as_int(answer.get(key))
        if number is not None:
            raw_counts[key] = number
    invalid = _emails_in(answer.get("invalid_emails"))
    unsubscribed_value = answer.get("unsubscribed_leads")
    unsubscribed = _emails_in(unsubscribed_value)
    # a list of emails, or (in some answers) only a number
    unsubscribed_count = len(unsubscribed) if isinstance(unsubscribed_value, list) else _as_int(unsubscribed_value)
    if unsubscribed_count is not None:
        raw_counts[UNSUBSCRIBED_COUNT] = unsubscribed_count
    if answer.get("ok") is False:
        message = str(answer.get("message") or answer.get("error") or "Smartlead answered ok=false")[:300]
        outcomes = [RowOutcome(key, "failed", message, permanent=False) for key in keys]
        return AddLeadsResult(outcomes=outcomes, raw_counts=raw_counts)
    accounted = (
        max((raw_counts[key] for key in ADDED_KEYS if key in raw_counts), default=0)
        + sum(raw_counts.get(key, 0) for key in NOT_ADDED_KEYS)
        + max(raw_counts.get("invalid_email_count", 0), len(invalid))
        + (unsubscribed_count or 0)
    )
    shortfall = (
        f"not confirmed by Smartlead: its answer accounts for {accounted} of the {len(keys)} leads sent"
        if accounted < len(keys)
        else None
    )
    outcomes = []
    for key in keys:
        normalised = _normalise_email(key)
        if normalised in invalid:
            outcomes.append(RowOutcome(key, "failed", INVALID_EMAIL_ERROR, permanent=True))
        elif normalised in unsubscribed:
            outcomes.append(RowOutcome(key, "refused", UNSUBSCRIBED_ERROR, permanent=True))
        elif shortfall is not None:  # added or not: the answer cannot tell which of these it left out
            outcomes.append(RowOutcome(key, "unconfirmed", shortfall))
        else:
            outcomes.append(RowOutcome(key, "accepted"))
    return AddLeadsResult(
        outcomes=outcomes,
        raw_counts=raw_counts,
        lead_limit_exhausted=bool(answer.get("is_lead_limit_exhausted")),
        accounted=accounted,
    )
