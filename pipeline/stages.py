"""Self-contained stages. Each reads what it needs from the warehouse or its inputs, writes its
results to the warehouse, and returns a one-line summary; the CLI only sequences them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

from loaders.apollo import (
    ApolloApiClient,
    ApolloConfig,
    BrandToEnrich,
    PeopleFinder,
    SampleApolloClient,
    create_empty_tables,
    enrich_brands,
    filter_recently_looked_up,
    land_interrupted_lookups,
    people_revealed_within,
)
from loaders.apollo.settings import PIPELINE_NAME as APOLLO_PIPELINE_NAME
from loaders.common import LoadSummary, StderrProgress, load_waiting_packages
from loaders.common.http import ApiError, resolve_secret
from loaders.common.pipeline import landing_source_mode
from loaders.common.settings_env import ConfigError
from loaders.smartlead import (
    SmartleadPollConfig,
    create_empty_events_table,
    load_event_files,
    load_spool,
    poll_campaign_statistics,
)
from loaders.smartscout import (
    DirectoryPageFetcher,
    create_empty_brands_table,
    load_brand_pages,
    load_brands_export,
)
from loaders.smartscout.client import load_smartscout_api
from pipeline.dbt_runner import run_dbt
from pipeline.run_records import current_run_id, stage_figures
from pipeline.settings import Settings
from pipeline.summary import render_summary
from pipeline.suppression_report import dead_suppression_entries
from reverse_etl.brand_ids import follow_brand_id_aliases
from reverse_etl.destinations import destinations_from_env
from reverse_etl.ledger import copy_ledger, ledger_entry
from reverse_etl.plans import VolumeCaps, load_plan, mark_applied, record_plan, restrict_to_plan, volume_problems
from reverse_etl.preview import count_actions, write_preview
from reverse_etl.run_figures import ledger_keys, record_sync_run
from reverse_etl.sync import CHANGED_SINCE_PLAN, REFUSE, PlannedRecord, collect_records, execute, plan_all, run_problems
from warehouse_layer import (
    BUILD_FAILED,
    BUILD_PARTIAL,
    BUILD_SUCCEEDED,
    EVENTS_POLL,
    EVENTS_SAMPLE,
    EVENTS_WEBHOOKS,
    LIVE,
    SAMPLE,
    UNKNOWN_ORIGIN,
    BuildRun,
    Warehouse,
    WarehouseError,
    clean_origins,
    connect,
    describe_origins,
    last_builds,
    last_event_reads,
    last_stage_run,
    raw_origins,
    record_build_finished,
    record_build_started,
    record_event_read,
    record_source_mode,
    record_stage_run,
    warehouse_exists,
)


class SyncRefusedError(RuntimeError):
    """Production sending is not safe from this warehouse; nothing was sent."""


class SyncFailedError(RuntimeError):
    """Some rows could not be delivered; they are in the ledger and retried next run."""


class SourceFailedError(RuntimeError):
    """One or more sources failed; the others were loaded."""


class SourceModeRefusedError(RuntimeError):
    """The stage would mix the bundled sample data and live data in one warehouse; nothing was written."""


# event sources whose successful reads are recorded (pipeline_ops.event_reads); the production
# gate requires a recent one from each configured live source
EVENT_SOURCES = (EVENTS_POLL, EVENTS_WEBHOOKS, EVENTS_SAMPLE)


def ingest(settings: Settings) -> list[str]:
    """Brands (SmartScout API or sample pages, CSV exports) and Smartlead events -> raw."""
    refuse_to_mix_source_modes(settings, "ingest")  # before anything is written
    loads: list[tuple[str, Callable[[], LoadSummary]]] = (
        _live_loads(settings) if settings.source_mode == "live" else _sample_loads(settings)
    )
    lines: list[str] = [f"source mode: {settings.source_mode}"]
    failures: list[str] = []
    with landing_source_mode(settings.source_mode):  # every RAW row records where it came from
        for name, load in loads:
            started = _utc_now()
            try:
                loaded = load()
            except ApiError as error:  # a bad key or a dead API stops that source only
                failures.append(name)
                lines.append(f"{name}: FAILED: {error}")
                continue
            except ConfigError as error:  # so does a setting it cannot read (named, never a secret)
                failures.append(name)
                lines.append(f"{name}: FAILED, not loaded: bad setting: {error}")
                continue
            except UnreadableFileError as error:  # and a file none of whose rows could be read
                failures.append(name)
                lines.append(f"{name}: FAILED: {error}")
                continue
            lines.append(str(loaded))
            _add_load_figures(loaded, settings.source_mode)
            if name in EVENT_SOURCES and loaded.details.get("incomplete"):  # stopped at a bad page
                lines.append(f"{name}: not read whole ({loaded.details['incomplete']}): not a successful events read")
            elif name in EVENT_SOURCES:  # read whole, also when nothing was new: these events are known
                with connect(settings.warehouse) as warehouse:
                    record_event_read(warehouse, name, started, loaded.rows_loaded, settings.source_mode)
        # Apollo tables are filled by `enrich`, which needs a first build: create them empty now
        create_empty_tables(settings.warehouse, settings.pipelines_dir)
        # and so for a source not loaded (no key, no file): the models read every RAW table
        _create_missing_raw_tables(settings)
    with connect(settings.warehouse) as warehouse:
        now = _utc_now()
        record_source_mode(warehouse, settings.source_mode, now)
        record_stage_run(warehouse, "load_raw", now)
    if failures:
        for line in lines:
            print(f"[ingest] {line}", flush=True)
        raise SourceFailedError(f"ingest: {', '.join(failures)} failed (the other sources were loaded)")
    return lines


# the RAW tables the models read (dbt sources): every ingest leaves them all in place
RAW_TABLES_MODELS_READ = ("smartscout_brands", "smartlead_events", "apollo_people", "apollo_lookups", "apollo_calls")
RAW_SCHEMA = "raw"


def _create_missing_raw_tables(settings: Settings) -> None:
    with connect(settings.warehouse, read_only=True) as warehouse:
        has_brands = warehouse.table_exists(RAW_SCHEMA, "smartscout_brands")
        has_events = warehouse.table_exists(RAW_SCHEMA, "smartlead_events")
    if not has_brands:
        create_empty_brands_table(settings.warehouse, settings.pipelines_dir)
    if not has_events:
        create_empty_events_table(settings.warehouse, settings.pipelines_dir)


def require_raw_tables(settings: Settings) -> None:
    """`build` on a warehouse without RAW says what to run, in one line, instead of dbt's errors
    for each model and test that reads a missing table."""
    missing: list[str] = list(RAW_TABLES_MODELS_READ)
    if warehouse_exists(settings.warehouse):
        with connect(settings.warehouse, read_only=True) as warehouse:
            missing = [table for table in RAW_TABLES_MODELS_READ if not warehouse.table_exists(RAW_SCHEMA, table)]
    if len(missing) == len(RAW_TABLES_MODELS_READ):
        raise WarehouseError(
            f"build: {settings.warehouse.description} has no RAW data yet: run `outreach ingest` first"
        )
    if missing:
        raise WarehouseError(
            f"build: RAW has no {', '.join(f'{RAW_SCHEMA}.{table}' for table in missing)} (ingested before "
            "every RAW table was created): run `outreach ingest` once, it creates the missing ones empty"
        )


def _add_load_figures(loaded: LoadSummary, source_mode: str) -> None:
    """The run log's figures of one load: rows read (loaded + rejected), loaded, rejected, and the
    requests it sent (pages of the SmartScout API, calls of the Smartlead poll; none from files)."""
    requests = loaded.details.get("api_calls", loaded.files_or_pages if loaded.source.endswith("api") else 0)
    stage_figures().add(
        rows_in=loaded.rows_loaded + loaded.rows_rejected,
        rows_out=loaded.rows_loaded,
        rejections=loaded.rows_rejected,
        requests_sent=int(str(requests)) if source_mode == LIVE else 0,
    )


def _sample_loads(settings: Settings) -> list[tuple[str, Callable[[], LoadSummary]]]:
    sample = settings.sample_data_dir
    pages_dir = sample / "smartscout" / f"brands_search_{settings.marketplace}"
    exports = sorted((sample / "smartscout").glob("*.csv"))
    event_files = sorted((sample / "smartlead").glob("*.jsonl"))
    if not (pages_dir.is_dir() or exports or event_files):
        raise FileNotFoundError(f"no sample data found under {sample}")
    loads: list[tuple[str, Callable[[], LoadSummary]]] = []
    if pages_dir.is_dir():
        loads.append(
            (
                "smartscout sample pages",
                lambda: load_brand_pages(
                    DirectoryPageFetcher(pages_dir),
                    settings.marketplace,
                    settings.warehouse,
                    settings.pipelines_dir,
                ),
            )
        )
    loads += _csv_loads(settings, exports)
    if event_files:
        loads.append(
            (
                EVENTS_SAMPLE,
                lambda: load_event_files(
                    event_files, settings.warehouse, settings.pipelines_dir, skip_landed_files=True
                ),
            )
        )
    return loads


def _live_loads(settings: Settings) -> list[tuple[str, Callable[[], LoadSummary]]]:
    """Each source whose key is configured; CSV exports and the webhook spool when present.
    The API loads show their progress (pages, rows, rate) on stderr, a line every few seconds."""
    loads: list[tuple[str, Callable[[], LoadSummary]]] = []
    progress = StderrProgress()
    if resolve_secret("SOURCES__SMARTSCOUT__API_KEY", "sources.smartscout.api_key"):
        loads.append(
            (
                "smartscout api",
                lambda: load_smartscout_api(
                    settings.warehouse, settings.pipelines_dir, progress=progress, progress_every_pages=1
                ),
            )
        )
    else:
        print(f"[ingest] smartscout api: skipped ({_NO_KEY.format('SOURCES__SMARTSCOUT__API_KEY')})", flush=True)
    if settings.csv_exports_dir is not None:
        exports = sorted(settings.csv_exports_dir.glob("*.csv"))
        if not exports:
            print(f"[ingest] smartscout exports: no *.csv in OUTREACH_CSV_EXPORTS_DIR={settings.csv_exports_dir}")
        loads += _csv_loads(settings, exports)
    if resolve_secret("SOURCES__SMARTLEAD__API_KEY", "sources.smartlead.api_key"):
        loads.append(
            (
                EVENTS_POLL,
                lambda: poll_campaign_statistics(
                    SmartleadPollConfig.from_env(), settings.warehouse, settings.pipelines_dir, progress=progress
                ),
            )
        )
    else:
        print(f"[ingest] smartlead poll: skipped ({_NO_KEY.format('SOURCES__SMARTLEAD__API_KEY')})", flush=True)
    if settings.webhook_spool_dir.is_dir():
        loads.append(
            (
                EVENTS_WEBHOOKS,
                lambda: load_spool(settings.webhook_spool_dir, settings.warehouse, settings.pipelines_dir),
            )
        )
    return loads


_NO_KEY = "no {} set, nor in .dlt/secrets.toml (its example's <...> placeholders are no key)"


class UnreadableFileError(RuntimeError):
    """An input file gave no row at all (every line rejected): that file failed, the others load."""


def _csv_loads(settings: Settings, exports: list[Path]) -> list[tuple[str, Callable[[], LoadSummary]]]:
    return [(f"smartscout export {export.name}", partial(_load_export, settings, export)) for export in exports]


def _load_export(settings: Settings, export: Path) -> LoadSummary:
    """One CSV export; a file of which no row could be read is a failure naming it and why, not
    `0 rows loaded, 1 rejected` and a run that succeeded."""
    loaded = load_brands_export(export, settings.marketplace, settings.warehouse, settings.pipelines_dir)
    if loaded.rows_loaded or loaded.details.get("unchanged") or not loaded.rows_rejected:
        return loaded
    with connect(settings.warehouse, read_only=True) as warehouse:
        found = warehouse.fetch_one(
            "select reason from raw.rejected_records where source_file = ? order by rejected_at desc limit 1",
            [export.name],
        )
    reason = f": {found[0]}" if found else ""
    raise UnreadableFileError(
        f"{export}: no brand row could be read ({loaded.rows_rejected} rejected{reason}); is it a SmartScout "
        "brands export (CSV with a Brand column)? Fix or remove the file (rejections: raw.rejected_records)"
    )


def build(settings: Settings, *, full_refresh: bool = False, select: list[str] | None = None) -> list[str]:
    """dbt build: seeds, CLEAN, ENRICHED, SEGMENTED, snapshots and every test."""
    # every build is recorded, failed ones too: `summary` and `sync` say when the tables they read
    # are from an older build, and production waits for a whole build that succeeded
    require_raw_tables(settings)
    build_id = uuid4().hex
    with connect(settings.warehouse) as warehouse:
        record_build_started(warehouse, build_id, _utc_now())
    # --full-refresh rebuilds the incremental models whole (after changing their SQL or macros)
    options = ["--full-refresh"] if full_refresh else []
    if select:  # only these nodes, and the tests of nothing but them
        options += ["--select", *select, "--indirect-selection", "cautious"]
    try:
        summary = run_dbt(settings, "build", *options)
    except BaseException as error:
        try:
            with connect(settings.warehouse) as warehouse:
                record_build_finished(warehouse, build_id, BUILD_FAILED, _utc_now(), str(error))
        except Exception:  # the build's own error matters more (the row stays `running`: not finished)
            pass
        raise
    with connect(settings.warehouse) as warehouse:
        # ledger rows of brands whose id changed with the name normalization follow the brand
        moved = follow_brand_id_aliases(warehouse)
        now = _utc_now()
        # a partial build may leave suppression and the queues stale: it never counts as the
        # succeeded build production waits for (a failed one, above, blocks it like any other)
        record_build_finished(warehouse, build_id, BUILD_SUCCEEDED if not select else BUILD_PARTIAL, now)
        if not select:
            record_stage_run(warehouse, "build", now)
        dead_entries = dead_suppression_entries(warehouse)  # suppression-list entries that match nothing
    lines = [str(summary)]
    if select:
        lines.append("partial build (--select): not a build for PIPELINE_MODE=production")
    if moved:
        lines.append(f"sync ledger: {moved} rows moved to their brand's new id (reverse_etl.brand_id_migrations)")
    return [*lines, *dead_entries]


def apollo_work_list(
    settings: Settings, ttl_days: float, now: datetime, hold_hours: float = ApolloConfig.reveal_hold_hours
) -> tuple[list[BrandToEnrich], int]:
    """The brands to look up now (seg_apollo_worklist minus those looked up within the TTL)
    and how many were skipped because of the TTL."""
    with connect(settings.warehouse, read_only=True) as warehouse:
        warehouse.require_table("segmented", "seg_apollo_worklist", "build")
        rows = warehouse.fetch_dicts(
            "select brand_id, brand_name, company_domain from segmented.seg_apollo_worklist "
            "order by score desc, brand_id"
        )
    worklist = [
        BrandToEnrich(brand_id=row["brand_id"], brand_name=row["brand_name"], domain=row["company_domain"])
        for row in rows
    ]
    due = filter_recently_looked_up(worklist, settings.warehouse, ttl_days, now, hold_hours=hold_hours)
    return due, len(worklist) - len(due)


def enrich(settings: Settings, now: datetime | None = None) -> list[str]:
    """Apollo contacts for the brands on seg_apollo_worklist not looked up within the TTL."""
    moment = now or datetime.now(UTC)
    refuse_to_mix_source_modes(settings, "enrich")  # before anything is written (or paid for)
    finder: PeopleFinder
    if settings.source_mode == "live":
        config = ApolloConfig.from_env()  # a missing key is a clear error here
        finder, origin, ttl_days = ApolloApiClient(config), "Apollo API", config.ttl_days
        titles, seniorities, hold_hours = config.titles, config.seniorities, config.reveal_hold_hours
    else:
        finder = SampleApolloClient(settings.sample_data_dir / "apollo" / "organizations.json")
        origin, ttl_days = "sample data", settings.apollo_ttl_days
        titles, seniorities, hold_hours = ApolloConfig.titles, ApolloConfig.seniorities, ApolloConfig.reveal_hold_hours
    # lookups an earlier run paid for but could not land count before the work list is read
    waiting = load_waiting_packages(APOLLO_PIPELINE_NAME, settings.warehouse, settings.pipelines_dir)
    with landing_source_mode(settings.source_mode):  # what a killed run paid for, before the work list
        waiting += land_interrupted_lookups(settings.warehouse, settings.pipelines_dir)
    due, skipped = apollo_work_list(settings, ttl_days, moment, hold_hours)
    with landing_source_mode(settings.source_mode):  # every RAW row records where it came from
        summary = enrich_brands(
            due,
            finder,
            settings.warehouse,
            settings.pipelines_dir,
            titles=titles,
            seniorities=seniorities,
            now=moment,
            fail_when_every_brand_fails=True,
            known_people=people_revealed_within(settings.warehouse, ttl_days, moment),  # paid once, for every brand
        )
    with connect(settings.warehouse) as warehouse:
        record_stage_run(warehouse, "load_raw", _utc_now())
    stage_figures().add(
        rows_in=len(due),
        rows_out=summary.rows_loaded,
        rejections=summary.rows_rejected,
        requests_sent=int(str(summary.details.get("requests", 0))) if settings.source_mode == LIVE else 0,
    )
    on_list = len(due) + skipped
    landed_late = f", {waiting} earlier load(s) landed first" if waiting else ""
    return [
        f"{summary} from {origin} ({on_list} on the work list, {skipped} skipped: looked up within TTL{landed_late})"
    ]


def sync(settings: Settings, plan_id: str | None = None) -> list[str]:
    """Reverse ETL of the sync_* models: a dry run records a plan (and a preview); sending only
    when PIPELINE_MODE=production, and only the rows of the plan given with --plan."""
    with connect(settings.warehouse) as warehouse:
        follow_brand_id_aliases(warehouse)  # a `dbt build` run by hand does not move them
        planned = plan_all(warehouse, collect_records(warehouse))
        run_id = current_run_id()
        keys_before = ledger_keys(warehouse) if run_id else set()
        if not settings.is_production:
            ignored = [f"--plan {plan_id} ignored: only PIPELINE_MODE=production applies a plan"] if plan_id else []
            lines = ignored + _record_dry_run(warehouse, settings, planned)
            if run_id:  # the Sync review page's run history
                record_sync_run(
                    warehouse, run_id, stage_figures().plan_id, planned, keys_before, sent_from=None, now=_utc_now()
                )
            return lines
        refuse_unsafe_production(warehouse, settings)
        planned, plan_lines = _apply_plan(warehouse, settings, planned, plan_id)
        sent_from = _utc_now()
        try:
            summaries = execute(warehouse, planned, destinations_from_env(partial(ledger_entry, warehouse)))
        finally:  # a run that stops part-way is shown with what it sent
            if run_id:
                record_sync_run(warehouse, run_id, plan_id, planned, keys_before, sent_from=sent_from, now=_utc_now())
    stage_figures().add(
        rows_out=sum(summary.counts.get("sent", 0) for summary in summaries),
        rejections=sum(summary.counts.get("refused", 0) for summary in summaries),
        requests_sent=sum(summary.calls for summary in summaries),
    )
    lines = plan_lines + [str(summary) for summary in summaries]
    problems = run_problems(summaries)  # failed, unconfirmed (this run or held), a destination stopped
    if problems:
        for line in lines:
            print(f"[sync] {line}", flush=True)
        raise SyncFailedError("sync: " + "; ".join(problems))
    return lines


REFUSED = "PIPELINE_MODE=production refused, nothing was sent"


def _overview(planned: list[PlannedRecord]) -> str:
    return "; ".join(
        f"{destination}: " + ", ".join(f"{count} {action}" for action, count in sorted(actions.items()))
        for destination, actions in sorted(count_actions(planned).items())
    )


def _count_refused(planned: list[PlannedRecord]) -> int:
    return sum(actions.get(REFUSE, 0) for actions in count_actions(planned).values())


def _record_dry_run(warehouse: Warehouse, settings: Settings, planned: list[PlannedRecord]) -> list[str]:
    """The dry run: the plan stored under a new id, the preview, and the volume warnings."""
    plan_id = record_plan(warehouse, planned, _utc_now())
    figures = stage_figures()
    figures.plan_id = plan_id
    figures.add(rows_in=len(planned), rows_out=0, requests_sent=0, rejections=_count_refused(planned))
    apply = f"PIPELINE_MODE=production outreach sync --plan {plan_id}"
    warnings = [
        f"WARNING: {problem}: a production run will refuse this plan (raise the setting if that volume is meant)"
        for problem in volume_problems(planned, VolumeCaps.from_env())
    ]
    notes = [f"Plan `{plan_id}`: to send exactly this, run `{apply}`", *warnings]
    markdown = write_preview(warehouse, planned, settings.output_dir, notes=notes)
    return [
        f"dry run (PIPELINE_MODE={settings.pipeline_mode}), nothing sent: {_overview(planned)}; preview in {markdown}",
        f"plan {plan_id}: to send exactly this, review the preview, then run: {apply}",
        *warnings,
    ]


def _apply_plan(
    warehouse: Warehouse, settings: Settings, planned: list[PlannedRecord], plan_id: str | None
) -> tuple[list[PlannedRecord], list[str]]:
    """Production sends the reviewed plan, no more: rows new or changed since it are held back,
    and the run is refused (nothing sent) without a plan, with an unknown or stale one, or over
    the volume caps."""
    if not plan_id:
        raise SyncRefusedError(
            "PIPELINE_MODE=production refused, nothing was sent: no --plan given; run `outreach sync` (dry run), "
            "review its preview, then pass the plan id it prints: outreach sync --plan ID"
        )
    now = _utc_now()
    plan = load_plan(warehouse, plan_id, now)
    planned = restrict_to_plan(planned, plan)
    held_back = [item for item in planned if item.action == CHANGED_SINCE_PLAN]
    lines = [
        f"PIPELINE_MODE=production: {_overview(planned)}",
        f"plan {plan.plan_id}, made {plan.created_at:%Y-%m-%d %H:%M} UTC by {plan.created_by}",
    ]
    if plan.times_applied:
        lines.append(
            f"plan {plan.plan_id} was applied {plan.times_applied} time(s) before (last at "
            f"{plan.last_applied_at:%Y-%m-%d %H:%M} UTC): applying it again; rows already sent are not sent twice"
        )
    if held_back:
        shown = ", ".join(f"{item.record.destination} {item.record.record_key}" for item in held_back[:5])
        more = f" and {len(held_back) - 5} more" if len(held_back) > 5 else ""
        lines.append(
            f"{len(held_back)} rows changed since the plan, not sent ({shown}{more}; all in the preview): "
            "run `outreach sync` (dry run) again to plan them"
        )
    problems = volume_problems(planned, VolumeCaps.from_env())
    if problems:
        raise SyncRefusedError(
            f"PIPELINE_MODE=production refused, nothing was sent: {'; '.join(problems)}; "
            "raise the setting if that volume is meant, then apply the plan again"
        )
    write_preview(warehouse, planned, settings.output_dir, notes=lines, production=True)
    mark_applied(warehouse, plan, now)
    figures = stage_figures()
    figures.plan_id = plan.plan_id
    figures.add(rows_in=len(planned))
    return planned, lines


def refuse_unsafe_production(warehouse: Warehouse, settings: Settings) -> None:
    """The production gate (README "Going live"): sending needs a warehouse whose every RAW row
    came from a live source, built by a build that succeeded after the last RAW load and seed edit,
    whose suppression knows what Smartlead saw (events read recently from every configured source).
    Each refusal is one line naming the check and the way out."""
    not_live = describe_origins(raw_origins(warehouse), [SAMPLE, UNKNOWN_ORIGIN])
    not_live_clean = describe_origins(clean_origins(warehouse), [SAMPLE, UNKNOWN_ORIGIN])
    if not_live or not_live_clean:
        found = "RAW holds" if not_live else "the CLEAN tables the sync_* models read hold"
        listed = not_live or not_live_clean
        unknown = "; unknown = loaded before origins were recorded" if UNKNOWN_ORIGIN in listed else ""
        raise SyncRefusedError(
            f"{REFUSED}: sample-free check: {found} rows that did not come from a live source "
            f"({listed}{unknown}); send only from a warehouse loaded with "
            f"OUTREACH_SOURCE_MODE=live: start one with `outreach --duckdb {SEPARATE_LIVE_WAREHOUSE} ingest` "
            f"(or OUTREACH_DUCKDB_PATH), then `outreach copy-ledger --from-duckdb {_this_warehouse(settings)}` "
            "to keep what was sent"
        )
    latest, _ = last_builds(warehouse)
    if latest is not None and latest.status != BUILD_SUCCEEDED:
        raise SyncRefusedError(
            f"{REFUSED}: last-build check: the last `outreach build` {_build_outcome(latest)}, so the tables "
            "may not match RAW and the seeds; fix what failed and run `outreach build` until it succeeds"
        )
    loaded, built = last_stage_run(warehouse, "load_raw"), last_stage_run(warehouse, "build")
    if built is None or (loaded is not None and built < loaded):
        raise SyncRefusedError(
            f"{REFUSED}: last-build check: RAW data changed after the last successful "
            "`outreach build`, so suppression and queues may be stale; run `outreach build` first"
        )
    edited = _seeds_edited_since(settings.project_dir / "seeds", built)
    if edited:
        raise SyncRefusedError(
            f"{REFUSED}: last-build check: seeds changed after the last "
            f"`outreach build` ({', '.join(edited[:3])}{', ...' if len(edited) > 3 else ''}), so the "
            "suppression list and queues in the warehouse may be stale; run `outreach build` first"
        )
    _refuse_stale_events(warehouse, settings)


def _refuse_stale_events(warehouse: Warehouse, settings: Settings) -> None:
    """Every configured event source was read successfully (nothing new counts) within the limit."""
    problems = event_freshness_problems(warehouse, settings)
    if problems:
        raise SyncRefusedError(f"{REFUSED}: {problems[0]}")


NO_EVENT_SOURCE = (
    "events check: no source of Smartlead events is configured (set "
    "SOURCES__SMARTLEAD__API_KEY, or OUTREACH_WEBHOOK_SPOOL_DIR for the webhook receiver's spool) "
    "so unsubscribes, bounces and earlier contacts would be unknown; configure one and run "
    "`OUTREACH_SOURCE_MODE=live outreach ingest`"
)


def configured_event_sources(settings: Settings) -> list[str]:
    """The live sources of Smartlead events production must have read recently."""
    return [
        source
        for source, is_configured in (
            (EVENTS_POLL, bool(resolve_secret("SOURCES__SMARTLEAD__API_KEY", "sources.smartlead.api_key"))),
            (EVENTS_WEBHOOKS, settings.webhook_spool_configured),
        )
        if is_configured
    ]


def event_freshness_problems(warehouse: Warehouse, settings: Settings) -> list[str]:
    """The gate's events check, every problem (the gate refuses on the first; `outreach status`
    lists them): no source configured, or a configured source not read within the limit."""
    configured = configured_event_sources(settings)
    if not configured:
        return [NO_EVENT_SOURCE]
    reads = last_event_reads(warehouse, LIVE)
    limit = timedelta(hours=settings.events_max_age_hours)
    now = _utc_now()
    problems = []
    for source in configured:
        read_at = reads.get(source)
        if read_at is None:
            problems.append(
                f"events check: {source}: no successful read of its events is recorded in this "
                "warehouse, so unsubscribes and bounces may be unknown; run `OUTREACH_SOURCE_MODE=live outreach "
                "ingest` (it reads every configured event source) and sync again"
            )
            continue
        age = now - _naive_utc(read_at)
        if age > limit:
            problems.append(
                f"events check: {source}: last successful read {_hours(age)} ago, older than the "
                f"{_hours(limit)} limit (OUTREACH_EVENTS_MAX_AGE_HOURS), so recent unsubscribes may be unknown; "
                "run `OUTREACH_SOURCE_MODE=live outreach ingest` and sync again"
            )
    return problems


# where a warehouse of the other kind goes: its own folder, so that its dlt pipeline state, webhook
# spool and previews are its own too
SEPARATE_LIVE_WAREHOUSE = "warehouse/live/outreach.duckdb"
SEPARATE_SAMPLE_WAREHOUSE = "warehouse/sample/outreach.duckdb"


def refuse_to_mix_source_modes(settings: Settings, stage: str) -> None:
    """A stage never lands sample data in a warehouse that holds live data, nor live data in one
    that holds sample data (or rows of unknown origin, which never count as live). Checked from the
    rows themselves, before anything is written: a run killed part-way cannot leave a mix."""
    mode = settings.source_mode
    if mode == LIVE:
        _refuse_sample_files_in_live_mode(settings, stage)
    if not warehouse_exists(settings.warehouse):
        return
    with connect(settings.warehouse, read_only=True) as warehouse:
        origins = raw_origins(warehouse)
    conflicting = describe_origins(origins, [LIVE] if mode == SAMPLE else [SAMPLE, UNKNOWN_ORIGIN])
    if not conflicting:
        return
    if mode == SAMPLE:
        raise SourceModeRefusedError(
            f"{stage} refused, nothing was written: OUTREACH_SOURCE_MODE=sample would mix the bundled sample "
            f"data into a warehouse that holds live data ({conflicting}); use a warehouse of its own for the "
            f"sample: `outreach --duckdb {SEPARATE_SAMPLE_WAREHOUSE} {stage}` (or OUTREACH_DUCKDB_PATH), or set "
            "OUTREACH_SOURCE_MODE=live"
        )
    raise SourceModeRefusedError(
        f"{stage} refused, nothing was written: OUTREACH_SOURCE_MODE=live would mix live data into a warehouse "
        f"that holds the bundled sample data or rows of unknown origin ({conflicting}); start a separate "
        f"warehouse for live data: `outreach --duckdb {SEPARATE_LIVE_WAREHOUSE} {stage}` (or OUTREACH_DUCKDB_PATH)"
    )


def _refuse_sample_files_in_live_mode(settings: Settings, stage: str) -> None:
    sample = settings.sample_data_dir.resolve()
    for setting, folder in (
        ("OUTREACH_CSV_EXPORTS_DIR", settings.csv_exports_dir),
        ("OUTREACH_WEBHOOK_SPOOL_DIR", settings.webhook_spool_dir),
    ):
        if folder is not None and (folder.resolve() == sample or sample in folder.resolve().parents):
            raise SourceModeRefusedError(
                f"{stage} refused, nothing was written: {setting}={folder} is inside the bundled sample data "
                f"({settings.sample_data_dir}), which live mode never loads; point it at your own files"
            )


def last_build_warning(settings: Settings) -> str | None:
    """The first line of `summary` and of a dry-run `sync` when the last build did not succeed:
    the tables they read are from an earlier build."""
    if not warehouse_exists(settings.warehouse):
        return None
    with connect(settings.warehouse, read_only=True) as warehouse:
        latest, succeeded = last_builds(warehouse)
        # a build that succeeded before builds were recorded one by one
        built = succeeded.finished_at if succeeded else last_stage_run(warehouse, "build")
    if latest is None or latest.status == BUILD_SUCCEEDED:
        return None
    earlier = f"from the build of {_when(built)}" if built else "not from any build that succeeded"
    return (
        f"WARNING: the last `outreach build` {_build_outcome(latest)}; these figures are {earlier}, "
        "not current: fix the build and run `outreach build` again"
    )


def _build_outcome(build: BuildRun) -> str:
    if build.status == BUILD_FAILED:
        return f"failed at {_when(build.finished_at)}"
    if build.status == BUILD_PARTIAL:
        return f"built only part of the project (--select) at {_when(build.finished_at)}"
    return f"started at {_when(build.started_at)} did not finish (killed, or still running)"


def _when(moment: Any) -> str:
    if isinstance(moment, datetime):
        return _naive_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(moment)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _hours(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 3600:.1f} h"


def _this_warehouse(settings: Settings) -> str:
    return str(settings.duckdb_path) if settings.warehouse.kind == "duckdb" else "<the old DuckDB file>"


def _seeds_edited_since(seeds_dir: Path, built: Any) -> list[str]:
    """Seed files (the suppression list among them) modified after the last build: what the
    warehouse holds was built from older business rules. `dbt seed` alone would not rebuild the
    suppression tables the send-time guard reads."""
    if built is None or not seeds_dir.is_dir():
        return []
    if isinstance(built, datetime) and built.tzinfo is not None:
        built = built.astimezone(UTC).replace(tzinfo=None)

    def modified(path: Path) -> datetime:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)

    seeds = [path for path in seeds_dir.iterdir() if path.suffix in (".csv", ".yml")]
    return sorted(path.name for path in seeds if modified(path) > built)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def copy_ledger_from(settings: Settings, source_duckdb: Path) -> list[str]:
    """Copy the reverse-ETL ledger of a DuckDB warehouse into the active target, so that moving
    to Snowflake does not send again what was already sent."""
    with connect(source_duckdb, read_only=True) as source, connect(settings.warehouse) as target:
        copied, present = copy_ledger(source, target)
    destination = settings.warehouse.description
    stage_figures().add(rows_in=copied + present, rows_out=copied)
    return [f"sync ledger: {copied} rows copied from {source_duckdb} to {destination}, {present} already there"]


def summary(settings: Settings) -> list[str]:
    with connect(settings.warehouse, read_only=True) as warehouse:
        return [render_summary(warehouse)]
