"""Every page of the control room, run headless (Streamlit's AppTest) on a copy of the demo
warehouse: no exception, and each figure shown equals what the models hold."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from control_room import ui
from control_room.stats import rate_inversions
from tests.python.control_room.conftest import APP, stage_holding

Model = Callable[..., pd.DataFrame]
PAGES = ("funnel.py", "segments.py", "brand.py", "sync_review.py", "pipeline.py", "configurator.py")


def open_page(page: str, **query_params: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update(query_params)
    app.run()
    if page != PAGES[0]:  # the default page
        app.switch_page(f"views/{page}").run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def table_with(app: AppTest, *columns: str) -> pd.DataFrame:
    """The first table shown with these columns."""
    for table in app.dataframe:
        if set(columns) <= set(table.value.columns):
            return table.value.reset_index(drop=True)
    raise AssertionError(f"no table with {columns}: {[list(table.value.columns) for table in app.dataframe]}")


def chart_data(app: AppTest) -> list[pd.DataFrame]:
    """The data of every Vega-Lite chart on the page (Arrow, as the browser gets it)."""
    return [
        pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
        for element in app.main
        if getattr(element, "type", "") == "vega_lite_chart"
        for dataset in element.proto.datasets
    ]


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def same(shown: pd.Series, expected: pd.Series) -> None:
    pd.testing.assert_series_equal(
        shown.reset_index(drop=True), expected.reset_index(drop=True), check_names=False, check_dtype=False
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(ui_env: Path, page: str) -> None:
    app = open_page(page)
    assert app.title, f"{page} shows no title"


def test_funnel_page_shows_the_funnel_model(ui_env: Path, model: Model) -> None:
    funnel = model("select * from segmented.seg_pipeline_funnel order by status_order")
    stuck = model("select brand_id from segmented.seg_brand_pipeline_status where is_stuck")
    app = open_page("funnel.py")

    shown = table_with(app, "pipeline_status", "brands_reached", "conversion_from_previous")
    for column in ("pipeline_status", "brands_reached", "brands_in_status", "brands_stuck", "conversion_from_previous"):
        same(shown[column], funnel[column])
    charted = next(frame for frame in chart_data(app) if "brands_reached" in frame)
    same(charted["brands_reached"], funnel["brands_reached"])
    assert metrics(app)["Brands discovered"] == str(funnel["brands_reached"].iloc[0])
    assert metrics(app)["Brands stuck"] == str(funnel["brands_stuck"].sum())
    if stuck.empty:
        assert any("no brand is stuck" in message.value for message in app.success)
    else:
        assert set(table_with(app, "brand_id", "days_in_status")["brand_id"]) == set(stuck["brand_id"])


def test_segments_page_shows_scores_thresholds_and_performance(ui_env: Path, model: Model) -> None:
    thresholds = model("select segment, min_score from config.segment_thresholds order by min_score desc")
    per_segment = model(
        "select segment, count(*) as brands from segmented.seg_brand_scores where score is not null group by segment"
    )
    performance = model("select * from segmented.seg_segment_performance order by weights_version, segment")
    app = open_page("segments.py")

    shown_thresholds = table_with(app, "segment", "min_score", "brands")
    same(shown_thresholds["segment"], thresholds["segment"])
    same(shown_thresholds["min_score"], thresholds["min_score"])
    counted = shown_thresholds.set_index("segment")["brands"]
    for row in per_segment.itertuples():
        assert counted[row.segment] == row.brands
    lines = next(frame for frame in chart_data(app) if "min_score" in frame)  # the thresholds drawn
    assert sorted(lines["min_score"]) == sorted(thresholds["min_score"])

    shown = table_with(app, "weights_version", "segment", "reply_rate", "reply_rate_low", "reply_rate_high")
    for rate in ("send_rate", "reply_rate", "positive_reply_rate"):
        same(shown[rate], performance[rate])
        known = shown.dropna(subset=[rate])
        assert (known[f"{rate}_low"] <= known[rate] + 1e-9).all() and (
            known[rate] <= known[f"{rate}_high"] + 1e-9
        ).all()

    messages = [message.value for message in [*app.warning, *app.success]]
    for version, rows in performance.groupby("weights_version"):
        for rate in ("reply_rate", "positive_reply_rate"):
            falls = not rate_inversions(
                [
                    (segment, None if pd.isna(value) else value)
                    for segment, value in zip(rows["segment"], rows[rate], strict=True)
                ]
            )
            verdict = "falls from A to E" if falls else "does not fall"
            assert any(message.startswith(f"{version}, {rate}: {verdict}") for message in messages), messages


def test_brand_page_explains_the_score_of_the_brand_searched(ui_env: Path, model: Model) -> None:
    # a suppressed brand with a score: every section has something to show
    brand_id = model(
        """
        select scores.brand_id from segmented.seg_brand_scores as scores
        where scores.brand_id in (select brand_id from enriched.int_brand_suppressions)
        order by scores.score desc limit 1
        """
    )["brand_id"].iloc[0]
    explained = model(
        "select * from segmented.seg_brand_score_explained where brand_id = ? order by contribution_rank", [brand_id]
    )
    suppressions = model("select reason from enriched.int_brand_suppressions where brand_id = ?", [brand_id])
    history = model("select segment from segmented.seg_brand_segment_history where brand_id = ?", [brand_id])
    app = open_page("brand.py", brand=brand_id)

    assert app.selectbox[0].value == brand_id
    assert metrics(app)["Score"] == f"{explained['score'].iloc[0]:.2f}"
    shown = table_with(app, "signal", "contribution", "points_missed")
    same(shown["signal"], explained["signal"])
    same(shown["contribution"], explained["contribution"])
    charted = next(frame for frame in chart_data(app) if "contribution" in frame)
    assert (
        charted.set_index("signal")["contribution"].to_dict() == explained.set_index("signal")["contribution"].to_dict()
    )
    assert sorted(table_with(app, "reason", "matched_by")["reason"]) == sorted(suppressions["reason"])
    assert len(table_with(app, "segment", "entered_at", "left_at")) == len(history)


def test_brand_search_by_domain(ui_env: Path, model: Model) -> None:
    brand = model(
        "select brand_id, company_domain from enriched.dim_brands where company_domain is not null "
        "order by brand_id limit 1"
    ).iloc[0]
    app = open_page("brand.py")
    app.text_input[0].set_value(brand["company_domain"].upper()).run()
    assert brand["brand_id"] in app.selectbox[0].options or brand["brand_id"] == app.selectbox[0].value


def test_sync_review_page_shows_the_current_plan(ui_env: Path, model: Model) -> None:
    plan = model("select * from reverse_etl.sync_plans order by created_at desc limit 1").iloc[0]
    actions = model(
        "select destination, action, count(*) as rows_planned from reverse_etl.sync_preview "
        "group by destination, action order by destination, action"
    )
    refused = model("select count(*) as refused from reverse_etl.sync_preview where action = 'refuse'")
    app = open_page("sync_review.py")

    assert any(plan["plan_id"] in subheader.value for subheader in app.subheader)
    assert metrics(app)["Rows to send"] == str(plan["rows_to_send"])
    assert metrics(app)["New Smartlead leads"] == str(plan["new_leads"])
    assert metrics(app)["Refused"] == str(refused["refused"].iloc[0])
    shown = table_with(app, "destination", "action", "rows_planned")
    pd.testing.assert_frame_equal(shown, actions, check_dtype=False)
    assert json.loads(plan["counts_json"]).keys() == set(actions["destination"])
    if refused["refused"].iloc[0] == 0:
        assert any("refuses no row" in message.value for message in app.success)

    email = model("select record_key from reverse_etl.sync_preview where destination = 'hubspot_contacts' limit 1")
    app.text_input[0].set_value(email["record_key"].iloc[0]).run()
    found = table_with(app, "record_key", "action", "payload_json")
    assert email["record_key"].iloc[0] in set(found["record_key"])


def test_with_a_password_set_nothing_shows_until_it_is_typed(ui_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_UI_PASSWORD", "correct horse")
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.title and not app.dataframe
    app.text_input[0].set_value("wrong").run()
    assert not app.title and app.error[0].value == "wrong password"
    app.text_input[0].set_value("correct horse").run()
    assert not app.exception and app.title[0].value == "Funnel and health"


@pytest.fixture
def running_stage(ui_env: Path) -> Iterator[None]:
    """A stage that holds the run lock and has the DuckDB file open for writing, as `outreach build` does."""
    with stage_holding(ui_env):
        yield


def test_a_running_stage_shows_who_runs_and_the_last_data(
    ui_env: Path, model: Model, request: pytest.FixtureRequest
) -> None:
    brands_reached = model("select brands_reached from segmented.seg_pipeline_funnel order by status_order")
    ui.forget_last_results()  # the app remembers what other tests read
    app = open_page("funnel.py")  # read once: the app remembers it
    request.getfixturevalue("running_stage")

    app.run()
    assert not app.exception
    banner = app.warning[0].value
    assert banner.startswith("pipeline running (`outreach build` (host ") and ", data as of " in banner
    same(table_with(app, "pipeline_status", "brands_reached")["brands_reached"], brands_reached["brands_reached"])

    never_read = open_page("sync_review.py")  # nothing remembered for its queries
    assert not never_read.exception
    assert "pipeline running (`outreach build`" in never_read.info[0].value
