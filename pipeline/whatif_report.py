"""The what-if result (pipeline/whatif.py) as Markdown, for a pull request that edits the seeds."""

from __future__ import annotations

from pipeline.whatif import CATEGORIES, LIFT, SEGMENTS, ValidationCheck, WhatIfResult

# brands listed by name under the Apollo figures; the rest are counted
MAX_BRANDS_LISTED = 20
PASS, FAIL, UNKNOWN = "✅ pass", "❌ fail", "n/a"


def render_markdown(result: WhatIfResult) -> str:
    lines = [
        "## What-if: proposed scoring seeds",
        "",
        f"`scoring_weights`: `{result.weights_file}` (weights_version {result.weights_version}); "
        f"`segment_thresholds`: `{result.thresholds_file}`. Built in a sandbox copy of the warehouse "
        f"({result.dbt_summary}); the warehouse itself is unchanged.",
        "",
    ]
    lines += [f"**WARNING:** {warning}" for warning in result.warnings]
    if result.warnings:
        lines.append("")
    lines += _moves(result) + _queue(result) + _apollo(result) + _backtest(result)
    return "\n".join(lines).rstrip() + "\n"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if index == 0 else "---:" for index in range(len(header))) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _moves(result: WhatIfResult) -> list[str]:
    categories = [
        category
        for category in CATEGORIES
        if category in SEGMENTS or any(category in pair for pair, count in result.moves.items() if count)
    ]
    rows = []
    for before in categories:
        counts = [result.moves.get((before, after), 0) for after in categories]
        cells = [
            f"**{count}**" if before == after else (str(count) if count else "·")
            for after, count in zip(categories, counts, strict=True)
        ]
        rows.append([before, *cells, str(sum(counts))])
    totals = [str(sum(result.moves.get((before, after), 0) for before in categories)) for after in categories]
    rows.append(["**all**", *totals, str(result.brands)])
    return [
        "### Segment moves",
        "",
        f"**{result.brands_moved} of {result.brands} brands move.** Rows: the segment now; columns: with the "
        "proposed seeds (suppressed brands get no outreach whatever their score; unsegmented: no score).",
        "",
        *_table(["now \\ proposed", *categories, "all"], rows),
    ]


def _queue(result: WhatIfResult) -> list[str]:
    rows = [
        [
            f"{queue.campaign_id} {queue.campaign_name or ''}".strip(),
            str(queue.leads_before),
            str(queue.leads_after),
            _signed(queue.leads_after - queue.leads_before),
        ]
        for queue in result.queue
    ]
    before = sum(queue.leads_before for queue in result.queue)
    after = sum(queue.leads_after for queue in result.queue)
    rows.append(["**all**", str(before), str(after), _signed(after - before)])
    return ["### Outreach queue per Smartlead campaign", "", *_table(["campaign", "now", "proposed", "change"], rows)]


def _apollo(result: WhatIfResult) -> list[str]:
    extra = len(result.new_apollo_lookups)
    lines = [
        "### Apollo lookups",
        "",
        *_table(
            ["Apollo work list", "brands"],
            [
                ["now", str(result.apollo_worklist_before)],
                ["proposed", str(result.apollo_worklist_after)],
                ["newly on the list", str(result.apollo_entering)],
                [
                    f"of them looked up within the TTL ({result.apollo_ttl_days:g} days)",
                    str(result.apollo_entering - extra),
                ],
                ["**extra lookups** (credits the next `outreach enrich` would spend on them)", f"**{extra}**"],
            ],
        ),
    ]
    if result.new_apollo_lookups:
        listed = result.new_apollo_lookups[:MAX_BRANDS_LISTED]
        names = ", ".join(f"{brand.brand_name} ({brand.segment}, {brand.score:g})" for brand in listed)
        more = f" and {extra - len(listed)} more" if extra > len(listed) else ""
        lines += [f"Brands to look up: {names}{more}.", ""]
    return lines


def _backtest(result: WhatIfResult) -> list[str]:
    backtest = result.backtest
    rows = [
        [
            row.segment,
            str(row.brands_contacted),
            str(row.brands_replied),
            str(row.brands_positive),
            _percent(row.reply_rate),
            _percent(row.positive_rate),
            _percent(backtest.share_of_brands(row.segment)),
            _percent(backtest.share_of_positive(row.segment)),
        ]
        for row in backtest.segments
    ]
    header = [
        "proposed segment",
        "contacted",
        "replied",
        "positive",
        "reply rate",
        "positive rate",
        "share of contacted",
        "share of positive",
    ]
    return [
        "### Backtest on the brands already contacted",
        "",
        f"{backtest.brands_contacted} brands contacted, {backtest.brands_positive} with a positive reply, "
        "grouped by the segment the proposed seeds give them.",
        "",
        *_table(header, rows),
        "Validation (MadKudu's figures for a lead score; few brands make any of them chance):",
        "",
        *_table(["check", "target", "value", "brands", "result"], [_check_row(check) for check in backtest.checks()]),
    ]


def _check_row(check: ValidationCheck) -> list[str]:
    if check.value is None:
        value = "-"
    elif check.kind == LIFT:
        value = "∞" if check.value == float("inf") else f"{check.value:.1f}x"
    else:
        value = _percent(check.value)
    mark = UNKNOWN if check.passed is None else PASS if check.passed else FAIL
    return [check.name, check.target, value, check.counts, mark]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _signed(number: int) -> str:
    return f"{number:+d}" if number else "0"
