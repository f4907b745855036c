"""Turn rows of the sync_* models into the vendors' request bodies. No business logic here:
the models already hold exactly what is sent."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

SMARTLEAD_BATCH_SIZE = 100
HUBSPOT_BATCH_SIZE = 100
CUSTOM_FIELD_PREFIX = "custom_"

# Explicit on purpose: never ignore Smartlead's global block list or unsubscribe list.
SMARTLEAD_LEAD_SETTINGS: dict[str, bool] = {
    "ignore_global_block_list": False,
    "ignore_unsubscribe_list": False,
    "ignore_community_bounce_list": False,
    "ignore_duplicate_leads_in_other_campaign": False,
}

SMARTLEAD_LEAD_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company_name",
    "website",
    "linkedin_profile",
    "company_url",
)


def smartlead_lead(row: dict[str, Any]) -> dict[str, Any]:
    """One `lead_list` item from a sync_smartlead__leads row. Smartlead takes `custom_fields`
    values as strings only (they become merge tags): a missing value is sent as ""."""
    lead: dict[str, Any] = {field: row[field] for field in SMARTLEAD_LEAD_FIELDS}
    lead["custom_fields"] = {
        column.removeprefix(CUSTOM_FIELD_PREFIX): "" if value is None else str(value)
        for column, value in sorted(row.items())
        if column.startswith(CUSTOM_FIELD_PREFIX)
    }
    return lead


def is_unknown(value: Any) -> bool:
    """A value we do not know: HubSpot reads "" (and null) as "clear this property"."""
    return value is None or (isinstance(value, str) and not value.strip())


def hubspot_properties(row: dict[str, Any]) -> dict[str, Any]:
    """The properties to send: every owned property with a known value. An unknown one is left out,
    so what sales typed in HubSpot is kept (a partial upsert by email still needs all the others)."""
    return {column: value for column, value in sorted(row.items()) if not is_unknown(value)}


def untouched_properties(row: dict[str, Any]) -> tuple[str, ...]:
    """Owned properties this row does not send (unknown here), so HubSpot keeps their values."""
    return tuple(column for column, value in sorted(row.items()) if is_unknown(value))


def hubspot_contact_input(row: dict[str, Any]) -> dict[str, Any]:
    """One batch/upsert input from a sync_hubspot__contacts row (every owned, known property)."""
    return {"idProperty": "email", "id": row["email"], "properties": hubspot_properties(row)}


def hubspot_company_input(row: dict[str, Any]) -> dict[str, Any]:
    """One batch/upsert input from a sync_hubspot__companies row, by the unique `outreach_brand_id`."""
    return {"idProperty": "outreach_brand_id", "id": row["outreach_brand_id"], "properties": hubspot_properties(row)}


def hubspot_company_update_input(row: dict[str, Any], object_id: str) -> dict[str, Any]:
    """One batch/update input: the same properties written to the HubSpot company `object_id`
    (HubSpot's own id), for a company created under a brand id that has changed since (its
    `outreach_brand_id` there is rewritten to the brand's id now)."""
    return {"id": str(object_id), "properties": hubspot_properties(row)}


def is_hubspot_update(payload: dict[str, Any]) -> bool:
    """A batch/update input (by HubSpot object id), not a batch/upsert one (by `idProperty`)."""
    return "idProperty" not in payload


def payload_hash(payload: dict[str, Any]) -> str:
    """Stable hash of what would be sent for one record: the diff key of the sync ledger."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.md5(canonical.encode("utf-8")).hexdigest()


def batches(rows: Sequence[T], size: int) -> Iterator[list[T]]:
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
