"""Sync review: the current dry-run plan per destination (add, change, retry, refuse and why),
each sync run as Hightouch shows it (rows queried; added / changed / removed by accepted /
rejected), a row search by email or brand, the ledger of what was sent and the request batches."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import streamlit as st

from control_room import ui

PLANS = "reverse_etl.sync_plans"
PLAN_ROWS = "reverse_etl.sync_plan_rows"
PREVIEW = "reverse_etl.sync_preview"
LEDGER = "reverse_etl.sync_ledger"
BATCHES = "reverse_etl.sync_batches"
RUN_FIGURES = "reverse_etl.sync_run_figures"
RUN_LOG = "pipeline_ops.run_log"
MAX_ROWS = 500


def latest_plan_sql() -> str:
    return f"""
        select plan_id, created_at, created_by, rows_to_send, new_leads, counts_json, times_applied, last_applied_at
        from {PLANS}
        order by created_at desc
        limit 1
    """


def plan_actions_sql() -> str:
    """The current preview (the last dry run's plan) per destination and action."""
    return f"""
        select destination, action, count(*) as rows_planned
        from {PREVIEW}
        group by destination, action
        order by destination, action
    """


def refusals_sql() -> str:
    return f"""
        select destination, target, record_key, refusal_reason, previewed_at
        from {PREVIEW}
        where action = 'refuse'
        order by destination, record_key
    """


def refused_count_sql() -> str:
    return f"select count(*) as refused from {PREVIEW} where action = 'refuse'"


def preview_search_sql() -> str:
    """Preview rows whose key or payload holds the text (an email, a brand id or name)."""
    return f"""
        select destination, target, record_key, action, refusal_reason, payload_json
        from {PREVIEW}
        where lower(record_key) like ? or lower(payload_json) like ?
        order by destination, record_key
        limit {MAX_ROWS}
    """


def ledger_status_sql() -> str:
    return f"""
        select destination, status, count(*) as records, max(last_sent_at) as last_sent_at
        from {LEDGER}
        group by destination, status
        order by destination, status
    """


def ledger_rows_sql() -> str:
    return f"""
        select destination, target, record_key, status, attempts, last_error, first_sent_at, last_sent_at, updated_at
        from {LEDGER}
        where lower(record_key) like ? or lower(coalesce(payload_json, '')) like ?
        order by updated_at desc, destination, record_key
        limit {MAX_ROWS}
    """


def batches_sql() -> str:
    return f"""
        select
            sent_at, destination, target, rows_in_batch, requests, sent_count, failed_count, refused_count,
            block_count, bounce_count, invalid_email_count, batch_error
        from {BATCHES}
        order by sent_at desc
        limit {MAX_ROWS}
    """


def sync_runs_sql() -> str:
    """One row per sync run (run log) and destination: the rows it queried, and its rows added /
    changed by outcome (reverse_etl.sync_run_figures). No destination here deletes: removed is 0."""

    def total(operation: str, outcome: str) -> str:
        matches = f"figures.operation = '{operation}' and figures.outcome = '{outcome}'"
        return f"sum(case when {matches} then figures.row_count else 0 end)"

    return f"""
        with runs as (
            select run_id, started_at, status, plan_id from {RUN_LOG} where stage = 'sync'
        ),

        figures as (
            select run_id, mode, destination, operation, outcome, row_count from {RUN_FIGURES}
        )

        select
            runs.started_at,
            runs.run_id,
            coalesce(max(figures.mode), 'not recorded') as mode,
            runs.status,
            runs.plan_id,
            figures.destination,
            {total("queried", "queried")} as rows_queried,
            {total("added", "planned")} as added_planned,
            {total("added", "accepted")} as added_accepted,
            {total("added", "rejected")} as added_rejected,
            {total("changed", "planned")} as changed_planned,
            {total("changed", "accepted")} as changed_accepted,
            {total("changed", "rejected")} as changed_rejected,
            0 as removed_accepted,
            0 as removed_rejected,
            {total("added", "unconfirmed")} + {total("changed", "unconfirmed")} as unconfirmed,
            {total("added", "not_sent")} + {total("changed", "not_sent")} as not_sent
        from runs
        left join figures on runs.run_id = figures.run_id
        group by runs.started_at, runs.run_id, runs.status, runs.plan_id, figures.destination
        order by runs.started_at desc, runs.run_id, figures.destination
        limit {MAX_ROWS}
    """


def like_params(text: str) -> list[str]:
    pattern = f"%{text.strip().lower()}%"
    return [pattern, pattern]


def render() -> None:
    st.title("Sync review")
    st.caption(f"mode: {ui.pipeline_mode()}; nothing is sent from here")
    tables = ui.existing_tables()
    if PLANS not in tables or PREVIEW not in tables:
        st.info("no dry-run plan yet: run `outreach sync` (without PIPELINE_MODE=production) to make one")
    else:
        plan = ui.query(latest_plan_sql())
        if not plan.empty:
            latest = plan.iloc[0]
            st.subheader(f"Plan {latest['plan_id']}")
            refused = ui.query(refused_count_sql())
            rows, leads, refusals_count, applied = st.columns(4)
            rows.metric("Rows to send", int(latest["rows_to_send"]))
            leads.metric("New Smartlead leads", int(latest["new_leads"]))
            refusals_count.metric("Refused", int(refused["refused"].iloc[0]))
            applied.metric("Times applied", int(latest["times_applied"]))
            st.caption(
                f"made {pd.Timestamp(latest['created_at']):%Y-%m-%d %H:%M} UTC by {latest['created_by']}; "
                f"rows per destination and action: {json.loads(latest['counts_json'] or '{}')}"
            )
            st.code(f"PIPELINE_MODE=production outreach sync --plan {latest['plan_id']}", language="bash")
        actions = ui.query(plan_actions_sql())
        st.subheader("Per destination: add, change, retry, refuse")
        if not actions.empty:
            st.altair_chart(
                alt.Chart(actions)
                .mark_bar()
                .encode(
                    x=alt.X("rows_planned:Q", title="rows"),
                    y=alt.Y("destination:N", title=None),
                    color="action:N",
                    tooltip=["destination", "action", "rows_planned"],
                ),
                width="stretch",
            )
        st.dataframe(actions, hide_index=True)
        st.subheader("Refused, and why")
        refusals = ui.query(refusals_sql())
        if refusals.empty:
            st.success("the plan refuses no row")
        else:
            st.dataframe(refusals, hide_index=True)

    st.subheader("Sync runs")
    if RUN_LOG not in tables or RUN_FIGURES not in tables:
        st.info(
            "no sync run recorded yet: each `outreach sync` (dry run or production) adds its figures to "
            "reverse_etl.sync_run_figures"
        )
    else:
        st.caption(
            "per run and destination: rows queried from its sync_* model; rows added / changed, accepted "
            "(confirmed by the destination) or rejected (refused by the suppression guard, or failed / invalid "
            "at the destination); a dry run only plans. Removed is always 0: no destination here deletes rows."
        )
        st.dataframe(ui.query(sync_runs_sql()), hide_index=True)

    st.subheader("Find a row")
    text = st.text_input("Email, brand id or brand name", value=st.query_params.get("row", ""))
    if text.strip() and PREVIEW in tables:
        st.caption("in the plan")
        st.dataframe(ui.query(preview_search_sql(), like_params(text)), hide_index=True)

    st.subheader("Ledger: what was sent")
    if LEDGER not in tables:
        st.info("nothing sent yet: a production `outreach sync --plan ID` creates reverse_etl.sync_ledger")
    else:
        statuses = ui.query(ledger_status_sql())
        if statuses.empty:
            st.info("nothing sent yet: reverse_etl.sync_ledger is empty")
        else:
            st.dataframe(statuses, hide_index=True)
            st.caption(f"latest {MAX_ROWS} records" + (f" matching {text!r}" if text.strip() else ""))
            st.dataframe(ui.query(ledger_rows_sql(), like_params(text)), hide_index=True)

    st.subheader("Batches")
    if BATCHES not in tables:
        st.info("no request batch yet (reverse_etl.sync_batches: one row per request batch a production sync sent)")
    else:
        st.dataframe(ui.query(batches_sql()), hide_index=True)


if __name__ == "__main__":
    render()
