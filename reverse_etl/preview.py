"""Dry run of the reverse ETL: per destination, what would be added, changed, left alone or
refused (with the reason), written to the warehouse (reverse_etl.sync_preview) and to files."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.common.settings_env import integer
from reverse_etl import hubspot_client, smartlead_client
from reverse_etl.payloads import (
    HUBSPOT_BATCH_SIZE,
    SMARTLEAD_BATCH_SIZE,
    SMARTLEAD_LEAD_SETTINGS,
    batches,
    is_hubspot_update,
)
from reverse_etl.sync import (
    HUBSPOT_ASSOCIATIONS,
    HUBSPOT_CONTACTS,
    SMARTLEAD_BLOCK_LIST,
    SMARTLEAD_LEADS,
    TO_SEND,
    PlannedRecord,
    SyncRecord,
)
from warehouse_layer import Warehouse

PREVIEW_SCHEMA = "reverse_etl"
PREVIEW_TABLE = "sync_preview"
PREVIEW_COLUMNS = (
    "destination",
    "target",
    "record_key",
    "action",
    "refusal_reason",
    "payload_hash",
    "payload_json",
    "previewed_at",
    "untouched_properties",
)


def _batch_size(env_name: str, default: int) -> int:
    """The batch size a production run would use (the clients read the same variables)."""
    return integer(env_name, os.environ.get(env_name), default)


def _requests_for(destination: str, target: str, records: list[SyncRecord]) -> list[dict[str, Any]]:
    """The requests a production run makes for these records (same batching as the clients)."""
    payloads = [record.payload for record in records]
    if destination == HUBSPOT_ASSOCIATIONS:
        return [
            {
                "method": "PUT",
                "path": "/crm/v4/objects/contacts/{contact id}/associations/default/companies/{company id}",
                "body": payload,
            }
            for payload in payloads
        ]
    if destination == SMARTLEAD_LEADS:
        return [
            {
                "method": "POST",
                "path": f"/campaigns/{target}/leads",
                "body": {"lead_list": batch, "settings": dict(SMARTLEAD_LEAD_SETTINGS)},
            }
            for batch in batches(payloads, _batch_size(smartlead_client.BATCH_SIZE_ENV, SMARTLEAD_BATCH_SIZE))
        ]
    if destination == SMARTLEAD_BLOCK_LIST:
        return [
            {
                "method": "POST",
                "path": "/leads/add-domain-block-list",
                "body": {"domain_block_list": [payload["entry"] for payload in batch]},
            }
            for batch in batches(payloads, smartlead_client.BLOCK_LIST_BATCH_SIZE)
        ]
    objects = "contacts" if destination == HUBSPOT_CONTACTS else "companies"
    upserts = [record for record in records if not is_hubspot_update(record.payload)]
    updates = [record for record in records if is_hubspot_update(record.payload)]  # by HubSpot object id
    return _hubspot_requests(objects, "upsert", upserts) + _hubspot_requests(objects, "update", updates)


def _hubspot_requests(objects: str, operation: str, records: list[SyncRecord]) -> list[dict[str, Any]]:
    requests = []
    for batch in batches(records, _batch_size(hubspot_client.BATCH_SIZE_ENV, HUBSPOT_BATCH_SIZE)):
        request: dict[str, Any] = {
            "method": "POST",
            "path": f"/crm/v3/objects/{objects}/batch/{operation}",
            "body": {"inputs": [record.payload for record in batch]},
        }
        # not part of the body: the properties each input leaves as they are in HubSpot
        untouched = {record.record_key: list(record.untouched) for record in batch if record.untouched}
        if untouched:
            request["leaves_untouched"] = untouched
        requests.append(request)
    return requests


def request_bodies(planned: list[PlannedRecord]) -> dict[str, list[dict[str, Any]]]:
    """The exact requests a production run would make for the planned records."""
    groups: dict[tuple[str, str], list[SyncRecord]] = {}
    for item in planned:
        if item.action in TO_SEND:
            groups.setdefault((item.record.destination, item.record.target), []).append(item.record)
    requests: dict[str, list[dict[str, Any]]] = {}
    for (destination, target), records in sorted(groups.items()):
        requests.setdefault(destination, []).extend(_requests_for(destination, target, records))
    return requests


def write_preview(
    warehouse: Warehouse,
    planned: list[PlannedRecord],
    output_dir: Path,
    now: datetime | None = None,
    notes: Sequence[str] = (),
    *,
    production: bool = False,
) -> Path:
    """Replace the preview table and files with the current plan; returns the Markdown file.
    `notes` go at the top of the Markdown (the plan id, volume warnings, what was held back)."""
    previewed_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    rows = [
        (
            p.record.destination,
            p.record.target,
            p.record.record_key,
            p.action,
            p.reason,
            p.record.payload_hash,
            json.dumps(p.record.payload, sort_keys=True, ensure_ascii=False),
            previewed_at,
            ", ".join(p.record.untouched) or None,
        )
        for p in planned
    ]
    warehouse.execute(f"create schema if not exists {PREVIEW_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {PREVIEW_SCHEMA}.{PREVIEW_TABLE} (
            destination varchar, target varchar, record_key varchar, action varchar, refusal_reason varchar,
            payload_hash varchar, payload_json varchar, previewed_at timestamp, untouched_properties varchar
        )
        """
    )
    if not _has_column(warehouse, PREVIEW_TABLE, "untouched_properties"):  # a table from an older version
        warehouse.execute(f"alter table {PREVIEW_SCHEMA}.{PREVIEW_TABLE} add column untouched_properties varchar")
    with warehouse.transaction():  # the previous plan is replaced whole or not at all
        warehouse.execute(f"delete from {PREVIEW_SCHEMA}.{PREVIEW_TABLE}")
        warehouse.insert_rows(f"{PREVIEW_SCHEMA}.{PREVIEW_TABLE}", PREVIEW_COLUMNS, rows)

    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "reverse_etl_preview.json").write_text(
        json.dumps(request_bodies(planned), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    markdown = output_dir / "reverse_etl_preview.md"
    markdown.write_text(render_markdown(planned, previewed_at, notes, production=production))
    return markdown


def _has_column(warehouse: Warehouse, table: str, column: str) -> bool:
    row = warehouse.fetch_one(
        """
        select count(*) from information_schema.columns
        where upper(table_schema) = upper(?) and upper(table_name) = upper(?) and upper(column_name) = upper(?)
        """,
        [PREVIEW_SCHEMA, table, column],
    )
    return bool(row and row[0])


def count_actions(planned: list[PlannedRecord]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for item in planned:
        counts.setdefault(item.record.destination, Counter())[item.action] += 1
    return counts


def render_markdown(
    planned: list[PlannedRecord], previewed_at: datetime, notes: Sequence[str] = (), *, production: bool = False
) -> str:
    if production:
        title = "# Reverse ETL production run"
        intro = "rows to add, change or retry are sent now (outcomes: reverse_etl.sync_ledger)."
    else:
        title = "# Reverse ETL dry run"
        intro = "Nothing was sent: apply this plan with `PIPELINE_MODE=production` to send."
    lines = [title, "", f"Previewed at {previewed_at:%Y-%m-%d %H:%M:%S} UTC. {intro}", ""]
    if notes:
        lines += [*(f"- {note}" for note in notes), ""]
    requests = request_bodies(planned)
    for destination, counts in sorted(count_actions(planned).items()):
        lines += [f"## {destination}", ""]
        lines += [f"- {action}: {count}" for action, count in sorted(counts.items())]
        lines += [f"- requests: {len(requests.get(destination, []))}", ""]
        lines += ["| target | record | action | detail |", "|---|---|---|---|"]
        for item in planned:
            if item.record.destination == destination and item.action != "unchanged":
                detail = item.reason or _describe(item)
                if item.record.untouched:
                    detail += f"; leaves untouched: {', '.join(item.record.untouched)}"
                cells = [item.record.target, item.record.record_key, item.action, detail]
                lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _describe(item: PlannedRecord) -> str:
    payload = item.record.payload
    if item.record.destination == SMARTLEAD_LEADS:
        fields = payload.get("custom_fields", {})
        return (
            f"{payload.get('email')} at {payload.get('company_name')} "
            f"(segment {fields.get('segment')}, score {fields.get('score')})"
        )
    if item.record.destination == SMARTLEAD_BLOCK_LIST:
        return "global block list entry"
    if item.record.destination == HUBSPOT_ASSOCIATIONS:
        return f"{payload.get('contact')} -> company {payload.get('company')}"
    properties = payload.get("properties", {})
    if "outreach_lead_category" not in properties:
        return f"company {properties.get('name')} ({properties.get('domain') or 'no domain'})"
    company = properties.get("company") or "an unknown company"
    return f"{payload.get('id')} at {company} ({properties.get('outreach_lead_category') or 'no category'})"
