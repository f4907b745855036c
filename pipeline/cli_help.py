"""What `outreach <command> --help` says: a full description per subcommand and the environment
variables it reads (its epilog). The lists follow pipeline/settings_check.py's per-command checks;
tests/python/pipeline/test_cli_help.py keeps the two in step and every name documented."""

from __future__ import annotations

# read by every command: where the warehouse is and which kind of data it holds
COMMON = {
    "OUTREACH_DUCKDB_PATH": "the warehouse file (as --duckdb; default warehouse/outreach.duckdb).",
    "DBT_TARGET": "the dbt target of profiles.yml (as --target; default the profile's, duckdb).",
    "OUTREACH_SOURCE_MODE": "sample (default: the bundled files) or live (the vendors' APIs).",
}
RUN_LOCK = {
    "OUTREACH_RUN_LOCK_MAX_AGE_HOURS": "age after which another host's run lock is stale (24).",
    # every command that holds the run lock sends the alerts at its end (docs/scheduling.md)
    "OUTREACH_ALERT_WEBHOOK_URL": "Slack-compatible webhook alerts are posted to (none: no alerts).",
    "OUTREACH_ALERT_DEVIATION_PERCENT": "row-count change against recent runs that alerts (50).",
    "OUTREACH_ALERT_DEVIATION_RUNS": "recent successful runs the row counts are compared with (7).",
    "OUTREACH_ALERT_TIMEOUT_SECONDS": "timeout of one alert post (10).",
}
PROGRESS = {"OUTREACH_PROGRESS_SECONDS": "at most one progress line on stderr this often (2)."}
SNOWFLAKE = {"SNOWFLAKE_*": "the connection of the snowflake target (README, Moving to Snowflake)."}

INGEST = {
    "OUTREACH_CSV_EXPORTS_DIR": "a folder of SmartScout CSV exports to load (every *.csv).",
    "OUTREACH_WEBHOOK_SPOOL_DIR": "the webhook receiver's spool (default webhook_spool/ beside the warehouse).",
    "SOURCES__SMARTSCOUT__API_KEY": "SmartScout key (live mode; no key: the source is skipped).",
    "SOURCES__SMARTSCOUT__MARKETPLACE": "marketplace to scan (US).",
    "SOURCES__SMARTSCOUT__PAGE_SIZE": "brands per page (100; 1..1000).",
    "SOURCES__SMARTSCOUT__FILTERS": "JSON search filters (any property of SearchBrandsV2Request).",
    "SOURCES__SMARTSCOUT__SORT_BY": "property to sort by.",
    "SOURCES__SMARTSCOUT__SORT_ORDER": "asc or desc (needs SORT_BY).",
    "SOURCES__SMARTSCOUT__REQUESTS_PER_SECOND": "request pace (2).",
    "SOURCES__SMARTSCOUT__COMMIT_EVERY_PAGES": "pages landed per commit.",
    "SOURCES__SMARTSCOUT__COMMIT_MIN_SECONDS": "least seconds between commits.",
    "SOURCES__SMARTSCOUT__BASE_URL": "API address (tests point it at a local fake).",
    "SOURCES__SMARTLEAD__API_KEY": "Smartlead key for the event poll (live mode).",
    "SOURCES__SMARTLEAD__CAMPAIGN_IDS": "comma-separated campaign numbers (default: all campaigns).",
    "SOURCES__SMARTLEAD__LOOKBACK_DAYS": "campaign statistics re-read this far back (14).",
    "SOURCES__SMARTLEAD__POLL_ACTIVITIES": "also read the lead-activity feed (true).",
    "SOURCES__SMARTLEAD__ACTIVITY_OVERLAP_HOURS": "overlap of successive activity reads (1).",
    "SOURCES__SMARTLEAD__REQUESTS_PER_SECOND": "request pace (1).",
    "SOURCES__SMARTLEAD__BASE_URL": "API address.",
    **PROGRESS,
    **RUN_LOCK,
}
BUILD = {
    "OUTREACH_INCREMENTAL_LOOKBACK_DAYS": "days of RAW loads an incremental build reads again (2).",
    "OUTREACH_NAME_NORMALIZATION_VERSION": "brand name normalization, 1 or 2.",
    **RUN_LOCK,
}
ENRICH = {
    "SOURCES__APOLLO__API_KEY": "Apollo master key (live mode).",
    "SOURCES__APOLLO__TITLES": "comma list of job titles to search.",
    "SOURCES__APOLLO__SENIORITIES": "comma list of Apollo seniorities to search.",
    "SOURCES__APOLLO__TTL_DAYS": "a brand looked up within this many days is not looked up again (30).",
    "SOURCES__APOLLO__REQUESTS_PER_SECOND": "request pace (1).",
    "SOURCES__APOLLO__CONCURRENCY": "searches in flight at once (1).",
    "SOURCES__APOLLO__MAX_CONSECUTIVE_FAILURES": "failed requests in a row that stop Apollo for the run (6).",
    "SOURCES__APOLLO__REVEAL_HOLD_HOURS": "hours before people whose bulk_match answer was lost are asked again (24).",
    "SOURCES__APOLLO__BASE_URL": "API address.",
    **PROGRESS,
    **RUN_LOCK,
}
SYNC = {
    "PIPELINE_MODE": "production sends the plan given with --plan; anything else is a dry run.",
    "DESTINATION__SMARTLEAD__API_KEY": "Smartlead key (production).",
    "DESTINATION__SMARTLEAD__BATCH_SIZE": "leads per request (100; up to 400).",
    "DESTINATION__SMARTLEAD__REQUESTS_PER_SECOND": "request pace.",
    "DESTINATION__SMARTLEAD__BASE_URL": "API address.",
    "DESTINATION__HUBSPOT__ACCESS_TOKEN": "HubSpot private-app token (production).",
    "DESTINATION__HUBSPOT__BATCH_SIZE": "records per batch request.",
    "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND": "request pace.",
    "DESTINATION__HUBSPOT__BASE_URL": "API address.",
    "OUTREACH_PLAN_MAX_AGE_HOURS": "a plan older than this is refused (24).",
    "OUTREACH_MAX_NEW_LEADS_PER_CAMPAIGN": "volume cap per campaign (500).",
    "OUTREACH_MAX_NEW_LEADS_TOTAL": "volume cap in all (2000).",
    "OUTREACH_EVENTS_MAX_AGE_HOURS": "each event source must have been read within this (24).",
    "OUTREACH_RESEND_UNCONFIRMED": "1 sends held (unconfirmed) leads once more.",
    "SOURCES__SMARTLEAD__API_KEY": "configures the event poll the gate checks.",
    "OUTREACH_WEBHOOK_SPOOL_DIR": "configures the webhook spool the gate checks.",
    **RUN_LOCK,
}
RECEIVER = {
    "SMARTLEAD_WEBHOOK_SECRET": "the secret_key Smartlead sends (required).",
    "OUTREACH_WEBHOOK_SPOOL_DIR": "the spool folder (default webhook_spool/ beside the warehouse).",
    "SMARTLEAD_WEBHOOK_MAX_BODY_BYTES": "larger bodies get 413 (1000000).",
    "SMARTLEAD_WEBHOOK_READ_TIMEOUT_SECONDS": "idle connections are closed after this (10).",
    "SMARTLEAD_WEBHOOK_MAX_CONNECTIONS": "connections at once (64).",
    "SMARTLEAD_WEBHOOK_REJECTED_PER_MINUTE": "traces of rejected bodies a minute (30).",
    "SMARTLEAD_WEBHOOK_REJECTED_TRACE_CHARS": "characters of a rejected body kept (2000).",
    "SMARTLEAD_WEBHOOK_REJECTED_MAX_BYTES": "rejected spool size that stops traces (10000000).",
    "OUTREACH_DUCKDB_PATH": "the warehouse whose spool folder is the default.",
}

# command -> (full description, the environment variables it reads)
COMMANDS: dict[str, tuple[str, dict[str, str]]] = {
    "ingest": (
        "Load SmartScout brands (API or sample pages, CSV exports) and Smartlead events (poll, webhook "
        "spool or sample) into RAW; re-loading adds no rows.",
        {**COMMON, **INGEST},
    ),
    "build": (
        "Run dbt build: seeds, CLEAN, ENRICHED, SEGMENTED, snapshots and every test.",
        {**COMMON, **BUILD},
    ),
    "enrich": (
        "Look up Apollo contacts for the brands of segmented.seg_apollo_worklist not looked up within "
        "SOURCES__APOLLO__TTL_DAYS; every credit is in the raw.apollo_* ledger.",
        {**COMMON, **ENRICH},
    ),
    "sync": (
        "Reverse ETL of the sync_* models to Smartlead and HubSpot: a dry run records a plan and writes "
        "the preview; PIPELINE_MODE=production with --plan ID sends that plan, after the production gate.",
        {**COMMON, **SYNC},
    ),
    "summary": (
        "Print rows per layer, brands per segment, suppressions, the outreach queue and the last plan; "
        "read-only, no run lock.",
        dict(COMMON),
    ),
    "run-all": (
        "Run ingest, build, enrich, build, sync and summary in turn; its sync only "
        "makes a plan: PIPELINE_MODE=production refuses a sync without --plan.",
        {**COMMON, **INGEST, **BUILD, **ENRICH, **SYNC},
    ),
    "unlock": ("Clear the warehouse's run lock left by a run whose process is gone.", dict(COMMON)),
    "whatif": (
        "Show what proposed scoring_weights / segment_thresholds seeds would move, as Markdown for a pull "
        "request, built in a sandbox copy of the warehouse (the warehouse is not changed; DuckDB only).",
        {**COMMON, "SOURCES__APOLLO__TTL_DAYS": ENRICH["SOURCES__APOLLO__TTL_DAYS"]},
    ),
    "status": (
        "Show the mode, the target, each stage's last run and what needs a person (exit 1 then); "
        "read-only, no run lock.",
        {
            **COMMON,
            "PIPELINE_MODE": "shown; in production stale events need a person.",
            "OUTREACH_EVENTS_MAX_AGE_HOURS": SYNC["OUTREACH_EVENTS_MAX_AGE_HOURS"],
        },
    ),
    "ui": (
        "Serve the control room, a read-only web app over the warehouse (http://127.0.0.1:8501).",
        {**COMMON, "OUTREACH_UI_PASSWORD": "required to serve on an address other than this machine's."},
    ),
    "report": (
        "Write the control room's main figures as one self-contained HTML file beside the warehouse and "
        "print its path (run-all writes it too); read-only, no run lock.",
        dict(COMMON),
    ),
    "sql": (
        "Run one read-only query on the active target and print its result as an aligned table (or CSV); no run lock.",
        dict(COMMON),
    ),
    "copy-ledger": (
        "Copy the reverse-ETL ledger of a DuckDB warehouse into the active target (moving to Snowflake).",
        {**COMMON, **RUN_LOCK},
    ),
    "webhook-receiver": (
        "Serve the Smartlead webhook endpoint, spooling each event durably where `outreach ingest` reads it.",
        RECEIVER,
    ),
}


def description(command: str) -> str:
    return COMMANDS[command][0]


def environment(command: str) -> dict[str, str]:
    return COMMANDS[command][1]


def epilog(command: str) -> str:
    """The environment variables `command` reads, one a line (shown under --help as written)."""
    variables = {**environment(command)}
    if command not in ("webhook-receiver",) and "DBT_TARGET" in variables:
        variables.update(SNOWFLAKE)
    width = max(len(name) for name in variables)
    lines = [f"  {name.ljust(width)}  {text}" for name, text in variables.items()]
    return "environment variables it reads (README.md and docs/settings.md):\n" + "\n".join(lines)
