"""SmartScout constants: API field names, CSV export headers, RAW columns."""

from __future__ import annotations

from loaders.common.columns import Column, text

BRANDS_TABLE = "smartscout_brands"
PIPELINE_NAME = "smartscout"
SOURCE_KIND_API = "api"
SOURCE_KIND_CSV = "csv_export"
MAX_PAGES = 10_000  # a safety stop for a cursor that never ends

# API brand item field (camelCase) -> RAW column
API_FIELDS: dict[str, str] = {
    "brandName": "brand_name",
    "categoryName": "category_name",
    "subcategoryName": "subcategory_name",
    "subcategoryId": "subcategory_id",
    "monthlyRevenue": "monthly_revenue",
    "monthlyUnitsSold": "monthly_units_sold",
    "monthGrowth": "month_growth",
    "monthGrowth12": "month_growth12",
    "trailing12Months": "trailing12_months",
    "totalProducts": "total_products",
    "totalReviews": "total_reviews",
    "reviewRating": "review_rating",
    "avgPrice": "avg_price",
    "avgVolume": "avg_volume",
    "avgSellers": "avg_sellers",
    "avgFbaSellers": "avg_fba_sellers",
    "amazonIsr": "amazon_isr",
    "brandScore": "brand_score",
    "hasStorefront": "has_storefront",
    "hasSingleSeller": "has_single_seller",
    "dominantSellerProfileId": "dominant_seller_profile_id",
    "dominantSellerBrandCoverage": "dominant_seller_brand_coverage",
    "storefrontUrl": "storefront_url",
}

# CSV export header (any spelling; matched after normalize_header) -> RAW column
CSV_HEADERS: dict[str, str] = {
    "Brand": "brand_name",
    "Brand Name": "brand_name",
    "Primary Category": "category_name",
    "Primary Main Category": "category_name",
    "Primary Subcategory": "subcategory_name",
    "Estimated Monthly Revenue": "monthly_revenue",
    "Est Monthly Revenue": "monthly_revenue",
    "Estimated Monthly Units Sold": "monthly_units_sold",
    "Est Monthly Units Sold": "monthly_units_sold",
    "1 Month Growth": "month_growth",
    "12 Month Growth": "month_growth12",
    "Trailing 12 Months": "trailing12_months",
    "Total Product Count": "total_products",
    "Total Products": "total_products",
    "Total Ratings Count": "total_reviews",
    "Average Rating": "review_rating",
    "Average Price": "avg_price",
    "Average Package Volume": "avg_volume",
    "Average Number of Sellers": "avg_sellers",
    "Avg Sellers": "avg_sellers",
    "Average Number of FBA Sellers": "avg_fba_sellers",
    "Amazon In-Stock Rate": "amazon_isr",
    "Brand Score": "brand_score",
    "Storefront": "has_storefront",
    "Has Storefront": "has_storefront",
    "Dominant Seller Sales Percentage": "dominant_seller_brand_coverage",
    "Storefront URL": "storefront_url",
}
# The API field names are accepted as CSV headers too (`brandName`, `monthlyRevenue`, ...).
for _api_name, _column in API_FIELDS.items():
    CSV_HEADERS.setdefault(_api_name, _column)

# Headers whose column depends on what the cells hold: `Storefront` is Yes/No in some exports
# and the store's URL in others. The column the most cells fit wins (ties: the first, the usual
# meaning); a cell that does not fit it is kept as written, and CLEAN quarantines it.
CSV_VALUE_MAPPED_HEADERS: dict[str, tuple[str, ...]] = {
    "Storefront": ("has_storefront", "storefront_url"),
    "Has Storefront": ("has_storefront", "storefront_url"),
}

# Export headers known but not mapped to a column (kept in extra_fields_json): not schema drift.
CSV_KNOWN_EXTRA_HEADERS = frozenset(
    {
        "Dominant Seller",
        "Dominant Seller Name",
        "Dominant Seller Country",
        "Market Share",
        "Market Share Change",
        "Ad Spend Share",
        "Number of ASINs",
        "Total Review Count",
    }
)

# CSV columns kept as text as written (no `$`/`%` stripping); booleans get Yes/No -> true/false
CSV_TEXT_COLUMNS = frozenset({"brand_name", "category_name", "subcategory_name", "storefront_url"})
CSV_BOOLEAN_COLUMNS = frozenset({"has_storefront", "has_single_seller"})
CSV_URL_COLUMNS = frozenset({"storefront_url"})
CSV_NULL_VALUES = frozenset({"", "n/a", "-", "--", "\u2014", "\u2013"})
CSV_TRUE_VALUES = frozenset({"yes", "y", "true"})
CSV_FALSE_VALUES = frozenset({"no", "n", "false"})
BANNER_SCAN_ROWS = 20  # the header must appear within the first rows

BRAND_COLUMNS: list[Column] = [
    Column("record_hash", nullable=False),
    Column("marketplace", nullable=False),
    *text(*API_FIELDS.values()),
    Column("extra_fields_json"),
    Column("source_kind", nullable=False),
    Column("source_file"),
    Column("source_row_number", "bigint"),
    Column("fetched_at", "timestamp"),
]

# --------------------------------------------------------------------------- API loads (client.py)

API_SOURCE = "smartscout"
DEFAULT_BASE_URL = "https://api.smartscout.com"
SEARCH_PATH = "/api/v2/brands/search"
MARKETPLACES = frozenset({"US", "UK", "DE", "FR", "IT", "ES", "CA", "MX", "IN", "AU", "JP"})
MAX_PAGE_SIZE = 1000  # the server clamps above this; asking for more only hides the real size
DEFAULT_PAGE_SIZE = 100
DEFAULT_REQUESTS_PER_SECOND = 2.0
DEFAULT_BURST = 10
DEFAULT_COMMIT_EVERY_PAGES = 20
# ...and no more often than this: each commit is a dlt run (~0.5-1 s whatever its size), so when
# pages come faster than that (a replay, a generous rate limit) 20 pages would cost more to commit
# than to fetch. At the default pacing (2 pages/s) 20 pages take 10 s: the cadence is unchanged.
DEFAULT_COMMIT_MIN_SECONDS = 10.0
DEFAULT_PROGRESS_EVERY_PAGES = 10
DEFAULT_RESUME_WINDOW_HOURS = 24.0

# `brands/search` body: the properties of SearchBrandsV2Request in the vendor's OpenAPI
# (additionalProperties: false, so an unknown name is refused with 400) -> the kind of filter:
#   text {type, filter}; list {filter: [text]}; range {min, max} numbers (RangeFilter and
#   RangeDecimal); range_int {min, max} whole numbers (RangeInt); boolean.
# Text match types: the docs list startsWith ... blanks; working clients send `exact` (which of
# `exact` / `equals` is the real exact match is [UNCONFIRMED]), so both are accepted.
TEXT_FILTER_TYPES = frozenset(
    {"startsWith", "contains", "notContains", "endsWith", "equals", "notEquals", "blanks", "exact"}
)
FILTER_KINDS: dict[str, str] = {
    "brandNames": "list",
    "brandName": "text",
    "amazonIsr": "range",
    "avgSellers": "range",
    "avgPrice": "range",
    "avgVolume": "range",
    "reviewRating": "range",
    "totalReviews": "range_int",
    "totalProducts": "range_int",
    "avgFbaSellers": "range",
    "brandScore": "range",
    "monthlyRevenue": "range",
    "note": "text",
    "category": "text",
    "categoryName": "text",
    "subcategoryName": "text",
    "hasStorefront": "boolean",
    "searchTerms": "range_int",
    "sponsoredProducts": "range_int",
    "sponsoredBrandWinRate": "range",
    "sponsoredVideoWinRate": "range",
    "topSpotWinRate": "range",
    "topGroupWinRate": "range",
    "monthGrowth": "range",
    "monthGrowth12": "range",
    "trailing12Months": "range",
}

# One row per distinct query (marketplace, filters, sort, page size): where its last load got to.
PROGRESS_TABLE = "smartscout_load_progress"
PROGRESS_RUNNING = "running"  # committed part-way, the load goes on
PROGRESS_INTERRUPTED = "interrupted"  # the run ended before the last page: resumable
PROGRESS_FINISHED = "finished"  # the cursor ran out: the next run starts fresh
PROGRESS_COLUMNS: list[Column] = [
    Column("query_hash", nullable=False),
    *text("marketplace", "query_json", "next_page_id", "status", "stop_reason"),
    Column("pages_done", "bigint"),
    Column("rows_loaded", "bigint"),
    Column("started_at", "timestamp"),
    Column("updated_at", "timestamp"),
]
