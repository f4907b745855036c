"""Smartlead constants: RAW columns and webhook field names."""

from __future__ import annotations

from loaders.common.columns import Column, text

EVENTS_TABLE = "smartlead_events"
PIPELINE_NAME = "smartlead"
SOURCE_KINDS = frozenset({"webhook", "api_poll", "sample"})

# lines of a JSONL file parsed at once (one arrow table, ~35 MB of text for 50k events)
EVENT_CHUNK_ROWS = 50_000
# processes that parse event files when the files hold at least PARALLEL_MIN_BYTES. Off: on
# the shared 2-core machine, 2 workers parsed 1M events in 26-28 s against 20-22 s in-process
# (pickling the chunks, and the main process and dlt need a core too); try 2 on an idle host
PARSE_WORKERS = 0
PARALLEL_MIN_BYTES = 64 * 1024 * 1024

# keys removed from every stored payload (compared after dropping case, `_` and `-`)
SECRET_KEYS = frozenset({"secretkey"})

EVENT_COLUMNS: list[Column] = [
    Column("event_key", nullable=False),
    *text(
        "event_type",
        "event_timestamp",
        "to_email",
        "to_name",
        "from_email",
        "campaign_id",
        "campaign_name",
        "sequence_number",
        "stats_id",
        "subject",
        "lead_category_old",
        "lead_category_new",
        "reply_text",
        "bounce_message",
        "webhook_id",
        "payload_json",
    ),
    Column("source_kind", nullable=False),
    Column("source_file"),
    Column("source_row_number", "bigint"),
    Column("received_at", "timestamp"),
]

# --- API poll of campaign statistics (loaders/smartlead/poller.py) ---
API_SOURCE = "smartlead"
POLL_PIPELINE_NAME = "smartlead_poll"
PROGRESS_TABLE = "smartlead_poll_progress"
API_KEY_ENV = "SOURCES__SMARTLEAD__API_KEY"
API_KEY_DLT = "sources.smartlead.api_key"
BASE_URL_ENV = "SOURCES__SMARTLEAD__BASE_URL"
CAMPAIGN_IDS_ENV = "SOURCES__SMARTLEAD__CAMPAIGN_IDS"
REQUESTS_PER_SECOND_ENV = "SOURCES__SMARTLEAD__REQUESTS_PER_SECOND"
LOOKBACK_DAYS_ENV = "SOURCES__SMARTLEAD__LOOKBACK_DAYS"
DEFAULT_BASE_URL = "https://server.smartlead.ai/api/v1"
DEFAULT_REQUESTS_PER_SECOND = 1.0
DEFAULT_LOOKBACK_DAYS = 14
STATISTICS_PAGE_LIMIT = 1000  # the API caps `limit` at 1000

PROGRESS_COLUMNS: list[Column] = [
    Column("campaign_id", nullable=False),
    Column("window_start", "timestamp"),  # null: the first poll read the whole history
    Column("window_end", "timestamp", nullable=False),
    Column("stats_rows", "bigint"),
    Column("events", "bigint"),
    Column("polled_at", "timestamp"),
]

# --- webhook receiver and spool (loaders/smartlead/webhook_receiver.py, spool.py) ---
WEBHOOK_SECRET_ENV = "SMARTLEAD_WEBHOOK_SECRET"
WEBHOOK_SECRET_DLT = "sources.smartlead.webhook_secret"
WEBHOOK_PATH = "/webhooks/smartlead"
WEBHOOK_MAX_BODY_BYTES = 1_000_000
