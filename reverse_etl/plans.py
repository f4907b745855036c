"""Sync plans (plan/apply, as Terraform does): a dry run records what it would send under a plan
id; a production run sends only the rows of a reviewed plan whose payload is unchanged since, and
refuses a run whose new leads exceed the volume caps.

A plan is kept in the warehouse (reverse_etl.sync_plans, one row per plan, and
reverse_etl.sync_plan_rows, one row per record to send), so it is found from any machine that
reaches the warehouse, on DuckDB and Snowflake alike.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loaders.common.settings_env import ConfigError, integer, positive_float
from reverse_etl.sync import ADD, CHANGED_SINCE_PLAN, SMARTLEAD_BLOCK_LIST, SMARTLEAD_LEADS, TO_SEND, PlannedRecord
from warehouse_layer import Warehouse

PLAN_SCHEMA = "reverse_etl"
PLANS_TABLE = f"{PLAN_SCHEMA}.sync_plans"
PLAN_ROWS_TABLE = f"{PLAN_SCHEMA}.sync_plan_rows"
PLAN_COLUMNS = (
    "plan_id",
    "created_at",
    "created_by",
    "rows_to_send",
    "new_leads",
    "counts_json",
    "times_applied",
    "last_applied_at",
)
PLAN_ROW_COLUMNS = ("plan_id", "destination", "target", "record_key", "action", "payload_hash")

MAX_AGE_ENV = "OUTREACH_PLAN_MAX_AGE_HOURS"
DEFAULT_MAX_AGE_HOURS = 24.0
MAX_NEW_LEADS_PER_CAMPAIGN_ENV = "OUTREACH_MAX_NEW_LEADS_PER_CAMPAIGN"
MAX_NEW_LEADS_TOTAL_ENV = "OUTREACH_MAX_NEW_LEADS_TOTAL"
DEFAULT_MAX_NEW_LEADS_PER_CAMPAIGN = 500
DEFAULT_MAX_NEW_LEADS_TOTAL = 2000
# rows of plans older than this (or than the max age, if longer) are deleted: they can't be applied
KEEP_PLAN_ROWS_DAYS = 30

REFUSED = "PIPELINE_MODE=production refused, nothing was sent"


class PlanRefusedError(RuntimeError):
    """The plan given to a production run cannot be applied; nothing was sent."""


@dataclass(frozen=True)
class StoredPlan:
    plan_id: str
    created_at: datetime
    created_by: str
    times_applied: int
    last_applied_at: datetime | None
    # (destination, record_key) -> (target, payload_hash) of every record the plan sends
    rows: dict[tuple[str, str], tuple[str, str]]


@dataclass(frozen=True)
class VolumeCaps:
    per_campaign: int
    total: int

    @classmethod
    def from_env(cls) -> VolumeCaps:
        caps = cls(
            integer(
                MAX_NEW_LEADS_PER_CAMPAIGN_ENV,
                os.environ.get(MAX_NEW_LEADS_PER_CAMPAIGN_ENV),
                DEFAULT_MAX_NEW_LEADS_PER_CAMPAIGN,
            ),
            integer(MAX_NEW_LEADS_TOTAL_ENV, os.environ.get(MAX_NEW_LEADS_TOTAL_ENV), DEFAULT_MAX_NEW_LEADS_TOTAL),
        )
        for name, value in [(MAX_NEW_LEADS_PER_CAMPAIGN_ENV, caps.per_campaign), (MAX_NEW_LEADS_TOTAL_ENV, caps.total)]:
            if value < 0:
                raise ConfigError(f"{name} must not be negative, got {value}")
        return caps


def max_age_hours() -> float:
    return positive_float(MAX_AGE_ENV, os.environ.get(MAX_AGE_ENV), DEFAULT_MAX_AGE_HOURS)


def ensure_plan_tables(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {PLAN_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {PLANS_TABLE} (
            plan_id varchar not null primary key,
            created_at timestamp not null,
            created_by varchar,
            rows_to_send integer not null,
            new_leads integer not null,
            counts_json varchar,
            times_applied integer not null,
            last_applied_at timestamp
        )
        """
    )
    warehouse.execute(
        f"""
        create table if not exists {PLAN_ROWS_TABLE} (
            plan_id varchar not null,
            destination varchar not null,
            target varchar,
            record_key varchar not null,
            action varchar not null,
            payload_hash varchar not null
        )
        """
    )


def record_plan(warehouse: Warehouse, planned: Sequence[PlannedRecord], now: datetime) -> str:
    """Store the records this dry run would send; returns the new plan's id."""
    ensure_plan_tables(warehouse)
    plan_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    to_send = [item for item in planned if item.action in TO_SEND]
    counts: dict[str, Counter[str]] = {}
    for item in planned:
        counts.setdefault(item.record.destination, Counter())[item.action] += 1
    header = (
        plan_id,
        now,
        _who(),
        len(to_send),
        sum(new_leads(planned).values()),
        json.dumps({name: dict(sorted(found.items())) for name, found in sorted(counts.items())}),
        0,
        None,
    )
    rows = [
        (
            plan_id,
            item.record.destination,
            item.record.target,
            item.record.record_key,
            item.action,
            item.record.payload_hash,
        )
        for item in to_send
    ]
    kept_after = now - max(timedelta(days=KEEP_PLAN_ROWS_DAYS), timedelta(hours=max_age_hours()))
    with warehouse.transaction():  # a plan is there whole or not at all
        warehouse.execute(
            f"delete from {PLAN_ROWS_TABLE} where plan_id in (select plan_id from {PLANS_TABLE} where created_at < ?)",
            [kept_after],
        )
        warehouse.insert_rows(PLANS_TABLE, PLAN_COLUMNS, [header])
        warehouse.insert_rows(PLAN_ROWS_TABLE, PLAN_ROW_COLUMNS, rows)
    return plan_id


def load_plan(warehouse: Warehouse, plan_id: str, now: datetime) -> StoredPlan:
    """The plan to apply; refused when unknown or older than OUTREACH_PLAN_MAX_AGE_HOURS."""
    ensure_plan_tables(warehouse)
    found = warehouse.fetch_dicts(f"select {', '.join(PLAN_COLUMNS)} from {PLANS_TABLE} where plan_id = ?", [plan_id])
    if not found:
        raise PlanRefusedError(
            f"{REFUSED}: no plan {plan_id} in this warehouse; run `outreach sync` (dry run), review its preview "
            "and pass the plan id it prints"
        )
    header = found[0]
    limit = max_age_hours()
    age = now - header["created_at"]
    if age > timedelta(hours=limit):
        raise PlanRefusedError(
            f"{REFUSED}: plan {plan_id} is {age.total_seconds() / 3600:.1f} h old, over {MAX_AGE_ENV}={limit:g}; "
            "run `outreach sync` (dry run) again, review it and pass the new plan id"
        )
    rows = warehouse.execute(
        f"select destination, record_key, target, payload_hash from {PLAN_ROWS_TABLE} where plan_id = ?", [plan_id]
    )
    return StoredPlan(
        plan_id,
        header["created_at"],
        header["created_by"] or "",
        int(header["times_applied"]),
        header["last_applied_at"],
        {(str(row[0]), str(row[1])): (str(row[2]), str(row[3])) for row in rows},
    )


def mark_applied(warehouse: Warehouse, plan: StoredPlan, now: datetime) -> None:
    warehouse.execute(
        f"update {PLANS_TABLE} set times_applied = times_applied + 1, last_applied_at = ? where plan_id = ?",
        [now, plan.plan_id],
    )


def restrict_to_plan(planned: Sequence[PlannedRecord], plan: StoredPlan) -> list[PlannedRecord]:
    """The planned records, those to send now kept only when the plan has them with the same target
    and payload hash; the others become CHANGED_SINCE_PLAN (reported, not sent). Refusals stand
    whatever the plan says, and block-list entries go out anyway: they only hold sends back."""
    restricted = []
    for item in planned:
        record = item.record
        if item.action not in TO_SEND or record.destination == SMARTLEAD_BLOCK_LIST:
            restricted.append(item)
            continue
        in_plan = plan.rows.get((record.destination, record.record_key))
        if in_plan is None:
            reason = f"not in plan {plan.plan_id}"
        elif in_plan[0] != record.target:
            reason = f"target {in_plan[0]} in plan {plan.plan_id}, now {record.target}"
        elif in_plan[1] != record.payload_hash:
            reason = f"payload changed since plan {plan.plan_id}"
        else:
            restricted.append(item)
            continue
        restricted.append(PlannedRecord(record, CHANGED_SINCE_PLAN, reason))
    return restricted


def new_leads(planned: Sequence[PlannedRecord]) -> Counter[str]:
    """New Smartlead leads per campaign: what a mistaken segment or mapping would flood."""
    return Counter(
        item.record.target for item in planned if item.record.destination == SMARTLEAD_LEADS and item.action == ADD
    )


def volume_problems(planned: Sequence[PlannedRecord], caps: VolumeCaps) -> list[str]:
    """Each cap the new leads exceed, with the setting that raises it."""
    per_campaign = new_leads(planned)
    cap = f"{MAX_NEW_LEADS_PER_CAMPAIGN_ENV}={caps.per_campaign}"
    problems = [
        f"{count} new leads for Smartlead campaign {campaign} exceed {cap}"
        for campaign, count in sorted(per_campaign.items())
        if count > caps.per_campaign
    ]
    total = sum(per_campaign.values())
    if total > caps.total:
        problems.append(f"{total} new leads in all exceed {MAX_NEW_LEADS_TOTAL_ENV}={caps.total}")
    return problems


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers: the host still says where
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
