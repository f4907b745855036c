"""`outreach COMMAND --help` is complete: every help text is a whole sentence, and the epilog lists
the environment variables the command reads, each a documented setting, true to
pipeline/settings_check.py. In-process (argparse prints and exits): no subprocess per command."""

from __future__ import annotations

import re

import pytest

from pipeline import cli, cli_help
from tests.python.pipeline.test_cli_settings import BAD_VALUES, SETTING, documented_settings

COMMANDS = sorted(cli_help.COMMANDS)
EPILOG_TITLE = "environment variables it reads"
# the stages run-all runs, whose settings it reads too
RUN_ALL_STAGES = ("ingest", "build", "enrich", "sync")


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def entries(text: str) -> dict[str, list[str]]:
    """The help's description and each section's entries (an option or a variable with its text,
    continuation lines joined), by section title. Blocks are separated by blank lines: the usage,
    the description, then sections whose first line is their title."""
    blocks = [block.splitlines() for block in text.strip().split("\n\n")]
    sections = {"description": [" ".join(line.strip() for line in blocks[1])]}
    for title, *lines in blocks[2:]:
        found: list[str] = []
        for line in lines:
            if re.match(r"  \S", line) or not found:
                found.append(line.strip())
            else:
                found[-1] += " " + line.strip()
        sections[title] = found
    return sections


def test_the_commands_are_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = re.search(r"\{(.+?)\}", capsys.readouterr().out)
    assert listed and sorted(listed.group(1).split(",")) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_line_is_a_whole_sentence(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    sections = entries(help_text(command, capsys))
    assert sections["description"] == [" ".join(cli_help.description(command).split())]
    options = [entry for title, found in sections.items() if title != "description" for entry in found]
    assert options, sections
    cut = [entry for entry in options if not entry.endswith(".")]
    assert not cut, f"`outreach {command} --help`: help text that does not end as a sentence: {cut}"


@pytest.mark.parametrize("command", COMMANDS)
def test_the_epilog_names_only_documented_settings(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(command, capsys)
    epilog = text[text.index(EPILOG_TITLE) :]
    named = set(SETTING.findall(epilog))
    assert named == set(cli_help.environment(command)) | ({"SNOWFLAKE_"} if "DBT_TARGET" in named else set())
    documented = documented_settings()
    unknown = sorted(
        name
        for name in named
        if name not in documented and not (name.endswith("_") and any(d.startswith(name) for d in documented))
    )
    assert not unknown, f"`outreach {command} --help` names settings no README or docs/ page documents: {unknown}"


def test_every_setting_a_command_checks_is_in_its_epilog() -> None:
    missing = [
        f"{variable} ({command})"
        for variable, (_, command) in BAD_VALUES.items()
        for reader in ((command, "run-all") if command in RUN_ALL_STAGES else (command,))
        if variable not in cli_help.environment(reader)
    ]
    assert not missing, f"settings a command checks but its --help does not list: {missing}"


@pytest.mark.parametrize("command", ["summary", "unlock", "sql", "status"])
def test_a_command_ignores_the_settings_its_help_does_not_list(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """The other way round: a bad value of a setting not in the epilog does not stop the command's
    settings check (so the epilog does not leave out one it reads)."""
    from pipeline.settings import Settings
    from pipeline.settings_check import check_settings

    for variable, (value, _) in BAD_VALUES.items():
        if variable not in cli_help.environment(command) and "{tmp}" not in value:
            monkeypatch.setenv(variable, value)
    monkeypatch.setenv("SOURCES__SMARTSCOUT__SORT_ORDER", "asc")
    check_settings(Settings.from_env(f"{tmp_path}/outreach.duckdb"), command)
