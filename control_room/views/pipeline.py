"""Pipeline: the data flow and who owns each step, each stage's last run (`outreach status`:
pipeline/status.py over pipeline_ops.run_log), the run history, and what needs attention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from control_room import ui
from pipeline.status import StatusReport, collect_status

RUN_LOG = "pipeline_ops.run_log"
BUILD_RUNS = "pipeline_ops.build_runs"
EVENT_READS = "pipeline_ops.event_reads"
RUN_LOCK = "pipeline_ops.run_lock"
MAX_ROWS = 20

# stage -> (reads, writes, the code that owns it): the order data flows in
FLOW = {
    "ingest": ("SmartScout API / CSV exports, Smartlead events", "raw.*", "loaders/ (dlt)"),
    "build": ("raw.*, seeds/", "clean, enriched, segmented, history", "models/, snapshots/ (dbt)"),
    "enrich": ("segmented.seg_apollo_worklist", "raw.apollo_* (and its ledger)", "loaders/apollo"),
    "sync": ("segmented sync_* models", "Smartlead, HubSpot (production) or the preview", "reverse_etl/"),
    "summary": ("every layer", "the summary (stdout)", "pipeline/"),
}
STATUS_MARKS = {"succeeded": "✅", "failed": "❌", "refused": "⛔", "interrupted": "⚠️", "running": "⏳", "busy": "⏸"}


def run_history_sql() -> str:
    return f"""
        select
            started_at, stage, command, status, finished_at,
            datediff('millisecond', started_at, finished_at) / 1000.0 as duration_seconds,
            rows_in, rows_out, rejections, requests_sent, plan_id, message
        from {RUN_LOG}
        order by started_at desc, run_id
        limit {MAX_ROWS}
    """


def build_runs_sql() -> str:
    return f"""
        select started_at, finished_at, status, error_message, build_id
        from {BUILD_RUNS}
        order by started_at desc
        limit {MAX_ROWS}
    """


def event_reads_sql() -> str:
    return f"""
        select read_at, source, events_loaded, source_mode
        from {EVENT_READS}
        order by read_at desc
        limit {MAX_ROWS}
    """


def run_lock_sql() -> str:
    return f"select stage, host, pid, acquired_at from {RUN_LOCK} where lock_id is not null"


def _seconds_between(started: Any, finished: Any) -> float | None:
    if not started or not finished:
        return None
    return (
        datetime.fromisoformat(str(finished).rstrip("Z")) - datetime.fromisoformat(str(started).rstrip("Z"))
    ).total_seconds()


def stage_table(report: StatusReport) -> pd.DataFrame:
    """One row per stage, in the order data flows: its last run (status, when, how long, counts)
    beside what it reads and writes and the code that owns it."""
    rows = []
    for entry in report.stages:
        run = entry.get("last_run") or {}
        reads, writes, owner = FLOW.get(entry["stage"], ("", "", ""))
        status = run.get("status") or "never run"
        rows.append(
            {
                "stage": entry["stage"],
                "status": f"{STATUS_MARKS.get(status, '·')} {status}",
                "last_run": run.get("started_at"),
                "duration_seconds": _seconds_between(run.get("started_at"), run.get("finished_at")),
                "rows_in": run.get("rows_in"),
                "rows_out": run.get("rows_out"),
                "rejections": run.get("rejections"),
                "requests_sent": run.get("requests_sent"),
                "plan_id": run.get("plan_id"),
                "reads": reads,
                "writes": writes,
                "owned_by": owner,
            }
        )
    return pd.DataFrame(rows)


def flow_graph(report: StatusReport) -> str:
    """The stages as a left-to-right chain (Graphviz DOT), each labelled with its last status."""
    colours = {"succeeded": "#c8e6c9", "failed": "#ffcdd2", "refused": "#ffcdd2", "interrupted": "#ffe0b2"}
    nodes, names = [], []
    for entry in report.stages:
        run = entry.get("last_run") or {}
        status = run.get("status") or "never run"
        nodes.append(
            f'"{entry["stage"]}" [label="{entry["stage"]}\\n{status}" style=filled '
            f'fillcolor="{colours.get(status, "#eeeeee")}"]'
        )
        names.append(f'"{entry["stage"]}"')
    return "digraph { rankdir=LR; node [shape=box]; " + "; ".join(nodes) + "; " + " -> ".join(names) + " }"


def render() -> None:
    st.title("Pipeline")
    report = collect_status(ui.settings())
    mode, target, attention = st.columns(3)
    mode.metric("Mode", ui.pipeline_mode())
    target.metric("Target", ui.reader().target.name)
    attention.metric("Need a person", sum(warning.needs_person for warning in report.warnings))
    st.caption(f"{report.target}; source mode {report.source_mode}; as of {report.as_of} UTC")
    if report.note:
        st.info(report.note)
    if report.read_from == "none":
        return

    st.subheader("Data flow")
    st.graphviz_chart(flow_graph(report))
    st.dataframe(stage_table(report), hide_index=True)

    st.subheader("Needs attention")
    if not report.warnings:
        st.success("nothing needs a person (`outreach status` exits 0)")
    for warning in report.warnings:
        if warning.needs_person:
            st.error(f"{warning.check}: {warning.message}")
        else:
            st.warning(f"{warning.check}: {warning.message}")

    tables = ui.existing_tables()
    for title, table, sql, empty in (
        ("Run history", RUN_LOG, run_history_sql(), "no stage has run yet"),
        ("Run lock", RUN_LOCK, run_lock_sql(), "free: no stage is running"),
        ("Builds", BUILD_RUNS, build_runs_sql(), "no `outreach build` yet"),
        ("Event reads", EVENT_READS, event_reads_sql(), "no successful read of Smartlead events yet"),
    ):
        st.subheader(title)
        frame = ui.query(sql) if table in tables else None
        if frame is None or frame.empty:
            st.info(empty)
        else:
            st.dataframe(frame, hide_index=True)


if __name__ == "__main__":
    render()
