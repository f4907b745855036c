"""The shipped schedules (docs/scheduling.md): systemd units and the CI workflow are what the
docs say, run commands that exist, and the workflow refuses a warehouse it would throw away."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from tests.python.cli_runner import PROJECT_DIR

SYSTEMD = PROJECT_DIR / "deploy" / "systemd"
WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "scheduled-pipeline.yml"
INSTALL_DIR = "/opt/brand-outreach"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def outreach_command(exec_start: str) -> list[str]:
    """The `outreach` arguments of an ExecStart, checked to be the project's console script."""
    program, *args = exec_start.split()
    assert program == f"{INSTALL_DIR}/.venv/bin/outreach", exec_start
    scripts = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["outreach"] == "pipeline.cli:main"
    return args


def test_the_timer_catches_up_and_starts_the_pipeline_service() -> None:
    timer = unit("outreach-pipeline.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["OnCalendar"]
    assert (SYSTEMD / timer["Timer"]["Unit"]).exists()
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_pipeline_service_runs_run_all_once_with_its_settings_file() -> None:
    service = unit("outreach-pipeline.service")["Service"]
    assert service["Type"] == "oneshot"  # the timer waits for it: runs never overlap
    assert service["EnvironmentFile"].startswith("/etc/")  # keys outside the repository
    assert service["WorkingDirectory"] == INSTALL_DIR
    from pipeline import cli

    args = outreach_command(service["ExecStart"])
    assert args == ["run-all"]
    assert cli.parse_args(args)[0].command == "run-all"


def test_the_webhook_receiver_service_restarts_and_listens_on_localhost() -> None:
    service = unit("outreach-webhook-receiver.service")["Service"]
    assert service["Restart"] == "always"
    args = outreach_command(service["ExecStart"])
    assert args[0] == "webhook-receiver"
    from loaders.smartlead.webhook_receiver import main as receiver_main  # noqa: F401  (it exists)

    assert args[args.index("--host") + 1] == "127.0.0.1"  # TLS and exposure belong to the proxy


def workflow() -> dict[str, object]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_workflow_runs_daily_one_at_a_time_on_snowflake_with_secrets_from_the_store() -> None:
    flow = workflow()
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert isinstance(triggers, dict) and triggers["schedule"][0]["cron"]
    concurrency = flow["concurrency"]
    assert isinstance(concurrency, dict) and concurrency["cancel-in-progress"] is False
    jobs = flow["jobs"]
    assert isinstance(jobs, dict)
    [job] = jobs.values()
    env = job["env"]
    assert env["DBT_TARGET"] == "snowflake" and env.get("PIPELINE_MODE") != "production"
    secret_like = [name for name in env if re.search(r"(KEY|PASSWORD|SECRET|TOKEN|ACCOUNT|USER)$", name)]
    assert secret_like and all(re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", env[name]) for name in secret_like)
    runs = [step.get("run", "") for step in job["steps"]]
    guard = runs.index(".venv/bin/python scripts/require_lasting_warehouse.py")
    assert guard < runs.index(".venv/bin/outreach run-all")  # refused before anything runs


def guard(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("SNOWFLAKE_", "DBT_TARGET"))}
    return subprocess.run(
        [sys.executable, "scripts/require_lasting_warehouse.py"],
        cwd=PROJECT_DIR,
        env={**base, "PYTHONPATH": str(PROJECT_DIR), **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("env", [{}, {"DBT_TARGET": "duckdb"}], ids=["default target", "duckdb"])
def test_the_guard_refuses_a_duckdb_target_in_one_line(env: dict[str, str]) -> None:
    refused = guard(env)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "DBT_TARGET=snowflake" in refused.stderr


def test_the_guard_lets_snowflake_through_without_printing_a_secret() -> None:
    secret = "s3cr3t-pw"
    snowflake = {
        "DBT_TARGET": "snowflake",
        "SNOWFLAKE_ACCOUNT": "acme-xy12345",
        "SNOWFLAKE_USER": "pipeline",
        "SNOWFLAKE_PASSWORD": secret,
        "SNOWFLAKE_WAREHOUSE": "transforming",
        "SNOWFLAKE_DATABASE": "outreach",
    }
    passed = guard(snowflake)
    assert passed.returncode == 0, passed.stderr
    assert "Snowflake account acme-xy12345" in passed.stdout and secret not in passed.stdout + passed.stderr
