"""Brand: find one by name, domain or id; why it has its score, its segment history, what
suppresses it, the contact chosen, and everything planned for or sent to Smartlead and HubSpot."""

from __future__ import annotations

import altair as alt
import streamlit as st

from control_room import ui

BRANDS = "enriched.dim_brands"
SCORES = "segmented.seg_brand_scores"
EXPLAINED = "segmented.seg_brand_score_explained"
HISTORY = "segmented.seg_brand_segment_history"
SUPPRESSIONS = "enriched.int_brand_suppressions"
LEDGER = "reverse_etl.sync_ledger"
PREVIEW = "reverse_etl.sync_preview"
MAX_MATCHES = 50


def search_sql() -> str:
    """Brands whose name or domain contains the text, or whose id is it; best scores first (the
    empty text lists the best-scored brands)."""
    return f"""
        select brands.brand_id, brands.brand_name, brands.company_domain, scores.segment, scores.score
        from {BRANDS} as brands
        left join {SCORES} as scores
            on brands.brand_id = scores.brand_id
        where lower(brands.brand_name) like ? or lower(coalesce(brands.company_domain, '')) like ?
            or brands.brand_id = ?
        order by scores.score desc nulls last, brands.brand_name
        limit {MAX_MATCHES}
    """


def search_params(text: str) -> list[str]:
    pattern = f"%{text.strip().lower()}%"
    return [pattern, pattern, text.strip().lower()]


def score_explained_sql() -> str:
    return f"""
        select
            signal, raw_value, scaled_value, weight, contribution, points_missed, is_missing,
            score, segment, weights_version, segment_min_score, next_segment, points_to_next_segment
        from {EXPLAINED}
        where brand_id = ?
        order by contribution_rank
    """


def segment_history_sql() -> str:
    return f"""
        select segment, weights_version, entered_at, left_at, score_on_entry, last_score, days_in_segment, is_current
        from {HISTORY}
        where brand_id = ?
        order by entered_at
    """


def suppressions_sql() -> str:
    return f"""
        select reason, matched_by, suppression_key, source, first_seen_at
        from {SUPPRESSIONS}
        where brand_id = ?
        order by first_seen_at, reason
    """


def contact_sql() -> str:
    return f"""
        select
            contact_email, contact_first_name, contact_last_name, contact_title, contact_email_status,
            contact_linkedin_url, company_domain, has_usable_contact, is_suppressed, primary_suppression_reason,
            emails_sent, replies, positive_replies, first_contacted_at, latest_lead_category
        from {BRANDS}
        where brand_id = ?
    """


def brand_records_filter() -> str:
    """Rows about the brand: keyed by its id (Smartlead leads, HubSpot companies), by `email|id`
    (associations), or carrying its id in the payload (HubSpot contacts)."""
    return "(record_key = ? or record_key like ? or payload_json like ?)"


def brand_records_params(brand_id: str) -> list[str]:
    return [brand_id, f"%|{brand_id}", f"%{brand_id}%"]


def sent_sql() -> str:
    return f"""
        select destination, target, record_key, status, attempts, first_sent_at, last_sent_at, last_error, remote_id
        from {LEDGER}
        where {brand_records_filter()}
        order by destination, record_key
    """


def planned_sql() -> str:
    return f"""
        select destination, target, record_key, action, refusal_reason, previewed_at
        from {PREVIEW}
        where {brand_records_filter()}
        order by destination, record_key
    """


def render() -> None:
    st.title("Brand")
    if not ui.require_tables(BRANDS, SCORES, EXPLAINED, HISTORY, SUPPRESSIONS, run="outreach build"):
        return
    text = st.text_input("Search by name, domain or brand id", value=st.query_params.get("brand", ""))
    matches = ui.query(search_sql(), search_params(text))
    if matches.empty:
        st.info(f"no brand matches {text!r}")
        return
    labels = {
        row.brand_id: f"{row.brand_name} ({row.company_domain or 'no domain'}, {row.segment or 'unscored'})"
        for row in matches.itertuples()
    }
    brand_id = st.selectbox("Brand", list(labels), format_func=labels.__getitem__)
    if brand_id is None:
        return

    explained = ui.query(score_explained_sql(), [brand_id])
    st.subheader(f"Why this score: {labels[brand_id]}")
    if explained.empty:
        st.info("this brand has no score (no signal could be computed)")
    else:
        first = explained.iloc[0]
        score, segment, to_next = st.columns(3)
        score.metric("Score", f"{first['score']:.2f}")
        segment.metric("Segment", f"{first['segment']} (from {first['segment_min_score']:g})")
        to_next.metric(
            f"Points to {first['next_segment']}" if first["next_segment"] else "Top segment",
            f"{first['points_to_next_segment']:.2f}" if first["next_segment"] else "-",
        )
        st.altair_chart(
            alt.Chart(explained)
            .mark_bar()
            .encode(
                x=alt.X("contribution:Q", title="points"),
                y=alt.Y("signal:N", sort="-x", title=None),
                tooltip=["signal", "raw_value", "scaled_value", "weight", "contribution", "points_missed"],
            ),
            width="stretch",
        )
        st.dataframe(explained, hide_index=True)

    st.subheader("Segment history")
    st.dataframe(ui.query(segment_history_sql(), [brand_id]), hide_index=True)

    st.subheader("Suppression reasons")
    suppressions = ui.query(suppressions_sql(), [brand_id])
    if suppressions.empty:
        st.success("not suppressed")
    else:
        st.dataframe(suppressions, hide_index=True)

    st.subheader("Chosen contact")
    st.dataframe(ui.query(contact_sql(), [brand_id]), hide_index=True)

    st.subheader("Sent to Smartlead and HubSpot")
    tables = ui.existing_tables()
    if LEDGER in tables:
        sent = ui.query(sent_sql(), brand_records_params(brand_id))
        if sent.empty:
            st.info("nothing sent for this brand (reverse_etl.sync_ledger)")
        else:
            st.dataframe(sent, hide_index=True)
    else:
        st.info("nothing sent yet: no reverse_etl.sync_ledger (a production `outreach sync` creates it)")
    if PREVIEW in tables:
        st.caption("in the current dry-run plan (reverse_etl.sync_preview)")
        st.dataframe(ui.query(planned_sql(), brand_records_params(brand_id)), hide_index=True)


if __name__ == "__main__":
    render()
