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
    # fields of a polled row that the poller does not know (schema drift), not part of event_key;
    # null for webhook rows, whose payload_json keeps the whole delivery
    Column("extra_fields_json"),
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
POLL_ACTIVITIES_ENV = "SOURCES__SMARTLEAD__POLL_ACTIVITIES"
ACTIVITY_OVERLAP_HOURS_ENV = "SOURCES__SMARTLEAD__ACTIVITY_OVERLAP_HOURS"
DEFAULT_BASE_URL = "https://server.smartlead.ai/api/v1"
DEFAULT_REQUESTS_PER_SECOND = 1.0
DEFAULT_LOOKBACK_DAYS = 14
STATISTICS_PAGE_LIMIT = 1000  # the API caps `limit` at 1000
STATISTICS_PATH = "/campaigns/{campaign_id}/statistics"
# The lead-activity feed, across campaigns, filtered on the time of each event (not the send):
# `?offset&limit<=1000&event_time_from&event_time_to` -> `{"data": [...], "hasMore": bool}`.
ACTIVITIES_PATH = "/campaigns/all-leads-activities"
ACTIVITIES_PAGE_LIMIT = 1000
# the next activity window starts this long before the previous one ended: an event may show
# in the feed a little after its own time
DEFAULT_ACTIVITY_OVERLAP_HOURS = 1.0
# where the activity cursor lives: dlt source state of the poll pipeline, committed in the same
# load as the events it covers
POLL_SOURCE_NAME = "smartlead_poll"
ACTIVITY_CURSOR_STATE_KEY = "all_leads_activities"

# Statistics row fields the poller knows (`GET /campaigns/{id}/statistics`); any other field is
# schema drift: kept in `extra_fields_json` and counted in the summary.
STATISTICS_TEXT_FIELDS = frozenset(
    {"lead_email", "lead_name", "email_subject", "lead_category", "sent_time", "open_time", "click_time", "reply_time"}
)
STATISTICS_NUMBER_FIELDS = frozenset(
    {"sequence_number", "email_campaign_seq_id", "seq_variant_id", "open_count", "click_count"}
)
STATISTICS_FLAG_FIELDS = frozenset({"is_bounced", "is_unsubscribed"})
STATISTICS_FIELDS = frozenset(
    {"stats_id", "email_message", *STATISTICS_TEXT_FIELDS, *STATISTICS_NUMBER_FIELDS, *STATISTICS_FLAG_FIELDS}
)
# A lead timeline of the activity feed: lead and campaign context, `activities` (email rows
# shaped like statistics rows). The item shape is not in a spec we have [UNCONFIRMED]: other
# spellings are read too (`email`, `subject`, `reply_details.time`).
ACTIVITY_LEAD_FIELDS = frozenset(
    {
        "lead_id",
        "lead_email",
        "email",
        "lead_name",
        "first_name",
        "last_name",
        "lead_category",
        "campaign_id",
        "campaign_name",
        "status",
        "current_seq_num",
        "activities",
    }
)
ACTIVITY_FIELDS = frozenset(
    {*STATISTICS_FIELDS, "subject", "reply_details", "thread_replies", "from_email", "to_email", "message_id"}
)

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
# limits of the receiver (environment variables, see webhook_receiver.ReceiverLimits): anyone can
# reach the endpoint, so what a stranger can make it hold or write is bounded
WEBHOOK_LIMIT_ENV_PREFIX = "SMARTLEAD_WEBHOOK_"
WEBHOOK_READ_TIMEOUT_SECONDS = 10.0  # idle connection, or a request/body that does not arrive
WEBHOOK_MAX_CONNECTIONS = 64  # connections served at once; more get 503 (one thread each)
WEBHOOK_REJECTED_PER_MINUTE = 30  # traces of unparsable deliveries written to the rejected spool
WEBHOOK_REJECTED_TRACE_CHARS = 2_000  # of the body, in each such trace
WEBHOOK_REJECTED_SPOOL_MAX_BYTES = 10_000_000  # rejected spool not yet loaded: no trace beyond it
WEBHOOK_HEALTH_PATH = "/health"
