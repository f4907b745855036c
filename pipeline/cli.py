"""`outreach` command: one subcommand per stage, plus run-all."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from uuid import uuid4

from control_room import launch
from loaders.common.http import ApiError
from loaders.common.settings_env import ConfigError
from loaders.smartlead import webhook_receiver
from pipeline import cli_help, stages
from pipeline.alerts import send_alerts
from pipeline.dbt_runner import DbtFailedError
from pipeline.run_records import RunContext, recorded_stage
from pipeline.settings import Settings
from pipeline.settings_check import check_settings
from pipeline.sql_query import render_csv, render_table, run_query
from pipeline.status import collect_status, save_snapshot
from pipeline.whatif import WhatIfInputError, WhatIfUnsupportedError, run_whatif
from pipeline.whatif_report import render_markdown
from reverse_etl.plans import PlanRefusedError
from warehouse_layer import DUCKDB, WarehouseConfigError, WarehouseError, connect
from warehouse_layer.run_lock import Acquired, Claimant, RunLockedError, holding_run_lock, unlock
from warehouse_layer.run_log import record_busy_run

Stage = Callable[[Settings], list[str]]
# a subcommand's description, wrapped by hand: its epilog's columns need the raw formatter
DESCRIPTION_WIDTH = 100

STAGES: dict[str, Stage] = {
    "ingest": stages.ingest,
    "build": stages.build,
    "enrich": stages.enrich,
    "sync": stages.sync,
    "summary": stages.summary,
}

# The runner only sequences: every stage reads its inputs from the warehouse.
RUN_ALL: list[tuple[str, Stage]] = [
    ("ingest", stages.ingest),
    ("build", stages.build),
    ("enrich", stages.enrich),
    ("build (with contacts)", stages.build),
    ("sync", stages.sync),
    ("summary", stages.summary),
]

# exit codes (docs/scheduling.md): a scheduler alerts on each, and can tell them apart
EXIT_FAILED = 1  # a stage failed: its error says which and why; a re-run may succeed
EXIT_SETTINGS = 2  # a setting cannot be read: nothing ran
EXIT_REFUSED = 3  # refused, needs a person (the production gate, a stale plan, sample and live mixed)
FAILURES = (
    ApiError,
    ConfigError,
    DbtFailedError,
    FileNotFoundError,
    WarehouseError,
    stages.SyncFailedError,
    stages.SourceFailedError,
)
# a check said no and nothing was done: the run log records these as `refused`, not `failed`
REFUSALS = (stages.SyncRefusedError, stages.SourceModeRefusedError, PlanRefusedError)

# commands that report from the built tables: their first line says when the last build failed
REPORT_FROM_BUILT_TABLES = ("summary", "sync")

# read-only: runs beside a stage (on DuckDB only when the file is not open for writing)
WITHOUT_RUN_LOCK = ("summary",)
# another run holds the warehouse (nothing was done): distinct from a failure (1), try again later
EXIT_BUSY = 75


def run_stage(name: str, stage: Stage, settings: Settings, context: RunContext | None = None) -> None:
    """Runs one stage; with a `context` (a command holding the run lock) also as a run log row."""
    started = time.monotonic()
    print(f"[{name}] ...", flush=True)
    # `build (with contacts)` of run-all is a build
    with recorded_stage(settings, context, name.split(" (")[0], REFUSALS) as record:
        lines = stage(settings)
        for line in lines:
            print(f"[{name}] {line}" if "\n" not in line else line, flush=True)
        record.message = "; ".join(line for line in lines if "\n" not in line) or None
    print(f"[{name}] done in {time.monotonic() - started:.1f}s", flush=True)


def project_version() -> str:
    try:
        return version("brand-outreach-warehouse")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed: make setup)"


def _add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--duckdb",
        default=default,
        help="The warehouse file (default: $OUTREACH_DUCKDB_PATH, else warehouse/outreach.duckdb).",
    )
    parser.add_argument(
        "--target",
        default=default,
        help="The dbt target of profiles.yml for every stage (default: $DBT_TARGET, else the profile's default).",
    )


def _parser_with(parent: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """The subcommands' parser class: each subcommand also takes `parent`'s options."""

    class SubcommandParser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("add_help", True):  # webhook-receiver passes its options through unparsed
                kwargs["parents"] = [*kwargs.get("parents", []), parent]
            kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)  # the epilog's columns
            super().__init__(*args, **kwargs)
            _help_as_sentence(self)

    return SubcommandParser


def _help_as_sentence(parser: argparse.ArgumentParser) -> None:
    """argparse's own `-h` help, written as a sentence like every other help line."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = "Show this help message and exit."


def _command(subcommands: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A subcommand with its full description and, as epilog, the environment variables it reads."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        name,
        help=cli_help.description(name),
        description=textwrap.fill(cli_help.description(name), DESCRIPTION_WIDTH, break_on_hyphens=False),
        epilog=cli_help.epilog(name),
        **kwargs,
    )
    return parser


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="outreach",
        description="Amazon brands to outreach leads: run the pipeline's stages. "
        "`outreach COMMAND --help` says what a command does and which environment variables it reads.",
    )
    _help_as_sentence(parser)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {project_version()}", help="Print the version and exit."
    )
    _add_global_options(parser, default=None)
    # the global options are accepted after the subcommand too (`outreach build --duckdb X`, as dbt
    # does): there they default to "not given", so they never overwrite one given before it
    after = argparse.ArgumentParser(add_help=False)
    _add_global_options(after, default=argparse.SUPPRESS)
    subcommands = parser.add_subparsers(dest="command", required=True, parser_class=_parser_with(after))
    for name in STAGES:
        stage_parser = _command(subcommands, name)
        if name == "sync":
            stage_parser.add_argument(
                "--plan",
                metavar="ID",
                help="Production: send the rows of this plan (its id is printed by the dry run).",
            )
        if name == "build":
            stage_parser.add_argument(
                "--full-refresh", action="store_true", help="Rebuild the incremental models from all of RAW."
            )
            stage_parser.add_argument(
                "--select",
                nargs="+",
                metavar="SELECTOR",
                help="Build only these dbt nodes (dbt's --select syntax, e.g. +seg_apollo_worklist); "
                "a partial build does not count as a build for PIPELINE_MODE=production.",
            )
    whatif = _command(subcommands, "whatif")
    whatif.add_argument(
        "--weights", type=Path, metavar="FILE", help="The proposed scoring_weights.csv (default: the one in seeds/)."
    )
    whatif.add_argument(
        "--thresholds",
        type=Path,
        metavar="FILE",
        help="The proposed segment_thresholds.csv (default: the one in seeds/).",
    )
    whatif.add_argument(
        "--keep-sandbox", type=Path, metavar="DIR", help="Keep the sandbox (warehouse copy, dbt project) in DIR."
    )
    status = _command(subcommands, "status")
    status.add_argument("--json", action="store_true", help="Print one JSON object (its shape: docs/pipeline_ops.md).")
    sql = _command(subcommands, "sql")
    sql.add_argument("query", metavar="QUERY", help='One read-only query, in quotes: "select ...".')
    sql.add_argument("--csv", action="store_true", help="Print CSV (a header row, then the rows) instead of a table.")
    _command(subcommands, "run-all")
    _command(subcommands, "unlock")
    _command(subcommands, "report")
    ui = _command(subcommands, "ui")
    ui.add_argument(
        "--address",
        default=launch.DEFAULT_ADDRESS,
        help=f"Serve on this address ({launch.PASSWORD_ENV} is needed for any but this machine's).",
    )
    ui.add_argument("--port", type=int, default=launch.DEFAULT_PORT, help="Serve on this port (default 8501).")
    copy_ledger = _command(subcommands, "copy-ledger")
    copy_ledger.add_argument(
        "--from-duckdb", required=True, type=Path, help="The DuckDB warehouse file moved away from."
    )
    # its options are the receiver's own (`outreach webhook-receiver --help` prints them)
    _command(subcommands, "webhook-receiver", add_help=False)
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args, extra = parse_args(argv)
    if args.command == "webhook-receiver":  # spools where `ingest` reads (same --duckdb, same setting)
        try:
            receiver_settings = Settings.from_env(args.duckdb)
            check_settings(receiver_settings, args.command)
            spool_dir = receiver_settings.webhook_spool_dir
        except (ValueError, WarehouseConfigError) as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_SETTINGS
        return webhook_receiver.main(
            extra,
            default_spool_dir=spool_dir,
            prog="outreach webhook-receiver",
            description=cli_help.description("webhook-receiver"),
            epilog=cli_help.epilog("webhook-receiver"),
        )
    if extra:
        print(f"error: unrecognized arguments: {' '.join(extra)}", file=sys.stderr)
        return EXIT_SETTINGS
    if args.target:
        os.environ["DBT_TARGET"] = args.target  # dbt (a subprocess) and the Python stages use the same target
    try:
        settings = Settings.from_env(args.duckdb)
        check_settings(settings, args.command)  # before any dbt, dlt or HTTP work
    except (ValueError, WarehouseConfigError) as error:  # a setting that cannot be read: one line naming it
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SETTINGS
    if args.command == "sql":  # read-only: no run lock
        return _sql(settings, args.query, as_csv=args.csv)
    if args.command == "whatif":  # reads a copy: no run lock, nothing written to the warehouse
        return _whatif(settings, args)
    if args.command == "status":
        return _status(settings, as_json=args.json)
    if args.command == "report":  # read-only, no run lock, like status
        return _report(settings)
    if args.command == "ui":  # read-only, no run lock: the app opens the warehouse once per query
        try:
            return launch.serve(settings.warehouse, settings.duckdb_path, settings.project_dir, args.address, args.port)
        except launch.UiSettingError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_SETTINGS
    if args.command == "copy-ledger":
        plan: list[tuple[str, Stage]] = [
            ("copy-ledger", partial(stages.copy_ledger_from, source_duckdb=args.from_duckdb))
        ]
    elif args.command == "build" and (args.full_refresh or args.select):
        plan = [("build", partial(stages.build, full_refresh=args.full_refresh, select=args.select))]
    elif args.command == "unlock":
        plan = [("unlock", _unlock)]
    elif args.command == "sync" and args.plan:
        plan = [("sync", partial(stages.sync, plan_id=args.plan))]
    else:
        plan = RUN_ALL if args.command == "run-all" else [(args.command, STAGES[args.command])]
    try:
        with _run_lock(args.command, settings) as acquired:
            context = RunContext(args.command, acquired.holder.lock_id) if acquired else None
            try:
                if args.command in REPORT_FROM_BUILT_TABLES and (warning := stages.last_build_warning(settings)):
                    print(warning, flush=True)
                for name, stage in plan:
                    run_stage(name, stage, settings, context)
            finally:
                if acquired:
                    _save_status_snapshot(settings, acquired)
                    _send_alerts(settings, acquired)
    except (RunLockedError, *REFUSALS, *FAILURES) as error:
        if isinstance(error, RunLockedError):
            _record_busy(args.command, settings, str(error))
        return reported(error)
    if args.command == "run-all":  # after the run lock: the report only reads
        _report(settings, after_run_all=True)
    return 0


def reported(error: Exception) -> int:
    """Prints an expected error as its one line; returns the exit code that says what kind it is."""
    print(f"error: {error}", file=sys.stderr)
    if isinstance(error, RunLockedError):
        return EXIT_BUSY
    return EXIT_REFUSED if isinstance(error, REFUSALS) else EXIT_FAILED


@contextmanager
def _run_lock(command: str, settings: Settings) -> Iterator[Acquired | None]:
    """One stage at a time per warehouse (warehouse_layer.run_lock), held for the whole command."""
    if command in (*WITHOUT_RUN_LOCK, "unlock"):
        yield None
        return
    with holding_run_lock(settings.warehouse, Claimant(command)) as acquired:
        if acquired.note:
            print(f"[{command}] {acquired.note}", flush=True)
        yield acquired


def _status(settings: Settings, *, as_json: bool) -> int:
    """`outreach status`: read-only, never takes the run lock; exit 1 when something needs a person."""
    try:
        report = collect_status(settings)
    except WarehouseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_json(), indent=1) if as_json else "\n".join(report.render()), flush=True)
    return report.exit_code


def _sql(settings: Settings, query: str, *, as_csv: bool) -> int:
    """`outreach sql`: one read-only query; a bad one is one line (exit 1), a busy DuckDB file too (75)."""
    try:
        result = run_query(settings.warehouse, query)
    except (RunLockedError, WarehouseError) as error:
        return reported(error)
    print(render_csv(result) if as_csv else render_table(result), end="", flush=True)
    return 0


def _report(settings: Settings, *, after_run_all: bool = False) -> int:
    """`outreach report`: one HTML file beside the warehouse, its path printed. At the end of
    run-all a failure is a warning: the pipeline's own outcome stands."""
    from control_room.reader import WarehouseBusyError
    from pipeline.report import ReportError, write_report  # imports Streamlit's page modules: only when asked

    try:
        path = write_report(settings)
    except (ReportError, WarehouseError) as error:
        if after_run_all:
            print(f"warning: could not write the report: {error}", file=sys.stderr)
            return 0
        print(f"error: {error}", file=sys.stderr)
        if isinstance(error, ReportError):
            return EXIT_SETTINGS
        return EXIT_BUSY if isinstance(error, WarehouseBusyError) else EXIT_FAILED
    print(f"[report] {path}", flush=True)
    return 0


def _save_status_snapshot(settings: Settings, acquired: Acquired) -> None:
    """What `outreach status` shows while the next command has the DuckDB file to itself."""
    try:
        save_snapshot(settings, acquired.holder.lock_id)
    except Exception as error:  # the command's own outcome matters more
        print(f"warning: could not save the status report: {' '.join(str(error).split())}", file=sys.stderr)


def _send_alerts(settings: Settings, acquired: Acquired) -> None:
    """Alerts on what changed (pipeline/alerts.py): never changes the command's outcome."""
    try:
        lines = send_alerts(settings, acquired.holder.lock_id)
    except Exception as error:
        lines = [f"warning: could not evaluate the alerts: {' '.join(str(error).split())}"]
    for line in lines:
        print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout, flush=True)


def _record_busy(command: str, settings: Settings, message: str) -> None:
    """A refused command in the run log, where that is safe: never on DuckDB (opening the file
    beside the run holding it could make that run fail)."""
    if command in (*WITHOUT_RUN_LOCK, "unlock") or settings.warehouse.kind == DUCKDB:
        return
    try:
        with connect(settings.warehouse) as warehouse:
            record_busy_run(
                warehouse,
                uuid4().hex,
                command,
                datetime.now(UTC).replace(tzinfo=None),
                message,
                host=socket.gethostname(),
                pid=os.getpid(),
            )
    except Exception:  # the busy refusal is what the operator needs to see
        pass


def _whatif(settings: Settings, args: argparse.Namespace) -> int:
    try:
        result = run_whatif(
            settings, weights_file=args.weights, thresholds_file=args.thresholds, keep_sandbox=args.keep_sandbox
        )
    except (WhatIfInputError, WhatIfUnsupportedError) as error:  # the files or the target: fix and run again
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SETTINGS
    except (RunLockedError, *FAILURES) as error:
        return reported(error)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(render_markdown(result), end="", flush=True)
    return 0


def _unlock(settings: Settings) -> list[str]:
    cleared = unlock(settings.warehouse)
    if not cleared:
        return ["no run lock was held"]
    return [f"run lock cleared: it was held by {holder.describe()}" for holder in cleared]


if __name__ == "__main__":
    sys.exit(main())
