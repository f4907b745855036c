"""Adapters from the vendor clients to the sync engine's `Destination`: batch in, one outcome
per record out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from loaders.common.http import ApiAuthError, ApiRequestError
from reverse_etl import ledger
from reverse_etl.hubspot_client import AssociationNotConfirmed, HubSpotClient, RowResult
from reverse_etl.payloads import is_hubspot_update
from reverse_etl.smartlead_client import BLOCK_LIST_BATCH_SIZE, SmartleadLeadsClient
from reverse_etl.sync import (
    HUBSPOT_ASSOCIATIONS,
    HUBSPOT_COMPANIES,
    HUBSPOT_CONTACTS,
    SMARTLEAD_BLOCK_LIST,
    SMARTLEAD_LEADS,
    BatchResult,
    Destination,
    DestinationConfigError,
    Outcome,
    SyncRecord,
)

logger = logging.getLogger(__name__)

SMARTLEAD_STATUS = {
    "accepted": ledger.SENT,
    "failed": ledger.FAILED,
    "refused": ledger.REFUSED,
    "unconfirmed": ledger.UNCONFIRMED,
}

# Smartlead's batch-level counts kept per batch (sync_batches) and summed in the run summary
SMARTLEAD_BATCH_COUNTS = (
    "upload_count",
    "total_leads",
    "added_count",
    "already_added_to_campaign",
    "duplicate_count",
    "invalid_email_count",
    "block_count",
    "bounce_count",
    "skipped_count",
    "lead_import_stopped_count",
    "inserted_count",
    "unsubscribed_leads",
)

# 4xx answers to an association that are not about the request itself: retry later
RETRYABLE_CLIENT_STATUSES = frozenset({408, 423, 429})

LedgerLookup = Callable[[str, str], ledger.LedgerEntry | None]  # (destination, record_key) -> ledger row


class _SmartleadCalls:
    client: SmartleadLeadsClient

    @property
    def calls(self) -> int:
        return self.client.calls


class _HubSpotCalls:
    client: HubSpotClient

    @property
    def calls(self) -> int:
        return self.client.calls


class SmartleadLeads(_SmartleadCalls):
    name = SMARTLEAD_LEADS

    def __init__(self, client: SmartleadLeadsClient) -> None:
        self.client = client
        self.batch_size = client.config.batch_size

    def send(self, target: str, records: Sequence[SyncRecord]) -> BatchResult:
        by_email = {str(record.payload["email"]).strip().casefold(): record for record in records}
        result = self.client.add_leads(int(target), [record.payload for record in records])
        if result.batch_size_refused:
            raise DestinationConfigError(result.outcomes[0].error or "Smartlead refused the batch size")
        counts = {key: value for key, value in result.raw_counts.items() if key in SMARTLEAD_BATCH_COUNTS}
        stopped = result.raw_counts.get("lead_import_stopped_count") or 0
        if result.lead_limit_exhausted or stopped:
            # the account's lead limit stopped the import: which rows made it is unknown, retry them
            # (re-adding to the same campaign counts as already added); every later batch would
            # stop the same way, so the uploads stop for this run
            error = "Smartlead lead limit exhausted; the import stopped"
            stop = (
                f"Smartlead's lead limit is exhausted (campaign {target}): no more leads are sent this run; "
                "raise the account's lead limit, the leads are sent again by the next run"
            )
            outcomes = [Outcome(record.record_key, ledger.FAILED, error) for record in records]
            return BatchResult(outcomes, counts, stop=stop)
        if result.block_count or result.bounce_count:
            # Smartlead reports these per batch only (kept in sync_batches); rows count as accepted
            logger.warning(
                "smartlead campaign %s: %d leads on the global block list, %d known bounces (not added by Smartlead)",
                target,
                result.block_count,
                result.bounce_count,
            )
        outcomes = []
        for outcome in result.outcomes:
            record = by_email.get(outcome.record_key.strip().casefold())
            if record is not None:
                status = SMARTLEAD_STATUS[outcome.status]
                outcomes.append(Outcome(record.record_key, status, outcome.error, outcome.permanent))
        return BatchResult(outcomes, counts)


class SmartleadBlockList(_SmartleadCalls):
    name = SMARTLEAD_BLOCK_LIST
    batch_size = BLOCK_LIST_BATCH_SIZE

    def __init__(self, client: SmartleadLeadsClient) -> None:
        self.client = client

    def send(self, target: str, records: Sequence[SyncRecord]) -> BatchResult:
        self.client.add_to_global_block_list([record.record_key for record in records])
        return BatchResult([Outcome(record.record_key, ledger.SENT) for record in records])


class HubSpotContacts(_HubSpotCalls):
    name = HUBSPOT_CONTACTS

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self.batch_size = client.config.batch_size

    def send(self, target: str, records: Sequence[SyncRecord]) -> BatchResult:
        return BatchResult(_outcomes(self.client.upsert_contacts([record.payload for record in records])))


class HubSpotCompanies(_HubSpotCalls):
    name = HUBSPOT_COMPANIES

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self.batch_size = client.config.batch_size

    def send(self, target: str, records: Sequence[SyncRecord]) -> BatchResult:
        """Upserts by `outreach_brand_id`; a company HubSpot knows by its object id (created under a
        brand id that has changed since) is updated by that id, in a request of its own."""
        upserts = [record for record in records if not is_hubspot_update(record.payload)]
        updates = [record for record in records if is_hubspot_update(record.payload)]
        outcomes = _outcomes(self.client.upsert_companies([record.payload for record in upserts])) if upserts else []
        if updates:
            by_object_id = {str(record.payload["id"]): record.record_key for record in updates}
            results = self.client.update_companies([record.payload for record in updates])
            # the client answers by object id; the ledger keys by brand id
            outcomes += [
                replace(outcome, record_key=by_object_id[outcome.record_key]) for outcome in _outcomes(results)
            ]
        return BatchResult(outcomes)


class HubSpotAssociations(_HubSpotCalls):
    """Contact -> company (v4 default association), once both are in HubSpot: their ids come
    from the ledger rows the upserts wrote (this run sends associations after both upserts).

    A side that is not in HubSpot yet fails the row: retryably when that side may still get there
    without a change (its upsert is pending or failed for now), permanently when it cannot (it
    failed permanently, was refused, or is not in the sync models): the association carries both
    sides' payload hashes, so it is planned again once either side changes. Each PUT is answered
    per row: a 4xx (but 408/423/429) fails that row for good; a 429/5xx that outlasted the retries
    fails it and the rest of the batch for now (HubSpot is not answering: no point trying them); a
    200 whose body has errors fails the row with HubSpot's message (for good unless the category is
    transient), and one that does not confirm the pair fails it for now (the PUT is idempotent)."""

    name = HUBSPOT_ASSOCIATIONS
    batch_size = 100

    def __init__(self, client: HubSpotClient, lookup: LedgerLookup) -> None:
        self.client = client
        self.lookup = lookup

    def send(self, target: str, records: Sequence[SyncRecord]) -> BatchResult:
        outcomes: list[Outcome] = []
        unavailable: str | None = None  # set once HubSpot stopped answering
        for record in records:
            if unavailable is not None:
                outcomes.append(Outcome(record.record_key, ledger.FAILED, unavailable))
                continue
            contact = self.lookup(HUBSPOT_CONTACTS, str(record.payload["contact"]))
            company = self.lookup(HUBSPOT_COMPANIES, str(record.payload["company"]))
            contact_id = contact.remote_id if contact is not None else None
            company_id = company.remote_id if company is not None else None
            if not contact_id or not company_id:
                missing = [
                    (side, entry)
                    for side, entry in (("contact", contact), ("company", company))
                    if not (entry and entry.remote_id)
                ]
                waiting = any(_may_be_upserted_later(entry) for _, entry in missing)
                error = f"{' and '.join(side for side, _ in missing)} not upserted in HubSpot" + (
                    " yet (retried next run)" if waiting else " (retried once it changes)"
                )
                outcomes.append(Outcome(record.record_key, ledger.FAILED, error, permanent=not waiting))
                continue
            try:
                self.client.associate_contact_company(contact_id, company_id)
            except ApiAuthError:
                raise
            except AssociationNotConfirmed as error:  # a 200 that confirms nothing is not a success
                outcomes.append(Outcome(record.record_key, ledger.FAILED, str(error), permanent=error.permanent))
                continue
            except ApiRequestError as error:
                status = error.status
                if status is not None and 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES:
                    outcomes.append(Outcome(record.record_key, ledger.FAILED, str(error), permanent=True))
                    continue
                unavailable = f"not attempted: HubSpot did not answer an association ({error})"
                outcomes.append(Outcome(record.record_key, ledger.FAILED, str(error)))
                continue
            outcomes.append(Outcome(record.record_key, ledger.SENT))
        return BatchResult(outcomes)


def _may_be_upserted_later(entry: ledger.LedgerEntry | None) -> bool:
    """Pending (a run died mid-request) or failed for now: the next run tries that side again."""
    if entry is None:
        return False  # not in the sync models: nothing will upsert it until they change
    return entry.status == ledger.PENDING or (entry.status == ledger.FAILED and not entry.is_permanent_error)


def _outcomes(results: Sequence[RowResult]) -> list[Outcome]:
    return [
        Outcome(
            result.record_key,
            ledger.SENT if result.ok else ledger.FAILED,
            result.error,
            result.permanent,
            result.hubspot_id,
        )
        for result in results
    ]


def destinations_from_env(lookup: LedgerLookup) -> dict[str, Destination]:
    """Clients from DESTINATION__* environment variables / dlt secrets (a missing key is a clear error)."""
    smartlead = SmartleadLeadsClient.from_env()
    hubspot = HubSpotClient.from_env()
    destinations: list[Destination] = [
        SmartleadLeads(smartlead),
        SmartleadBlockList(smartlead),
        HubSpotContacts(hubspot),
        HubSpotCompanies(hubspot),
        HubSpotAssociations(hubspot, lookup),
    ]
    return {destination.name: destination for destination in destinations}
