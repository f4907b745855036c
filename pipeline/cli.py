"""`outreach` command: one subcommand per stage, plus run-all."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
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
from pipeline import stages
from pipeline.dbt_runner import DbtFailedError
from pipeline.run_records import RunContext, recorded_stage
from pipeline.settings import Settings
from pipeline.settings_check import check_settings
from pipeline.status import collect_status, save_snapshot
from pipeline.whatif import WhatIfInputError, WhatIfUnsupportedError, run_whatif
from pipeline.whatif_report import render_markdown
from reverse_etl.plans import PlanRefusedError
from warehouse_layer import DUCKDB, WarehouseConfigError, WarehouseError, connect
from warehouse_layer.run_lock import Acquired, Claimant, RunLockedError, holding_run_lock, unlock
from warehouse_layer.run_log import record_busy_run

Stage = Callable[[Settings], list[str]]

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
        help="warehouse file (default: $OUTREACH_DUCKDB_PATH or warehouse/outreach.duckdb)",
    )
    parser.add_argument(
        "--target",
        default=default,
        help="dbt target in profiles.yml for every stage (default: $DBT_TARGET, else the profile's default)",
    )


def _parser_with(parent: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """The subcommands' parser class: each subcommand also takes `parent`'s options."""

    class SubcommandParser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("add_help", True):  # webhook-receiver passes its options through unparsed
                kwargs["parents"] = [*kwargs.get("parents", []), parent]
            super().__init__(*args, **kwargs)

    return SubcommandParser


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="outreach", description="Amazon brands to outreach leads: run pipeline stages."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {project_version()}")
    _add_global_options(parser, default=None)
    # the global options are accepted after the subcommand too (`outreach build --duckdb X`, as dbt
    # does): there they default to "not given", so they never overwrite one given before it
    after = argparse.ArgumentParser(add_help=False)
    _add_global_options(after, default=argparse.SUPPRESS)
    subcommands = parser.add_subparsers(dest="command", required=True, parser_class=_parser_with(after))
    for name, stage in STAGES.items():
        first_doc_line = (stage.__doc__ or "").strip().splitlines()
        stage_parser = subcommands.add_parser(name, help=first_doc_line[0] if first_doc_line else None)
        if name == "sync":
            stage_parser.add_argument(
                "--plan", metavar="ID", help="production: send the rows of this plan (printed by the dry run)"
            )
        if name == "build":
            stage_parser.add_argument(
                "--full-refresh", action="store_true", help="rebuild the incremental models from all of RAW"
            )
            stage_parser.add_argument(
                "--select",
                nargs="+",
                metavar="SELECTOR",
                help="build only these dbt nodes (dbt's --select syntax, e.g. +seg_apollo_worklist); "
                "a partial build does not count as a build for PIPELINE_MODE=production",
            )
    whatif = subcommands.add_parser(
        "whatif", help="what proposed scoring seeds would move (Markdown), built in a sandbox copy of the warehouse"
    )
    whatif.add_argument("--weights", type=Path, metavar="FILE", help="proposed scoring_weights.csv (default: seeds/)")
    whatif.add_argument(
        "--thresholds", type=Path, metavar="FILE", help="proposed segment_thresholds.csv (default: seeds/)"
    )
    whatif.add_argument(
        "--keep-sandbox", type=Path, metavar="DIR", help="keep the sandbox (warehouse copy, dbt project) in DIR"
    )
    status = subcommands.add_parser(
        "status", help="mode, target, each stage's last run and what needs a person (exit 1); read-only"
    )
    status.add_argument("--json", action="store_true", help="one JSON object (shape: docs/pipeline_ops.md)")
    subcommands.add_parser(
        "run-all",
        help="ingest, build, enrich, build, sync, summary (its sync only makes a plan: "
        "PIPELINE_MODE=production refuses a sync without --plan)",
    )
    subcommands.add_parser("unlock", help="clear the warehouse's run lock left by a run that is gone")
    subcommands.add_parser(
        "report",
        help="write the control room's main figures as one self-contained HTML file beside the warehouse "
        "(run-all writes it too); read-only",
    )
    ui = subcommands.add_parser("ui", help="the control room: a read-only web app over the warehouse")
    ui.add_argument(
        "--address",
        default=launch.DEFAULT_ADDRESS,
        help=f"serve on this address ({launch.PASSWORD_ENV} needed for any but this machine's)",
    )
    ui.add_argument("--port", type=int, default=launch.DEFAULT_PORT)
    copy_ledger = subcommands.add_parser(
        "copy-ledger", help="copy the reverse-ETL ledger of a DuckDB file into the active target (moving warehouses)"
    )
    copy_ledger.add_argument("--from-duckdb", required=True, type=Path, help="the DuckDB warehouse moved away from")
    subcommands.add_parser(
        "webhook-receiver",
        help="serve the Smartlead webhook endpoint (options: see `outreach webhook-receiver --help`)",
        add_help=False,
    )
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
        return webhook_receiver.main(extra, default_spool_dir=spool_dir)
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
    except RunLockedError as error:
        print(f"error: {error}", file=sys.stderr)
        _record_busy(args.command, settings, str(error))
        return EXIT_BUSY
    except REFUSALS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except FAILURES as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.command == "run-all":  # after the run lock: the report only reads
        _report(settings, after_run_all=True)
    return 0


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
    except RunLockedError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except FAILURES as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
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
