"""The same dbt project builds on Snowflake (emulated by `fakesnow -s`) and gives the same leads as DuckDB.

RAW is copied from a DuckDB file into a fresh fakesnow server, `dbt seed` + `dbt build` run on
both warehouses from the same project, and the SEGMENTED results (brand ids, scores, segments,
queue membership, suppression reasons, sync payloads) are compared row for row.

fakesnow limits (see tests/python/portability/README.md): unit tests are excluded on it (they use
temporary tables), and NULL timestamps come
back as 1970-01-01 over the wire, so no timestamp column is compared directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import fakesnow  # noqa: F401  a dev dependency: a missing one fails the run instead of skipping it
import pytest
import snowflake.connector  # noqa: F401  comes with dbt-snowflake

from .harness import Builds
from .snowflake_dialect import non_portable_files, unknown_functions

PROJECT_DIR = Path(__file__).resolve().parents[3]
DIFF_ROWS_SHOWN = 10
NUMBER_DECIMALS = 6

# What must be identical on both warehouses: (schema, model, columns). `None` = every column
# (the sync models are all text, so this also covers the number/timestamp-to-text macros).
# Timestamp columns are left out: fakesnow returns NULL timestamps as 1970-01-01.
COMPARED_MODELS: list[tuple[str, str, Sequence[str] | None]] = [
    (
        "segmented",
        "seg_brand_scores",
        [
            "brand_id",
            "brand_name",
            "segment",
            "weights_version",
            "score",
            "missing_signal_count",
            "monthly_revenue_usd",
            "is_outreach_segment",
            "is_suppressed",
            "primary_suppression_reason",
            "has_usable_contact",
            "was_contacted",
        ],
    ),
    (
        "segmented",
        "seg_brand_signal_contributions",
        [
            "brand_signal_contribution_id",
            "brand_id",
            "signal",
            "is_missing",
            "raw_value",
            "scaled_value",
            "contribution",
        ],
    ),
    (
        "segmented",
        "seg_brand_score_explained",
        ["brand_id", "signal", "segment", "score", "segment_min_score", "next_segment", "points_to_next_segment"],
    ),
    # the membership history and what follows from it; not its times (each build stamps its own)
    ("segmented", "seg_brand_segment_history", ["brand_id", "segment", "weights_version", "is_current"]),
    (
        "segmented",
        "seg_brand_segment_at_first_contact",
        ["brand_id", "segment", "weights_version", "segment_attribution"],
    ),
    (
        "segmented",
        "seg_segment_performance",
        ["segment", "weights_version", "brands", "brands_queued", "brands_contacted", "brands_replied", "send_rate"],
    ),
    (
        "segmented",
        "seg_pipeline_funnel",
        ["pipeline_status", "brands_reached", "brands_in_status", "brands_moved_on", "median_days_to_next_status"],
    ),
    ("segmented", "seg_outreach_queue", ["brand_id", "campaign_id", "contact_id", "segment", "score", "email"]),
    ("segmented", "seg_apollo_worklist", ["brand_id", "normalized_brand_name", "store_slug", "segment", "score"]),
    ("segmented", "seg_crm_handoff", ["email", "brand_id", "contact_id", "lead_category", "segment", "score"]),
    ("segmented", "sync_smartlead__leads", None),
    ("segmented", "sync_hubspot__contacts", None),
    (
        "enriched",
        "int_brand_suppressions",
        ["brand_suppression_id", "brand_id", "suppression_id", "matched_by", "suppression_key", "reason", "source"],
    ),
    (
        "enriched",
        "dim_brands",
        [
            "brand_id",
            "store_slug",
            "normalized_brand_name",
            "best_contact_id",
            "contact_email",
            "has_usable_contact",
            "is_suppressed",
            "primary_suppression_reason",
            "suppression_reasons",
            "was_contacted",
            "emails_sent",
            "replies",
            "positive_replies",
            "latest_lead_category",
        ],
    ),
    # CLEAN quarantines: the same RAW rows must be rejected, for the same reason.
    ("clean", "stg_smartscout__brands_quarantine", ["record_hash", "rejection_reason"]),
    ("clean", "stg_apollo__contacts_quarantine", ["brand_id", "person_id", "rejection_reason"]),
    ("clean", "stg_smartlead__events_quarantine", ["event_key", "event_type_as_sent", "rejection_reason"]),
]


def _normalize(value: Any) -> Any:
    """Compare values, not driver types: Snowflake NUMBER comes back as Decimal or float, DuckDB as int."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return f"{float(value):.{NUMBER_DECIMALS}f}"
    return str(value)


def _sorted_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    normalized = [tuple(_normalize(value) for value in row) for row in rows]
    return sorted(normalized, key=lambda row: tuple((value is None, str(value)) for value in row))


def _column_list(builds: Builds, schema: str, model: str, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    with duckdb.connect(str(builds.duckdb_path), read_only=True) as connection:
        return [
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, model],
            ).fetchall()
        ]


def _require_builds(builds: Builds) -> None:
    if not builds.duckdb.ok:
        pytest.fail(f"dbt failed on DuckDB, nothing to compare against:\n{builds.duckdb.failure()}", pytrace=False)
    if not builds.fakesnow.ok:
        pytest.fail("dbt failed on fakesnow (see test_dbt_builds_on_fakesnow)", pytrace=False)


def _diff_message(model: str, columns: list[str], fakesnow_rows: list[tuple], duckdb_rows: list[tuple]) -> str:
    only_fakesnow = list((Counter(fakesnow_rows) - Counter(duckdb_rows)).elements())
    only_duckdb = list((Counter(duckdb_rows) - Counter(fakesnow_rows)).elements())
    lines = [
        f"{model}: {len(fakesnow_rows)} rows on fakesnow, {len(duckdb_rows)} on DuckDB;"
        f" {len(only_fakesnow)} only on fakesnow, {len(only_duckdb)} only on DuckDB.",
        f"columns: {columns}",
    ]
    for label, rows in (("only on fakesnow", only_fakesnow), ("only on DuckDB", only_duckdb)):
        for row in rows[:DIFF_ROWS_SHOWN]:
            lines.append(f"  {label}: {row}")
    return "\n".join(lines)


@pytest.mark.snowflake
def test_dbt_builds_on_fakesnow(builds: Builds) -> None:
    assert builds.raw_rows, "no RAW table was copied"
    if not builds.fakesnow.ok:
        pytest.fail(f"{builds.fakesnow.failure()}\n(dbt logs and fakesnow.log under {builds.work_dir})", pytrace=False)
    print(f"RAW rows copied: {builds.raw_rows}")
    print("seconds: " + ", ".join(f"{step} {seconds:.1f}" for step, seconds in builds.timings.items()))


@pytest.mark.snowflake
def test_builds_are_not_empty(builds: Builds) -> None:
    """Guard against a vacuous comparison: the RAW data must produce scored brands."""
    _require_builds(builds)
    builds.snowflake_cursor.execute("select count(*) from segmented.seg_brand_scores")
    (scored,) = builds.snowflake_cursor.fetchone()
    assert int(scored) > 0, f"no brand was scored on fakesnow (RAW rows copied: {builds.raw_rows})"


@pytest.mark.snowflake
@pytest.mark.parametrize(
    ("schema", "model", "columns"),
    COMPARED_MODELS,
    ids=[model for _, model, _ in COMPARED_MODELS],
)
def test_results_match_duckdb(builds: Builds, schema: str, model: str, columns: Sequence[str] | None) -> None:
    _require_builds(builds)
    column_list = _column_list(builds, schema, model, columns)
    query = f"select {', '.join(column_list)} from {schema}.{model}"

    builds.snowflake_cursor.execute(query)
    fakesnow_rows = _sorted_rows(builds.snowflake_cursor.fetchall())
    with duckdb.connect(str(builds.duckdb_path), read_only=True) as connection:
        duckdb_rows = _sorted_rows(connection.execute(query).fetchall())

    if fakesnow_rows != duckdb_rows:
        pytest.fail(_diff_message(model, column_list, fakesnow_rows, duckdb_rows), pytrace=False)


def _compiled_for_snowflake(builds: Builds) -> Path:
    compiled = builds.work_dir / "fakesnow" / "target" / "compiled"
    assert compiled.is_dir(), f"no compiled SQL at {compiled}"
    return compiled


@pytest.mark.snowflake
def test_sql_compiled_for_snowflake_calls_only_snowflake_functions(builds: Builds) -> None:
    _require_builds(builds)
    compiled = _compiled_for_snowflake(builds)
    assert len(list(compiled.rglob("*.sql"))) > 50  # models and tests were really compiled
    assert non_portable_files(compiled) == {}


@pytest.mark.snowflake
def test_a_duckdb_only_function_in_a_model_is_caught(builds: Builds) -> None:
    model = next(_compiled_for_snowflake(builds).rglob("stg_smartscout__brand_observations.sql"))
    sql = model.read_text()
    assert unknown_functions(sql) == set()
    broken = sql.replace("upper(", "strip_accents(", 1)
    assert broken != sql
    assert unknown_functions(broken) == {"strip_accents"}
