"""Segments: where the scores fall against the thresholds, how segments grow and shrink, and
whether better segments answer better (per weights version, with the uncertainty of each rate)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from control_room import ui
from control_room.stats import rate_inversions, wilson_interval

SCORES = "segmented.seg_brand_scores"
THRESHOLDS = "config.segment_thresholds"
HISTORY = "segmented.seg_brand_segment_history"
PERFORMANCE = "segmented.seg_segment_performance"

# rate name -> (successes, trials) columns of seg_segment_performance
RATES = {
    "send_rate": ("brands_contacted", "brands_qualified"),
    "reply_rate": ("brands_replied", "brands_contacted"),
    "positive_reply_rate": ("brands_positive", "brands_contacted"),
}


def scores_sql() -> str:
    return f"select brand_id, segment, score from {SCORES} where score is not null"


def thresholds_sql() -> str:
    return f"select segment, min_score, description from {THRESHOLDS} order by min_score desc"


def segments_over_time_sql() -> str:
    """Brands per segment on each day a membership began or ended (seg_brand_segment_history)."""
    return f"""
        with memberships as (
            select segment, cast(entered_at as date) as entered_on, cast(left_at as date) as left_on
            from {HISTORY}
        ),
        days as (
            select entered_on as day from memberships
            union
            select left_on as day from memberships where left_on is not null
        )
        select days.day, memberships.segment, count(*) as brands
        from days
        inner join memberships
            on memberships.entered_on <= days.day and (memberships.left_on is null or memberships.left_on > days.day)
        group by days.day, memberships.segment
        order by days.day, memberships.segment
    """


def performance_sql() -> str:
    return f"""
        select
            weights_version, segment, brands, brands_queued, brands_contacted,
            brands_contacted + brands_queued as brands_qualified, emails_sent, brands_replied, brands_positive,
            send_rate, reply_rate, positive_reply_rate
        from {PERFORMANCE}
        order by weights_version, segment
    """


def with_intervals(performance: pd.DataFrame) -> pd.DataFrame:
    """Each rate's 95 % Wilson interval beside it (`reply_rate_low`, `reply_rate_high`, ...)."""
    frame = performance.copy()
    for rate, (successes, trials) in RATES.items():
        intervals = [
            wilson_interval(int(hits), int(tries)) for hits, tries in zip(frame[successes], frame[trials], strict=True)
        ]
        frame[f"{rate}_low"] = [interval.low if interval else None for interval in intervals]
        frame[f"{rate}_high"] = [interval.high if interval else None for interval in intervals]
    return frame


def render() -> None:
    st.title("Segments")
    if not ui.require_tables(SCORES, THRESHOLDS, HISTORY, PERFORMANCE, run="outreach build"):
        return
    scores = ui.query(scores_sql())
    thresholds = ui.query(thresholds_sql())

    st.subheader("Score distribution and the segment thresholds")
    st.caption("lines: each segment's lower bound (seeds/segment_thresholds.csv)")
    histogram = (
        alt.Chart(scores)
        .mark_bar()
        .encode(
            x=alt.X("score:Q", bin=alt.Bin(step=1), title="score"),
            y=alt.Y("count():Q", title="brands"),
            color=alt.Color("segment:N", sort="ascending"),
        )
    )
    rules = alt.Chart(thresholds).mark_rule(color="black", strokeDash=[4, 3]).encode(x="min_score:Q")
    rule_labels = (
        alt.Chart(thresholds)
        .mark_text(align="left", dx=3, dy=-6, baseline="top")
        .encode(x="min_score:Q", y=alt.value(0), text="segment:N")
    )
    st.altair_chart(histogram + rules + rule_labels, width="stretch")
    counts = scores.groupby("segment", as_index=False).agg(brands=("brand_id", "count"))
    st.dataframe(thresholds.merge(counts, on="segment", how="left").fillna({"brands": 0}), hide_index=True)

    st.subheader("Brands per segment over time")
    over_time = ui.query(segments_over_time_sql())
    if over_time.empty:
        st.info("no segment history yet: `outreach build` takes a snapshot per build")
    else:
        st.altair_chart(
            alt.Chart(over_time)
            .mark_line(point=True)
            .encode(x=alt.X("day:T", title=None), y=alt.Y("brands:Q"), color="segment:N"),
            width="stretch",
        )

    st.subheader("Performance per weights version")
    st.caption("rates with their 95 % Wilson interval: with a handful of contacted brands, the bars are wide")
    performance = with_intervals(ui.query(performance_sql()))
    st.dataframe(performance, hide_index=True)
    rate = st.radio("rate", list(RATES), horizontal=True, index=2)
    plotted = performance.dropna(subset=[rate])
    if not plotted.empty:
        base = alt.Chart(plotted).encode(
            x=alt.X("segment:N", title=None), xOffset="weights_version:N", color="weights_version:N"
        )
        points = base.mark_point(filled=True, size=80).encode(
            y=alt.Y(f"{rate}:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
        )
        bars = base.mark_rule().encode(y=f"{rate}_low:Q", y2=f"{rate}_high:Q")
        st.altair_chart(bars + points, width="stretch")

    st.subheader("Do the rates fall from A to E?")
    st.caption("an inversion whose intervals overlap (chart above) may be chance: the data cannot tell yet")
    for version, rows in performance.groupby("weights_version", sort=True):
        for checked in ("reply_rate", "positive_reply_rate"):
            ordered = rows.sort_values("segment")
            inversions = rate_inversions(
                [
                    (str(segment), None if pd.isna(value) else float(value))
                    for segment, value in zip(ordered["segment"], ordered[checked], strict=True)
                ]
            )
            if inversions:
                st.warning(f"{version}, {checked}: does not fall: {'; '.join(inversions)}")
            else:
                st.success(f"{version}, {checked}: falls from A to E (segments with contacted brands)")


if __name__ == "__main__":
    render()
