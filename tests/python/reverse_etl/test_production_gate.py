"""The production gate's events and build checks (README "Going live"), through the real CLI
against the demo warehouse relabelled as live (reverse_etl/conftest.py) and the fake vendors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.python.cli_runner import PipelineRun, run_outreach, sync_production
from tests.python.fakes.destinations import Destinations
from tests.python.pipeline.test_seed_config_guards import copy_dbt_project, swap_a_and_b_thresholds

REFUSED = "PIPELINE_MODE=production refused, nothing was sent"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sync(warehouse: Path, destinations: Destinations, **extra_env: str) -> PipelineRun:
    return run_outreach(warehouse, "sync", env={**destinations.env, **extra_env})


def refused(run: PipelineRun, *phrases: str) -> None:
    assert run.returncode == 3, f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}"  # refused, needs a person
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for phrase in (REFUSED, *phrases):
        assert phrase in run.stderr, run.stderr


def test_an_empty_webhook_spool_folder_is_not_events_read(
    warehouse: Path, destinations: Destinations, tmp_path: Path
) -> None:
    spool = tmp_path / "webhook_spool"
    spool.mkdir()  # the receiver's folder exists, nothing was ever read from it
    run = sync(warehouse, destinations, SOURCES__SMARTLEAD__API_KEY="", OUTREACH_WEBHOOK_SPOOL_DIR=str(spool))
    refused(run, "events check: smartlead webhooks: no successful read", "outreach ingest")
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0


def test_events_read_too_long_ago_are_refused_naming_the_source_and_its_age(
    warehouse: Path, destinations: Destinations
) -> None:
    with duckdb.connect(str(warehouse)) as connection:  # the last successful poll: 30 hours ago
        connection.execute("update pipeline_ops.event_reads set read_at = ?", [utc_now() - timedelta(hours=30)])
    refused(
        sync(warehouse, destinations),
        "events check: smartlead poll: last successful read 30.0 h ago, older than the 24.0 h limit",
        "OUTREACH_EVENTS_MAX_AGE_HOURS",
    )
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0

    # the limit is the operator's (unsubscribes must be honoured within 2 days): fresh enough, sent
    run = sync_production(warehouse, {**destinations.env, "OUTREACH_EVENTS_MAX_AGE_HOURS": "48"})
    assert run.returncode == 0, run.stderr
    assert destinations.smartlead.uploads


def test_a_failed_build_is_said_first_and_blocks_production(
    warehouse: Path, destinations: Destinations, tmp_path: Path
) -> None:
    project = copy_dbt_project(tmp_path / "project")
    swap_a_and_b_thresholds(project)  # a bad seed edit: the build fails on the seed's tests
    build = run_outreach(warehouse, "build", env={"OUTREACH_PROJECT_DIR": str(project)})
    assert build.returncode == 1 and "dbt build" in build.stderr

    summary = run_outreach(warehouse, "summary")
    dry_run = run_outreach(warehouse, "sync")
    for run in (summary, dry_run):
        assert run.returncode == 0, run.stderr
        first = run.stdout.splitlines()[0]
        assert first.startswith("WARNING: the last `outreach build` failed at "), first
        assert "these figures are from the build of " in first, first
    assert "nothing sent" in dry_run.stdout

    refused(sync(warehouse, destinations), "last-build check: the last `outreach build` failed at ")
    assert destinations.smartlead_calls() == 0 and destinations.hubspot.calls == 0
