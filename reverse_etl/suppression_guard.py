"""Defense in depth: each row is checked against the CLEAN suppression model whatever the sync_*
model said: once for the whole run (the plan and its preview), and again for each batch right
before its request (a suppression loaded while a long run is sending still stops the rows not
yet sent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reverse_etl.canonical_keys import email_key, email_problem
from warehouse_layer import Warehouse

# values per `in (...)` list of the per-batch lookups (bind-parameter lists stay small on Snowflake)
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class GuardSubject:
    """What suppression is checked on for one record: its email (and so its domain), its brand,
    and which reasons apply (`crm_handoff`: only the reasons that block a CRM hand-off)."""

    email: str | None
    brand_id: str | None
    crm_handoff: bool


def normalized_email(email: str) -> str:
    """The address's suppression key, as the warehouse computes it (macro `email_key`): folded
    to ASCII, format characters and trailing dots removed, lower-cased, without the +tag. The
    suppression keys are stored that way, so `John@Acme.com` blocks `john+x@acme.com.`."""
    return email_key(email) or ""


def candidate_domains(email: str) -> list[str]:
    """The email's domain and every parent domain of two labels or more, most specific first:
    a suppressed `acme.com` also covers `eu.acme.com`."""
    domain = normalized_email(email).partition("@")[2]
    labels = domain.split(".")
    return [".".join(labels[start:]) for start in range(len(labels) - 1)] or ([domain] if domain else [])


@dataclass(frozen=True)
class SuppressionIndex:
    """Suppression keys that block a destination, as reason lookups."""

    emails: dict[str, str]
    domains: dict[str, str]
    brands: dict[str, str]

    def refusal_reason(self, email: str | None, brand_id: str | None) -> str | None:
        if email:
            # the warehouse quarantines such an address; one that got this far is not sent
            problem = email_problem(email)
            if problem is not None:
                return f"email refused: {problem}"
            normalized = normalized_email(email)
            if normalized in self.emails:
                return f"email suppressed: {self.emails[normalized]}"
            for domain in candidate_domains(normalized):
                if domain in self.domains:
                    return f"domain suppressed: {self.domains[domain]}"
        if brand_id and brand_id in self.brands:
            return f"brand suppressed: {self.brands[brand_id]}"
        return None


def load_suppression_index(
    warehouse: Warehouse,
    *,
    crm_handoff: bool,
    keys: Sequence[str] | None = None,
    brand_ids: Sequence[str] | None = None,
) -> SuppressionIndex:
    """Every reason blocks outreach; only hand-off-blocking reasons keep a contact out of the CRM.
    With `keys` (emails and domains) and/or `brand_ids`, only those are read, in one filtered
    query per 500 values of each (a cheap lookup per batch); without either, everything."""
    if keys is None and brand_ids is None:
        found = _reasons(warehouse, crm_handoff, None, None)
    else:
        key_chunks = _chunks(sorted(set(keys or ())))
        brand_chunks = _chunks(sorted(set(brand_ids or ())))
        found = []
        for position in range(max(len(key_chunks), len(brand_chunks))):
            found += _reasons(
                warehouse,
                crm_handoff,
                key_chunks[position] if position < len(key_chunks) else [],
                brand_chunks[position] if position < len(brand_chunks) else [],
            )
    return SuppressionIndex(
        emails={row["lookup_key"]: row["reason"] for row in found if row["key_type"] == "email"},
        domains={row["lookup_key"]: row["reason"] for row in found if row["key_type"] == "domain"},
        brands={row["lookup_key"]: row["reason"] for row in found if row["key_type"] == "brand"},
    )


def recheck(warehouse: Warehouse, subjects: Mapping[str, GuardSubject]) -> dict[str, str]:
    """Refusal reasons, by record key, for the records suppressed now (read from the warehouse
    at this moment, for these records only)."""
    refusals: dict[str, str] = {}
    for crm_handoff in (False, True):
        group = {key: subject for key, subject in subjects.items() if subject.crm_handoff is crm_handoff}
        if not group:
            continue
        index = load_suppression_index(
            warehouse,
            crm_handoff=crm_handoff,
            keys=sorted(_lookup_keys(group.values())),
            brand_ids=sorted({subject.brand_id for subject in group.values() if subject.brand_id}),
        )
        for key, subject in group.items():
            reason = index.refusal_reason(subject.email, subject.brand_id)
            if reason is not None:
                refusals[key] = reason
    return refusals


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[start : start + LOOKUP_CHUNK] for start in range(0, len(values), LOOKUP_CHUNK)]


def _lookup_keys(subjects: Iterable[GuardSubject]) -> set[str]:
    keys: set[str] = set()
    for subject in subjects:
        if subject.email:
            keys.add(normalized_email(subject.email))
            keys.update(candidate_domains(subject.email))
    return keys


def _in_list(column: str, values: Sequence[str] | None) -> tuple[str, list[str]]:
    """A filter on `column` (none when `values` is None; nothing matches an empty list)."""
    if values is None:
        return "", []
    if not values:
        return " and 1 = 0", []
    return f" and {column} in ({', '.join('?' for _ in values)})", list(values)


def _reasons(
    warehouse: Warehouse, crm_handoff: bool, keys: Sequence[str] | None, brand_ids: Sequence[str] | None
) -> list[dict[str, str]]:
    """(key_type, lookup_key, reason) of the suppressed emails and domains (`keys`) and brands
    (key_type `brand`), in one query; the highest-priority reason is the one reported (seed
    suppression_reasons)."""
    handoff = " and reasons.blocks_crm_handoff" if crm_handoff else ""
    key_filter, key_params = _in_list("keys.suppression_key", keys)
    brand_filter, brand_params = _in_list("suppressions.brand_id", brand_ids)
    return warehouse.fetch_dicts(
        f"""
        select key_type, lookup_key, reason from (
            select
                keys.key_type,
                keys.suppression_key as lookup_key,
                keys.reason,
                row_number() over (
                    partition by keys.key_type, keys.suppression_key order by reasons.priority
                ) as reason_rank
            from clean.stg_suppression__keys as keys
            inner join config.suppression_reasons as reasons on keys.reason = reasons.reason
            where keys.key_type in ('email', 'domain'){handoff}{key_filter}
        ) as ranked_keys
        where reason_rank = 1
        union all
        select 'brand' as key_type, lookup_key, reason from (
            select
                suppressions.brand_id as lookup_key,
                suppressions.reason,
                row_number() over (partition by suppressions.brand_id order by reasons.priority) as reason_rank
            from enriched.int_brand_suppressions as suppressions
            inner join config.suppression_reasons as reasons on suppressions.reason = reasons.reason
            where 1 = 1{handoff}{brand_filter}
        ) as ranked_brands
        where reason_rank = 1
        """,
        [*key_params, *brand_params],
    )
