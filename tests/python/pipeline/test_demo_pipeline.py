"""The whole pipeline on the bundled sample data, through the real CLI, dlt, dbt and DuckDB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.python.cli_runner import PROJECT_DIR, PipelineRun, run_outreach
from tests.python.conftest import DEMO_RUN_RESULTS

pytestmark = pytest.mark.pipeline

DBT = str(Path(sys.executable).with_name("dbt"))

SEGMENTED_TABLES = [
    "segmented.seg_brand_scores",
    "segmented.seg_brand_signal_contributions",
    "segmented.seg_outreach_queue",
    "segmented.seg_crm_handoff",
    "segmented.sync_smartlead__leads",
    "segmented.sync_hubspot__contacts",
]
RAW_TABLES = [
    "raw.smartscout_brands",
    "raw.apollo_people",
    "raw.apollo_lookups",
    "raw.smartlead_events",
    "raw.rejected_records",
]


def count(connection: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> int:
    row = connection.execute(f"select count(*) from {table} where {where}").fetchone()
    assert row is not None
    return int(row[0])


def table_rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return sorted(connection.execute(f"select * from {table}").fetchall(), key=repr)


def test_run_all_ends_with_a_readable_summary(demo_run: PipelineRun) -> None:
    for heading in [
        "Rows per layer:",
        "Brands per segment",
        "Funnel (reached",
        "Segment performance",
        "Suppressed brands by primary reason:",
        "Outreach queue per Smartlead campaign:",
        "Reverse ETL, as last planned (plan ",
    ]:
        assert heading in demo_run.stdout
    assert "(missing)" not in demo_run.stdout


def test_the_demo_build_runs_every_dbt_unit_test_and_they_pass(demo_run: PipelineRun) -> None:
    """The other builds of the tests skip dbt's unit tests (cli_runner.py): this run must have run them."""
    defined = {
        str(test["name"])
        for path in (PROJECT_DIR / "models").rglob("*.yml")
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []
    }
    results = json.loads((demo_run.duckdb_path.parent / DEMO_RUN_RESULTS).read_text())["results"]
    ran = {
        str(result["unique_id"]).rsplit(".", 1)[-1]: result["status"]
        for result in results
        if str(result["unique_id"]).startswith("unit_test.")
    }
    assert defined and set(ran) == defined, sorted(defined ^ set(ran))
    assert {name for name, status in ran.items() if status != "pass"} == set()


def test_every_layer_is_populated(demo_db: duckdb.DuckDBPyConnection) -> None:
    brands = count(demo_db, "clean.stg_smartscout__brands")
    assert brands >= 250
    assert count(demo_db, "enriched.dim_brands") == brands
    assert count(demo_db, "segmented.seg_brand_scores") == brands
    assert count(demo_db, "clean.stg_apollo__contacts") > 0
    assert count(demo_db, "clean.stg_smartlead__events") > 0
    assert count(demo_db, "segmented.seg_outreach_queue") > 0
    assert count(demo_db, "segmented.seg_crm_handoff") > 0
    segments = {row[0] for row in demo_db.execute("select segment from segmented.seg_brand_scores").fetchall()}
    assert segments == {"A", "B", "C", "D", "E"}


def test_spelling_variants_share_one_brand_id(demo_db: duckdb.DuckDBPyConnection) -> None:
    merged = count(demo_db, "clean.stg_smartscout__brands", "spelling_count > 1")
    assert merged >= 5
    raw_names = count(demo_db, "clean.stg_smartscout__brand_observations", "is_valid")
    assert raw_names > count(demo_db, "clean.stg_smartscout__brands")


def test_bad_rows_are_quarantined_with_a_reason(demo_db: duckdb.DuckDBPyConnection) -> None:
    brand_reasons = {
        row[0]
        for row in demo_db.execute("select rejection_reason from clean.stg_smartscout__brands_quarantine").fetchall()
    }
    assert {
        "missing brand name",
        "monthly_revenue is not a number",
        "monthly_revenue is negative",
    } <= brand_reasons
    contact_reasons = {
        row[0]
        for row in demo_db.execute("select rejection_reason from clean.stg_apollo__contacts_quarantine").fetchall()
    }
    assert "invalid email syntax" in contact_reasons
    event_reasons = {
        row[0]
        for row in demo_db.execute("select rejection_reason from clean.stg_smartlead__events_quarantine").fetchall()
    }
    assert {"unknown event type", "missing recipient email", "unparseable event timestamp"} <= event_reasons
    # a line that is not JSON at all never reaches a table but is not lost either
    assert count(demo_db, "raw.rejected_records", "source = 'smartlead'") >= 1


def test_duplicate_webhook_deliveries_collapse(demo_db: duckdb.DuckDBPyConnection) -> None:
    sample = Path(__file__).resolve().parents[3] / "sample_data" / "smartlead" / "webhook_events.jsonl"
    lines = [line for line in sample.read_text().splitlines() if line.strip()]
    # identical deliveries merge onto one RAW row; the unparseable line is in rejected_records
    raw_events = count(demo_db, "raw.smartlead_events")
    rejected = count(demo_db, "raw.rejected_records", "source = 'smartlead'")
    assert raw_events + rejected < len(lines)
    assert raw_events + rejected == len(set(lines))
    valid_event_ids = count(
        demo_db, "(select distinct event_id from clean.stg_smartlead__event_observations where is_valid)"
    )
    assert count(demo_db, "clean.stg_smartlead__events") == valid_event_ids


def test_both_envelopes_of_one_reply_are_one_event(demo_db: duckdb.DuckDBPyConnection) -> None:
    # the sample sends one reply as a flat EMAIL_REPLY (with stats_id) and again as a newer
    # EMAIL_REPLIED without one: a single event_id, which keeps the flat delivery's stats_id
    rows = demo_db.execute(
        """
        select events.delivery_count, events.stats_id
        from clean.stg_smartlead__events as events
        inner join (
            select event_id from clean.stg_smartlead__event_observations
            where is_valid
            group by event_id
            having count(distinct event_type_as_sent) = 2 and count(stats_id) = 1
        ) as both_envelopes on events.event_id = both_envelopes.event_id
        """
    ).fetchall()
    assert len(rows) == 1
    delivery_count, stats_id = rows[0]
    assert delivery_count == 2 and stats_id is not None


def test_every_suppression_reason_is_exercised(demo_db: duckdb.DuckDBPyConnection) -> None:
    reasons = {row[0] for row in demo_db.execute("select reason from config.suppression_reasons").fetchall()}
    assert len(reasons) == 8
    found = {row[0] for row in demo_db.execute("select distinct reason from clean.stg_suppression__keys").fetchall()}
    assert reasons - found == set()
    # the sample's spam complaint (EMAIL_SPAM_COMPLAINT) suppresses its recipient's address
    complained = demo_db.execute(
        """
        select count(*) from clean.stg_suppression__keys
        where key_type = 'email' and reason = 'complained' and source = 'smartlead_events'
            and suppression_key in (
                select email from clean.stg_smartlead__events where event_type = 'EMAIL_SPAM_COMPLAINT'
            )
        """
    ).fetchone()
    assert complained == (1,)


def test_python_mirror_of_normalize_name_matches_the_macro(demo_db: duckdb.DuckDBPyConnection) -> None:
    # scripts/generate_sample_data.py relies on its copy to plant brands that really collapse
    sys.path.insert(0, str(PROJECT_DIR / "scripts"))
    try:
        from generate_sample_data import normalize_name
    finally:
        sys.path.remove(str(PROJECT_DIR / "scripts"))
    names = demo_db.execute(
        """
        select brand_name, normalized_brand_name from clean.stg_smartscout__brand_observations
        union
        select raw_name, expected_normalized_name from config.name_normalization_cases
        """
    ).fetchall()
    assert len(names) > 300
    assert [(raw, built) for raw, built in names if normalize_name(raw) != built] == []


def test_suppressed_brands_are_matched_by_name_and_slug_and_never_queued(
    demo_db: duckdb.DuckDBPyConnection,
) -> None:
    matched_by = {
        row[0] for row in demo_db.execute("select matched_by from enriched.int_brand_suppressions").fetchall()
    }
    assert {"brand_name", "store_slug", "email"} <= matched_by
    # the suppression list spells them differently from SmartScout (case, accents, "&", suffixes),
    # or names only the store
    matches = set(
        demo_db.execute(
            """
            select suppressions.matched_by, suppressions.suppression_key, brands.brand_name
            from enriched.int_brand_suppressions as suppressions
            inner join clean.stg_smartscout__brands as brands using (brand_id)
            """
        ).fetchall()
    )
    assert {
        ("brand_name", "muller and sohne", "Muller & Sohne GmbH"),  # list: "Muller & Sohne"
        ("brand_name", "briar living", "Briar Living"),  # list: "BRIAR LIVING, Inc."
        ("brand_name", "peak and pine", "Peak & Pine Co."),  # list: "Peak and Pine"
        ("brand_name", "zephyr home", "ZEPHYR HOME, INC."),  # list: "zephyr home inc" and "ZEPHYR HOME"
        ("store_slug", "ironapothecary", "Iron Apothecary"),  # only the store slug is listed
        ("store_slug", "luvelshop", "Luvel"),
    } <= matches
    assert count(demo_db, "enriched.dim_brands", "is_suppressed") > 0
    leaked = count(
        demo_db,
        "segmented.seg_outreach_queue",
        "brand_id in (select brand_id from enriched.int_brand_suppressions)",
    )
    assert leaked == 0


def test_queue_holds_only_verified_never_contacted_outreach_brands(
    demo_db: duckdb.DuckDBPyConnection,
) -> None:
    bad = count(
        demo_db,
        "segmented.seg_outreach_queue as queue inner join enriched.dim_brands as brands using (brand_id)",
        "brands.contact_email_status != 'verified' or brands.was_contacted or queue.segment not in ('A', 'B', 'C')",
    )
    assert bad == 0


def test_enrich_spends_apollo_credits_only_on_outreach_brands(demo_db: duckdb.DuckDBPyConnection) -> None:
    looked_up = count(demo_db, "raw.apollo_lookups")
    assert looked_up > 0
    outside = count(
        demo_db,
        "raw.apollo_lookups as lookups inner join segmented.seg_brand_scores as scores using (brand_id)",
        "not scores.is_outreach_segment",
    )
    assert outside == 0


def test_dry_run_preview_matches_the_sync_models(demo_run: PipelineRun, demo_db: duckdb.DuckDBPyConnection) -> None:
    leads = count(demo_db, "segmented.sync_smartlead__leads")
    assert count(demo_db, "reverse_etl.sync_preview", "destination = 'smartlead_leads' and action = 'add'") == leads
    contacts = count(demo_db, "segmented.sync_hubspot__contacts")
    assert count(demo_db, "reverse_etl.sync_preview", "destination = 'hubspot_contacts' and action = 'add'") == contacts

    requests = json.loads((demo_run.duckdb_path.parent / "reverse_etl_preview.json").read_text())
    smartlead_requests = requests["smartlead_leads"]
    assert sum(len(request["body"]["lead_list"]) for request in smartlead_requests) == leads
    for request in smartlead_requests:
        assert len(request["body"]["lead_list"]) <= 100
        assert not any(request["body"]["settings"].values())
        assert request["path"].startswith("/campaigns/")
    assert sum(len(request["body"]["inputs"]) for request in requests["hubspot_contacts"]) == contacts
    assert (demo_run.duckdb_path.parent / "reverse_etl_preview.md").read_text().startswith("# Reverse ETL dry run")


def copy_warehouse(demo_run: PipelineRun, tmp_path: Path) -> Path:
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


def test_suppressed_row_injected_into_a_sync_model_is_refused(demo_run: PipelineRun, tmp_path: Path) -> None:
    warehouse = copy_warehouse(demo_run, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        row = connection.execute(
            """
            select keys.suppression_key from clean.stg_suppression__keys as keys
            where keys.key_type = 'email' and keys.reason = 'unsubscribed' limit 1
            """
        ).fetchone()
        assert row is not None, "sample data must contain an unsubscribed email"
        connection.execute(
            """
            insert into segmented.sync_smartlead__leads (campaign_id, brand_id, email, custom_brand_id)
            values (1001, 'injected-brand', ?, 'injected-brand')
            """,
            [row[0]],
        )
    run = run_outreach(warehouse, "sync")
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        refused = connection.execute(
            "select refusal_reason from reverse_etl.sync_preview where record_key = 'injected-brand'"
        ).fetchall()
    assert refused == [("email suppressed: unsubscribed",)]
    requests = json.loads((tmp_path / "reverse_etl_preview.json").read_text())
    sent_emails = {lead["email"] for request in requests["smartlead_leads"] for lead in request["body"]["lead_list"]}
    assert row[0] not in sent_emails


def test_production_from_the_sample_warehouse_is_refused_and_sends_nothing(
    demo_run: PipelineRun, tmp_path: Path
) -> None:
    warehouse = copy_warehouse(demo_run, tmp_path)
    run = run_outreach(warehouse, "sync", env={"PIPELINE_MODE": "production"})
    assert run.returncode == 3  # refused, needs a person
    assert "nothing was sent" in run.stderr
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert count(connection, "reverse_etl.sync_ledger") == 0


# columns measured against the clock (days in a status): they move between two runs by design
CLOCK_COLUMN_MARKERS = ("days",)


def modelled_tables(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every table and view dbt builds in CLEAN, ENRICHED and SEGMENTED, with its columns that do
    not depend on the clock."""
    rows = connection.execute(
        """
        select table_schema || '.' || table_name, column_name
        from information_schema.columns
        where table_schema in ('clean', 'enriched', 'segmented')
        order by table_schema, table_name, ordinal_position
        """
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        if not any(marker in column for marker in CLOCK_COLUMN_MARKERS):
            tables.setdefault(table, []).append(column)
    return tables


def snapshot_of_models(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: sorted(connection.execute(f"select {', '.join(columns)} from {table}").fetchall(), key=repr)
        for table, columns in modelled_tables(connection).items()
    }


def test_second_run_changes_nothing(demo_run: PipelineRun, tmp_path: Path) -> None:
    warehouse = copy_warehouse(demo_run, tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        before_models = snapshot_of_models(connection)
        before_raw = {table: table_rows(connection, table) for table in RAW_TABLES}
    assert set(SEGMENTED_TABLES) <= set(before_models)
    run = run_outreach(warehouse, "run-all")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "skipped: looked up within TTL" in run.stdout
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        after_models = snapshot_of_models(connection)
        assert sorted(after_models) == sorted(before_models)
        for table, rows in before_models.items():
            assert after_models[table] == rows, table
        # RAW is not re-landed either: same rows, same fetched_at and load ids
        for table in RAW_TABLES:
            assert table_rows(connection, table) == before_raw[table], table
        # the snapshot of segment membership took no new version either
        assert count(connection, "history.snap_brand_segments", "dbt_valid_to is not null") == 0


def test_build_full_refresh_rebuilds_incremental_models_from_raw(demo_run: PipelineRun, tmp_path: Path) -> None:
    warehouse = copy_warehouse(demo_run, tmp_path)
    stale = "clean.stg_smartscout__brands", "category_name = 'left by older model code'"
    with duckdb.connect(str(warehouse)) as connection:
        # a value RAW does not explain, as an older version of the model's SQL could leave behind
        connection.execute(f"update {stale[0]} set {stale[1]} where brand_id = (select min(brand_id) from {stale[0]})")
    # the demo loaded RAW minutes ago: without a lookback nothing counts as newly loaded
    no_lookback = {"OUTREACH_INCREMENTAL_LOOKBACK_DAYS": "0"}
    run = run_outreach(warehouse, "build", env=no_lookback)
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert count(connection, *stale) == 1  # incremental: no new RAW for that brand, row untouched
    run = run_outreach(warehouse, "build", "--full-refresh", env=no_lookback)
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert count(connection, *stale) == 0


def run_dbt_test(warehouse: Path, test_name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTREACH_DUCKDB_PATH": str(warehouse), "DBT_TARGET": "duckdb"}
    return subprocess.run(
        [DBT, "test", "--select", test_name, "--profiles-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_guard_tests_catch_a_suppressed_email_and_domain_in_the_sync_models(
    demo_run: PipelineRun, tmp_path: Path
) -> None:
    smartlead_guard = "assert_no_suppressed_email_or_domain_in_smartlead_sync"
    hubspot_guard = "assert_no_blocked_contact_in_hubspot_sync"
    warehouse = copy_warehouse(demo_run, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        # keys whose reason also blocks the CRM hand-off, so both guards must catch them
        addresses = []
        for key_type in ("email", "domain"):
            found = connection.execute(
                """
                select keys.suppression_key from clean.stg_suppression__keys as keys
                inner join config.suppression_reasons as reasons on keys.reason = reasons.reason
                where keys.key_type = ? and reasons.blocks_crm_handoff
                order by 1 limit 1
                """,
                [key_type],
            ).fetchone()
            assert found, f"sample data must suppress a {key_type} for a reason that blocks the hand-off"
            addresses.append(found[0] if key_type == "email" else f"someone@{found[0]}")
    for guard in (smartlead_guard, hubspot_guard):
        assert run_dbt_test(warehouse, guard).returncode == 0, f"{guard} fails on the clean sample"
    with duckdb.connect(str(warehouse)) as connection:
        for address in addresses:
            connection.execute(
                "insert into segmented.sync_smartlead__leads (campaign_id, brand_id, email, custom_brand_id) "
                "values (1001, 'injected-brand', ?, 'injected-brand')",
                [address],
            )
            connection.execute("insert into segmented.sync_hubspot__contacts (email) values (?)", [address])
        # what each guard must report: every suppression row matching an address or its domain
        expected = {}
        for guard, blocking_only in ((smartlead_guard, False), (hubspot_guard, True)):
            row = connection.execute(
                f"""
                select count(*) from clean.stg_suppression__keys as keys
                inner join config.suppression_reasons as reasons on keys.reason = reasons.reason
                where (keys.key_type = 'email' and keys.suppression_key in (?, ?)
                    or keys.key_type = 'domain' and keys.suppression_key in (?, ?))
                    {"and reasons.blocks_crm_handoff" if blocking_only else ""}
                """,
                [*addresses, *(address.split("@")[1] for address in addresses)],
            ).fetchone()
            assert row and row[0] >= 2
            expected[guard] = row[0]
    for guard in (smartlead_guard, hubspot_guard):
        run = run_dbt_test(warehouse, guard)
        assert run.returncode == 1, f"{guard} did not fail"
        assert f"Got {expected[guard]} results, configured to fail if != 0" in run.stdout, run.stdout[-2000:]
