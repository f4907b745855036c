"""Defense in depth: right before anything is sent, each row is checked again against the
CLEAN suppression model, whatever the sync_* model said."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class SuppressionIndex:
    """Suppression keys that block a destination, as reason lookups."""

    emails: dict[str, str]
    domains: dict[str, str]
    brands: dict[str, str]

    def refusal_reason(self, email: str, brand_id: str | None) -> str | None:
        normalized = email.strip().lower()
        domain = normalized.rpartition("@")[2]
        if normalized in self.emails:
            return f"email suppressed: {self.emails[normalized]}"
        if domain in self.domains:
            return f"domain suppressed: {self.domains[domain]}"
        if brand_id is not None and brand_id in self.brands:
            return f"brand suppressed: {self.brands[brand_id]}"
        return None


def load_suppression_index(warehouse: Warehouse, *, crm_handoff: bool) -> SuppressionIndex:
    """Every reason blocks outreach; only hand-off-blocking reasons keep a contact out of the CRM."""
    reason_filter = "where reasons.blocks_crm_handoff" if crm_handoff else ""
    # the highest-priority reason is the one reported (seed suppression_reasons)
    keys = warehouse.fetch_dicts(
        f"""
        select key_type, suppression_key, reason from (
            select
                keys.key_type,
                keys.suppression_key,
                keys.reason,
                row_number() over (
                    partition by keys.key_type, keys.suppression_key order by reasons.priority
                ) as reason_rank
            from clean.stg_suppression__keys as keys
            inner join config.suppression_reasons as reasons on keys.reason = reasons.reason
            {reason_filter}
        ) as ranked
        where reason_rank = 1
        """,
    )
    brands = warehouse.fetch_dicts(
        f"""
        select brand_id, reason from (
            select
                suppressions.brand_id,
                suppressions.reason,
                row_number() over (partition by suppressions.brand_id order by reasons.priority) as reason_rank
            from enriched.int_brand_suppressions as suppressions
            inner join config.suppression_reasons as reasons on suppressions.reason = reasons.reason
            {reason_filter}
        ) as ranked
        where reason_rank = 1
        """,
    )
    return SuppressionIndex(
        emails={row["suppression_key"]: row["reason"] for row in keys if row["key_type"] == "email"},
        domains={row["suppression_key"]: row["reason"] for row in keys if row["key_type"] == "domain"},
        brands={row["brand_id"]: row["reason"] for row in brands},
    )
