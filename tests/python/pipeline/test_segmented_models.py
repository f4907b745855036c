"""The SEGMENTED layer on the demo warehouse: suppression guards on every queue and sync model,
the one-model score explanation, segment history and the attribution of outcomes to the segment a
brand had when first contacted. Each test works on its own copy of the demo warehouse and runs the
real dbt tests or models against it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.python.cli_runner import PROJECT_DIR, PipelineRun, run_outreach

pytestmark = pytest.mark.pipeline

DBT = str(Path(sys.executable).with_name("dbt"))

GUARDS = {
    "queue_emails_and_domains": "assert_no_suppressed_email_or_domain_in_queue",
    "worklist_brands": "assert_no_suppressed_brand_in_apollo_worklist",
    "smartlead_brands_and_company_domains": "assert_no_suppressed_brand_or_company_domain_in_smartlead_sync",
    "crm_handoff": "assert_no_blocked_brand_email_or_domain_in_crm_handoff",
    "hubspot_companies": "assert_no_blocked_brand_or_domain_in_hubspot_companies",
    "hubspot_contact_company_domains": "assert_no_blocked_company_domain_in_hubspot_contacts",
}


def copy_warehouse(demo_run: PipelineRun, tmp_path: Path) -> Path:
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


def run_dbt(warehouse: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTREACH_DUCKDB_PATH": str(warehouse), "DBT_TARGET": "duckdb"}
    return subprocess.run(
        [DBT, *args, "--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--no-use-colors"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def dbt_test_outcomes(output: str) -> dict[str, str]:
    """{test name: PASS or FAIL} from dbt's progress lines."""
    return {name: status for status, name in re.findall(r"\d+ of \d+ (PASS|FAIL \d+) (\S+) \.", output)}


def one(connection: duckdb.DuckDBPyConnection, sql: str) -> str:
    row = connection.execute(sql).fetchone()
    assert row is not None, f"the demo data has no row for: {sql}"
    return str(row[0])


BLOCKING_BRAND = """
    select brand_suppressions.brand_id from enriched.int_brand_suppressions as brand_suppressions
    inner join config.suppression_reasons as reasons on brand_suppressions.reason = reasons.reason
    where reasons.blocks_crm_handoff order by 1 limit 1
"""
# a brand and an address that were only emailed before: suppressed for outreach, fine for the CRM
CONTACTED_ONLY_BRAND = """
    select brand_id from enriched.int_brand_suppressions group by brand_id
    having min(reason) = 'previously_contacted' and max(reason) = 'previously_contacted' order by 1 limit 1
"""
CONTACTED_ONLY_EMAIL = """
    select suppression_key from clean.stg_suppression__keys where key_type = 'email' group by suppression_key
    having min(reason) = 'previously_contacted' and max(reason) = 'previously_contacted' order by 1 limit 1
"""
BLOCKING_EMAIL = """
    select suppression_key from clean.stg_suppression__keys
    where key_type = 'email' and reason = 'unsubscribed' order by 1 limit 1
"""
BLOCKING_DOMAIN = """
    select suppression_key from clean.stg_suppression__keys
    where key_type = 'domain' and reason = 'fired_client' order by 1 limit 1
"""


def test_suppression_guards_catch_each_key_in_every_queue_and_sync_model(demo_run: PipelineRun, tmp_path: Path) -> None:
    warehouse = copy_warehouse(demo_run, tmp_path)
    guards = list(GUARDS.values())
    clean = dbt_test_outcomes(run_dbt(warehouse, tmp_path, "test", "--select", *guards).stdout)
    assert clean == dict.fromkeys(guards, "PASS"), clean

    with duckdb.connect(str(warehouse)) as connection:
        blocking_brand = one(connection, BLOCKING_BRAND)
        contacted_brand = one(connection, CONTACTED_ONLY_BRAND)
        blocking_email = one(connection, BLOCKING_EMAIL)
        contacted_email = one(connection, CONTACTED_ONLY_EMAIL)
        blocking_domain = one(connection, BLOCKING_DOMAIN)
        # any reason keeps a brand, address or domain out of the queue, the work list and Smartlead
        connection.execute(
            "insert into segmented.seg_outreach_queue (brand_id, email, company_domain) values"
            " ('injected-1', ?, null), ('injected-2', 'someone@unsuppressed.example', ?)",
            [contacted_email, blocking_domain],
        )
        connection.execute("insert into segmented.seg_apollo_worklist (brand_id) values (?)", [contacted_brand])
        connection.execute(
            "insert into segmented.sync_smartlead__leads (campaign_id, brand_id, email, website) values"
            " (1001, ?, 'a@unsuppressed.example', ''), (1001, 'injected-3', 'b@unsuppressed.example', ?)",
            [contacted_brand, blocking_domain],
        )
        # only reasons that block the hand-off keep a positive reply out of the CRM
        connection.execute(
            "insert into segmented.seg_crm_handoff (email, brand_id, company_domain) values (?, null, null)",
            [blocking_email],
        )
        connection.execute(
            "insert into segmented.sync_hubspot__companies (outreach_brand_id, domain) values (?, '')",
            [blocking_brand],
        )
        connection.execute(
            "insert into segmented.sync_hubspot__contacts (email, website) values ('c@unsuppressed.example', ?)",
            [blocking_domain],
        )
    broken = dbt_test_outcomes(run_dbt(warehouse, tmp_path, "test", "--select", *guards).stdout)
    assert broken == {
        GUARDS["queue_emails_and_domains"]: "FAIL 2",
        GUARDS["worklist_brands"]: "FAIL 1",
        GUARDS["smartlead_brands_and_company_domains"]: "FAIL 2",
        GUARDS["crm_handoff"]: "FAIL 1",
        GUARDS["hubspot_companies"]: "FAIL 1",
        GUARDS["hubspot_contact_company_domains"]: "FAIL 1",
    }, broken


def test_crm_guards_accept_brands_and_people_that_were_only_contacted_before(
    demo_run: PipelineRun, tmp_path: Path
) -> None:
    """People who replied positively were emailed first: `previously_contacted` must not trip the
    CRM guards (it does trip every outreach guard)."""
    warehouse = copy_warehouse(demo_run, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        contacted_brand = one(connection, CONTACTED_ONLY_BRAND)
        contacted_email = one(connection, CONTACTED_ONLY_EMAIL)
        connection.execute(
            "insert into segmented.seg_crm_handoff (email, brand_id) values (?, ?)", [contacted_email, contacted_brand]
        )
        connection.execute(
            "insert into segmented.sync_hubspot__companies (outreach_brand_id, domain) values (?, '')",
            [contacted_brand],
        )
    crm_guards = [GUARDS["crm_handoff"], GUARDS["hubspot_companies"]]
    results = dbt_test_outcomes(run_dbt(warehouse, tmp_path, "test", "--select", *crm_guards).stdout)
    assert results == dict.fromkeys(crm_guards, "PASS"), results


def test_one_model_explains_a_brands_segment(demo_db: duckdb.DuckDBPyConnection) -> None:
    brands = demo_db.execute(
        """
        select brand_id, any_value(segment), any_value(score), sum(contribution), count(*),
            any_value(segment_min_score), any_value(next_segment), any_value(next_segment_min_score),
            any_value(points_to_next_segment)
        from segmented.seg_brand_score_explained group by brand_id
        """
    ).fetchall()
    signals = int(demo_db.execute("select count(*) from config.scoring_weights").fetchone()[0])  # type: ignore[index]
    assert len(brands) == int(demo_db.execute("select count(*) from segmented.seg_brand_scores").fetchone()[0])  # type: ignore[index]
    segments_seen = set()
    for _, segment, score, contributions, rows, lower_bound, next_segment, next_bound, points_to_next in brands:
        segments_seen.add(segment)
        assert rows == signals
        assert abs(contributions - score) < 0.01  # contributions have 4 decimals, the score 2
        assert lower_bound <= score
        if segment == "A":
            assert next_segment is None and points_to_next is None
        else:
            assert score < next_bound
            assert points_to_next == pytest.approx(next_bound - score, abs=0.006)
    assert segments_seen == {"A", "B", "C", "D", "E"}


def test_a_score_out_of_range_fails_the_range_test(demo_run: PipelineRun, tmp_path: Path) -> None:
    warehouse = copy_warehouse(demo_run, tmp_path)
    selection = "seg_brand_scores,test_name:accepted_range"
    assert dbt_test_outcomes(run_dbt(warehouse, tmp_path, "test", "--select", selection).stdout) == {
        "accepted_range_seg_brand_scores_score__100__0": "PASS"
    }
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update segmented.seg_brand_scores set score = 100.5"
            " where brand_id = (select min(brand_id) from segmented.seg_brand_scores)"
        )
    assert dbt_test_outcomes(run_dbt(warehouse, tmp_path, "test", "--select", selection).stdout) == {
        "accepted_range_seg_brand_scores_score__100__0": "FAIL 1"
    }


def test_outcomes_are_credited_to_the_segment_at_first_contact(demo_run: PipelineRun, tmp_path: Path) -> None:
    """A brand that was in E under weights v0 when it was first contacted, and is elsewhere now:
    the history shows both periods, and segment performance credits its outcome to E/v0."""
    warehouse = copy_warehouse(demo_run, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        brand_id, contacted_at, current_from, current_segment = connection.execute(
            """
            select history.brand_id, history.first_contacted_at, snapshot.dbt_valid_from, snapshot.segment
            from enriched.int_brand_outreach_history as history
            inner join history.snap_brand_segments as snapshot on history.brand_id = snapshot.brand_id
            where history.has_replied and snapshot.segment != 'E' and snapshot.dbt_valid_to is null
            order by history.brand_id limit 1
            """
        ).fetchone()  # type: ignore[misc]
        assert contacted_at < current_from, "the demo's events predate its first snapshot"
        # two older snapshot versions in E/v0 (a score change within the segment), the first one
        # starting before the contact, the second one ending where the current version starts
        connection.execute(
            """
            insert into history.snap_brand_segments
                (brand_id, segment, weights_version, score, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to)
            values
                (?, 'E', 'v0', 20.0, 'old-version-1', ?, ? - interval 30 day, ? - interval 1 day),
                (?, 'E', 'v0', 21.0, 'old-version-2', ?, ? - interval 1 day, ?)
            """,
            [brand_id, contacted_at, contacted_at, contacted_at, brand_id, contacted_at, contacted_at, current_from],
        )
    run = run_dbt(
        warehouse, tmp_path, "build", "--select", "seg_brand_segment_history+", "--exclude", "resource_type:unit_test"
    )
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        periods = connection.execute(
            """
            select segment, weights_version, score_versions, previous_segment, next_segment, left_at is null
            from segmented.seg_brand_segment_history where brand_id = ? order by entered_at
            """,
            [brand_id],
        ).fetchall()
        assert periods == [("E", "v0", 2, None, current_segment, False), (current_segment, "v1", 1, "E", None, True)]
        attribution = connection.execute(
            "select segment, weights_version, segment_attribution, current_segment"
            " from segmented.seg_brand_segment_at_first_contact where brand_id = ?",
            [brand_id],
        ).fetchone()
        assert attribution == ("E", "v0", "at_first_contact", current_segment)
        performance = connection.execute(
            """
            select brands, brands_contacted, brands_contacted_attributed_at_contact, brands_replied, reply_rate
            from segmented.seg_segment_performance where segment = 'E' and weights_version = 'v0'
            """
        ).fetchone()
        assert performance == (0, 1, 1, 1, 1.0)


def test_summary_shows_stuck_brands_step_times_and_send_rates(demo_run: PipelineRun) -> None:
    run = run_outreach(demo_run.duckdb_path, "summary")
    assert run.returncode == 0, run.stderr
    funnel = run.stdout.split("Funnel (reached / in status now / stuck /", 1)[1]
    contacted = next(line for line in funnel.splitlines() if line.strip().startswith("contacted"))
    assert contacted.endswith("to replied"), contacted
    assert "(contacted, send rate, reply rate, positive rate)" in run.stdout
