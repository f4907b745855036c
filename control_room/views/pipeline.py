"""Pipeline: mode and target, builds, event reads and the run lock (pipeline_ops)."""

from __future__ import annotations

import streamlit as st

from control_room import ui

BUILD_RUNS = "pipeline_ops.build_runs"
EVENT_READS = "pipeline_ops.event_reads"
RUN_LOCK = "pipeline_ops.run_lock"
MAX_ROWS = 20


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


def render() -> None:
    st.title("Pipeline")
    mode, target = st.columns(2)
    mode.metric("Mode", ui.pipeline_mode())
    target.metric("Target", ui.reader().target.name)
    st.caption(ui.reader().target.description)
    tables = ui.existing_tables()
    for title, table, sql, empty in (
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
