"""The readable end-of-run summary, computed from the warehouse only."""

from __future__ import annotations

from typing import Any

from warehouse_layer import Warehouse

LAYER_TABLES: list[tuple[str, str, str]] = [
    ("raw", "raw", "smartscout_brands"),
    ("raw", "raw", "apollo_people"),
    ("raw", "raw", "apollo_lookups"),
    ("raw", "raw", "smartlead_events"),
    ("raw", "raw", "rejected_records"),
    ("clean", "clean", "stg_smartscout__brands"),
    ("clean", "clean", "stg_smartscout__brands_quarantine"),
    ("clean", "clean", "stg_apollo__contacts"),
    ("clean", "clean", "stg_apollo__contacts_quarantine"),
    ("clean", "clean", "stg_smartlead__events"),
    ("clean", "clean", "stg_smartlead__events_quarantine"),
    ("clean", "clean", "stg_suppression__keys"),
    ("enriched", "enriched", "dim_brands"),
    ("enriched", "enriched", "int_brand_suppressions"),
    ("segmented", "segmented", "seg_brand_scores"),
    ("segmented", "segmented", "seg_outreach_queue"),
    ("segmented", "segmented", "seg_crm_handoff"),
    ("segmented", "segmented", "seg_apollo_worklist"),
    ("segmented", "segmented", "sync_smartlead__leads"),
    ("segmented", "segmented", "sync_hubspot__contacts"),
]


def _rows(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return warehouse.execute(sql)


def render_summary(warehouse: Warehouse) -> str:
    lines: list[str] = ["", "=== Pipeline summary ===", "", "Rows per layer:"]
    for layer, schema, table in LAYER_TABLES:
        if warehouse.table_exists(schema, table):
            count = _rows(warehouse, f"select count(*) from {schema}.{table}")[0][0]
            lines.append(f"  {layer:<10} {schema + '.' + table:<46} {count:>7}")
        else:
            lines.append(f"  {layer:<10} {schema + '.' + table:<46} {'(missing)':>7}")

    if warehouse.table_exists("segmented", "seg_brand_scores"):
        lines += ["", "Brands per segment (score range, outreach?):"]
        for segment, brands, low, high, outreach in _rows(
            warehouse,
            """
            select segment, count(*), min(score), max(score), max(case when is_outreach_segment then 1 else 0 end)
            from segmented.seg_brand_scores group by segment order by segment
            """,
        ):
            flag = "outreach" if outreach else "no outreach"
            lines.append(f"  {segment}: {brands:>5} brands  score {low:6.2f}-{high:6.2f}  {flag}")

    if warehouse.table_exists("segmented", "seg_pipeline_funnel"):
        lines += [
            "",
            "Funnel (reached / in status now / stuck / days in status avg, max / conversion"
            " / median days to the next timed status):",
        ]
        for status, reached, in_status, stuck, avg_days, max_days, conversion, next_status, median_days in _rows(
            warehouse,
            """
            select pipeline_status, brands_reached, brands_in_status, brands_stuck, avg_days_in_status,
                max_days_in_status, conversion_from_previous, next_timed_status, median_days_to_next_status
            from segmented.seg_pipeline_funnel order by status_order
            """,
        ):
            days = f"{avg_days:5.1f} {max_days:5.1f}" if avg_days is not None else f"{'-':>5} {'-':>5}"
            rate = f"{conversion:6.1%}" if conversion is not None else f"{'':>6}"
            step = f"{median_days:5.1f} to {next_status}" if median_days is not None else ""
            lines.append(f"  {status:<11} {reached:>5} {in_status:>5} {stuck:>5}   {days}   {rate}   {step}".rstrip())

    if warehouse.table_exists("segmented", "seg_segment_performance"):
        lines += [
            "",
            "Segment performance, by segment and weights version at first contact"
            " (contacted, send rate, reply rate, positive rate):",
        ]
        for segment, version, contacted, send_rate, reply_rate, positive_rate in _rows(
            warehouse,
            """
            select segment, weights_version, brands_contacted, send_rate, reply_rate, positive_reply_rate
            from segmented.seg_segment_performance order by segment, weights_version
            """,
        ):
            rates = "  ".join(
                f"{rate:6.1%}" if rate is not None else f"{'-':>6}" for rate in (send_rate, reply_rate, positive_rate)
            )
            lines.append(f"  {segment} ({version}) {contacted:>5} contacted  {rates}")

    if warehouse.table_exists("enriched", "dim_brands"):
        lines += ["", "Suppressed brands by primary reason:"]
        reasons = _rows(
            warehouse,
            """
            select primary_suppression_reason, count(*) from enriched.dim_brands
            where is_suppressed group by 1 order by 2 desc, 1
            """,
        )
        lines += [f"  {reason:<22} {count:>5}" for reason, count in reasons] or ["  (none)"]

    if warehouse.table_exists("segmented", "seg_outreach_queue"):
        lines += ["", "Outreach queue per Smartlead campaign:"]
        queue = _rows(
            warehouse,
            """
            select campaign_id, campaign_name, count(*) from segmented.seg_outreach_queue
            group by 1, 2 order by 1
            """,
        )
        lines += [f"  {campaign_id} {name:<24} {count:>5} leads" for campaign_id, name, count in queue] or ["  (empty)"]

    if warehouse.table_exists("reverse_etl", "sync_preview"):
        # the preview is rewritten by every `outreach sync`, production ones too: name its plan
        latest = (
            _rows(warehouse, "select plan_id, created_at from reverse_etl.sync_plans order by created_at desc limit 1")
            if warehouse.table_exists("reverse_etl", "sync_plans")
            else []
        )
        planned = f"plan {latest[0][0]}, made {str(latest[0][1])[:16]} UTC" if latest else "no plan recorded"
        lines += ["", f"Reverse ETL, as last planned ({planned}; sent only by PIPELINE_MODE=production --plan):"]
        for destination, target, action, count in _rows(
            warehouse,
            """
            select destination, target, action, count(*) from reverse_etl.sync_preview
            group by 1, 2, 3 order by 1, 2, 3
            """,
        ):
            lines.append(f"  {destination:<21} {target:<16} {action:<11} {count:>5}")
    lines.append("")
    return "\n".join(lines)
