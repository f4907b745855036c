"""Charts of the HTML report (pipeline/report.py) as inline SVG, drawn here.

No chart library: the only Vega JavaScript on this machine is Streamlit's internal, code-split
bundle (hash-named ES module chunks with minified exports), which a file opened from disk cannot
load without rewriting its module graph. SVG needs nothing to run: the report opens offline, in
any browser, and prints. Every mark carries its figure (`data-value`, `data-label`) so tests can
compare the drawing with the warehouse; `<title>` children are the browser's tooltips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Vega's default categorical palette (tableau10): the same colours as the control room's charts
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#e45756",
    "#72b7b2",
    "#54a24b",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
)
WIDTH = 760
FONT = 'font-family="sans-serif" font-size="12"'


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"


def _svg(chart: str, height: int, body: list[str], description: str) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(chart)}" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" {FONT}>'
        f"<desc>{escape(description)}</desc>" + "".join(body) + "</svg>"
    )


def horizontal_bars(chart: str, bars: Sequence[tuple[str, float]], description: str) -> str:
    """One bar per label, in the order given, its value written at its end."""
    label_width, row_height, value_room = 190, 26, 60
    height = max(1, len(bars)) * row_height + 10
    largest = max((value for _, value in bars), default=0) or 1
    scale = (WIDTH - label_width - value_room) / largest
    body: list[str] = []
    for index, (label, value) in enumerate(bars):
        top = 5 + index * row_height
        length = max(value * scale, 0.0)
        body += [
            f'<text x="{label_width - 6}" y="{top + 16}" text-anchor="end">{escape(label)}</text>',
            f'<rect class="bar" data-label="{escape(label)}" data-value="{_number(value)}" x="{label_width}" '
            f'y="{top + 3}" width="{length:.1f}" height="{row_height - 6}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>",
            f'<text x="{label_width + length + 4:.1f}" y="{top + 16}">{_number(value)}</text>',
        ]
    return _svg(chart, height, body, description)


@dataclass(frozen=True)
class HistogramBin:
    start: int  # the bin is [start, start + 1)
    group: str
    count: int


def stacked_histogram(
    chart: str,
    bins: Sequence[HistogramBin],
    groups: Sequence[str],
    rules: Sequence[tuple[str, float]],
    description: str,
) -> str:
    """Counts per unit-wide bin, stacked by group (in `groups` order), with a dashed vertical rule
    at each (label, x) of `rules` (the segment thresholds)."""
    left, right, top, bottom, legend = 50, 20, 20, 40, 24
    height = 300
    plot_height = height - top - bottom - legend
    starts = [item.start for item in bins] + [int(x) for _, x in rules]
    low = min(starts, default=0)
    high = max([item.start + 1 for item in bins] + [int(x) + 1 for _, x in rules], default=1)
    totals: dict[int, int] = {}
    for item in bins:
        totals[item.start] = totals.get(item.start, 0) + item.count
    tallest = max(totals.values(), default=0) or 1
    x_scale = (WIDTH - left - right) / max(high - low, 1)
    y_scale = plot_height / tallest
    colours = {group: PALETTE[index % len(PALETTE)] for index, group in enumerate(groups)}
    baseline = top + legend + plot_height

    body = [f'<line x1="{left}" y1="{baseline}" x2="{WIDTH - right}" y2="{baseline}" stroke="#888"/>']
    for tick in range(low - low % 10, high + 1, 10):  # x axis: every 10 points
        if tick < low:
            continue
        x = left + (tick - low) * x_scale
        body.append(f'<text x="{x:.1f}" y="{baseline + 16}" text-anchor="middle">{tick}</text>')
    for tick in (0, tallest // 2, tallest):
        y = baseline - tick * y_scale
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    body.append(f'<text x="{WIDTH / 2}" y="{height - 4}" text-anchor="middle">score</text>')
    stacked: dict[int, int] = {}
    order = {group: index for index, group in enumerate(groups)}
    for item in sorted(bins, key=lambda entry: (entry.start, order.get(entry.group, len(order)))):
        below = stacked.get(item.start, 0)
        stacked[item.start] = below + item.count
        y = baseline - (below + item.count) * y_scale
        body.append(
            f'<rect class="bar" data-label="{escape(item.group)}" data-bin="{item.start}" '
            f'data-value="{item.count}" x="{left + (item.start - low) * x_scale:.1f}" y="{y:.1f}" '
            f'width="{max(x_scale - 1, 1):.1f}" height="{item.count * y_scale:.1f}" '
            f'fill="{colours.get(item.group, "#999")}"><title>score {item.start} to {item.start + 1}, '
            f"segment {escape(item.group)}: {item.count} brands</title></rect>"
        )
    for label, x_value in rules:
        x = left + (x_value - low) * x_scale
        body += [
            f'<line class="rule" data-label="{escape(label)}" data-value="{_number(x_value)}" x1="{x:.1f}" '
            f'y1="{top + legend}" x2="{x:.1f}" y2="{baseline}" stroke="black" stroke-dasharray="4 3"/>',
            f'<text x="{x + 3:.1f}" y="{top + legend + 12}">{escape(label)}</text>',
        ]
    for index, group in enumerate(groups):  # legend
        x = left + index * 70
        body += [
            f'<rect x="{x}" y="{top - 10}" width="12" height="12" fill="{colours[group]}"/>',
            f'<text x="{x + 16}" y="{top}">{escape(group)}</text>',
        ]
    return _svg(chart, height, body, description)


@dataclass(frozen=True)
class RatePoint:
    category: str  # the segment
    series: str  # the weights version
    rate: float
    low: float | None
    high: float | None


def rates_with_intervals(chart: str, points: Sequence[RatePoint], description: str) -> str:
    """A dot per (category, series) on a 0 to 100 % axis, with its interval as a vertical line."""
    left, right, top, bottom, legend = 50, 20, 10, 30, 24
    height = 240
    plot_height = height - top - bottom - legend
    categories = sorted({point.category for point in points})
    series = sorted({point.series for point in points})
    colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(series)}
    band = (WIDTH - left - right) / max(len(categories), 1)
    baseline = top + legend + plot_height

    def y_of(rate: float) -> float:
        return baseline - rate * plot_height

    body = [f'<line x1="{left}" y1="{baseline}" x2="{WIDTH - right}" y2="{baseline}" stroke="#888"/>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body += [
            f'<line x1="{left}" y1="{y_of(tick):.1f}" x2="{WIDTH - right}" y2="{y_of(tick):.1f}" stroke="#eee"/>',
            f'<text x="{left - 6}" y="{y_of(tick) + 4:.1f}" text-anchor="end">{tick:.0%}</text>',
        ]
    for index, category in enumerate(categories):
        body.append(
            f'<text x="{left + (index + 0.5) * band:.1f}" y="{baseline + 16}" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
    for point in points:
        offset = (series.index(point.series) + 1) / (len(series) + 1)
        x = left + (categories.index(point.category) + offset) * band
        colour = colours[point.series]
        if point.low is not None and point.high is not None:
            body.append(
                f'<line class="interval" x1="{x:.1f}" y1="{y_of(point.low):.1f}" x2="{x:.1f}" '
                f'y2="{y_of(point.high):.1f}" stroke="{colour}" stroke-width="2"/>'
            )
        interval = (
            f" (95 % {point.low:.0%} to {point.high:.0%})" if point.low is not None and point.high is not None else ""
        )
        body.append(
            f'<circle class="point" data-label="{escape(point.category)}" data-series="{escape(point.series)}" '
            f'data-value="{point.rate:.6g}" cx="{x:.1f}" cy="{y_of(point.rate):.1f}" r="5" fill="{colour}">'
            f"<title>{escape(point.category)}, {escape(point.series)}: {point.rate:.1%}{interval}</title></circle>"
        )
    for index, name in enumerate(series):
        x = left + index * 110
        body += [
            f'<circle cx="{x + 6}" cy="{top + 6}" r="5" fill="{colours[name]}"/>',
            f'<text x="{x + 16}" y="{top + 10}">{escape(name)}</text>',
        ]
    return _svg(chart, height, body, description)
