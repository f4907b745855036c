"""`outreach report`: one self-contained HTML file of the control room's figures, written by the
real command on a copy of the demo warehouse (never rebuilt here), compared with the models,
checked for network references, and opened from disk in headless Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from pipeline.report import write_report
from pipeline.settings import Settings
from pipeline.status import collect_status
from tests.python.cli_runner import PipelineRun, run_outreach
from tests.python.control_room.conftest import stage_holding

Model = Callable[..., pd.DataFrame]
# attributes through which a page loads something
LOADING_ATTRIBUTES = ("src", "href", "xlink:href", "srcset", "data", "poster", "action", "background")


@dataclass
class ParsedReport:
    data: dict[str, Any] = field(default_factory=dict)
    marks: list[dict[str, str]] = field(default_factory=list)  # svg rect/line/circle with data-value
    references: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    styles: list[str] = field(default_factory=list)


class ReportParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parsed = ParsedReport()
        self._chart = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for name in LOADING_ATTRIBUTES:
            if name in attributes:
                self.parsed.references.append((tag, name, attributes[name]))
        if tag == "svg":
            self._chart = attributes.get("data-chart", "")
        if "data-value" in attributes:
            self.parsed.marks.append({"chart": self._chart, "tag": tag, **attributes})
        if tag == "script" and attributes.get("id") == "report-data":
            self._in = "data"
        elif tag == "style":
            self._in = "style"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "data":
            self.parsed.data = json.loads(data)
        elif self._in == "style":
            self.parsed.styles.append(data)


def parse(html: str) -> ParsedReport:
    parser = ReportParser()
    parser.feed(html)
    return parser.parsed


@pytest.fixture(scope="module")
def report_run(ui_warehouse: Path) -> tuple[PipelineRun, Path]:
    """`outreach report` on the copy of the demo warehouse: (the run, the HTML file it wrote)."""
    run = run_outreach(ui_warehouse, "report")
    assert run.returncode == 0, run.stderr
    return run, ui_warehouse.parent / "outreach_report.html"


@pytest.fixture(scope="module")
def report(report_run: tuple[PipelineRun, Path]) -> ParsedReport:
    return parse(report_run[1].read_text(encoding="utf-8"))


def marks(report: ParsedReport, chart: str, tag: str) -> list[dict[str, str]]:
    return [mark for mark in report.marks if mark["chart"] == chart and mark["tag"] == tag]


def test_report_prints_its_path_beside_the_warehouse(report_run: tuple[PipelineRun, Path]) -> None:
    run, path = report_run
    assert run.stdout.splitlines()[-1] == f"[report] {path}"
    assert path.is_file() and run.stderr == ""


def test_report_funnel_and_segments_equal_the_models(report: ParsedReport, model: Model) -> None:
    funnel = model("select * from segmented.seg_pipeline_funnel order by status_order")
    shown = pd.DataFrame(report.data["funnel"])
    for column in ("pipeline_status", "brands_reached", "brands_in_status", "brands_stuck", "conversion_from_previous"):
        pd.testing.assert_series_equal(shown[column], funnel[column], check_names=False, check_dtype=False)
    bars = marks(report, "funnel", "rect")
    assert [(bar["data-label"], int(bar["data-value"])) for bar in bars] == list(
        zip(funnel["pipeline_status"], funnel["brands_reached"], strict=True)
    )

    thresholds = model("select segment, min_score from config.segment_thresholds order by min_score desc")
    assert report.data["thresholds"] == thresholds.to_dict("records")
    rules = marks(report, "score_distribution", "line")
    assert sorted(float(rule["data-value"]) for rule in rules) == sorted(thresholds["min_score"])

    bins = model(
        """
        select cast(floor(score) as integer) as score_bin, segment, count(*) as brands
        from segmented.seg_brand_scores where score is not null
        group by 1, 2 order by 1, 2
        """
    )
    assert report.data["score_histogram"] == bins.to_dict("records")
    drawn = sorted(
        (int(bar["data-bin"]), bar["data-label"], int(bar["data-value"]))
        for bar in marks(report, "score_distribution", "rect")
    )
    assert drawn == sorted(bins.itertuples(index=False, name=None))
    per_segment = model(
        "select segment, count(*) as brands from segmented.seg_brand_scores where score is not null "
        "group by segment order by segment"
    )
    assert report.data["brands_per_segment"] == per_segment.to_dict("records")


def test_report_performance_warnings_and_runs_equal_their_sources(
    report: ParsedReport, model: Model, ui_env: Path
) -> None:
    performance = model("select * from segmented.seg_segment_performance order by weights_version, segment")
    shown = pd.DataFrame(report.data["performance"])
    assert list(shown["segment"]) == list(performance["segment"])
    for rate in ("send_rate", "reply_rate", "positive_reply_rate"):
        pd.testing.assert_series_equal(shown[rate], performance[rate], check_names=False, check_dtype=False)
    charted = {
        (point["data-label"], point["data-series"]): float(point["data-value"])
        for point in marks(report, "reply_rate", "circle")
    }
    expected = {
        (row.segment, row.weights_version): row.reply_rate
        for row in performance.itertuples()
        if not pd.isna(row.reply_rate)
    }
    assert charted == pytest.approx(expected, rel=1e-5) and charted

    status = collect_status(Settings.from_env(str(ui_env)))
    assert [warning["message"] for warning in report.data["warnings"]] == [
        warning.message for warning in status.warnings
    ]
    runs = model("select stage, status, plan_id from pipeline_ops.run_log order by started_at desc, run_id limit 20")
    runs = runs.astype(object).where(runs.notna(), None)  # SQL null, not pandas' NaN
    assert [(run["stage"], run["status"], run["plan_id"]) for run in report.data["runs"]] == list(
        runs.itertuples(index=False, name=None)
    )
    assert report.data["runs"], "the demo run-all logged its stages"


def test_report_loads_nothing_from_anywhere(report: ParsedReport) -> None:
    assert report.references == [], "every byte of the report is inline"
    assert not any("url(" in style or "@import" in style for style in report.styles)


def test_report_of_a_warehouse_not_built_says_what_to_run(tmp_path: Path) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    duckdb.connect(str(warehouse)).close()
    html = write_report(Settings.from_env(str(warehouse))).read_text(encoding="utf-8")  # in-process: cheap
    assert "segmented.seg_pipeline_funnel" in parse(html).data["missing_tables"]
    assert "run <code>outreach build</code>" in html

    missing = run_outreach(tmp_path / "nowhere" / "outreach.duckdb", "report")
    assert missing.returncode == 2 and missing.stdout == ""
    [line] = missing.stderr.splitlines()
    assert "does not exist" in line and "outreach run-all" in line


def test_run_all_writes_the_report_beside_the_warehouse(demo_run: PipelineRun) -> None:
    assert any(
        line.startswith("[report] ") and line.endswith("outreach_report.html") for line in demo_run.stdout.splitlines()
    )
    assert (demo_run.duckdb_path.parent / "outreach_report.html").is_file()


@pytest.fixture
def offline_browser() -> Iterator[WebDriver]:
    """Headless Chromium that cannot resolve any host, its console log kept."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.fail("chromium and chromedriver are needed: run scripts/install_system_packages.sh (make setup does)")
    options = Options()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1200,1600",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # a fetch anywhere fails (and is logged)
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_opens_from_disk_with_its_charts_drawn(
    report_run: tuple[PipelineRun, Path], report: ParsedReport, offline_browser: WebDriver
) -> None:
    offline_browser.get(report_run[1].as_uri())
    assert offline_browser.title == "Outreach report"
    charts = offline_browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert {chart.get_attribute("data-chart") for chart in charts} >= {"funnel", "score_distribution", "reply_rate"}
    for chart in charts:
        assert chart.size["width"] > 100 and chart.size["height"] > 100, chart.get_attribute("data-chart")
    bars = offline_browser.find_elements(By.CSS_SELECTOR, 'svg[data-chart="funnel"] rect.bar')
    assert len(bars) == len(report.data["funnel"])
    assert any(bar.size["width"] > 0 for bar in bars)
    assert offline_browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    errors = [entry for entry in offline_browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def test_report_while_a_stage_writes_the_warehouse_is_busy_in_one_line(tmp_path: Path) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    duckdb.connect(str(warehouse)).close()
    with stage_holding(warehouse):
        run = run_outreach(warehouse, "report")
    assert run.returncode == 75 and run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("error: pipeline running (`outreach build` (host ")
    assert not (tmp_path / "outreach_report.html").exists()
