"""Self-contained stages. Each reads what it needs from the warehouse or its inputs, writes its
results to the warehouse, and returns a one-line summary; the CLI only sequences them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from loaders.apollo import (
    ApolloApiClient,
    ApolloConfig,
    BrandToEnrich,
    PeopleFinder,
    SampleApolloClient,
    create_empty_tables,
    enrich_brands,
    filter_recently_looked_up,
)
from loaders.apollo.settings import PIPELINE_NAME as APOLLO_PIPELINE_NAME
from loaders.common import LoadSummary, StderrProgress, load_waiting_packages
from loaders.common.http import ApiError, resolve_secret
from loaders.common.settings_env import ConfigError
from loaders.smartlead import SmartleadPollConfig, load_event_files, load_spool, poll_campaign_statistics
from loaders.smartscout import DirectoryPageFetcher, load_brand_pages, load_brands_export
from loaders.smartscout.client import load_smartscout_api
from pipeline.dbt_runner import run_dbt
from pipeline.settings import Settings
from pipeline.summary import render_summary
from pipeline.warehouse import (
    Warehouse,
    connect,
    last_stage_run,
    record_source_mode,
    record_stage_run,
    source_modes,
)
from reverse_etl.brand_ids import follow_brand_id_aliases
from reverse_etl.destinations import destinations_from_env
from reverse_etl.ledger import copy_ledger, ledger_entry
from reverse_etl.preview import count_actions, write_preview
from reverse_etl.sync import collect_records, execute, plan_all, run_problems


class SyncRefusedError(RuntimeError):
    """Production sending is not safe from this warehouse; nothing was sent."""


class SyncFailedError(RuntimeError):
    """Some rows could not be delivered; they are in the ledger and retried next run."""


class SourceFailedError(RuntimeError):
    """One or more sources failed; the others were loaded."""


def ingest(settings: Settings) -> list[str]:
    """Brands (SmartScout API or sample pages, CSV exports) and Smartlead events -> raw."""
    loads: list[tuple[str, Callable[[], LoadSummary]]] = (
        _live_loads(settings) if settings.source_mode == "live" else _sample_loads(settings)
    )
    lines: list[str] = [f"source mode: {settings.source_mode}"]
    failures: list[str] = []
    for name, load in loads:
        try:
            lines.append(str(load()))
        except ApiError as error:  # a bad key or a dead API stops that source only
            failures.append(name)
            lines.append(f"{name}: FAILED: {error}")
        except ConfigError as error:  # so does a setting it cannot read (named, never a secret)
            failures.append(name)
            lines.append(f"{name}: FAILED, not loaded: bad setting: {error}")
    # Apollo tables are filled by `enrich`, which needs a first build: create them empty now
    create_empty_tables(settings.warehouse, settings.pipelines_dir)
    with connect(settings.warehouse) as warehouse:
        now = _utc_now()
        record_source_mode(warehouse, settings.source_mode, now)
        record_stage_run(warehouse, "load_raw", now)
    if failures:
        for line in lines:
            print(f"[ingest] {line}", flush=True)
        raise SourceFailedError(f"ingest: {', '.join(failures)} failed (the other sources were loaded)")
    return lines


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
                "smartlead sample events",
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
        print("[ingest] smartscout api: skipped (no SOURCES__SMARTSCOUT__API_KEY)", flush=True)
    if settings.csv_exports_dir is not None:
        loads += _csv_loads(settings, sorted(settings.csv_exports_dir.glob("*.csv")))
    if resolve_secret("SOURCES__SMARTLEAD__API_KEY", "sources.smartlead.api_key"):
        loads.append(
            (
                "smartlead poll",
                lambda: poll_campaign_statistics(
                    SmartleadPollConfig.from_env(), settings.warehouse, settings.pipelines_dir, progress=progress
                ),
            )
        )
    else:
        print("[ingest] smartlead poll: skipped (no SOURCES__SMARTLEAD__API_KEY)", flush=True)
    if settings.webhook_spool_dir.is_dir():
        loads.append(
            (
                "smartlead webhooks",
                lambda: load_spool(settings.webhook_spool_dir, settings.warehouse, settings.pipelines_dir),
            )
        )
    return loads


def _csv_loads(settings: Settings, exports: list[Path]) -> list[tuple[str, Callable[[], LoadSummary]]]:
    return [
        (
            f"smartscout export {export.name}",
            partial(load_brands_export, export, settings.marketplace, settings.warehouse, settings.pipelines_dir),
        )
        for export in exports
    ]


def build(settings: Settings, *, full_refresh: bool = False, select: list[str] | None = None) -> list[str]:
    """dbt build: seeds, CLEAN, ENRICHED, SEGMENTED, snapshots and every test."""
    # --full-refresh rebuilds the incremental models whole (after changing their SQL or macros)
    options = ["--full-refresh"] if full_refresh else []
    if select:  # only these nodes, and the tests of nothing but them
        options += ["--select", *select, "--indirect-selection", "cautious"]
    summary = run_dbt(settings, "build", *options)
    with connect(settings.warehouse) as warehouse:
        # ledger rows of brands whose id changed with the name normalization follow the brand
        moved = follow_brand_id_aliases(warehouse)
        if not select:
            # a partial build may leave suppression and the queues stale: production sends need a whole one
            record_stage_run(warehouse, "build", _utc_now())
    lines = [str(summary)]
    if select:
        lines.append("partial build (--select): not a build for PIPELINE_MODE=production")
    if moved:
        lines.append(f"sync ledger: {moved} rows moved to their brand's new id (reverse_etl.brand_id_migrations)")
    return lines


def apollo_work_list(settings: Settings, ttl_days: float, now: datetime) -> tuple[list[BrandToEnrich], int]:
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
    due = filter_recently_looked_up(worklist, settings.warehouse, ttl_days, now)
    return due, len(worklist) - len(due)


def enrich(settings: Settings, now: datetime | None = None) -> list[str]:
    """Apollo contacts for the brands on seg_apollo_worklist not looked up within the TTL."""
    moment = now or datetime.now(UTC)
    finder: PeopleFinder
    if settings.source_mode == "live":
        config = ApolloConfig.from_env()  # a missing key is a clear error here
        finder, origin, ttl_days = ApolloApiClient(config), "Apollo API", config.ttl_days
        titles, seniorities = config.titles, config.seniorities
    else:
        finder = SampleApolloClient(settings.sample_data_dir / "apollo" / "organizations.json")
        origin, ttl_days = "sample data", settings.apollo_ttl_days
        titles, seniorities = ApolloConfig.titles, ApolloConfig.seniorities
    # lookups an earlier run paid for but could not land count before the work list is read
    waiting = load_waiting_packages(APOLLO_PIPELINE_NAME, settings.warehouse, settings.pipelines_dir)
    due, skipped = apollo_work_list(settings, ttl_days, moment)
    summary = enrich_brands(
        due,
        finder,
        settings.warehouse,
        settings.pipelines_dir,
        titles=titles,
        seniorities=seniorities,
        now=moment,
    )
    with connect(settings.warehouse) as warehouse:
        record_stage_run(warehouse, "load_raw", _utc_now())
    on_list = len(due) + skipped
    landed_late = f", {waiting} earlier load(s) landed first" if waiting else ""
    return [
        f"{summary} from {origin} ({on_list} on the work list, {skipped} skipped: looked up within TTL{landed_late})"
    ]


def sync(settings: Settings) -> list[str]:
    """Reverse ETL of the sync_* models: a dry-run preview, and sending only when
    PIPELINE_MODE=production."""
    with connect(settings.warehouse) as warehouse:
        follow_brand_id_aliases(warehouse)  # a `dbt build` run by hand does not move them
        planned = plan_all(warehouse, collect_records(warehouse))
        markdown = write_preview(warehouse, planned, settings.output_dir)
        counts = count_actions(planned)
        overview = "; ".join(
            f"{destination}: " + ", ".join(f"{count} {action}" for action, count in sorted(actions.items()))
            for destination, actions in sorted(counts.items())
        )
        if not settings.is_production:
            return [
                f"dry run (PIPELINE_MODE={settings.pipeline_mode}), nothing sent: {overview}; preview in {markdown}"
            ]
        refuse_unsafe_production(warehouse, settings)

        summaries = execute(warehouse, planned, destinations_from_env(partial(ledger_entry, warehouse)))
    lines = [f"PIPELINE_MODE=production: {overview}"] + [str(summary) for summary in summaries]
    problems = run_problems(summaries)  # failed, unconfirmed (this run or held), a destination stopped
    if problems:
        for line in lines:
            print(f"[sync] {line}", flush=True)
        raise SyncFailedError("sync: " + "; ".join(problems))
    return lines


def refuse_unsafe_production(warehouse: Warehouse, settings: Settings) -> None:
    """Production sends need a warehouse built from live data whose suppression knows what
    Smartlead saw (unsubscribes, bounces, earlier contacts)."""
    modes = source_modes(warehouse)
    if modes != {"live"}:
        found = ", ".join(sorted(modes)) or "none recorded"
        raise SyncRefusedError(
            f"PIPELINE_MODE=production refused, nothing was sent: this warehouse was ingested in mode(s) {found}; "
            "sending needs a warehouse built only with OUTREACH_SOURCE_MODE=live (never the bundled sample data)"
        )
    loaded, built = last_stage_run(warehouse, "load_raw"), last_stage_run(warehouse, "build")
    if loaded is not None and (built is None or built < loaded):
        raise SyncRefusedError(
            "PIPELINE_MODE=production refused, nothing was sent: RAW data changed after the last "
            "`outreach build`, so suppression and queues may be stale; run `outreach build` first"
        )
    edited = _seeds_edited_since(settings.project_dir / "seeds", built)
    if edited:
        raise SyncRefusedError(
            "PIPELINE_MODE=production refused, nothing was sent: seeds changed after the last "
            f"`outreach build` ({', '.join(edited[:3])}{', ...' if len(edited) > 3 else ''}), so the "
            "suppression list and queues in the warehouse may be stale; run `outreach build` first"
        )
    events_configured = resolve_secret("SOURCES__SMARTLEAD__API_KEY", "sources.smartlead.api_key")
    if not events_configured and not settings.webhook_spool_dir.is_dir():
        raise SyncRefusedError(
            "PIPELINE_MODE=production refused, nothing was sent: Smartlead events are not ingested "
            "(set SOURCES__SMARTLEAD__API_KEY or run the webhook receiver), so unsubscribes, bounces and "
            "earlier contacts would be unknown"
        )


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
    return [f"sync ledger: {copied} rows copied from {source_duckdb} to {destination}, {present} already there"]


def summary(settings: Settings) -> list[str]:
    with connect(settings.warehouse, read_only=True) as warehouse:
        return [render_summary(warehouse)]
