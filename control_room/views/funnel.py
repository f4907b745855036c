"""Funnel and health: how far brands get, how each step converts, who is stuck and for how long."""

from __future__ import annotations

import altair as alt
import streamlit as st

from control_room import ui

FUNNEL = "segmented.seg_pipeline_funnel"
STATUS = "segmented.seg_brand_pipeline_status"


def funnel_sql() -> str:
    return f"""
        select
            status_order, pipeline_status, brands_reached, brands_in_status, brands_stuck,
            conversion_from_previous, avg_days_in_status, max_days_in_status,
            next_timed_status, median_days_to_next_status
        from {FUNNEL}
        order by status_order
    """


def stuck_brands_sql() -> str:
    return f"""
        select
            status.brand_id, scores.brand_name, status.pipeline_status, status.segment,
            status.days_in_status, status.status_entered_at
        from {STATUS} as status
        left join segmented.seg_brand_scores as scores
            on status.brand_id = scores.brand_id
        where status.is_stuck
        order by status.days_in_status desc, status.brand_id
    """


def time_in_status_sql() -> str:
    return f"""
        select pipeline_status, status_order, days_in_status
        from {STATUS}
        where days_in_status is not null
    """


def render() -> None:
    st.title("Funnel and health")
    if not ui.require_tables(FUNNEL, STATUS, "segmented.seg_brand_scores", run="outreach build"):
        return
    funnel = ui.query(funnel_sql())
    first, stuck, last = st.columns(3)
    first.metric("Brands discovered", int(funnel["brands_reached"].iloc[0]) if len(funnel) else 0)
    stuck.metric("Brands stuck", int(funnel["brands_stuck"].sum()))
    last.metric("In the CRM", int(funnel["brands_reached"].iloc[-1]) if len(funnel) else 0)

    order = list(funnel["pipeline_status"])
    chart = (
        alt.Chart(funnel)
        .mark_bar()
        .encode(
            x=alt.X("brands_reached:Q", title="brands that reached the status"),
            y=alt.Y("pipeline_status:N", sort=order, title=None),
            color=alt.value("#4c78a8"),
            tooltip=[
                "pipeline_status",
                "brands_reached",
                "brands_in_status",
                "brands_stuck",
                "conversion_from_previous",
            ],
        )
    )
    labels = chart.mark_text(align="left", dx=3).encode(text="brands_reached:Q")
    st.altair_chart(chart + labels, width="stretch")

    st.subheader("Conversion per step")
    st.dataframe(
        funnel,
        hide_index=True,
        column_config={
            "conversion_from_previous": st.column_config.NumberColumn("conversion from previous", format="percent"),
        },
    )

    st.subheader("Stuck brands")
    st.caption("waiting on the pipeline (score, contact, first email) for longer than `pipeline_stuck_after_days`")
    stuck_brands = ui.query(stuck_brands_sql())
    if stuck_brands.empty:
        st.success("no brand is stuck")
    else:
        st.dataframe(stuck_brands, hide_index=True)

    st.subheader("Time in status")
    durations = ui.query(time_in_status_sql())
    if not durations.empty:
        st.altair_chart(
            alt.Chart(durations)
            .mark_boxplot()
            .encode(
                x=alt.X("days_in_status:Q", title="days in the status so far"),
                y=alt.Y("pipeline_status:N", sort=order, title=None),
            ),
            width="stretch",
        )


if __name__ == "__main__":
    render()
