"""Apollo constants: endpoints, limits, default decision-maker filters, RAW columns."""

from __future__ import annotations

from loaders.common.columns import Column, text

PEOPLE_TABLE = "apollo_people"
LOOKUPS_TABLE = "apollo_lookups"
CALLS_TABLE = "apollo_calls"
REVEALS_TABLE = "apollo_reveals"
PIPELINE_NAME = "apollo"

ORGANIZATION_ENDPOINT = "organizations/enrich"  # GET, 1 credit per organization found
SEARCH_ENDPOINT = "mixed_people/api_search"  # free; its filters go in the query string
BULK_MATCH_ENDPOINT = "people/bulk_match"
MAX_BULK_MATCH = 10  # Apollo rejects more than 10 details per bulk_match call
MAX_PER_PAGE = 100
MAX_SEARCH_PAGES = 500
DEFAULT_MAX_PEOPLE_PER_BRAND = 10
# Brands looked up, then landed (people, ledger, calls, rejections) by one pipeline run: memory
# stays flat whatever the work list's size, and a crash loses at most one batch's lookups. A run
# costs about 1.3 s whatever its size, so a batch is up to 5,000 brands (a few MB) against a fast
# API, and closes after a minute against the real one (about 2 requests/s: ~60-100 brands).
DEFAULT_BATCH_SIZE = 5000
MAX_BATCH_SECONDS = 60.0
MAX_ERROR_MESSAGE_CHARS = 500
# enrich prints a progress line at most this often (and one when it is done)
DEFAULT_PROGRESS_EVERY_SECONDS = 10.0
# brand ids per `in (...)` list when reading what earlier lookups already paid for
PRIOR_LOOKUP_CHUNK = 500

# outcome of one person id sent to bulk_match (raw.apollo_reveals)
REVEALED = "revealed"  # a match came back (Apollo charges for it)
MISSED = "missed"  # null in its position: no match, no charge
UNKNOWN = "unknown"  # the call failed after it was sent (5xx, timeout, unreadable answer,
# interruption): Apollo may have charged it, so it is held (SOURCES__APOLLO__REVEAL_HOLD_HOURS),
# then asked again; after this many lost answers within the TTL it is not asked again, so a lost
# answer costs at most one extra credit per person and TTL
MAX_LOST_REVEALS = 2

# Who is revealed by default: decision-makers and the people who run the Amazon / e-commerce
# business, by Apollo's structured seniority (interns, coordinators, individual contributors
# are not). Titles are an extra, optional filter (empty: no title filter).
DEFAULT_TITLES: tuple[str, ...] = ()
DEFAULT_SENIORITIES: tuple[str, ...] = (
    "owner",
    "founder",
    "c_suite",
    "partner",
    "vp",
    "head",
    "director",
    "manager",
)

# Legal-form words dropped from the end of an organization name before matching.
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "co", "corp",
        "corporation", "company", "gmbh", "mbh", "ag", "kg", "plc", "sa", "sas", "sarl",
        "srl", "spa", "bv", "nv", "pty", "pte", "oy", "ab", "as", "aps", "kk",
    }
)  # fmt: skip

# bulk_match person fields that have a column (everything else -> extra_fields_json)
PERSON_FIELDS = frozenset(
    {
        "id", "first_name", "last_name", "name", "title", "headline", "seniority",
        "departments", "email", "email_status", "linkedin_url", "city", "state",
        "country", "organization_id", "organization",
    }
)  # fmt: skip
ORGANIZATION_FIELDS = frozenset({"id", "name", "primary_domain", "website_url"})

PEOPLE_COLUMNS: list[Column] = [
    Column("brand_id", nullable=False),
    Column("person_id", nullable=False),
    *text(
        "first_name",
        "last_name",
        "name",
        "title",
        "headline",
        "seniority",
        "departments_json",
        "email",
        "email_status",
        "linkedin_url",
        "city",
        "state",
        "country",
        "organization_id",
        "organization_name",
        "organization_domain",
        "organization_website_url",
        "extra_fields_json",
        "lookup_id",
    ),
    Column("source_kind", nullable=False),
    Column("matched_at", "timestamp"),
]

LOOKUP_COLUMNS: list[Column] = [
    Column("lookup_id", nullable=False),
    Column("brand_id", nullable=False),
    *text("brand_name", "endpoint"),
    Column("people_found", "bigint"),
    Column("emails_revealed", "bigint"),
    Column("credits_consumed", "bigint"),
    Column("status", nullable=False),
    Column("error_message"),
    Column("looked_up_at", "timestamp"),
    # the Apollo organization the people were searched in (reused within the TTL: it cost a credit)
    *text("organization_id", "organization_name", "organization_domain"),
]

# one row per (lookup, person id sent to bulk_match), written before the call goes out: what was
# paid for (or may have been) is never sent again for the brand within the TTL
REVEAL_COLUMNS: list[Column] = [
    Column("lookup_id", nullable=False),
    Column("person_id", nullable=False),
    Column("brand_id", nullable=False),
    Column("request_id"),
    Column("outcome", nullable=False),
    Column("attempted_at", "timestamp"),
]

# one row per (Apollo request, brand it served): what it asked for, what came back, what it cost.
# A bulk_match reveals the ids of several brands at once: each brand gets its share of the request
# (its ids, its matches, its credits), and `request_id` / `brands_in_request` name the request, so
# count(distinct request_id) is the number of requests and sum(credits_consumed) what Apollo charged.
CALL_COLUMNS: list[Column] = [
    Column("call_id", nullable=False),
    Column("lookup_id", nullable=False),
    Column("brand_id", nullable=False),
    Column("call_number", "bigint", nullable=False),
    Column("endpoint", nullable=False),
    Column("records_requested", "bigint"),
    Column("records_returned", "bigint"),
    Column("credits_consumed", "bigint"),
    Column("called_at", "timestamp"),
    Column("request_id"),
    Column("brands_in_request", "bigint"),
]

# brand ids made by an earlier name normalization -> the brand's id now (dbt model)
ALIASES_SCHEMA = "clean"
ALIASES_TABLE = "stg_brand_id_aliases"
