"""The CLI's global options work before or after the subcommand (as dbt's do), and --version."""

from __future__ import annotations

import tomllib

import pytest

from pipeline import cli
from tests.python.cli_runner import PROJECT_DIR


@pytest.mark.parametrize(
    ("argv", "duckdb", "target"),
    [
        (["--duckdb", "a.duckdb", "--target", "duckdb", "build"], "a.duckdb", "duckdb"),
        (["build", "--duckdb", "a.duckdb", "--target", "duckdb"], "a.duckdb", "duckdb"),
        (["--target", "duckdb", "summary", "--duckdb", "a.duckdb"], "a.duckdb", "duckdb"),
        (["--duckdb", "before.duckdb", "sync", "--duckdb", "after.duckdb"], "after.duckdb", None),
        (["copy-ledger", "--from-duckdb", "old.duckdb", "--duckdb", "a.duckdb"], "a.duckdb", None),
        (["build", "--select", "+seg_apollo_worklist"], None, None),
    ],
)
def test_global_options_are_read_before_or_after_the_subcommand(
    argv: list[str], duckdb: str | None, target: str | None
) -> None:
    args, extra = cli.parse_args(argv)
    assert (args.duckdb, args.target, extra) == (duckdb, target, [])


def test_webhook_receiver_options_still_reach_the_receiver() -> None:
    args, extra = cli.parse_args(["webhook-receiver", "--port", "8787"])
    assert args.command == "webhook-receiver" and extra == ["--port", "8787"]


def test_version_is_the_projects(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(["--version"])
    assert exited.value.code == 0
    declared = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out.strip() == f"outreach {declared}"
