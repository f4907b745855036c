"""Adapters from the vendor clients to the sync engine's `Destination`: batch in, one outcome
per record out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from reverse_etl import ledger
from reverse_etl.hubspot_client import HubSpotClient, RowResult
from reverse_etl.smartlead_client import BLOCK_LIST_BATCH_SIZE, SmartleadLeadsClient
from reverse_etl.sync import (
    HUBSPOT_ASSOCIATIONS,
    HUBSPOT_COMPANIES,
    HUBSPOT_CONTACTS,
    SMARTLEAD_BLOCK_LIST,
    SMARTLEAD_LEADS,
    Destination,
    Outcome,
    SyncRecord,
)

logger = logging.getLogger(__name__)

SMARTLEAD_STATUS = {"accepted": ledger.SENT, "failed": ledger.FAILED, "refused": ledger.REFUSED}


RemoteIdLookup = Callable[[str, str], str | None]  # (destination, record_key) -> remote id


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

    def send(self, target: str, records: Sequence[SyncRecord]) -> list[Outcome]:
        by_email = {str(record.payload["email"]).strip().casefold(): record for record in records}
        result = self.client.add_leads(int(target), [record.payload for record in records])
        stopped = result.raw_counts.get("lead_import_stopped_count") or 0
        if result.lead_limit_exhausted or stopped:
            # the account's lead limit stopped the import: which rows made it is unknown, retry them
            error = "Smartlead lead limit exhausted; the import stopped"
            return [Outcome(record.record_key, ledger.FAILED, error) for record in records]
        if result.block_count or result.bounce_count:
            # Smartlead reports these per batch only: make them visible, rows still count as accepted
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
        return outcomes


class SmartleadBlockList(_SmartleadCalls):
    name = SMARTLEAD_BLOCK_LIST
    batch_size = BLOCK_LIST_BATCH_SIZE

    def __init__(self, client: SmartleadLeadsClient) -> None:
        self.client = client

    def send(self, target: str, records: Sequence[SyncRecord]) -> list[Outcome]:
        self.client.add_to_global_block_list([record.record_key for record in records])
        return [Outcome(record.record_key, ledger.SENT) for record in records]


class HubSpotContacts(_HubSpotCalls):
    name = HUBSPOT_CONTACTS

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self.batch_size = client.config.batch_size

    def send(self, target: str, records: Sequence[SyncRecord]) -> list[Outcome]:
        return _outcomes(self.client.upsert_contacts([record.payload for record in records]))


class HubSpotCompanies(_HubSpotCalls):
    name = HUBSPOT_COMPANIES

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self.batch_size = client.config.batch_size

    def send(self, target: str, records: Sequence[SyncRecord]) -> list[Outcome]:
        return _outcomes(self.client.upsert_companies([record.payload for record in records]))


class HubSpotAssociations(_HubSpotCalls):
    """Contact -> company (v4 default association), once both are in HubSpot: their ids come
    from the ledger rows the upserts just wrote. If a side was not upserted the row fails; the
    association carries both sides' payload hashes, so it is retried once either changes."""

    name = HUBSPOT_ASSOCIATIONS
    batch_size = 100

    def __init__(self, client: HubSpotClient, remote_id: RemoteIdLookup) -> None:
        self.client = client
        self.remote_id = remote_id

    def send(self, target: str, records: Sequence[SyncRecord]) -> list[Outcome]:
        outcomes = []
        for record in records:
            contact_id = self.remote_id(HUBSPOT_CONTACTS, str(record.payload["contact"]))
            company_id = self.remote_id(HUBSPOT_COMPANIES, str(record.payload["company"]))
            if contact_id is None or company_id is None:
                # permanent for this version of the contact: it is retried when the contact changes
                outcomes.append(
                    Outcome(record.record_key, ledger.FAILED, "contact or company was not upserted", permanent=True)
                )
                continue
            self.client.associate_contact_company(contact_id, company_id)
            outcomes.append(Outcome(record.record_key, ledger.SENT))
        return outcomes


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


def destinations_from_env(remote_id: RemoteIdLookup) -> dict[str, Destination]:
    """Clients from DESTINATION__* environment variables / dlt secrets (a missing key is a clear error)."""
    smartlead = SmartleadLeadsClient.from_env()
    hubspot = HubSpotClient.from_env()
    destinations: list[Destination] = [
        SmartleadLeads(smartlead),
        SmartleadBlockList(smartlead),
        HubSpotContacts(hubspot),
        HubSpotCompanies(hubspot),
        HubSpotAssociations(hubspot, remote_id),
    ]
    return {destination.name: destination for destination in destinations}
