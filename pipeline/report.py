"""`outreach report` (and the end of `outreach run-all`): the control room's main figures as ONE
self-contained HTML file beside the warehouse, to open without a server or a network.

The figures come from the control room pages' own SQL (control_room/views), read the same way
(read-only, a connection per query); the warnings are `outreach status`'s; the last runs are
`pipeline_ops.run_log`'s. Charts are inline SVG (pipeline/report_charts.py), and every figure is
also embedded as JSON (`<script type="application/json" id="report-data">`) for machines.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from control_room.reader import WarehouseReader
from control_room.views import funnel as funnel_page
from control_room.views import segments as segments_page
from pipeline.report_charts import HistogramBin, RatePoint, horizontal_bars, rates_with_intervals, stacked_histogram
from pipeline.settings import Settings
from pipeline.status import collect_status
from warehouse_layer import DUCKDB, warehouse_exists

REPORT_FILE_NAME = "outreach_report.html"
REPORT_SHAPE_VERSION = 1
RUN_LOG = "pipeline_ops.run_log"
MAX_RUNS = 20
MAX_MESSAGE_CHARS = 160
CHARTED_RATES = ("reply_rate", "positive_reply_rate")
RUN_COLUMNS = (
    "started_at",
    "finished_at",
    "stage",
    "command",
    "status",
    "rows_in",
    "rows_out",
    "rejections",
    "requests_sent",
    "plan_id",
    "message",
)


class ReportError(ValueError):
    """The report cannot be written: the message names what is missing and what to run."""


def last_runs_sql() -> str:
    return f"""
        select {", ".join(RUN_COLUMNS)}
        from {RUN_LOG}
        order by started_at desc, run_id
        limit {MAX_RUNS}
    """


@dataclass
class ReportFigures:
    generated_at: str
    target: str
    mode: str
    funnel: list[dict[str, Any]] = field(default_factory=list)
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    brands_per_segment: list[dict[str, Any]] = field(default_factory=list)
    score_histogram: list[dict[str, Any]] = field(default_factory=list)  # score_bin (floor), segment, brands
    performance: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)  # not built yet: their sections say so

    def as_json(self) -> dict[str, Any]:
        return {"shape_version": REPORT_SHAPE_VERSION, **asdict(self)}


def report_path(settings: Settings) -> Path:
    """Beside the warehouse file, like the reverse-ETL preview (the project's warehouse/ otherwise)."""
    return settings.duckdb_path.parent / REPORT_FILE_NAME


def write_report(settings: Settings, *, now: datetime | None = None) -> Path:
    if settings.warehouse.kind == DUCKDB and not warehouse_exists(settings.warehouse):
        raise ReportError(
            f"warehouse file {settings.duckdb_path} does not exist: build one first (`outreach run-all`, "
            "or `make demo`), or point --duckdb at yours"
        )
    figures = collect_figures(settings, now=now)
    path = report_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(render_html(figures), encoding="utf-8")
    partial.replace(path)  # a browser reloading meanwhile sees the old report or the new, never half
    return path


def collect_figures(settings: Settings, *, now: datetime | None = None) -> ReportFigures:
    status = collect_status(settings)
    reader = WarehouseReader(settings.warehouse)
    figures = ReportFigures(
        generated_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        target=settings.warehouse.description,
        mode=status.mode,
        warnings=[asdict(warning) for warning in status.warnings],
    )
    existing = _existing_tables(reader)

    def available(*tables: str) -> bool:
        missing = [table for table in tables if table not in existing]
        figures.missing_tables += [table for table in missing if table not in figures.missing_tables]
        return not missing

    if available(funnel_page.FUNNEL):
        figures.funnel = _records(reader.frame(funnel_page.funnel_sql()))
    if available(segments_page.SCORES, segments_page.THRESHOLDS):
        scores = reader.frame(segments_page.scores_sql())
        thresholds = reader.frame(segments_page.thresholds_sql())
        figures.thresholds = _records(thresholds[["segment", "min_score"]])
        counts = scores.groupby("segment", as_index=False).agg(brands=("brand_id", "count"))
        figures.brands_per_segment = _records(counts.sort_values("segment"))
        # unit-wide bins as the Segments page draws them (alt.Bin(step=1))
        binned = scores.assign(score_bin=scores["score"].astype(float).apply(math.floor))
        histogram = binned.groupby(["score_bin", "segment"], as_index=False).agg(brands=("brand_id", "count"))
        figures.score_histogram = _records(histogram.sort_values(["score_bin", "segment"]))
    if available(segments_page.PERFORMANCE):
        figures.performance = _records(segments_page.with_intervals(reader.frame(segments_page.performance_sql())))
    if available(RUN_LOG):
        figures.runs = _records(reader.frame(last_runs_sql()))
    return figures


def _existing_tables(reader: WarehouseReader) -> set[str]:
    frame = reader.frame(
        """
        select table_schema, table_name from information_schema.tables
        union all
        select table_schema, table_name from information_schema.views
        """
    )
    return {f"{schema}.{table}".lower() for schema, table in frame.itertuples(index=False)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN as null, timestamps as ISO text, numpy numbers as Python numbers."""
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

STYLE = """
body { font-family: sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.needs-person { color: #b00020; font-weight: bold; } .note { color: #555; }
.missing { color: #555; font-style: italic; } .meta { color: #555; }
svg.chart { display: block; margin: 0.5rem 0; max-width: 100%; height: auto; }
"""


def render_html(figures: ReportFigures) -> str:
    data = json.dumps(figures.as_json(), separators=(",", ":")).replace("</", "<\\/")  # no early </script>
    sections = [_funnel(figures), _segments(figures), _performance(figures), _warnings(figures), _runs(figures)]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Outreach report</title>",
            f"<style>{STYLE}</style></head><body>",
            "<h1>Outreach report</h1>",
            f'<p class="meta">{escape(figures.target)} · {escape(figures.mode)} · generated {figures.generated_at} '
            "by <code>outreach report</code>; the live version is <code>outreach ui</code></p>",
            *sections,
            f'<script type="application/json" id="report-data">{data}</script>',
            "</body></html>",
            "",
        ]
    )


def _missing(figures: ReportFigures, *tables: str) -> str | None:
    missing = [table for table in tables if table in figures.missing_tables]
    if not missing:
        return None
    return f'<p class="missing">{escape(", ".join(missing))} does not exist yet: run <code>outreach build</code>.</p>'


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(column)) for column in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{value}</td>"
    if isinstance(value, int):
        return f'<td class="number">{value}</td>'
    if isinstance(value, float):
        return f'<td class="number">{value:.4g}</td>'
    return f"<td>{escape(str(value))}</td>"


def _funnel(figures: ReportFigures) -> str:
    parts = ['<section id="funnel"><h2>Funnel</h2>']
    if missing := _missing(figures, funnel_page.FUNNEL):
        return parts[0] + missing + "</section>"
    bars = [(str(row["pipeline_status"]), float(row["brands_reached"] or 0)) for row in figures.funnel]
    parts += [
        horizontal_bars("funnel", bars, "brands that reached each pipeline status"),
        _table(
            figures.funnel,
            [
                "pipeline_status",
                "brands_reached",
                "brands_in_status",
                "brands_stuck",
                "conversion_from_previous",
                "avg_days_in_status",
                "median_days_to_next_status",
            ],
        ),
        "</section>",
    ]
    return "".join(parts)


def _segments(figures: ReportFigures) -> str:
    parts = ['<section id="segments"><h2>Segments and the score distribution</h2>']
    if missing := _missing(figures, segments_page.SCORES, segments_page.THRESHOLDS):
        return parts[0] + missing + "</section>"
    segments = sorted(
        {str(row["segment"]) for row in figures.score_histogram} | {str(row["segment"]) for row in figures.thresholds}
    )
    bins = [
        HistogramBin(int(row["score_bin"]), str(row["segment"]), int(row["brands"])) for row in figures.score_histogram
    ]
    rules = [
        (str(row["segment"]), float(row["min_score"])) for row in figures.thresholds if row["min_score"] is not None
    ]
    counts = {str(row["segment"]): row["brands"] for row in figures.brands_per_segment}
    per_segment = [
        {"segment": row["segment"], "min_score": row["min_score"], "brands": counts.get(str(row["segment"]), 0)}
        for row in figures.thresholds
    ]
    parts += [
        "<p>Brands per unit-wide score bin, by segment; dashed lines: each segment's lower bound "
        "(<code>seeds/segment_thresholds.csv</code>).</p>",
        stacked_histogram(
            "score_distribution", bins, segments, rules, "score distribution with the segment thresholds"
        ),
        _table(per_segment, ["segment", "min_score", "brands"]),
        "</section>",
    ]
    return "".join(parts)


def _performance(figures: ReportFigures) -> str:
    parts = ['<section id="performance"><h2>Segment performance</h2>']
    if missing := _missing(figures, segments_page.PERFORMANCE):
        return parts[0] + missing + "</section>"
    for rate in CHARTED_RATES:
        points = [
            RatePoint(
                str(row["segment"]), str(row["weights_version"]), row[rate], row[f"{rate}_low"], row[f"{rate}_high"]
            )
            for row in figures.performance
            if row[rate] is not None
        ]
        parts.append(
            f"<h3>{escape(rate.replace('_', ' '))} per segment and weights version (95 % Wilson interval)</h3>"
        )
        parts.append(
            rates_with_intervals(rate, points, f"{rate} per segment")
            if points
            else '<p class="missing">no contacted brand yet: no rate to show.</p>'
        )
    columns = [
        "weights_version",
        "segment",
        "brands",
        "brands_contacted",
        "brands_replied",
        "brands_positive",
        "send_rate",
        "reply_rate",
        "reply_rate_low",
        "reply_rate_high",
        "positive_reply_rate",
    ]
    parts += [_table(figures.performance, columns), "</section>"]
    return "".join(parts)


def _warnings(figures: ReportFigures) -> str:
    if not figures.warnings:
        return '<section id="warnings"><h2>Warnings</h2><p>none: nothing needs a person.</p></section>'
    items = "".join(
        f'<li class="{"needs-person" if warning["needs_person"] else "note"}">'
        f"{'NEEDS A PERSON' if warning['needs_person'] else 'note'}: {escape(str(warning['message']))}</li>"
        for warning in figures.warnings
    )
    return f'<section id="warnings"><h2>Warnings</h2><p>from <code>outreach status</code></p><ul>{items}</ul></section>'


def _runs(figures: ReportFigures) -> str:
    parts = [f'<section id="runs"><h2>Last runs</h2><p>the last {MAX_RUNS} rows of <code>{RUN_LOG}</code></p>']
    if missing := _missing(figures, RUN_LOG):
        return parts[0] + missing.replace("outreach build", "outreach run-all") + "</section>"
    # a build's message lists every dbt warning: its start says enough here (the JSON keeps it whole)
    shown = [{**run, "message": _clip(run.get("message"))} for run in figures.runs]
    parts += [_table(shown, list(RUN_COLUMNS)), "</section>"]
    return "".join(parts)


def _clip(message: str | None) -> str | None:
    if message is None or len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 1] + "…"
