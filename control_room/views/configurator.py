"""Scoring configurator: edit the scoring weights and segment thresholds and see what they would
move (pipeline/whatif.py: the build's SQL in a sandbox copy), then save them as seeds to review.

The only page that writes anything: the two seed CSV files, on "Save". Never the warehouse.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from control_room import scoring_seeds, ui
from pipeline.whatif import (
    CATEGORIES,
    LIFT,
    SEGMENTS,
    THRESHOLDS_SEED,
    WEIGHTS_SEED,
    WhatIfInputError,
    WhatIfResult,
    WhatIfUnsupportedError,
)
from warehouse_layer.run_lock import RunLockedError

VERSIONS = "segmented.seg_scoring_weights_versions"
WEIGHTS_EDITOR, THRESHOLDS_EDITOR = "configurator_weights", "configurator_thresholds"
RESULT_KEY = "configurator_result"
# the columns a person tunes; the rest (names, source columns, the version label) stay as they are
WEIGHTS_LOCKED = ["signal", "source_column", scoring_seeds.WEIGHTS_VERSION]
THRESHOLDS_LOCKED = ["segment"]


def versions_built_sql() -> str:
    return f"select distinct weights_version from {VERSIONS}"


def moves_matrix(result: WhatIfResult) -> pd.DataFrame:
    """Brands per segment now (rows) and proposed (columns), the segments always, the others when used."""
    shown = [
        category
        for category in CATEGORIES
        if category in SEGMENTS or any(category in pair for pair, count in result.moves.items() if count)
    ]
    rows = [[result.moves.get((before, after), 0) for after in shown] for before in shown]
    return pd.DataFrame(rows, index=pd.Index(shown, name="now \\ proposed"), columns=shown).reset_index()


def queue_table(result: WhatIfResult) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "campaign_id": queue.campaign_id,
                "campaign_name": queue.campaign_name,
                "leads_now": queue.leads_before,
                "leads_proposed": queue.leads_after,
                "change": queue.leads_after - queue.leads_before,
            }
            for queue in result.queue
        ]
    )


def backtest_table(result: WhatIfResult) -> pd.DataFrame:
    backtest = result.backtest
    return pd.DataFrame(
        [
            {
                "proposed_segment": row.segment,
                "brands_contacted": row.brands_contacted,
                "brands_replied": row.brands_replied,
                "brands_positive": row.brands_positive,
                "reply_rate": row.reply_rate,
                "positive_rate": row.positive_rate,
                "share_of_contacted": backtest.share_of_brands(row.segment),
                "share_of_positive": backtest.share_of_positive(row.segment),
            }
            for row in backtest.segments
        ]
    )


def checks_table(result: WhatIfResult) -> pd.DataFrame:
    def shown(value: float | None, kind: str) -> str:
        if value is None:
            return "-"
        if kind == LIFT:
            return "∞" if value == float("inf") else f"{value:.1f}x"
        return f"{value:.1%}"

    return pd.DataFrame(
        [
            {
                "check": check.name,
                "target": check.target,
                "value": shown(check.value, check.kind),
                "brands": check.counts,
                "result": "n/a" if check.passed is None else "pass" if check.passed else "fail",
            }
            for check in result.backtest.checks()
        ]
    )


def proposal_key(weights: pd.DataFrame, thresholds: pd.DataFrame) -> str:
    text = scoring_seeds.as_text(weights).to_csv() + scoring_seeds.as_text(thresholds).to_csv()
    return hashlib.sha256(text.encode()).hexdigest()


def render_result(result: WhatIfResult) -> None:
    for warning in result.warnings:
        st.warning(warning)
    moved, apollo, queued = st.columns(3)
    moved.metric("Brands moving", result.brands_moved, help=f"of {result.brands} brands")
    apollo.metric(
        "Extra Apollo lookups",
        len(result.new_apollo_lookups),
        help=f"brands newly on the work list with no lookup within {result.apollo_ttl_days:g} days",
    )
    queue = queue_table(result)
    queued.metric(
        "Outreach queue",
        int(queue["leads_proposed"].sum()) if not queue.empty else 0,
        delta=int(queue["change"].sum()) if not queue.empty else 0,
    )
    st.caption(f"built in a sandbox copy ({result.dbt_summary}); the warehouse is unchanged")

    st.subheader("Segment moves")
    st.caption("rows: the segment now; columns: with the proposed seeds (suppressed: no outreach whatever the score)")
    st.dataframe(moves_matrix(result), hide_index=True)

    st.subheader("Outreach queue per Smartlead campaign")
    st.dataframe(queue, hide_index=True)

    st.subheader("Apollo lookups")
    st.dataframe(
        pd.DataFrame(
            {
                "apollo_work_list": ["now", "proposed", "newly on the list", "extra lookups (credits)"],
                "brands": [
                    result.apollo_worklist_before,
                    result.apollo_worklist_after,
                    result.apollo_entering,
                    len(result.new_apollo_lookups),
                ],
            }
        ),
        hide_index=True,
    )
    if result.new_apollo_lookups:
        st.dataframe(pd.DataFrame([vars(brand) for brand in result.new_apollo_lookups]), hide_index=True)

    st.subheader("Backtest on the brands already contacted")
    st.caption(
        f"{result.backtest.brands_contacted} brands contacted, {result.backtest.brands_positive} with a positive "
        "reply, grouped by the segment the proposed seeds give them; with few brands any check may be chance"
    )
    st.dataframe(backtest_table(result), hide_index=True)
    st.dataframe(checks_table(result), hide_index=True)


def render() -> None:
    st.title("Scoring configurator")
    st.caption(
        "Edit the weights and thresholds, then see what they would move before anything changes: the build's "
        "own SQL runs on a sandbox copy of the warehouse (`outreach whatif`)."
    )
    if not ui.require_tables(VERSIONS, run="outreach build"):
        return
    settings = ui.settings()
    folder = scoring_seeds.seeds_dir(settings)
    folder_shown = _shown(folder, settings.project_dir)
    try:
        current_weights = scoring_seeds.read_seed(folder, WEIGHTS_SEED)
        current_thresholds = scoring_seeds.read_seed(folder, THRESHOLDS_SEED)
    except (OSError, ValueError) as error:
        st.error(f"{error}")
        return

    st.subheader(f"Scoring weights ({folder_shown / 'scoring_weights.csv'})")
    weights = st.data_editor(
        scoring_seeds.typed_for_editing(current_weights, ("cap_value", "weight")),
        key=WEIGHTS_EDITOR,
        num_rows="fixed",
        hide_index=True,
        disabled=WEIGHTS_LOCKED,
    )
    st.subheader(f"Segment thresholds ({folder_shown / 'segment_thresholds.csv'})")
    thresholds = st.data_editor(
        scoring_seeds.typed_for_editing(current_thresholds, ("min_score",)),
        key=THRESHOLDS_EDITOR,
        num_rows="fixed",
        hide_index=True,
        disabled=THRESHOLDS_LOCKED,
    )

    versions_built = set(ui.query(versions_built_sql())["weights_version"].astype(str))
    new_version = None
    if scoring_seeds.weights_changed(current_weights, weights):
        new_version = scoring_seeds.next_weights_version(versions_built | set(current_weights["weights_version"]))
        weights = scoring_seeds.with_weights_version(weights, new_version)
        st.info(f"the weights changed: they get weights_version {new_version} (a version is never reused)")
    total = pd.to_numeric(weights["weight"], errors="coerce").sum()
    st.caption(f"weights sum to {total:g} (the seed tests want 100 per version)")

    key = proposal_key(weights, thresholds)
    if st.button("Show what it would move", type="primary", key="configurator_whatif"):
        with st.spinner("building the proposed seeds in a sandbox copy of the warehouse (about 10 s)..."):
            try:
                st.session_state[RESULT_KEY] = (key, scoring_seeds.run_proposal(settings, weights, thresholds))
            except (WhatIfInputError, WhatIfUnsupportedError, RunLockedError) as error:
                st.session_state[RESULT_KEY] = (key, f"{error}")
    shown = st.session_state.get(RESULT_KEY)
    if shown is not None and shown[0] == key:
        if isinstance(shown[1], str):
            st.error(shown[1])
        else:
            render_result(shown[1])
    elif shown is not None:
        st.info("the tables changed since the last what-if: show what they would move again")

    st.subheader("Save")
    st.caption(
        f"writes {WEIGHTS_SEED}.csv (only when the weights changed, with the new weights_version) and "
        f"{THRESHOLDS_SEED}.csv into {_shown(folder, ui.settings().project_dir)}: review them "
        "(`git diff seeds/`) and commit; "
        "the warehouse is not rebuilt here, the next `outreach build` uses them"
    )
    if st.button("Save as seeds", key="configurator_save"):
        try:
            saved = scoring_seeds.save_seeds(folder, weights, thresholds, versions_built)
        except OSError as error:
            st.error(f"cannot write the seeds into {folder}: {error}; check the folder is writable")
            return
        version = (
            f"weights_version {saved.new_weights_version}" if saved.new_weights_version else "the weights unchanged"
        )
        st.success(
            f"saved {saved.thresholds_file} and {saved.weights_file} ({version}): ready to review and commit; "
            "run `outreach build` after merging to rebuild the warehouse with them"
        )


def _shown(folder: Path, project_dir: Path) -> Path:
    """The seeds folder as the analyst knows it: relative to the project when inside it."""
    try:
        return folder.resolve().relative_to(project_dir.resolve())
    except ValueError:
        return folder


if __name__ == "__main__":
    render()
