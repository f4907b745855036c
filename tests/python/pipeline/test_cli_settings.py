"""A setting that cannot be read is one line naming it, never a traceback, and no stage runs.

The walk covers every setting the README and docs/ name: each gets a bad value and the command
that reads it. Settings are checked before any dbt, dlt or HTTP work, so the walk calls the CLI's
entry point in this process (a subprocess per setting would cost ~1.5 s each); one case runs the
real CLI in a subprocess as `make demo` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import cli
from tests.python.cli_runner import PROJECT_DIR, run_outreach

# setting -> (bad value, the command that reads it); `{tmp}` is a fresh temporary folder
BAD_VALUES: dict[str, tuple[str, str]] = {
    "OUTREACH_SOURCE_MODE": ("production", "ingest"),
    "OUTREACH_DUCKDB_PATH": ("{tmp}", "summary"),  # a folder, not a file
    "DBT_TARGET": ("no_such_target", "summary"),
    "OUTREACH_CSV_EXPORTS_DIR": ("{tmp}/missing", "ingest"),
    "OUTREACH_WEBHOOK_SPOOL_DIR": ("{tmp}/a_file", "ingest"),
    "OUTREACH_PROGRESS_SECONDS": ("fast", "ingest"),
    "OUTREACH_EVENTS_MAX_AGE_HOURS": ("a day", "sync"),
    "OUTREACH_PLAN_MAX_AGE_HOURS": ("a day", "sync"),
    "OUTREACH_MAX_NEW_LEADS_PER_CAMPAIGN": ("lots", "sync"),
    "OUTREACH_MAX_NEW_LEADS_TOTAL": ("-1", "sync"),
    "OUTREACH_RESEND_UNCONFIRMED": ("yes", "sync"),
    "OUTREACH_INCREMENTAL_LOOKBACK_DAYS": ("2d", "build"),
    "OUTREACH_NAME_NORMALIZATION_VERSION": ("3", "build"),
    "SOURCES__SMARTSCOUT__MARKETPLACE": ("Mars", "ingest"),
    "SOURCES__SMARTSCOUT__PAGE_SIZE": ("5000", "ingest"),
    "SOURCES__SMARTSCOUT__FILTERS": ('{"colour": "red"}', "ingest"),
    "SOURCES__SMARTSCOUT__SORT_BY": ("", "ingest"),  # replaced below: SORT_ORDER without SORT_BY
    "SOURCES__SMARTSCOUT__SORT_ORDER": ("sideways", "ingest"),
    "SOURCES__SMARTSCOUT__REQUESTS_PER_SECOND": ("0", "ingest"),
    "SOURCES__SMARTSCOUT__COMMIT_EVERY_PAGES": ("often", "ingest"),
    "SOURCES__SMARTSCOUT__COMMIT_MIN_SECONDS": ("-5", "ingest"),
    "SOURCES__SMARTSCOUT__BASE_URL": ("api.smartscout.com", "ingest"),
    "SOURCES__APOLLO__TTL_DAYS": ("30d", "enrich"),
    "SOURCES__APOLLO__REQUESTS_PER_SECOND": ("0", "enrich"),
    "SOURCES__APOLLO__CONCURRENCY": ("99", "enrich"),
    "SOURCES__APOLLO__BASE_URL": ("ftp://api.apollo.io", "enrich"),
    "SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES": ("0", "enrich"),
    "SOURCES__APOLLO__REVEAL_HOLD_HOURS": ("-1", "enrich"),
    "SOURCES__SMARTLEAD__CAMPAIGN_IDS": ("summer-campaign", "ingest"),
    "SOURCES__SMARTLEAD__LOOKBACK_DAYS": ("-1", "ingest"),
    "SOURCES__SMARTLEAD__POLL_ACTIVITIES": ("maybe", "ingest"),
    "SOURCES__SMARTLEAD__ACTIVITY_OVERLAP_HOURS": ("an hour", "ingest"),
    "SOURCES__SMARTLEAD__REQUESTS_PER_SECOND": ("0", "ingest"),
    "SOURCES__SMARTLEAD__BASE_URL": ("server.smartlead.ai", "ingest"),
    "DESTINATION__SMARTLEAD__BATCH_SIZE": ("1000", "sync"),
    "DESTINATION__SMARTLEAD__REQUESTS_PER_SECOND": ("fast", "sync"),
    "DESTINATION__SMARTLEAD__BASE_URL": ("smartlead", "sync"),
    "DESTINATION__HUBSPOT__BATCH_SIZE": ("many", "sync"),
    "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND": ("-2", "sync"),
    "DESTINATION__HUBSPOT__BASE_URL": ("api.hubapi.com", "sync"),
    "OUTREACH_RUN_LOCK_MAX_AGE_HOURS": ("a day", "ingest"),
    "OUTREACH_ALERT_WEBHOOK_URL": ("hooks.slack.com/services/T0/B0/x", "build"),  # no scheme
    "OUTREACH_ALERT_DEVIATION_PERCENT": ("half", "ingest"),
    "OUTREACH_ALERT_DEVIATION_RUNS": ("2", "sync"),
    "OUTREACH_ALERT_TIMEOUT_SECONDS": ("0", "enrich"),
    "SMARTLEAD_WEBHOOK_MAX_BODY_BYTES": ("1MB", "webhook-receiver"),
    "SMARTLEAD_WEBHOOK_READ_TIMEOUT_SECONDS": ("-1", "webhook-receiver"),
    "SMARTLEAD_WEBHOOK_MAX_CONNECTIONS": ("0", "webhook-receiver"),
    "SMARTLEAD_WEBHOOK_REJECTED_PER_MINUTE": ("some", "webhook-receiver"),
    "SMARTLEAD_WEBHOOK_REJECTED_TRACE_CHARS": ("2k", "webhook-receiver"),
    "SMARTLEAD_WEBHOOK_REJECTED_MAX_BYTES": ("10MB", "webhook-receiver"),
}
# a setting whose bad value needs another one with it
COMPANIONS: dict[str, dict[str, str]] = {"SOURCES__SMARTSCOUT__SORT_BY": {"SOURCES__SMARTSCOUT__SORT_ORDER": "asc"}}
# SORT_BY is any property name; its bad case is a sort order without it
NAMED_IN_ERROR = {"SOURCES__SMARTSCOUT__SORT_BY": "SOURCES__SMARTSCOUT__SORT_"}

# documented settings with no bad value of their own, and why
NOT_WALKED = {
    "PIPELINE_MODE": "any value but `production` is documented as a dry run (and said so in sync's output)",
    "SOURCES__APOLLO__TITLES": "free text (a comma list of titles)",
    "SOURCES__APOLLO__SENIORITIES": "free text (a comma list of Apollo seniorities)",
    "SOURCES__SMARTSCOUT__API_KEY": "a key: tests/python/pipeline/test_operator_errors.py (placeholders)",
    "SOURCES__APOLLO__API_KEY": "a key",
    "SOURCES__SMARTLEAD__API_KEY": "a key",
    "DESTINATION__SMARTLEAD__API_KEY": "a key",
    "DESTINATION__HUBSPOT__ACCESS_TOKEN": "a key",
    "SMARTLEAD_WEBHOOK_SECRET": "a key: tests/python/pipeline/test_operator_errors.py (receiver without it)",
    "SNOWFLAKE_ACCOUNT": "Snowflake connection: test_warehouse_targets.py (missing variables)",
    "SNOWFLAKE_USER": "Snowflake connection",
    "SNOWFLAKE_ROLE": "Snowflake connection",
    "SNOWFLAKE_WAREHOUSE": "Snowflake connection",
    "SNOWFLAKE_DATABASE": "Snowflake connection",
    "SNOWFLAKE_PASSWORD": "Snowflake connection",
    "SNOWFLAKE_PRIVATE_KEY_PATH": "Snowflake connection",
    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "Snowflake connection",
    "DESTINATION__SNOWFLAKE__CREDENTIALS__": "dlt's own Snowflake configuration (a prefix)",
    "SMARTLEAD_WEBHOOK_": "the prefix of the receiver's limits (each walked)",
    "OUTREACH_UI_PASSWORD": "a password: tests/python/control_room (serving beyond this machine without it)",
    "OUTREACH_TEST_KILL_AT": "a fault-injection hook only the tests set",
    "SMARTLEAD_API_KEY": "the name of a CI secret (docs/scheduling.md), not a setting",
    "SNOWFLAKE_": "a prefix (`SNOWFLAKE_*`)",
    "OUTREACH_SEEDS_DIR": "read by the control room's configurator only (tests/python/control_room)",
}

SETTING = re.compile(r"\b((?:OUTREACH|SOURCES|DESTINATION|PIPELINE|DBT|SMARTLEAD|SNOWFLAKE)_[A-Z0-9_]*)")
# `__PAGE_SIZE` after `SOURCES__SMARTSCOUT__MARKETPLACE` in a table row: the same source's setting
SHORT_FORM = re.compile(r"`(__[A-Z0-9_]+)`")


def documented_settings() -> set[str]:
    """Every setting named in the README and docs/, the table's short forms (`__PAGE_SIZE`)
    expanded with the row's prefix, `DESTINATION__*__X` with both destinations."""
    found: set[str] = set()
    for document in [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]:
        for line in document.read_text().splitlines():
            names = SETTING.findall(line)
            found.update(name for name in names if not name.endswith("__") or name.count("__") > 2)
            prefixes = [name.rsplit("__", 1)[0] for name in names if name.startswith("SOURCES__")]
            if prefixes:
                found.update(prefixes[0] + short for short in SHORT_FORM.findall(line))
            if "DESTINATION__*__" in line:
                for short in re.findall(r"DESTINATION__\*(__[A-Z_]+)", line):
                    found.update(f"DESTINATION__{name}{short}" for name in ("SMARTLEAD", "HUBSPOT"))
    return {name for name in found if name not in ("DESTINATION__", "SOURCES__")}


def test_every_documented_setting_is_walked() -> None:
    documented = documented_settings()
    assert "SOURCES__SMARTSCOUT__PAGE_SIZE" in documented and "DESTINATION__HUBSPOT__BASE_URL" in documented
    missing = sorted(documented - set(BAD_VALUES) - set(NOT_WALKED))
    assert not missing, f"documented settings with no bad-value case: {missing}"


@pytest.mark.parametrize("variable", sorted(BAD_VALUES))
def test_a_bad_setting_is_one_line_naming_it_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    value, command = BAD_VALUES[variable]
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv(variable, value.replace("{tmp}", str(tmp_path)))
    for companion, companion_value in COMPANIONS.get(variable, {}).items():
        monkeypatch.setenv(companion, companion_value)
    monkeypatch.delenv("PIPELINE_MODE", raising=False)
    duckdb_path = tmp_path / "outreach.duckdb"
    argv = [command] if variable == "OUTREACH_DUCKDB_PATH" else ["--duckdb", str(duckdb_path), command]

    exit_code = cli.main(argv)

    err = capsys.readouterr().err
    assert exit_code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    named = NAMED_IN_ERROR.get(variable, variable)
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], err
    assert not duckdb_path.exists()  # nothing ran


def test_a_bad_setting_of_another_command_does_not_stop_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__APOLLO__TTL_DAYS", "30d")  # read by enrich only
    exit_code = cli.main(["--duckdb", str(tmp_path / "outreach.duckdb"), "summary"])
    err = capsys.readouterr().err
    assert "SOURCES__APOLLO__TTL_DAYS" not in err and "Traceback" not in err
    assert exit_code == 1 and "run `outreach" in err  # an empty warehouse: what to run first


def test_the_real_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "outreach.duckdb"
    run = run_outreach(duckdb_path, "enrich", env={"SOURCES__APOLLO__TTL_DAYS": "30d"})
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "SOURCES__APOLLO__TTL_DAYS" in lines[0] and "'30d'" in lines[0], run.stderr
    assert not duckdb_path.exists()
