"""Diff-based reverse ETL: plan what changed against the ledger, refuse anything suppressed,
and (only with PIPELINE_MODE=production) send it in batches, recording every row's outcome."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from loaders.common.http import ApiAuthError, ApiError
from reverse_etl import ledger
from reverse_etl.brand_ids import company_object_ids
from reverse_etl.payloads import (
    hubspot_company_input,
    hubspot_company_update_input,
    hubspot_contact_input,
    payload_hash,
    smartlead_lead,
    untouched_properties,
)
from reverse_etl.suppression_guard import GuardSubject, SuppressionIndex, load_suppression_index, recheck
from warehouse_layer import Warehouse

SMARTLEAD_LEADS = "smartlead_leads"
SMARTLEAD_BLOCK_LIST = "smartlead_block_list"
HUBSPOT_CONTACTS = "hubspot_contacts"
HUBSPOT_COMPANIES = "hubspot_companies"
HUBSPOT_ASSOCIATIONS = "hubspot_associations"  # contact -> company, after both are upserted

# suppression reasons mirrored to Smartlead's global block list (an address emailed before is
# not blocked: its running sequence must be able to finish)
BLOCK_LIST_REASONS = (
    "existing_client",
    "fired_client",
    "lost_client",
    "do_not_contact",
    "complained",
    "unsubscribed",
    "bounced_hard",
)

ADD, CHANGE, RETRY, UNCHANGED, REFUSE, SKIP_FAILED = "add", "change", "retry", "unchanged", "refuse", "skip_failed"
HOLD_UNCONFIRMED = "unconfirmed"  # answered without confirmation earlier: held, not sent again
TO_SEND = (ADD, CHANGE, RETRY)
# to send, but not as the reviewed plan has it (new, or another payload or target): held back
CHANGED_SINCE_PLAN = "changed_since_plan"

# set to 1 to send rows held as `unconfirmed` once more (after checking the campaign): re-adding an
# email to the same Smartlead campaign only counts it as already added
RESEND_UNCONFIRMED_ENV = "OUTREACH_RESEND_UNCONFIRMED"
HOLD_REASON = (
    f"answered without confirmation earlier: check the destination, then send again with {RESEND_UNCONFIRMED_ENV}=1"
)

# the order destinations are sent in: the block list first, so Smartlead itself holds back
# anything that slips past the checks here; associations last, once both sides have their ids
SEND_ORDER = (SMARTLEAD_BLOCK_LIST, SMARTLEAD_LEADS, HUBSPOT_CONTACTS, HUBSPOT_COMPANIES, HUBSPOT_ASSOCIATIONS)


class DestinationConfigError(Exception):
    """A destination refused a batch because of how this run is configured (e.g. a batch size
    over the vendor's cap): every later batch would fail the same way, so the destination's
    remaining batches wait for the next run, and the rows stay retryable."""


@dataclass(frozen=True)
class SyncRecord:
    destination: str
    target: str  # campaign id, "contacts", "global"
    record_key: str
    payload: dict[str, Any]
    refusal: str | None = None
    subject: GuardSubject | None = None  # checked against suppression again right before sending
    untouched: tuple[str, ...] = ()  # HubSpot properties not sent (unknown here): kept as they are there

    @property
    def payload_hash(self) -> str:
        return payload_hash(self.payload)


@dataclass(frozen=True)
class PlannedRecord:
    record: SyncRecord
    action: str
    reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    record_key: str
    status: str  # ledger.SENT | ledger.FAILED | ledger.REFUSED | ledger.UNCONFIRMED
    error: str | None = None
    permanent: bool = False
    remote_id: str | None = None  # the destination's own id (HubSpot object id)


@dataclass(frozen=True)
class BatchResult:
    outcomes: list[Outcome]
    vendor_counts: dict[str, int] = field(default_factory=dict)  # counts the vendor gives per batch only
    stop: str | None = None  # why this destination must send nothing more this run (e.g. a lead limit)


class Destination(Protocol):
    name: str
    batch_size: int

    @property
    def calls(self) -> int:
        """HTTP requests made so far (retries included)."""
        ...

    def send(self, target: str, records: Sequence[SyncRecord]) -> BatchResult:
        """One batch; raises `DestinationConfigError` when the batch cannot fit this configuration."""
        ...


def plan(
    records: Sequence[SyncRecord], entries: dict[str, ledger.LedgerEntry], *, resend_unconfirmed: bool = False
) -> list[PlannedRecord]:
    planned = []
    for record in records:
        entry = entries.get(record.record_key)
        if record.refusal is not None:
            planned.append(PlannedRecord(record, REFUSE, record.refusal))
        elif entry is None:
            planned.append(PlannedRecord(record, ADD))
        elif entry.status == ledger.UNCONFIRMED and not resend_unconfirmed:
            # may already be in the campaign: never sent twice by accident, even when the row changed
            planned.append(PlannedRecord(record, HOLD_UNCONFIRMED, HOLD_REASON))
        elif entry.payload_hash != record.payload_hash:
            planned.append(PlannedRecord(record, CHANGE))
        elif entry.target is not None and entry.target != record.target and not entry.may_have_been_sent:
            # never delivered (e.g. an unknown campaign id, since fixed): the new target is a change.
            # One that may have been delivered elsewhere was refused above (_smartlead_record)
            planned.append(PlannedRecord(record, CHANGE, f"target changed from {entry.target}"))
        elif entry.status == ledger.SENT:
            planned.append(PlannedRecord(record, UNCHANGED))
        elif entry.status == ledger.FAILED and entry.is_permanent_error:
            planned.append(PlannedRecord(record, SKIP_FAILED, "failed permanently; change the row to retry"))
        elif entry.status == ledger.REFUSED:
            planned.append(PlannedRecord(record, SKIP_FAILED, "refused before; change the row to retry"))
        else:  # pending (a crash after the write-ahead) or a retryable failure
            planned.append(PlannedRecord(record, RETRY))
    return planned


def collect_records(warehouse: Warehouse) -> list[SyncRecord]:
    """Every record the sync_* models and the suppression model want at a destination, each
    checked against suppression right now (defense in depth)."""
    for model in ("sync_smartlead__leads", "sync_hubspot__contacts", "sync_hubspot__companies"):
        warehouse.require_table("segmented", model, "build")
    outreach_guard = load_suppression_index(warehouse, crm_handoff=False)
    crm_guard = load_suppression_index(warehouse, crm_handoff=True)
    sent_leads = ledger.read_ledger(warehouse, SMARTLEAD_LEADS)
    # email -> (brand id, campaign) of every lead that may have reached Smartlead, then of every
    # lead this run will send: one contact is pitched for one brand only
    claimed = {
        _email_key(email): (entry.record_key, entry.target or "")
        for entry in sent_leads.values()
        if entry.may_have_been_sent and (email := _sent_email(entry)) is not None
    }
    records = []
    for lead in warehouse.fetch_dicts("select * from segmented.sync_smartlead__leads order by campaign_id, brand_id"):
        record = _smartlead_record(lead, outreach_guard, sent_leads, claimed)
        if record.refusal is None:
            claimed.setdefault(_email_key(lead["email"]), (record.record_key, record.target))
        records.append(record)
    records += [
        SyncRecord(
            HUBSPOT_CONTACTS,
            "contacts",
            contact["email"],
            hubspot_contact_input(contact),
            crm_guard.refusal_reason(contact["email"], contact["outreach_brand_id"] or None),
            GuardSubject(contact["email"], contact["outreach_brand_id"] or None, crm_handoff=True),
            untouched_properties(contact),
        )
        for contact in warehouse.fetch_dicts("select * from segmented.sync_hubspot__contacts order by email")
    ]
    # companies created in HubSpot under a brand id that has changed since: written by HubSpot's
    # object id (batch/update), which rewrites their outreach_brand_id there, never upserted by
    # the new id (a second company)
    object_ids = company_object_ids(warehouse)
    for company in warehouse.fetch_dicts("select * from segmented.sync_hubspot__companies order by 1"):
        brand_id = company["outreach_brand_id"]
        refusal = crm_guard.brands.get(brand_id)
        object_id = object_ids.get(brand_id)
        records.append(
            SyncRecord(
                HUBSPOT_COMPANIES,
                "companies",
                brand_id,
                hubspot_company_input(company)
                if object_id is None
                else hubspot_company_update_input(company, object_id),
                f"brand suppressed: {refusal}" if refusal else None,
                GuardSubject(None, brand_id, crm_handoff=True),
                untouched_properties(company),
            )
        )
    company_versions = {r.record_key: r.payload_hash for r in records if r.destination == HUBSPOT_COMPANIES}
    records += [
        SyncRecord(
            HUBSPOT_ASSOCIATIONS,
            "contact_company",
            f"{record.record_key}|{record.payload['properties']['outreach_brand_id']}",
            # both sides' versions: a changed (e.g. fixed) contact or company gets its association retried
            {
                "contact": record.record_key,
                "company": record.payload["properties"]["outreach_brand_id"],
                "contact_version": record.payload_hash,
                "company_version": company_versions.get(record.payload["properties"]["outreach_brand_id"]),
            },
            record.refusal,
            record.subject,
        )
        for record in records
        if record.destination == HUBSPOT_CONTACTS and record.payload["properties"].get("outreach_brand_id")
    ]
    reasons = ", ".join(f"'{reason}'" for reason in BLOCK_LIST_REASONS)
    records += [
        SyncRecord(SMARTLEAD_BLOCK_LIST, "global", row["suppression_key"], {"entry": row["suppression_key"]})
        for row in warehouse.fetch_dicts(
            f"""
            select distinct suppression_key from clean.stg_suppression__keys
            where key_type in ('email', 'domain') and reason in ({reasons})
            order by suppression_key
            """,
        )
    ]
    return records


def _smartlead_record(
    lead: dict[str, Any],
    guard: SuppressionIndex,
    sent: dict[str, ledger.LedgerEntry],
    claimed: dict[str, tuple[str, str]],
) -> SyncRecord:
    payload = smartlead_lead(lead)
    brand_id = lead["brand_id"]
    refusal = guard.refusal_reason(lead["email"], brand_id)
    entry = sent.get(brand_id)
    campaign = str(lead["campaign_id"])
    if refusal is None and entry is not None and entry.may_have_been_sent:
        # one brand, one person, one sequence: a new best contact or a new segment after a send
        # would be a second cold email
        previous_email = _sent_email(entry)
        if previous_email is not None and previous_email != lead["email"]:
            refusal = "brand already sent to Smartlead with another contact"
        elif entry.target is not None and entry.target != campaign:
            refusal = f"brand already sent to Smartlead campaign {entry.target}"
    owner = claimed.get(_email_key(lead["email"]))
    if refusal is None and owner is not None and owner[0] != brand_id:
        # the same person for another brand: another campaign would be a second sequence, the same
        # campaign would rewrite the running sequence's merge fields
        refusal = f"email already sent to Smartlead for brand {owner[0]} (campaign {owner[1]})"
    subject = GuardSubject(lead["email"], brand_id, crm_handoff=False)
    return SyncRecord(SMARTLEAD_LEADS, campaign, brand_id, payload, refusal, subject)


def _sent_email(entry: ledger.LedgerEntry) -> str | None:
    email = entry.payload.get("email")
    return str(email) if email else None


def _email_key(email: str) -> str:
    return email.strip().casefold()


@dataclass
class SyncSummary:
    destination: str
    counts: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    vendor_counts: dict[str, int] = field(default_factory=dict)  # e.g. Smartlead's block_count, summed
    notes: list[str] = field(default_factory=list)  # configuration errors that stopped this destination

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def unconfirmed(self) -> int:
        """Rows answered without confirmation, this run or earlier (held)."""
        return self.counts.get("unconfirmed", 0) + self.counts.get("unconfirmed earlier, held", 0)

    def add(self, label: str, count: int = 1) -> None:
        if count:
            self.counts[label] = self.counts.get(label, 0) + count

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))
        text = f"{self.destination}: {parts or 'nothing to do'} ({self.calls} requests)"
        if self.vendor_counts:
            text += "; reported by the destination: " + ", ".join(
                f"{name} {count}" for name, count in sorted(self.vendor_counts.items())
            )
        return "".join([text, *(f"; STOPPED: {note}" for note in self.notes)])


def execute(
    warehouse: Warehouse,
    planned: Sequence[PlannedRecord],
    destinations: dict[str, Destination],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None),
) -> list[SyncSummary]:
    """Send the planned records. Per batch: check suppression again, write-ahead `pending`, send,
    record each outcome."""
    summaries: dict[str, SyncSummary] = {}
    by_batch: dict[tuple[str, str], list[SyncRecord]] = {}
    refusals: dict[str, list[ledger.Refusal]] = {}
    for item in planned:
        record = item.record
        summary = summaries.setdefault(record.destination, SyncSummary(record.destination))
        if item.action in TO_SEND:
            by_batch.setdefault((record.destination, record.target), []).append(record)
        elif item.action == REFUSE:
            summary.add("refused")
            refused = ledger.Refusal(record.target, record.record_key, record.payload_hash, item.reason)
            refusals.setdefault(record.destination, []).append(refused)
        elif item.action == CHANGED_SINCE_PLAN:
            summary.add("changed since the plan, not sent")
        elif item.action == HOLD_UNCONFIRMED:
            summary.add("unconfirmed earlier, held")
        else:
            summary.add("unchanged")
    for destination_name, destination_refusals in refusals.items():
        ledger.mark_refused(warehouse, destination_name, destination_refusals, now())
    stopped: set[str] = set()  # destinations a configuration error stopped for this run
    for (destination_name, target), records in sorted(by_batch.items(), key=lambda item: _send_rank(item[0][0])):
        destination = destinations[destination_name]
        summary = summaries[destination_name]
        if destination_name == SMARTLEAD_LEADS and destination_name not in stopped:
            unconfirmed = _block_list_unconfirmed(summaries.get(SMARTLEAD_BLOCK_LIST))
            if unconfirmed is not None:
                stopped.add(destination_name)
                summary.notes.append(unconfirmed)
        for start in range(0, len(records), destination.batch_size):
            batch = records[start : start + destination.batch_size]
            if destination_name in stopped:
                summary.add("not sent (stopped)", len(batch))
                continue
            batch = _refuse_suppressed_now(warehouse, destination_name, batch, summary, now())
            if batch:
                _send_batch(warehouse, destination, target, batch, summary, stopped, now)
    return list(summaries.values())


def _block_list_unconfirmed(summary: SyncSummary | None) -> str | None:
    """Why Smartlead's global block list upload of this run is not confirmed, if it is not (it is
    sent first). The block list is Smartlead's own guard against a lead that slips past the checks
    here, so no lead goes out without it; HubSpot is not concerned."""
    failed = (summary.failed + summary.counts.get("not sent (stopped)", 0)) if summary else 0
    if not failed:
        return None
    return (
        f"Smartlead's global block list was not confirmed ({failed} entries failed): no lead is sent this run; "
        "the leads wait for a run whose block list upload succeeds"
    )


def run_problems(summaries: Sequence[SyncSummary]) -> list[str]:
    """What makes a production run end non-zero: failed rows, rows a destination did not confirm
    (this run or held from earlier), and destinations stopped for the run."""
    problems = []
    failed = sum(summary.failed for summary in summaries)
    if failed:
        problems.append(f"{failed} rows failed (recorded in reverse_etl.sync_ledger; retried next run)")
    unconfirmed = sum(summary.unconfirmed for summary in summaries)
    if unconfirmed:
        problems.append(
            f"{unconfirmed} rows unconfirmed (the destination's answer does not account for them; held, not sent "
            f"again: check the campaign, then run with {RESEND_UNCONFIRMED_ENV}=1)"
        )
    problems += [f"{summary.destination} stopped: {note}" for summary in summaries for note in summary.notes]
    return problems


def _send_rank(destination: str) -> int:
    return SEND_ORDER.index(destination) if destination in SEND_ORDER else len(SEND_ORDER)


def _refuse_suppressed_now(
    warehouse: Warehouse, destination: str, batch: list[SyncRecord], summary: SyncSummary, moment: datetime
) -> list[SyncRecord]:
    """The batch minus what is suppressed at this moment (read again from the warehouse for these
    rows only); those are recorded as refused and never sent."""
    subjects = {record.record_key: record.subject for record in batch if record.subject is not None}
    hits = recheck(warehouse, subjects) if subjects else {}
    if not hits:
        return batch
    refused = [
        ledger.Refusal(record.target, record.record_key, record.payload_hash, hits[record.record_key])
        for record in batch
        if record.record_key in hits
    ]
    ledger.mark_refused(warehouse, destination, refused, moment)
    summary.add("refused", len(refused))
    return [record for record in batch if record.record_key not in hits]


def _send_batch(
    warehouse: Warehouse,
    destination: Destination,
    target: str,
    batch: list[SyncRecord],
    summary: SyncSummary,
    stopped: set[str],
    now: Callable[[], datetime],
) -> None:
    before = ledger.mark_pending(
        warehouse,
        destination.name,
        target,
        [(r.record_key, r.payload_hash, json.dumps(r.payload, sort_keys=True)) for r in batch],
        now(),
    )
    calls_before = destination.calls
    batch_error: str | None = None
    not_applied = False  # the destination refused the whole batch unread: nothing reached it
    vendor_counts: dict[str, int] = {}
    try:
        answer = destination.send(target, batch)
        sent, vendor_counts = answer.outcomes, answer.vendor_counts
        if answer.stop is not None:  # every later batch would meet the same answer
            stopped.add(destination.name)
            summary.notes.append(answer.stop)
    except ApiAuthError:
        raise  # a refused key stops the run; the batch stays pending and is retried
    except DestinationConfigError as error:  # the rows are fine: retried once the setting is fixed
        batch_error = str(error)
        not_applied = True
        stopped.add(destination.name)
        summary.notes.append(batch_error)
        sent = [Outcome(record.record_key, ledger.FAILED, batch_error) for record in batch]
    except ApiError as error:  # retries exhausted: those rows are retried next run
        batch_error = str(error)
        sent = [Outcome(record.record_key, ledger.FAILED, batch_error) for record in batch]
    requests = destination.calls - calls_before
    summary.calls += requests
    outcomes = {outcome.record_key: outcome for outcome in sent}
    results = []
    labels = {
        ledger.SENT: "sent",
        ledger.FAILED: "failed",
        ledger.REFUSED: "refused",
        ledger.UNCONFIRMED: "unconfirmed",
    }
    tally: dict[str, int] = {}
    for record in batch:
        outcome = outcomes.get(record.record_key) or Outcome(
            record.record_key, ledger.FAILED, "no result for this row in the response"
        )
        results.append(
            ledger.RowResult(
                record.record_key,
                record.payload_hash,
                outcome.status,
                outcome.error,
                outcome.permanent,
                outcome.remote_id,
            )
        )
        tally[outcome.status] = tally.get(outcome.status, 0) + 1
        summary.add(labels[outcome.status])
        if outcome.status == ledger.UNCONFIRMED and batch_error is None:
            batch_error = outcome.error  # sync_batches has no column for them: the reason says so
    moment = now()
    if not_applied and batch_error is not None:
        keys = [record.record_key for record in batch]
        ledger.restore_unsent(warehouse, destination.name, keys, before, batch_error, moment)
    else:
        ledger.mark_results(warehouse, destination.name, target, results, moment)
    for name, count in vendor_counts.items():
        summary.vendor_counts[name] = summary.vendor_counts.get(name, 0) + count
    ledger.log_batch(
        warehouse,
        ledger.BatchLog(
            destination.name,
            target,
            moment,
            len(batch),
            requests,
            tally.get(ledger.SENT, 0),
            tally.get(ledger.FAILED, 0),
            tally.get(ledger.REFUSED, 0),
            vendor_counts,
            batch_error,
        ),
    )


def plan_all(
    warehouse: Warehouse, records: Sequence[SyncRecord], *, resend_unconfirmed: bool | None = None
) -> list[PlannedRecord]:
    """Plan every destination against its own ledger rows. Rows held as unconfirmed are sent
    again only when asked (`resend_unconfirmed`, by default OUTREACH_RESEND_UNCONFIRMED=1)."""
    if resend_unconfirmed is None:
        resend_unconfirmed = os.environ.get(RESEND_UNCONFIRMED_ENV, "").strip() == "1"
    by_destination: dict[str, list[SyncRecord]] = {}
    for record in records:
        by_destination.setdefault(record.destination, []).append(record)
    planned: list[PlannedRecord] = []
    for destination, destination_records in by_destination.items():
        entries = ledger.read_ledger(warehouse, destination)
        planned += plan(destination_records, entries, resend_unconfirmed=resend_unconfirmed)
    return planned
