"""Generate the committed sample data: SmartScout pages and exports, a fake Apollo dataset,
Smartlead webhook deliveries and the business suppression list.

Run `python scripts/generate_sample_data.py` from anywhere. The output is byte-identical on
every run (one seeded random generator, fixed timestamps, sorted JSON keys), so the files are
committed and must never be edited by hand: change this script and re-run it.

The data is realistic but small, and contains awkward cases on purpose (spelling variants,
malformed values, schema drift, duplicate deliveries, invalid emails...). Each one is listed
in `sample_data/README.md` with what should happen to it downstream.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import math
import random
import re
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

# `python scripts/generate_sample_data.py`: the repository's root, for the shared name normalization
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loaders.common.names import ACCENTED, UNACCENTED, normalize_name

JsonDict = dict[str, Any]
T = TypeVar("T")

SEED = 20261123
REPO_DIR = Path(__file__).resolve().parent.parent
MARKETPLACE = "US"

# ---------------------------------------------------------------------------------------------
# SmartScout API pages: 3 full pages then a short last one.
# ---------------------------------------------------------------------------------------------

PAGE_SIZE = 100
FULL_PAGES = 3
LAST_PAGE_SIZE = 20
API_ITEM_COUNT = PAGE_SIZE * FULL_PAGES + LAST_PAGE_SIZE
NULL_RATE = 0.03  # share of numeric fields sent as null, as the vendor does

# Numeric brand fields (all nullable in the vendor schema). Booleans are never null.
NUMERIC_FIELDS = (
    "monthlyRevenue",
    "monthlyUnitsSold",
    "monthGrowth",
    "monthGrowth12",
    "trailing12Months",
    "totalProducts",
    "totalReviews",
    "reviewRating",
    "avgPrice",
    "avgVolume",
    "avgSellers",
    "avgFbaSellers",
    "amazonIsr",
    "brandScore",
    "dominantSellerProfileId",
    "dominantSellerBrandCoverage",
)

# category -> (Apollo industry, brand-name nouns, [(subcategory, subcategoryId)], weight)
CATEGORIES: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, int], ...], int]] = {
    "Home & Kitchen": (
        "consumer goods",
        ("Home", "Kitchen", "Living", "Goods", "Table", "House"),
        (
            ("Kitchen Utensils & Gadgets", 289754),
            ("Storage & Organization", 3610841),
            ("Bedding", 1063252),
            ("Home Décor Products", 1063278),
        ),
        18,
    ),
    "Pet Supplies": (
        "consumer goods",
        ("Pets", "Paws", "Pet Co", "Tails", "Companion"),
        (("Dog Treats", 2975434), ("Cat Litter", 2975272), ("Dog Toys", 2975413)),
        9,
    ),
    "Beauty & Personal Care": (
        "cosmetics",
        ("Beauty", "Skin", "Botanicals", "Naturals", "Glow", "Apothecary"),
        (("Facial Serums", 7792528011), ("Hair Masks", 11057451), ("Body Lotions", 11060711)),
        14,
    ),
    "Sports & Outdoors": (
        "sporting goods",
        ("Outdoors", "Gear", "Athletics", "Trail", "Fitness"),
        (("Yoga Mats", 3422251), ("Camping Cookware", 3400371), ("Water Bottles", 3403201)),
        10,
    ),
    "Grocery & Gourmet Food": (
        "food & beverages",
        ("Coffee", "Pantry", "Foods", "Provisions", "Tea", "Snacks"),
        (("Ground Coffee", 2251595011), ("Herbal Tea", 16521391), ("Jerky", 16322191)),
        9,
    ),
    "Health & Household": (
        "health, wellness & fitness",
        ("Health", "Wellness", "Nutrition", "Labs", "Vitamins"),
        (("Multivitamins", 3774861), ("Protein Powders", 6973704011), ("Sleep Aids", 3764461)),
        12,
    ),
    "Toys & Games": (
        "consumer goods",
        ("Toys", "Play", "Kids", "Games"),
        (("Building Toys", 166092011), ("Puzzles", 166359011)),
        6,
    ),
    "Clothing, Shoes & Jewelry": (
        "apparel & fashion",
        ("Apparel", "Threads", "Jewelry", "Wear", "Socks"),
        (("Women's Socks", 1044886), ("Necklaces", 7454939011), ("Men's Hats & Caps", 2474955011)),
        9,
    ),
    "Tools & Home Improvement": (
        "consumer goods",
        ("Tools", "Supply", "Works", "Hardware"),
        (("Power Tool Accessories", 552262), ("Light Bulbs", 322525011)),
        5,
    ),
    "Electronics": (
        "consumer electronics",
        ("Audio", "Tech", "Electronics", "Power"),
        (("Earbud Headphones", 12097478011), ("Phone Chargers", 2407761011)),
        4,
    ),
    "Baby": (
        "consumer goods",
        ("Baby", "Little Ones", "Nursery"),
        (("Baby Bibs", 166811011), ("Teethers", 166871011)),
        3,
    ),
    "Patio, Lawn & Garden": (
        "consumer goods",
        ("Garden", "Yard", "Greenhouse"),
        (("Plant Food", 3752031), ("Bird Feeders", 553948)),
        4,
    ),
}

# First words for two-word brand names ("Juniper Kitchen") and syllables for coined ones.
NAME_FIRST_WORDS = (
    "Amber", "Arbor", "Aspen", "Atlas", "Beacon", "Birch", "Bluebird", "Bold", "Briar",
    "Cedar", "Clover", "Coastal", "Cobalt", "Coral", "Crescent", "Driftwood", "Ember",
    "Evergreen", "Fable", "Fjord", "Foxglove", "Gilded", "Golden", "Granite", "Harbor",
    "Hazel", "Heron", "Honey", "Indigo", "Iron", "Ivy", "Juniper", "Kestrel", "Lark", "Laurel",
    "Linden", "Lotus", "Lunar", "Maple", "Marigold", "Meadow", "Mesa", "Misty", "Moss",
    "Nimbus", "North", "Oak", "Olive", "Onyx", "Orchard", "Pebble", "Prairie", "Quill",
    "Raven", "Redwood", "Ridge", "River", "Rustic", "Sage", "Sandstone", "Sierra", "Silver",
    "Solstice", "Sparrow", "Spruce", "Stone", "Summit", "Tandem", "Thistle", "Timber", "True",
    "Urban", "Willow", "Wild", "Wren",
)  # fmt: skip
COINED_SYLLABLES = (
    "ka", "lo", "ra", "vi", "no", "ze", "ta", "mi", "lu", "sa", "vo", "ri", "na", "bo",
    "fi", "da", "ke", "po", "su", "mar", "lin", "tor", "vel", "ar",
)  # fmt: skip
SLUG_SUFFIXES = ("Official", "Store", "US", "Shop")  # store slugs often differ from the name

# ---------------------------------------------------------------------------------------------
# Awkward brands, by name, so downstream tests can reference them.
# ---------------------------------------------------------------------------------------------

# (canonical display name, [other spellings sent by the API for the same brand])
VARIANT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Zephyr Home", ("ZEPHYR HOME, INC.", "Zéphyr  Home LLC")),
    ("Blue Fern Kitchen", ("Blue-Fern Kitchen Co.",)),
    ("Peak & Pine", ("Peak and Pine LLC",)),
    ("Nordic Nest", ("  nordic nest ",)),
    ("Lumière Labs", ("Lumiere Labs, Ltd.",)),
    ("BrightPaw Pets", ("Brightpaw Pets Inc",)),
)
VARIANT_CATEGORIES = {
    "Zephyr Home": "Home & Kitchen",
    "Blue Fern Kitchen": "Home & Kitchen",
    "Peak & Pine": "Sports & Outdoors",
    "Nordic Nest": "Home & Kitchen",
    "Lumière Labs": "Beauty & Personal Care",
    "BrightPaw Pets": "Pet Supplies",
}
# Big revenues for some named brands, so they land in the high segments.
FIXED_REVENUES = {
    "Zephyr Home": 2412345.67,
    "Blue Fern Kitchen": 486210.4,
    "Peak & Pine": 318904.12,
    "Nordic Nest": 152377.0,
    "Lumière Labs": 97450.25,
    "BrightPaw Pets": 211880.9,
    "Müller & Söhne GmbH": 134500.0,
    "Café Olé": 58210.75,
    "Copper Kettle Coffee": 264012.33,
}
# (name, category). 山田工房 has no Latin letters at all: name normalization must cope.
NON_ASCII_BRANDS = (
    ("Müller & Söhne GmbH", "Tools & Home Improvement"),
    ("Café Olé", "Grocery & Gourmet Food"),
    ("山田工房", "Home & Kitchen"),
    ("Björk & Berg", "Clothing, Shoes & Jewelry"),
    ("Ñandú Outdoors", "Sports & Outdoors"),
    ("Øresund Design", "Home & Kitchen"),
)
DOMAIN_OVERRIDES = {
    "Zephyr Home": "zephyrhome.com",  # the awkward Apollo emails below are written for these
    "Blue Fern Kitchen": "bluefernkitchen.com",
    "Müller & Söhne GmbH": "mueller-soehne.de",
    "山田工房": "yamada-kobo.jp",
    "Björk & Berg": "bjorkberg.se",
    "Øresund Design": "oresund-design.dk",
}
# Malformed API items (name, field, bad value); a None name is sent as brandName null.
MALFORMED_ITEMS: tuple[tuple[str | None, str, Any], ...] = (
    (None, "", None),
    ("   ", "", None),
    ("Tidewater Candle Co", "monthlyRevenue", "n/a"),
    ("Glimmer Grove", "monthlyRevenue", -1843.5),
    ("Sunny Acre Farms", "reviewRating", "4,5"),
)
EXACT_DUPLICATE_BRAND = "Copper Kettle Coffee"  # sent twice, identical, within page 2
SCHEMA_DRIFT_BRAND = "Velvet Fox Beauty"  # carries an unexpected tiktokShopUrl field

# ---------------------------------------------------------------------------------------------
# SmartScout UI exports.
# ---------------------------------------------------------------------------------------------

EXPORT_BANNER = "DATABASE / SMARTSCOUT"
EXPORT_HEADER = (
    "Brand", "Primary Category", "Primary Subcategory", "Amazon In-Stock Rate",
    "Average Number of Sellers", "Average Price", "Estimated Monthly Revenue",
    "Estimated Monthly Units Sold", "1 Month Growth", "12 Month Growth", "Trailing 12 Months",
    "Average Package Volume", "Average Rating", "Total Ratings Count",
    "Average Number of FBA Sellers", "Total Product Count", "Brand Score", "Storefront",
    "Dominant Seller", "Dominant Seller Sales Percentage", "Dominant Seller Country",
)  # fmt: skip
VARIANT_EXPORT_HEADER = (
    "Brand Name", "Primary Main Category", "Est Monthly Revenue", "Avg Sellers",
    "Has Storefront", "Total Products", "Dominant Seller Name", "Average Rating",
    "Trailing 12 Months",
)  # fmt: skip
EXPORT_ROWS = 60
EXPORT_OVERLAP_REGULAR = 10  # regular API brands also in the export (plus the named ones below)
# API brands in the export under another spelling: API display name -> export spelling.
EXPORT_RESPELLED = {
    "Café Olé": "CAFE OLE",
    "Nordic Nest": "Nordic Nest Ltd.",
    "Peak & Pine": "Peak & Pine Co.",
    "Müller & Söhne GmbH": "Muller & Sohne GmbH",
}
EXPORT_SAME_SPELLING = ("Blue Fern Kitchen",)
EXPORT_GARBAGE_REVENUE_BRAND = "Saltmarsh Supply Co"  # revenue "$12abc"
EXPORT_SHORT_ROW_BRAND = "Kettle & Crane"  # row with too few cells
VARIANT_EXPORT_ROWS = 15
SELLER_COUNTRIES = ("US", "US", "US", "US", "CN", "CN", "CA", "GB", "DE")
SELLER_WORDS = ("Direct", "Trading", "Retail", "Commerce", "Goods", "Distribution")

# ---------------------------------------------------------------------------------------------
# Apollo.
# ---------------------------------------------------------------------------------------------

APOLLO_COVERAGE = 0.80
FIRST_NAMES = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas",
    "Mia", "Logan", "Amelia", "James", "Harper", "Benjamin", "Evelyn", "Daniel", "Abigail",
    "Henry", "Emily", "Jack", "Ella", "Samuel", "Grace", "David", "Chloe", "Owen", "Priya",
    "Arjun", "Mei", "Wei", "Fatima", "Omar", "Sofia", "Mateo", "Hannah", "Ryan", "Leah",
    "Nathan", "Zoë", "José", "Chiara", "Tomás", "Aisha", "Kenji", "Yuki", "Ingrid", "Lars",
    "Marcus", "Rachel", "Tyler", "Megan", "Brandon", "Lauren", "Kevin", "Nicole", "Derek",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Patel", "Chen", "Kim", "Shah",
    "Cohen", "Murphy", "O'Brien", "Kowalski", "Novak", "Fischer", "Rossi", "Silva", "Ito",
    "Sato", "Larsen", "Berg", "Dubois", "Costa", "Reyes", "Bennett", "Hughes", "Foster",
)  # fmt: skip
# (city, state, country)
LOCATIONS = (
    ("Austin", "Texas", "United States"),
    ("Denver", "Colorado", "United States"),
    ("Brooklyn", "New York", "United States"),
    ("Los Angeles", "California", "United States"),
    ("San Diego", "California", "United States"),
    ("Seattle", "Washington", "United States"),
    ("Miami", "Florida", "United States"),
    ("Chicago", "Illinois", "United States"),
    ("Boulder", "Colorado", "United States"),
    ("Salt Lake City", "Utah", "United States"),
    ("Nashville", "Tennessee", "United States"),
    ("Portland", "Oregon", "United States"),
    ("Scottsdale", "Arizona", "United States"),
    ("Toronto", "Ontario", "Canada"),
    ("London", "England", "United Kingdom"),
    ("Shenzhen", "Guangdong", "China"),
)
# (title, Apollo seniority, Apollo departments, weight). Decision-makers come first.
TOP_TITLES = (
    ("Founder", "founder", ("c_suite",), 10),
    ("Co-Founder & CEO", "founder", ("c_suite",), 8),
    ("CEO", "c_suite", ("c_suite",), 8),
    ("Owner", "owner", ("c_suite",), 5),
    ("President", "c_suite", ("c_suite",), 3),
    ("Managing Partner", "partner", ("c_suite",), 1),
)
OTHER_TITLES = (
    ("Head of E-commerce", "head", ("master_marketing",), 8),
    ("VP Marketing", "vp", ("master_marketing",), 6),
    ("Director of Operations", "director", ("master_operations",), 4),
    ("Amazon Account Manager", "manager", ("master_sales",), 8),
    ("E-commerce Manager", "manager", ("master_marketing",), 6),
    ("Senior Brand Manager", "senior", ("master_marketing",), 4),
    ("Marketing Coordinator", "entry", ("master_marketing",), 5),
    ("Operations Intern", "entry", ("master_operations",), 3),
)
EMAIL_STATUSES = (("verified", 75), ("likely to engage", 10), ("unverified", 12), (None, 3))
UNVERIFIED_ONLY_ORGS = 3
SHARED_AGENCY_EMAIL = "alex@shelfsherpa.co"  # an agency consultant listed at two brands

# ---------------------------------------------------------------------------------------------
# Smartlead.
# ---------------------------------------------------------------------------------------------

WEBHOOK_SECRET = "sample-webhook-secret"
CAMPAIGNS = {1001: "Segment A - Premium", 1002: "Segment B - Growth", 1003: "Segment C - Nurture"}
WEBHOOK_IDS = {1001: 40117, 1002: 40118, 1003: 40119}
SENDERS = ("alex.morgan@shelfwisehq.com", "jordan.reed@shelfwisehq.com")
EVENTS_START = datetime(2026, 9, 1, 13, 0, 0, tzinfo=UTC)
EVENTS_END = datetime(2026, 11, 15, 22, 0, 0, tzinfo=UTC)
RECIPIENT_COUNT = 30
NEW_ENVELOPE_RATE = 0.18
NEW_ENVELOPE_NAMES = {
    "EMAIL_SENT": "EMAIL_SENT",
    "EMAIL_OPEN": "EMAIL_OPENED",
    "EMAIL_LINK_CLICK": "EMAIL_CLICKED",
    "EMAIL_REPLY": "EMAIL_REPLIED",
    "EMAIL_BOUNCE": "EMAIL_BOUNCED",
}
UNKNOWN_APOLLO_RECIPIENT = ("ops@oldmillprovisions.com", "Dana Whitfield", "Old Mill Provisions")
TRUNCATED_LINE = '{"event_type": "EMAIL_OPEN", "to_em'
EXACT_DUPLICATE_DELIVERIES = 5
CAMPAIGN_LINK = "https://shelfwisehq.com/amazon-audit"
POSITIVE_REPLIES = (
    ("Interested", "Hi, thanks for reaching out. We are reviewing agencies for Q1, send me more."),
    ("Meeting Request", "Sounds interesting. Can we talk Thursday afternoon? Book a slot here."),
    ("Interested", "Good timing, our ACoS has been climbing. What would an audit involve?"),
    ("Meeting Request", "Happy to chat. I am free next Tuesday 10-12 ET."),
)
OTHER_REPLIES = (
    ("Do Not Contact", "Please remove me from your list and do not contact us again."),
    ("Not Interested", "Thanks, but we handle Amazon in-house."),
    ("Out Of Office", "I am out of the office until November 3 with limited access to email."),
)
HARD_BOUNCE = "550 5.1.1 The email account that you tried to reach does not exist."

# ---------------------------------------------------------------------------------------------
# Suppression list.
# ---------------------------------------------------------------------------------------------

SUPPRESSION_HEADER = ("key_type", "key", "reason", "source", "added_on")
UNMATCHED_SUPPRESSION_NAMES = (
    ("Acme Widgets", "lost_client", "crm_export_2026-08", "2026-08-03"),
    ("Globex Outdoor Co.", "existing_client", "crm_export_2026-10", "2026-10-01"),
    ("Initech Pet Supply", "fired_client", "manual", "2026-07-22"),
    ("Hooli Home LLC", "do_not_contact", "manual", "2026-09-30"),
)

# ---------------------------------------------------------------------------------------------
# Name helpers: the Python mirror of macros/normalize_name.sql lives in loaders/common/names.py
# (imported at the top), used to check the variants really collapse to one brand and the
# generated names really are distinct.
# ---------------------------------------------------------------------------------------------


def ascii_words(name: str) -> list[str]:
    """ASCII words of a name with accents folded and legal suffixes dropped, for slugs and domains."""
    normalized = normalize_name(name.replace("&", " "))
    return [word for word in normalized.split() if word.isascii()] if normalized else []


# ---------------------------------------------------------------------------------------------
# Random helpers.
# ---------------------------------------------------------------------------------------------


def weighted_choice(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


def clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def hex_id(rng: random.Random, length: int = 24) -> str:
    """An Apollo-like id: 24 lower-case hex digits."""
    return f"{rng.getrandbits(length * 4):0{length}x}"


def rng_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def compact_json(value: Any) -> str:
    """Compact, key-sorted JSON (as the APIs send it), non-ASCII kept readable."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def iso_z(moment: datetime) -> str:
    """Smartlead's timestamp format: 2026-10-02T14:03:11.000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ---------------------------------------------------------------------------------------------
# Brands.
# ---------------------------------------------------------------------------------------------


@dataclass
class Brand:
    name: str  # canonical display name (the first spelling the API sends)
    category: str
    subcategory: str
    subcategory_id: int
    metrics: JsonDict  # vendor camelCase numeric fields and booleans
    storefront_url: str | None
    slug: str | None
    domain: str
    origin: str  # api | csv_export | csv_variant_headers
    spellings: list[str] = field(default_factory=list)
    is_quarantined: bool = False  # its only observation is malformed: CLEAN rejects it
    is_sidelined: bool = False  # clean, but given no part in the other awkward cases

    @property
    def is_usable(self) -> bool:
        """Fit for the other cases (recipients, suppression, the revenue median)."""
        return not (self.is_quarantined or self.is_sidelined)

    @property
    def revenue(self) -> float | None:
        value = self.metrics.get("monthlyRevenue")
        return float(value) if isinstance(value, int | float) else None


def lognormal_revenue(rng: random.Random) -> float:
    """Monthly revenue in USD: log-normal, median ~35k, resampled into 2k..3M (a long tail)."""
    while True:
        value = rng.lognormvariate(math.log(35000), 1.45)
        if 2000 <= value <= 3_000_000:
            return round(value, 2)


def make_metrics(rng: random.Random, revenue: float | None = None) -> JsonDict:
    """One brand's metrics with plausible correlations (units from price, score from revenue)."""
    rev = revenue if revenue is not None else lognormal_revenue(rng)
    price = round(clip(rng.lognormvariate(math.log(24), 0.6), 4.99, 400), 2)
    growth12 = round(max(-85.0, rng.gauss(18, 45)), 2)
    products = int(clip(rng.lognormvariate(math.log(18), 1.1), 1, 2500))
    sellers = round(1 + rng.expovariate(1 / 1.5), 2)
    single_seller = rng.random() < 0.5
    log_scale = math.log10(rev / 2000)  # 0 at 2k/month, ~3.2 at 3M/month
    metrics: JsonDict = {
        "monthlyRevenue": rev,
        "monthlyUnitsSold": max(1, int(rev / price)),
        "monthGrowth": round(rng.gauss(1.5, 11), 2),
        "monthGrowth12": growth12,
        "trailing12Months": round(rev * 12 / (1 + growth12 / 200) * rng.uniform(0.9, 1.1), 2),
        "totalProducts": products,
        "totalReviews": int(products * rng.lognormvariate(math.log(140), 1.2) * (rev / 50000) ** 0.3),
        "reviewRating": round(clip(rng.gauss(4.35, 0.28), 1.0, 5.0), 1),
        "avgPrice": price,
        "avgVolume": round(rng.lognormvariate(math.log(180), 1.0), 2),
        "avgSellers": sellers,
        "avgFbaSellers": round(sellers * rng.uniform(0.3, 1.0), 2),
        "amazonIsr": round(rng.betavariate(1.2, 3), 3),
        "brandScore": round(clip(1.0 + 1.3 * log_scale + rng.gauss(0, 1.1), 0, 10), 1),
        "hasStorefront": rng.random() < 0.35 + 0.5 * min(1.0, log_scale / 3),
        "hasSingleSeller": single_seller,
        "dominantSellerProfileId": rng.randint(100000, 9999999),
        "dominantSellerBrandCoverage": 100.0 if single_seller else round(rng.uniform(35, 98), 2),
    }
    # Nulls are part of the vendor contract; keep revenue of the fixed-revenue brands.
    for name in NUMERIC_FIELDS:
        if rng.random() < NULL_RATE and not (name == "monthlyRevenue" and revenue is not None):
            metrics[name] = None
    return metrics


def make_slug(rng: random.Random, name: str) -> str:
    """Amazon store slug: the name in CamelCase, sometimes with a suffix ('ZephyrHomeOfficial')."""
    words = ascii_words(name) or ["store"]
    slug = "".join(word.capitalize() for word in words)
    if rng.random() < 0.25:
        slug += rng.choice(SLUG_SUFFIXES)
    return slug


def make_storefront_url(rng: random.Random, slug: str) -> str:
    url = f"https://www.amazon.com/stores/{slug}/page/{rng_uuid(rng).upper()}"
    if rng.random() < 0.2:
        url += "?ref_=ast_bln"  # tracking parameter: the slug parser must stop at '?'
    return url


def make_domain(rng: random.Random, name: str) -> str:
    if name in DOMAIN_OVERRIDES:
        return DOMAIN_OVERRIDES[name]
    base = "".join(ascii_words(name)) or "brand"
    pattern = rng.choices(("{}.com", "get{}.com", "{}co.com", "shop{}.com", "{}.co"), (14, 2, 2, 1, 1))[0]
    return pattern.format(base)


def pick_category(rng: random.Random) -> str:
    return weighted_choice(rng, [(name, spec[3]) for name, spec in CATEGORIES.items()])


def pick_subcategory(rng: random.Random, category: str) -> tuple[str, int]:
    return rng.choice(CATEGORIES[category][2])


def coined_word(rng: random.Random) -> str:
    word = "".join(rng.choice(COINED_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
    return word.capitalize()


def candidate_name(rng: random.Random, category: str) -> str:
    """A plausible Amazon brand name for a category."""
    nouns = CATEGORIES[category][1]
    style = rng.random()
    if style < 0.55:
        return f"{rng.choice(NAME_FIRST_WORDS)} {rng.choice(nouns)}"
    if style < 0.75:
        return coined_word(rng)
    if style < 0.85:
        return f"{coined_word(rng)} {rng.choice(nouns)}"
    if style < 0.93:
        first, second = rng.sample(NAME_FIRST_WORDS, 2)
        return f"{first} & {second}"
    return f"{rng.choice(NAME_FIRST_WORDS)} {rng.choice(nouns)} Co."


def new_brand(rng: random.Random, name: str, category: str, origin: str) -> Brand:
    subcategory, subcategory_id = pick_subcategory(rng, category)
    metrics = make_metrics(rng, FIXED_REVENUES.get(name))
    slug = url = None
    # CJK names have no obvious Latin slug: keep that brand without a storefront.
    if metrics["hasStorefront"] and ascii_words(name):
        slug = make_slug(rng, name)
        url = make_storefront_url(rng, slug)
    else:
        metrics["hasStorefront"] = False
    return Brand(
        name=name,
        category=category,
        subcategory=subcategory,
        subcategory_id=subcategory_id,
        metrics=metrics,
        storefront_url=url,
        slug=slug,
        domain=make_domain(rng, name),
        origin=origin,
        spellings=[name],
    )


class NameRegistry:
    """Hands out brand names that are distinct after normalization (one name = one brand)."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.used: set[str] = set()
        for name in reserved:
            self.claim(name)

    def claim(self, name: str) -> None:
        key = normalize_name(name) or name
        if key in self.used:
            raise ValueError(f"brand name collides after normalization: {name!r}")
        self.used.add(key)

    def fresh(self, rng: random.Random, category: str) -> str:
        while True:
            name = candidate_name(rng, category)
            key = normalize_name(name)
            if key and key not in self.used:
                self.used.add(key)
                return name


def reserved_names() -> list[str]:
    names = [group[0] for group in VARIANT_GROUPS]
    names += [name for name, _ in NON_ASCII_BRANDS if ascii_words(name)]
    names += [name for name, _, _ in MALFORMED_ITEMS if name and name.strip()]
    names += [EXACT_DUPLICATE_BRAND, SCHEMA_DRIFT_BRAND]
    names += [EXPORT_GARBAGE_REVENUE_BRAND, EXPORT_SHORT_ROW_BRAND, UNKNOWN_APOLLO_RECIPIENT[2]]
    names += [name for name, _, _, _ in UNMATCHED_SUPPRESSION_NAMES]
    return names


def check_variant_groups() -> None:
    """Every spelling of a variant group must normalize to the canonical name's key."""
    for canonical, others in VARIANT_GROUPS:
        keys = {normalize_name(spelling) for spelling in (canonical, *others)}
        if len(keys) != 1:
            raise ValueError(f"variant group does not collapse: {canonical!r} -> {keys}")
    for canonical, spelling in EXPORT_RESPELLED.items():
        if normalize_name(canonical) != normalize_name(spelling):
            raise ValueError(f"export spelling does not collapse: {spelling!r}")


# ---------------------------------------------------------------------------------------------
# 1. SmartScout API pages.
# ---------------------------------------------------------------------------------------------


def brand_item(brand: Brand, spelling: str | None = None) -> JsonDict:
    """The vendor's brand item (camelCase, storefrontUrl null when there is no store)."""
    return {
        "brandName": brand.name if spelling is None else spelling,
        "categoryName": brand.category,
        "subcategoryName": brand.subcategory,
        "subcategoryId": brand.subcategory_id,
        **brand.metrics,
        "storefrontUrl": brand.storefront_url,
    }


def perturbed_item(rng: random.Random, brand: Brand, spelling: str) -> JsonDict:
    """A second observation of a brand: same brand, slightly different metrics."""
    item = brand_item(brand, spelling)
    for name in ("monthlyRevenue", "trailing12Months", "avgPrice", "avgVolume"):
        if isinstance(item[name], float):
            item[name] = round(item[name] * rng.uniform(0.93, 1.07), 2)
    for name in ("monthlyUnitsSold", "totalReviews"):
        if isinstance(item[name], int):
            item[name] = max(0, int(item[name] * rng.uniform(0.95, 1.05)))
    if isinstance(item["monthGrowth"], float):
        item["monthGrowth"] = round(item["monthGrowth"] + rng.uniform(-2, 2), 2)
    return item


def build_api_brands(rng: random.Random, names: NameRegistry) -> tuple[list[Brand], list[JsonDict]]:
    """All API brands and the page items (unshuffled, without the positioned specials)."""
    brands: list[Brand] = []
    items: list[JsonDict] = []
    for canonical, others in VARIANT_GROUPS:
        brand = new_brand(rng, canonical, VARIANT_CATEGORIES[canonical], "api")
        brand.spellings.extend(others)
        brands.append(brand)
        items.append(brand_item(brand))
        items.extend(perturbed_item(rng, brand, spelling) for spelling in others)
    for name, category in NON_ASCII_BRANDS:
        brand = new_brand(rng, name, category, "api")
        brand.is_sidelined = not ascii_words(name)  # 山田工房: no Latin letters, no slug or domain words
        brands.append(brand)
        items.append(brand_item(brand))
    for bad_name, bad_field, bad_value in MALFORMED_ITEMS:
        brand = new_brand(rng, bad_name or "unnamed", pick_category(rng), "api")
        brand.is_quarantined = True
        brand.metrics["hasStorefront"] = False
        brand.storefront_url = brand.slug = None
        if bad_field:
            brand.metrics[bad_field] = bad_value
        item = brand_item(brand)
        item["brandName"] = bad_name
        items.append(item)
        if bad_name and bad_name.strip():
            brands.append(brand)  # a named brand: Apollo may know it, nothing else uses it
    regular_count = API_ITEM_COUNT - len(items) - 3  # 3 = duplicate pair + drift item
    for _ in range(regular_count):
        category = pick_category(rng)
        brand = new_brand(rng, names.fresh(rng, category), category, "api")
        brands.append(brand)
        items.append(brand_item(brand))
    return brands, items


def page_id(page_number: int) -> str:
    """Opaque cursor like the vendor's: base64 of 'ss:page:<n>', padding stripped."""
    return base64.b64encode(f"ss:page:{page_number}".encode()).decode().rstrip("=")


def layout_pages(
    rng: random.Random, items: list[JsonDict], duplicate: JsonDict, drift: JsonDict
) -> list[list[JsonDict]]:
    """Shuffle, then place the exact duplicate twice on page 2 and the drift item on page 3."""
    ordered = list(items)
    rng.shuffle(ordered)
    ordered.insert(130, duplicate)
    ordered.insert(147, dict(duplicate))  # identical content, 17 rows later, same page
    ordered.insert(233, drift)
    if len(ordered) != API_ITEM_COUNT:
        raise ValueError(f"expected {API_ITEM_COUNT} API items, got {len(ordered)}")
    return [ordered[start : start + PAGE_SIZE] for start in range(0, len(ordered), PAGE_SIZE)]


def page_json(page: list[JsonDict], data_count: int, next_id: str | None) -> str:
    """The envelope, one brand item per line: valid JSON that diffs well and stays small."""
    lines = ",\n".join("    " + compact_json(item) for item in page)
    paging = json.dumps({"hasMoreRecords": next_id is not None, "nextPageId": next_id}, sort_keys=True)
    text = f'{{\n  "data": [\n{lines}\n  ],\n  "dataCount": {data_count},\n  "paging": {paging}\n}}\n'
    json.loads(text)  # guard: the hand-built layout must stay valid JSON
    return text


def write_api_pages(out: Path, pages: list[list[JsonDict]]) -> list[str]:
    folder = out / "smartscout" / "brands_search_US"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    total = sum(len(page) for page in pages)
    names: list[str] = []
    for index, page in enumerate(pages):
        file_name = "first.json" if index == 0 else f"{page_id(index + 1)}.json"
        next_id = page_id(index + 2) if index + 1 < len(pages) else None
        write_text(folder / file_name, page_json(page, total, next_id))
        names.append(file_name)
    return names


# ---------------------------------------------------------------------------------------------
# 2. SmartScout UI exports.
# ---------------------------------------------------------------------------------------------


def fmt_money(value: Any) -> str:
    return f"${value:,.2f}" if isinstance(value, int | float) else "N/A"


def fmt_int(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else "N/A"


def fmt_pct(value: Any) -> str:
    return f"{value:.1f}%" if isinstance(value, int | float) else "N/A"


def fmt_num(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "N/A"


def seller_name(rng: random.Random, brand: Brand) -> str:
    words = ascii_words(brand.name) or ["Prime"]
    return f"{''.join(word.capitalize() for word in words)} {rng.choice(SELLER_WORDS)}"


def export_row(rng: random.Random, brand: Brand, spelling: str) -> list[str]:
    """A row as the SmartScout UI formats it ($, thousands separators, %, N/A, Yes/No)."""
    m = brand.metrics
    isr = m["amazonIsr"] * 100 if isinstance(m["amazonIsr"], float) else None  # UI shows percent
    return [
        spelling,
        brand.category,
        brand.subcategory,
        fmt_pct(isr),
        fmt_num(m["avgSellers"]),
        fmt_money(m["avgPrice"]),
        fmt_money(m["monthlyRevenue"]),
        fmt_int(m["monthlyUnitsSold"]),
        fmt_pct(m["monthGrowth"]),
        fmt_pct(m["monthGrowth12"]),
        fmt_money(m["trailing12Months"]),
        fmt_num(m["avgVolume"]),
        fmt_num(m["reviewRating"], 1),
        fmt_int(m["totalReviews"]),
        fmt_num(m["avgFbaSellers"]),
        fmt_int(m["totalProducts"]),
        fmt_num(m["brandScore"], 1),
        "Yes" if m["hasStorefront"] else "No",
        seller_name(rng, brand),
        fmt_pct(m["dominantSellerBrandCoverage"]),
        rng.choice(SELLER_COUNTRIES),
    ]


def reobserved(rng: random.Random, brand: Brand) -> Brand:
    """The same brand exported at another moment: metrics moved a little."""
    metrics = dict(brand.metrics)
    for name in ("monthlyRevenue", "trailing12Months"):
        if isinstance(metrics[name], float):
            metrics[name] = round(metrics[name] * rng.uniform(0.9, 1.1), 2)
    if isinstance(metrics["monthlyUnitsSold"], int):
        metrics["monthlyUnitsSold"] = int(metrics["monthlyUnitsSold"] * rng.uniform(0.9, 1.1))
    return Brand(**{**brand.__dict__, "metrics": metrics, "spellings": list(brand.spellings)})


def respell(rng: random.Random, name: str) -> str:
    """A spelling an analyst or another tool would produce for the same brand."""
    style = rng.choice(("upper", "inc", "lower"))
    if style == "upper":
        return name.upper()
    if style == "inc":
        return f"{name}, Inc."
    return name.lower()


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def build_export(
    rng: random.Random, api_brands: list[Brand], names: NameRegistry
) -> tuple[list[list[str]], list[Brand], JsonDict]:
    """The main brands export: 15 API brands (some re-spelled), new brands, 3 broken rows."""
    by_name = {brand.name: brand for brand in api_brands}
    rows: list[list[str]] = []
    info: JsonDict = {"respelled": {}, "same_spelling": []}
    for canonical, spelling in EXPORT_RESPELLED.items():
        rows.append(export_row(rng, reobserved(rng, by_name[canonical]), spelling))
        info["respelled"][canonical] = spelling
    for canonical in EXPORT_SAME_SPELLING:
        rows.append(export_row(rng, reobserved(rng, by_name[canonical]), canonical))
        info["same_spelling"].append(canonical)
    named = {group[0] for group in VARIANT_GROUPS} | {name for name, _ in NON_ASCII_BRANDS}
    regular = [b for b in api_brands if b.name not in named and b.name not in FIXED_REVENUES and b.is_usable]
    for index, brand in enumerate(rng.sample(regular, EXPORT_OVERLAP_REGULAR)):
        spelling = respell(rng, brand.name) if index < 3 else brand.name
        rows.append(export_row(rng, reobserved(rng, brand), spelling))
        if spelling == brand.name:
            info["same_spelling"].append(brand.name)
        else:
            info["respelled"][brand.name] = spelling
    new_brands: list[Brand] = []
    while len(rows) < EXPORT_ROWS - 3:
        category = pick_category(rng)
        brand = new_brand(rng, names.fresh(rng, category), category, "csv_export")
        new_brands.append(brand)
        rows.append(export_row(rng, brand, brand.name))
    garbage = new_brand(rng, EXPORT_GARBAGE_REVENUE_BRAND, "Tools & Home Improvement", "csv_export")
    garbage_row = export_row(rng, garbage, garbage.name)
    garbage_row[EXPORT_HEADER.index("Estimated Monthly Revenue")] = "$12abc"
    category = pick_category(rng)
    nameless = export_row(rng, new_brand(rng, names.fresh(rng, category), category, "csv_export"), "")
    short = export_row(
        rng, new_brand(rng, EXPORT_SHORT_ROW_BRAND, "Home & Kitchen", "csv_export"), EXPORT_SHORT_ROW_BRAND
    )
    rows.insert(17, garbage_row)
    rows.insert(33, nameless)
    rows.insert(48, short[:6])  # the UI cut the line: 6 of 21 cells
    return rows, new_brands, info


def variant_export_row(rng: random.Random, brand: Brand) -> list[str]:
    """A row of the export with other header spellings (VARIANT_EXPORT_HEADER)."""
    m = brand.metrics
    return [
        brand.name,
        brand.category,
        fmt_money(m["monthlyRevenue"]),
        fmt_num(m["avgSellers"]),
        "Yes" if m["hasStorefront"] else "No",
        fmt_int(m["totalProducts"]),
        seller_name(rng, brand),
        fmt_num(m["reviewRating"], 1),
        fmt_money(m["trailing12Months"]),
    ]


def build_variant_export(rng: random.Random, names: NameRegistry) -> tuple[list[list[str]], list[Brand]]:
    """An export from another SmartScout screen: other header spellings, fewer columns."""
    rows: list[list[str]] = []
    brands: list[Brand] = []
    for _ in range(VARIANT_EXPORT_ROWS):
        category = pick_category(rng)
        brand = new_brand(rng, names.fresh(rng, category), category, "csv_variant_headers")
        brands.append(brand)
        rows.append(variant_export_row(rng, brand))
    return rows, brands


def with_banner(header: Sequence[str], rows: list[list[str]]) -> list[Sequence[str]]:
    banner = [EXPORT_BANNER] + [""] * (len(header) - 1)
    return [banner, header, *rows]


# ---------------------------------------------------------------------------------------------
# 3. Apollo organizations and people.
# ---------------------------------------------------------------------------------------------


@dataclass
class Person:
    record: JsonDict
    brand: Brand
    is_awkward: bool = False

    @property
    def email(self) -> str | None:
        value = self.record["email"]
        return value if isinstance(value, str) else None


_FOLD = str.maketrans(ACCENTED, UNACCENTED)


def fold_ascii(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower().translate(_FOLD))


def make_org(rng: random.Random, brand: Brand) -> JsonDict:
    words = ascii_words(brand.name) or brand.domain.split(".")[0].split("-")
    revenue = brand.revenue or 20000.0
    employees = int(clip(revenue / rng.uniform(15000, 40000), 1, 800)) + rng.randint(0, 3)
    return {
        "id": hex_id(rng),
        "name": brand.name,
        "website_url": f"http://www.{brand.domain}",
        "primary_domain": brand.domain,
        "linkedin_url": f"http://www.linkedin.com/company/{'-'.join(words)}",
        "industry": CATEGORIES[brand.category][0],
        "estimated_num_employees": employees,
        "founded_year": rng.randint(1998, 2023),
    }


def make_email(rng: random.Random, first: str, last: str, domain: str) -> str:
    f, la = fold_ascii(first), fold_ascii(last)
    pattern = rng.choices(("{f}.{l}", "{f}", "{i}{l}", "{f}{l}"), (5, 3, 2, 1))[0]
    return pattern.format(f=f, l=la, i=f[:1]) + "@" + domain


def make_person(
    rng: random.Random,
    org: JsonDict,
    brand: Brand,
    title_spec: tuple[str, str, tuple[str, ...], int],
    status: str | None,
) -> JsonDict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    title, seniority, departments, _ = title_spec
    city, state, country = rng.choice(LOCATIONS)
    return {
        "id": hex_id(rng),
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "title": title,
        "headline": f"{title} at {brand.name}",
        "email": make_email(rng, first, last, brand.domain),
        "email_status": status,
        "linkedin_url": f"http://www.linkedin.com/in/{fold_ascii(first)}-{fold_ascii(last)}-{hex_id(rng, 6)}",
        "city": city,
        "state": state,
        "country": country,
        "seniority": seniority,
        "departments": list(departments),
        "organization_id": org["id"],
        "organization": org,
    }


def pick_title(rng: random.Random, position: int) -> tuple[str, str, tuple[str, ...], int]:
    """The first person of an org is usually a decision-maker; the others are mixed."""
    pool = TOP_TITLES if position == 0 and rng.random() < 0.75 else TOP_TITLES + OTHER_TITLES
    return weighted_choice(rng, [(spec, spec[3]) for spec in pool])


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def choose_covered(rng: random.Random, api_brands: list[Brand], other_brands: list[Brand]) -> tuple[list[Brand], float]:
    """~80% of brands; every API brand above the median revenue is always covered."""
    revenues = [b.revenue for b in api_brands if b.revenue is not None and b.is_usable]
    cutoff = median(revenues)
    everyone = api_brands + other_brands
    # Quarantined brands too: a test asking "is every API brand above the median in Apollo" holds.
    must = [b for b in api_brands if b.revenue is not None and b.revenue > cutoff]
    rest = [b for b in everyone if b not in must]
    target = round(len(everyone) * APOLLO_COVERAGE)
    chosen = set(map(id, must + rng.sample(rest, max(0, target - len(must)))))
    return [b for b in everyone if id(b) in chosen], cutoff


def set_email(person: JsonDict, email: str | None, status: str | None) -> None:
    person["email"] = email
    person["email_status"] = status


def build_apollo(
    rng: random.Random, api_brands: list[Brand], other_brands: list[Brand]
) -> tuple[list[JsonDict], list[Person], JsonDict]:
    covered, cutoff = choose_covered(rng, api_brands, other_brands)
    entries: list[JsonDict] = []
    people: list[Person] = []
    by_name: dict[str, JsonDict] = {}
    for brand in covered:
        org = make_org(rng, brand)
        count = rng.choices((1, 2, 3, 4), (55, 28, 11, 6))[0]
        records = [
            make_person(rng, org, brand, pick_title(rng, position), weighted_choice(rng, EMAIL_STATUSES))
            for position in range(count)
        ]
        entries.append({"organization": org, "people": records})
        people.extend(Person(record, brand) for record in records)
        by_name[brand.name] = {"organization": org, "people": records, "brand": brand}
    info = add_awkward_people(rng, by_name, people, cutoff)
    info["median_revenue_cutoff"] = cutoff
    info["covered_brands"] = len(covered)
    return entries, people, info


def add_awkward_people(
    rng: random.Random, by_name: dict[str, JsonDict], people: list[Person], cutoff: float
) -> JsonDict:
    """Put the bad emails on named, high-revenue brands, so they matter downstream."""

    def add(
        brand_name: str, first: str, last: str, title_index: int, email: str | None, status: str | None
    ) -> JsonDict:
        entry = by_name[brand_name]
        spec = (TOP_TITLES + OTHER_TITLES)[title_index]
        record = make_person(rng, entry["organization"], entry["brand"], spec, status)
        record.update({"first_name": first, "last_name": last, "name": f"{first} {last}"})
        record["linkedin_url"] = f"http://www.linkedin.com/in/{fold_ascii(first)}-{fold_ascii(last)}"
        set_email(record, email, status)
        entry["people"].append(record)
        people.append(Person(record, entry["brand"], is_awkward=True))
        return record

    add("Zephyr Home", "Jane", "Doe", 6, " Jane.Doe@ZephyrHome.com ", "verified")
    add("Blue Fern Kitchen", "Bob", "Harlan", 9, "bob@@bluefernkitchen.com", "unverified")
    add("Lumière Labs", "Janet", "Doyle", 7, "janet.doyle@", "unverified")
    add("BrightPaw Pets", "Tom", "Becker", 10, "n/a", "unverified")
    add("Nordic Nest", "Sara", "Lindqvist", 0, None, "unavailable")
    for brand_name in ("Peak & Pine", EXACT_DUPLICATE_BRAND):
        add(brand_name, "Alex", "Rivera", 9, SHARED_AGENCY_EMAIL, "verified")

    # Apollo's placeholder for an email that was not revealed: syntactically valid, useless.
    named = {group[0] for group in VARIANT_GROUPS} | set(FIXED_REVENUES) | {SCHEMA_DRIFT_BRAND}
    high = [e for name, e in by_name.items() if name not in named and (e["brand"].revenue or 0) > cutoff]
    placeholder_entry, *unverified_entries = rng.sample(high, 1 + UNVERIFIED_ONLY_ORGS)
    placeholder = placeholder_entry["people"][-1]
    set_email(placeholder, "email_not_unlocked@domain.com", None)
    mark_awkward(people, placeholder)

    # Orgs where nobody has a verified email: contacts exist but none is safe to send to.
    for entry in unverified_entries:
        for record in entry["people"]:
            record["email_status"] = rng.choice(("unverified", "likely to engage"))
            mark_awkward(people, record)
    return {
        "placeholder_email_brand": placeholder_entry["brand"].name,
        "unverified_only_brands": [entry["brand"].name for entry in unverified_entries],
    }


def mark_awkward(people: list[Person], record: JsonDict) -> None:
    for person in people:
        if person.record is record:
            person.is_awkward = True


def apollo_json(entries: list[JsonDict]) -> str:
    """One organization (with its people) per line inside a JSON list."""
    lines = ",\n".join("  " + compact_json(entry) for entry in entries)
    text = f"[\n{lines}\n]\n"
    json.loads(text)
    return text


# ---------------------------------------------------------------------------------------------
# 4. Smartlead webhook deliveries.
# ---------------------------------------------------------------------------------------------


@dataclass
class Recipient:
    email: str
    first_name: str
    last_name: str
    company: str
    campaign_id: int
    lead_id: int
    sender: str


@dataclass
class Event:
    at: datetime
    payload: JsonDict
    line: str = ""


def is_clean_verified(person: Person) -> bool:
    email = person.email
    return (
        not person.is_awkward
        and person.record["email_status"] == "verified"
        and email is not None
        and re.fullmatch(r"[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}", email) is not None
    )


def choose_recipients(rng: random.Random, people: list[Person]) -> list[Recipient]:
    """30 verified people at distinct brands: a third each from high, middle and low revenue."""
    seen: set[str] = set()
    candidates: list[Person] = []
    for person in sorted(people, key=lambda p: -(p.brand.revenue or 0)):
        brand = person.brand
        if is_clean_verified(person) and brand.name not in seen and brand.origin == "api" and brand.is_usable:
            seen.add(person.brand.name)
            candidates.append(person)
    third = len(candidates) // 3
    tiers = (
        (candidates[:third], 1001, 12),
        (candidates[third : 2 * third], 1002, 12),
        (candidates[2 * third :], 1003, 6),
    )
    recipients: list[Recipient] = []
    for pool, campaign_id, count in tiers:
        for person in rng.sample(pool, count):
            r = person.record
            recipients.append(
                Recipient(
                    email=r["email"],
                    first_name=r["first_name"],
                    last_name=r["last_name"],
                    company=person.brand.name,
                    campaign_id=campaign_id,
                    lead_id=rng.randint(1_000_000, 9_999_999),
                    sender=rng.choice(SENDERS),
                )
            )
    return recipients


def subject_for(recipient: Recipient, sequence: int) -> str:
    base = f"{recipient.first_name}, a quick idea for {recipient.company} on Amazon"
    return base if sequence == 1 else f"Re: {base}"


def flat_event(
    recipient: Recipient, event_type: str, at: datetime, sequence: int, stats_id: str, **extra: Any
) -> Event:
    payload: JsonDict = {
        "webhook_id": WEBHOOK_IDS[recipient.campaign_id],
        "event_type": event_type,
        "event_timestamp": iso_z(at),
        "to_email": recipient.email,
        "to_name": f"{recipient.first_name} {recipient.last_name}",
        "from_email": recipient.sender,
        "campaign_id": recipient.campaign_id,
        "campaign_name": CAMPAIGNS[recipient.campaign_id],
        "sequence_number": sequence,
        "stats_id": stats_id,
        "subject": subject_for(recipient, sequence),
        "sl_email_lead_id": recipient.lead_id,
        "secret_key": WEBHOOK_SECRET,
        **extra,
    }
    return Event(at, payload)


def to_new_envelope(event: Event, recipient: Recipient) -> Event:
    """The newer documented envelope: event/timestamp/campaign{}/lead{}, usually without stats_id."""
    p = event.payload
    moved = {
        "stats_id",
        "webhook_id",
        "event_type",
        "event_timestamp",
        "to_email",
        "to_name",
        "campaign_id",
        "campaign_name",
        "sl_email_lead_id",
    }
    payload: JsonDict = {
        "event": NEW_ENVELOPE_NAMES[p["event_type"]],
        "timestamp": p["event_timestamp"],
        "campaign": {"id": recipient.campaign_id, "name": CAMPAIGNS[recipient.campaign_id]},
        "lead": {
            "email": recipient.email,
            "first_name": recipient.first_name,
            "last_name": recipient.last_name,
            "company_name": recipient.company,
        },
        **{key: value for key, value in p.items() if key not in moved},
    }
    return Event(event.at, payload)


def sent_event(rng: random.Random, recipient: Recipient, at: datetime, sequence: int) -> tuple[Event, str]:
    stats_id = rng_uuid(rng)
    event_type = "FIRST_EMAIL_SENT" if sequence == 1 else "EMAIL_SENT"
    message_id = f"<{hex_id(rng, 16)}@shelfwisehq.com>"
    return flat_event(
        recipient, event_type, at, sequence, stats_id, time_sent=iso_z(at), message_id=message_id
    ), stats_id


def reply_event(
    rng: random.Random, recipient: Recipient, at: datetime, sequence: int, stats_id: str, text: str
) -> Event:
    reply = {
        "message_id": f"<{hex_id(rng, 16)}@mail.{recipient.email.split('@')[1]}>",
        "text": text,
        "html": f'<div dir="ltr">{text}</div>',
        "time": iso_z(at),
    }
    return flat_event(
        recipient,
        "EMAIL_REPLY",
        at,
        sequence,
        stats_id,
        reply_message=reply,
        sl_lead_email=recipient.email,
        time_replied=iso_z(at),
    )


def recipient_timeline(
    rng: random.Random, recipient: Recipient, start_day: int, outcome: str, reply: tuple[str, str] | None
) -> list[Event]:
    """Sent -> opens/clicks -> follow-ups, ending in the recipient's outcome."""
    start = EVENTS_START + timedelta(
        days=start_day,
        hours=rng.randint(0, 6),
        minutes=rng.randint(0, 59),
        seconds=rng.randint(0, 59),
    )
    events: list[Event] = []
    sent, stats_id = sent_event(rng, recipient, start, 1)
    events.append(sent)
    if outcome == "bounce":
        at = start + timedelta(minutes=rng.randint(1, 4))
        events.append(flat_event(recipient, "EMAIL_BOUNCE", at, 1, stats_id, bounce_message=HARD_BOUNCE))
        return events
    now = start
    for _ in range(rng.choice((0, 1, 1, 2))):
        now += timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59))
        events.append(flat_event(recipient, "EMAIL_OPEN", now, 1, stats_id, time_opened=iso_z(now)))
    if rng.random() < 0.25:
        now += timedelta(minutes=rng.randint(1, 30))
        events.append(
            flat_event(
                recipient,
                "EMAIL_LINK_CLICK",
                now,
                1,
                stats_id,
                time_clicked=iso_z(now),
                link_clicked=[CAMPAIGN_LINK],
            )
        )
    if outcome == "unsubscribe":
        now += timedelta(minutes=rng.randint(2, 90))
        events.append(flat_event(recipient, "LEAD_UNSUBSCRIBED", now, 1, stats_id))
        return events
    sequence = 1
    if rng.random() < (0.7 if outcome == "plain" else 0.5):
        sequence = 2
        now = max(now, start + timedelta(days=3)) + timedelta(minutes=rng.randint(0, 120))
        follow_up, stats_id = sent_event(rng, recipient, now, 2)
        events.append(follow_up)
    if reply is not None:
        category, text = reply
        now += timedelta(hours=rng.randint(2, 40))
        events.append(reply_event(rng, recipient, now, sequence, stats_id, text))
        now += timedelta(hours=rng.randint(1, 18))
        lead_category = {"new_name": category, "old_name": None}
        events.append(
            flat_event(recipient, "LEAD_CATEGORY_UPDATED", now, sequence, stats_id, lead_category=lead_category)
        )
    elif rng.random() < 0.5:
        now += timedelta(hours=rng.randint(3, 30))
        events.append(flat_event(recipient, "EMAIL_OPEN", now, sequence, stats_id, time_opened=iso_z(now)))
    return events


def build_webhook_events(rng: random.Random, recipients: list[Recipient]) -> tuple[list[str], JsonDict]:
    order = list(recipients)
    rng.shuffle(order)
    outcomes: list[tuple[Recipient, str, tuple[str, str] | None]] = []
    replies = list(POSITIVE_REPLIES) + list(OTHER_REPLIES)
    for index, recipient in enumerate(order):
        if index < 3:
            outcomes.append((recipient, "bounce", None))
        elif index < 6:
            outcomes.append((recipient, "unsubscribe", None))
        elif index < 6 + len(replies):
            outcomes.append((recipient, "reply", replies[index - 6]))
        else:
            outcomes.append((recipient, "plain", None))
    # First emails spread over the window (new leads enter the campaigns every few days).
    start_days = [round(index * 66 / len(order)) for index in range(len(order))]
    rng.shuffle(start_days)
    events: list[Event] = []
    envelope_of: dict[int, Recipient] = {}
    for recipient, outcome, reply in outcomes:
        for event in recipient_timeline(rng, recipient, start_days.pop(), outcome, reply):
            envelope_of[id(event)] = recipient
            events.append(event)

    # About 15% in the newer envelope; force one bounce, one reply and one click into it.
    forced = {
        id(next(e for e in events if e.payload["event_type"] == event_type))
        for event_type in ("EMAIL_BOUNCE", "EMAIL_REPLY", "EMAIL_LINK_CLICK")
    }
    converted: list[Event] = []
    for event in events:
        eligible = event.payload["event_type"] in NEW_ENVELOPE_NAMES
        if eligible and (id(event) in forced or rng.random() < NEW_ENVELOPE_RATE):
            converted.append(to_new_envelope(event, envelope_of[id(event)]))
        else:
            converted.append(event)
    events = converted

    # One reply delivered in both envelopes (same time; only the flat one has a stats_id): one
    # event after CLEAN.
    both = next(e for e in events if e.payload.get("event_type") == "EMAIL_REPLY")
    twin_recipient = next(r for r in recipients if r.email == both.payload["to_email"])
    events.append(to_new_envelope(both, twin_recipient))

    info = {
        "outcomes": {r.email: o for r, o, _ in outcomes},
        "reply_categories": {r.email: rep[0] for r, _, rep in outcomes if rep},
    }
    info["both_envelopes"] = both.payload["to_email"]
    events.append(spam_complaint(events, [r for r, outcome, _ in outcomes if outcome == "plain"][:-1], info))
    events.extend(special_events(rng, recipients, order[-1], info))
    events.sort(key=lambda e: e.at)
    for event in events:
        event.line = json.dumps(event.payload, sort_keys=True, ensure_ascii=False)
    # Follow-ups scheduled after the sample window were never sent.
    lines = [event.line for event in events if event.at <= EVENTS_END]
    return add_delivery_noise(rng, lines, info), info


def _lead_email(payload: JsonDict) -> Any:
    lead = payload.get("lead")
    return lead.get("email") if isinstance(lead, dict) else None


def spam_complaint(events: list[Event], candidates: list[Recipient], info: JsonDict) -> Event:
    """A spam complaint (suppression reason `complained`) a day after the last event of the first
    candidate whose complaint still falls in the sample window."""
    for recipient in candidates:
        own = [e for e in events if recipient.email in (e.payload.get("to_email"), _lead_email(e.payload))]
        at = max(e.at for e in own) + timedelta(days=1)
        if at <= EVENTS_END:
            info["spam_complaint"] = recipient.email
            sent = max((e for e in own if "stats_id" in e.payload), key=lambda e: e.at)  # the flat ones
            return flat_event(
                recipient, "EMAIL_SPAM_COMPLAINT", at, sent.payload["sequence_number"], sent.payload["stats_id"]
            )
    raise ValueError("no recipient can complain within the sample window")


def special_events(rng: random.Random, recipients: list[Recipient], plain: Recipient, info: JsonDict) -> list[Event]:
    """Unknown type, missing recipient, unparseable time, and an address Apollo never gave us."""
    specials: list[Event] = []
    at = datetime(2026, 10, 14, 16, 21, 7, tzinfo=UTC)
    specials.append(flat_event(plain, "EMAIL_TELEPORTED", at, 1, rng_uuid(rng)))
    at = datetime(2026, 10, 20, 18, 2, 44, tzinfo=UTC)
    missing = flat_event(plain, "EMAIL_OPEN", at, 1, rng_uuid(rng), time_opened=iso_z(at))
    del missing.payload["to_email"]
    specials.append(missing)
    at = datetime(2026, 10, 27, 15, 40, 0, tzinfo=UTC)
    yesterday = flat_event(plain, "EMAIL_OPEN", at, 1, rng_uuid(rng), time_opened="yesterday")
    yesterday.payload["event_timestamp"] = "yesterday"
    specials.append(yesterday)
    email, name, company = UNKNOWN_APOLLO_RECIPIENT
    stranger = Recipient(email, name.split()[0], name.split()[1], company, 1003, 1234567, SENDERS[0])
    at = datetime(2026, 9, 18, 14, 5, 31, tzinfo=UTC)
    sent, stats_id = sent_event(rng, stranger, at, 1)
    at_open = at + timedelta(hours=5, minutes=12)
    specials += [sent, flat_event(stranger, "EMAIL_OPEN", at_open, 1, stats_id, time_opened=iso_z(at_open))]
    info["special_recipient"] = plain.email
    return specials


def is_ordinary_delivery(payload: JsonDict) -> bool:
    """A well-formed event of a known type (the retried ones should be the ordinary kind)."""
    event_type = payload.get("event_type") or payload.get("event")
    email = payload.get("to_email") or payload.get("lead", {}).get("email")
    known = event_type in NEW_ENVELOPE_NAMES or event_type in NEW_ENVELOPE_NAMES.values()
    return bool(known and email and email != UNKNOWN_APOLLO_RECIPIENT[0])


def add_delivery_noise(rng: random.Random, lines: list[str], info: JsonDict) -> list[str]:
    """Webhook retries (identical line again, right after) and one truncated delivery."""
    ordinary = [i for i, line in enumerate(lines) if is_ordinary_delivery(json.loads(line))]
    duplicated = sorted(rng.sample(ordinary, EXACT_DUPLICATE_DELIVERIES))
    noisy: list[str] = []
    for index, line in enumerate(lines):
        noisy.append(line)
        if index in duplicated:
            noisy.append(line)
    noisy.insert(len(noisy) // 2, TRUNCATED_LINE)
    info["duplicated_lines"] = [
        json.loads(lines[i]).get("event_type") or json.loads(lines[i]).get("event") for i in duplicated
    ]
    return noisy


# ---------------------------------------------------------------------------------------------
# 5. Suppression list.
# ---------------------------------------------------------------------------------------------


def build_suppression(
    rng: random.Random,
    api_brands: list[Brand],
    people: list[Person],
    recipients: list[Recipient],
    export_brands: list[Brand],
) -> tuple[list[list[str]], JsonDict]:
    named = {group[0] for group in VARIANT_GROUPS} | set(FIXED_REVENUES) | {SCHEMA_DRIFT_BRAND}
    contacted = {r.company for r in recipients}
    regular = sorted(
        (
            b
            for b in api_brands
            if b.name not in named and b.name not in contacted and b.revenue is not None and b.is_usable
        ),
        key=lambda b: -(b.revenue or 0),
    )
    top = regular[:60]
    name_variants = picks = rng.sample(top, 3)
    # One slug that spells the name, one with a store suffix that no name matching could find.
    with_store = [b for b in top if b.slug and b not in picks]
    suffixed = [b for b in with_store if (b.slug or "").endswith(SLUG_SUFFIXES)]
    plain_slug = [b for b in with_store if b not in suffixed and len(ascii_words(b.name)) > 1]
    slug_clients = [rng.choice(plain_slug), rng.choice(suffixed)]
    lower_pool = [b for b in regular[60:] if b not in picks and b not in slug_clients]
    dnc_brands = rng.sample(lower_pool, 2)

    rows: list[list[str]] = [
        ["brand_name", "zephyr home inc", "existing_client", "crm_export_2026-10", "2026-10-01"],
        ["brand_name", "ZEPHYR HOME", "do_not_contact", "manual", "2026-10-12"],
        ["brand_name", "Peak and Pine", "existing_client", "crm_export_2026-10", "2026-10-01"],
        ["brand_name", "Muller & Sohne", "existing_client", "manual", "2026-09-04"],
    ]
    variant_spellings = (
        lambda n: f"{n.lower()} llc",
        lambda n: f"{n.upper()}, Inc.",
        lambda n: re.sub(r"[^A-Za-z0-9 ]", "", n.replace("&", "and")) + " Co",
    )
    reasons = ("existing_client", "lost_client", "fired_client")
    for brand, spell, reason in zip(name_variants, variant_spellings, reasons, strict=True):
        rows.append(["brand_name", spell(brand.name), reason, "crm_export_2026-10", "2026-10-01"])
    for brand, reason in zip(slug_clients, ("existing_client", "lost_client"), strict=True):
        rows.append(["store_slug", (brand.slug or "").lower(), reason, "crm_export_2026-08", "2026-08-03"])
    for brand in dnc_brands:
        rows.append(["brand_name", brand.name, "do_not_contact", "manual", "2026-09-15"])
    # An existing client the agency had already emailed (contacted before, then signed).
    signed = next(r for r in recipients if r.campaign_id == 1002)
    rows.append(["brand_name", signed.company.upper(), "existing_client", "crm_export_2026-10", "2026-10-28"])
    # A CSV-only brand, by its exact name.
    csv_client = rng.choice(export_brands)
    rows.append(["brand_name", csv_client.name, "lost_client", "crm_export_2026-08", "2026-08-03"])

    # The email and domain rows hit brands that are not listed in any other way.
    listed = {normalize_name(row[1]) for row in rows} | {normalize_name(b.name) for b in slug_clients}
    pool = [
        p
        for p in people
        if is_clean_verified(p)
        and p.brand.name not in contacted
        and p.brand.origin == "api"
        and p.brand.is_usable
        and normalize_name(p.brand.name) not in listed
    ]
    email_person = rng.choice(pool)
    domain_person = rng.choice([p for p in pool if p.brand is not email_person.brand])
    email = email_person.email or ""
    rows.append(["email", email.capitalize(), "do_not_contact", "manual", "2026-09-22"])
    rows.append(["domain", f"www.{domain_person.brand.domain}", "fired_client", "manual", "2026-07-14"])
    for name, reason, source, added in UNMATCHED_SUPPRESSION_NAMES:
        rows.append(["brand_name", name, reason, source, added])

    # Every listed name, except the deliberately unmatched ones, must find its brand.
    known = {normalize_name(b.name): b.name for b in api_brands + export_brands}
    unmatched = {name for name, *_ in UNMATCHED_SUPPRESSION_NAMES}
    matched_names: dict[str, str] = {}
    for row in rows:
        if row[0] == "brand_name" and row[1] not in unmatched:
            brand_name = known.get(normalize_name(row[1]) or "")
            if brand_name is None:
                raise ValueError(f"suppression name matches no brand: {row[1]!r}")
            matched_names[row[1]] = brand_name
    rows.sort(key=lambda row: (row[4], row[0], row[1]))
    info = {
        "brand_name_rows": matched_names,
        "name_variant_rows": [
            row for row in rows if row[0] == "brand_name" and matched_names.get(row[1], row[1]) != row[1]
        ],
        "name_variant_brands": [b.name for b in name_variants],
        "slug_only_clients": {b.name: (b.slug or "").lower() for b in slug_clients},
        "do_not_contact_brands": [b.name for b in dnc_brands],
        "contacted_then_signed": signed.company,
        "csv_only_client": csv_client.name,
        "email": email,
        "email_key": email.capitalize(),
        "email_brand": email_person.brand.name,
        "domain": domain_person.brand.domain,
        "domain_brand": domain_person.brand.name,
    }
    return rows, info


# ---------------------------------------------------------------------------------------------
# 6. README and writing.
# ---------------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def readme_cases(s: JsonDict) -> list[tuple[str, str, str, str]]:
    """(case, file, example, what should happen downstream) for the README table."""
    pages = "smartscout/brands_search_US"
    export = "smartscout/brands_export.csv"
    apollo = "apollo/organizations.json"
    events = "smartlead/webhook_events.jsonl"
    seed = "seeds/suppression_list.csv"
    groups = "; ".join(" / ".join(f"`{n}`" for n in (c, *o)) for c, o in VARIANT_GROUPS)
    respelled = ", ".join(f"`{v}` (= `{k}`)" for k, v in s["export"]["respelled"].items())
    non_ascii = ", ".join(f"`{name}`" for name, _ in NON_ASCII_BRANDS)
    slug_only = ", ".join(f"`{slug}` ({name})" for name, slug in s["suppression"]["slug_only_clients"].items())
    unverified = ", ".join(f"`{n}`" for n in s["apollo"]["unverified_only_brands"])
    invalid = "`bob@@bluefernkitchen.com` (Blue Fern Kitchen), `janet.doyle@` (Lumière Labs), `n/a` (BrightPaw Pets)"
    variants = ", ".join(f"`{row[1]}`" for row in s["suppression"]["name_variant_rows"])
    unmatched = ", ".join(f"`{n}`" for n, *_ in UNMATCHED_SUPPRESSION_NAMES)
    placeholder = f"`email_not_unlocked@domain.com` ({s['apollo']['placeholder_email_brand']})"
    return [
        (
            "Spelling variants of one brand (case, punctuation, accents, suffix, spaces)",
            pages,
            groups,
            "one `brand_id` per group (`normalize_name`)",
        ),
        (
            "Same brand in API and CSV export, re-spelled",
            export,
            respelled,
            "same `brand_id` as the API brand; the latest observation wins",
        ),
        (
            "Non-ASCII names",
            pages,
            non_ascii,
            "accents folded; `山田工房` has no Latin letters and keeps its own: `normalized_brand_name` `山田工房`",
        ),
        ('`brandName` null, and `"   "`', pages, "two items", "quarantined: `missing brand name`"),
        (
            '`monthlyRevenue: "n/a"`',
            pages,
            "`Tidewater Candle Co`",
            "kept as text in RAW, quarantined: `monthly_revenue is not a number`",
        ),
        ("Negative `monthlyRevenue`", pages, "`Glimmer Grove`", "quarantined: `monthly_revenue is negative`"),
        (
            '`reviewRating: "4,5"`',
            pages,
            "`Sunny Acre Farms`",
            "quarantined: `review_rating is not a number`",
        ),
        (
            "Unexpected field `tiktokShopUrl`",
            f"{pages} (page 3)",
            f"`{SCHEMA_DRIFT_BRAND}`",
            "kept in `extra_fields_json`",
        ),
        (
            "Exact duplicate item in one page",
            f"{pages} (page 2)",
            f"`{EXACT_DUPLICATE_BRAND}`",
            "one RAW row (same `record_hash`)",
        ),
        (
            "~3% null numerics; `storefrontUrl` null without a store; `?ref_=` after some slugs",
            pages,
            "many",
            "NULL measures; slug parsed up to `?`",
        ),
        ("Banner row before the header", "both CSV exports", f"`{EXPORT_BANNER}`", "skipped by the loader"),
        (
            "UI formatting `$1,234.56`, `1,234`, `12.5%`, `-3.2%`, `N/A`, `Yes`/`No`",
            "both CSV exports",
            "all rows",
            "parsed to numbers, NULL, booleans",
        ),
        (
            "Amazon In-Stock Rate as a percent (`45.2%`)",
            export,
            "all rows",
            "the API sends 0-1: divide the CSV value by 100 to compare",
        ),
        (
            "Garbage revenue `$12abc`",
            export,
            f"`{EXPORT_GARBAGE_REVENUE_BRAND}`",
            "kept as text, quarantined: `monthly_revenue is not a number`",
        ),
        ("Empty `Brand`", export, "one row", "quarantined: `missing brand name`"),
        (
            "Row with too few cells",
            export,
            f"`{EXPORT_SHORT_ROW_BRAND}` (6 of 21 cells)",
            "`raw.rejected_records`",
        ),
        (
            "Header variants, subset of columns",
            "smartscout/brands_export_variant_headers.csv",
            f"{VARIANT_EXPORT_ROWS} new brands",
            "headers matched loosely; missing columns NULL",
        ),
        ("Invalid emails", apollo, invalid, "contact quarantine: `invalid email syntax`"),
        (
            "Upper-case, padded email",
            apollo,
            '`" Jane.Doe@ZephyrHome.com "` (Zephyr Home)',
            "trimmed and lower-cased: valid",
        ),
        ("Email null", apollo, "Sara Lindqvist (Nordic Nest)", "contact quarantine: `no email revealed`"),
        (
            "Apollo's placeholder for a locked email",
            apollo,
            placeholder,
            "valid syntax, but must not be emailed (needs its own rule)",
        ),
        (
            "Same email at two orgs (agency consultant)",
            apollo,
            f"`{SHARED_AGENCY_EMAIL}` (Peak & Pine, {EXACT_DUPLICATE_BRAND})",
            "one lead for the address; its domain is not the org's",
        ),
        ("Orgs with no verified email", apollo, unverified, "contacts exist, none verified"),
        (
            "Duplicate webhook delivery",
            events,
            f"{EXACT_DUPLICATE_DELIVERIES} identical lines",
            "one event (`event_key`)",
        ),
        (
            "Same reply in both envelopes",
            events,
            f"`{s['smartlead']['both_envelopes']}` (only the flat one has a `stats_id`)",
            "one event (`event_id`)",
        ),
        (
            "Newer envelope `event`/`timestamp`/`lead{}`",
            events,
            "~15% of lines",
            "flattened to the same columns",
        ),
        ("Hard bounces / unsubscribes / Do Not Contact", events, "3 / 3 / 1", "email suppression"),
        (
            "Spam complaint (`EMAIL_SPAM_COMPLAINT`)",
            events,
            f"`{s['smartlead']['spam_complaint']}`",
            "email suppression: `complained`",
        ),
        (
            "Positive replies (Interested, Meeting Request)",
            events,
            "4 leads",
            "CRM hand-off unless suppressed",
        ),
        ("Unknown type `EMAIL_TELEPORTED`", events, "one line", "quarantined: `unknown event type`"),
        ("Missing `to_email`", events, "one line", "quarantined: `missing recipient email`"),
        ('`event_timestamp: "yesterday"`', events, "one line", "quarantined: `unparseable event timestamp`"),
        ("Recipient not in Apollo", events, f"`{UNKNOWN_APOLLO_RECIPIENT[0]}`", "kept; matches no brand"),
        ("Truncated JSON line", events, f"`{TRUNCATED_LINE}`", "`raw.rejected_records`"),
        ("Client listed under a variant spelling", seed, variants, "matched after `normalize_name`"),
        (
            "Client listed only by store slug, other case",
            seed,
            slug_only,
            "matched on the slug parsed from `storefrontUrl`",
        ),
        (
            "Client listed by email (other case) / by domain with `www.`",
            seed,
            f"`{s['suppression']['email_key']}` ({s['suppression']['email_brand']}), "
            f"`www.{s['suppression']['domain']}` ({s['suppression']['domain_brand']})",
            "matched case-insensitively; `www.` stripped",
        ),
        (
            "Brand emailed before, now a client",
            f"{seed}, {events}",
            f"`{s['suppression']['contacted_then_signed']}`",
            "suppressed (existing_client outranks previously_contacted)",
        ),
        ("Names that match no brand", seed, unmatched, "no effect"),
    ]


def readme_text(s: JsonDict) -> str:
    files = [
        (
            "`smartscout/brands_search_US/first.json`, `<nextPageId>.json`",
            f"`POST /api/v2/brands/search?marketplace=US` pages: {FULL_PAGES} x {PAGE_SIZE} items, then "
            f"{LAST_PAGE_SIZE}. Each page's `paging.nextPageId` names the next file; the last one is `null`",
        ),
        (
            "`smartscout/brands_export.csv`",
            f"SmartScout UI brands export: banner row, header, {EXPORT_ROWS} rows (15 also in the API)",
        ),
        (
            "`smartscout/brands_export_variant_headers.csv`",
            f"An export with other header spellings and fewer columns: {VARIANT_EXPORT_ROWS} new brands",
        ),
        (
            "`apollo/organizations.json`",
            '`[{"organization": {...}, "people": [bulk_match person, ...]}]`, one org per line. '
            f"`organization.name` is the brand's display name. {s['apollo']['covered_brands']} of "
            f"{s['brand_count']} brands covered, including every API brand above the median revenue "
            f"(${s['apollo']['median_revenue_cutoff']:,.2f}/month)",
        ),
        (
            "`smartlead/webhook_events.jsonl`",
            f"{s['smartlead']['line_count']} webhook deliveries in time order, 2026-09-01 to 2026-11-15, "
            f"campaigns 1001-1003, {RECIPIENT_COUNT} recipients taken from the Apollo data",
        ),
        ("`../seeds/suppression_list.csv`", "The business suppression list (written by the same script)"),
    ]
    file_table = "\n".join(f"| {name} | {what} |" for name, what in files)
    case_table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in readme_cases(s))
    return f"""# Sample data

Generated by `python scripts/generate_sample_data.py` (seed {SEED}). **Do not edit by hand**:
change the script and re-run it; the output is byte-identical on every run.

The demo and the tests replay these files through the real loaders: the SmartScout files are
what the API and the UI export return, the Apollo file is the dataset behind the fake Apollo
server, and the Smartlead file is a stream of webhook deliveries. About {s["brand_count"]}
distinct brands in all. Newer-envelope webhooks keep the per-type fields under the flat
names (`reply_message`, `bounce_message`, `link_clicked`) and, as Smartlead's usually do, carry
no `stats_id`.

Run `python scripts/generate_sample_data.py --summary` to print the names picked for each
awkward case as JSON.

| File | What it is |
|---|---|
{file_table}

## Awkward cases, on purpose

| Case | File | Example | What should happen downstream |
|---|---|---|---|
{case_table}
"""


def summarize_pages(pages: list[list[JsonDict]]) -> JsonDict:
    where: dict[str, list[int]] = {}
    for number, page in enumerate(pages, start=1):
        for item in page:
            key = normalize_name(item["brandName"]) if isinstance(item["brandName"], str) else None
            for canonical, _ in VARIANT_GROUPS:
                if key == normalize_name(canonical):
                    where.setdefault(canonical, []).append(number)
    return where


def generate(out: Path, seed_file: Path) -> JsonDict:
    """Write every sample file and return a summary of the awkward cases."""
    check_variant_groups()
    rng = random.Random(SEED)
    names = NameRegistry(reserved_names())

    api_brands, items = build_api_brands(rng, names)
    duplicate_brand = new_brand(rng, EXACT_DUPLICATE_BRAND, "Grocery & Gourmet Food", "api")
    drift_brand = new_brand(rng, SCHEMA_DRIFT_BRAND, "Beauty & Personal Care", "api")
    drift_item = brand_item(drift_brand)
    drift_item["tiktokShopUrl"] = "https://www.tiktok.com/@velvetfoxbeauty/shop"
    api_brands += [duplicate_brand, drift_brand]
    pages = layout_pages(rng, items, brand_item(duplicate_brand), drift_item)
    page_files = write_api_pages(out, pages)

    export_rows, export_brands, export_info = build_export(rng, api_brands, names)
    smartscout = out / "smartscout"
    write_text(smartscout / "brands_export.csv", csv_text(with_banner(EXPORT_HEADER, export_rows)))
    variant_rows, variant_brands = build_variant_export(rng, names)
    write_text(
        smartscout / "brands_export_variant_headers.csv",
        csv_text(with_banner(VARIANT_EXPORT_HEADER, variant_rows)),
    )

    entries, people, apollo_info = build_apollo(rng, api_brands, export_brands + variant_brands)
    write_text(out / "apollo" / "organizations.json", apollo_json(entries))

    recipients = choose_recipients(rng, people)
    lines, smartlead_info = build_webhook_events(rng, recipients)
    smartlead_info["line_count"] = len(lines)
    write_text(out / "smartlead" / "webhook_events.jsonl", "\n".join(lines) + "\n")

    suppression_rows, suppression_info = build_suppression(rng, api_brands, people, recipients, export_brands)
    write_text(seed_file, csv_text([SUPPRESSION_HEADER, *suppression_rows]))

    summary: JsonDict = {
        "brand_count": len(api_brands) + len(export_brands) + len(variant_brands) + 2,  # + garbage, short rows
        "page_files": page_files,
        "variant_group_pages": summarize_pages(pages),
        "export": export_info,
        "apollo": apollo_info,
        "smartlead": smartlead_info,
        "suppression": suppression_info,
        "recipients": [(r.email, r.company, r.campaign_id) for r in recipients],
    }
    write_text(out / "README.md", readme_text(summary))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=REPO_DIR / "sample_data", help="output folder (default: sample_data/)"
    )
    parser.add_argument(
        "--seed-file",
        type=Path,
        default=REPO_DIR / "seeds" / "suppression_list.csv",
        help="where to write the suppression list seed (default: seeds/suppression_list.csv)",
    )
    parser.add_argument("--summary", action="store_true", help="print the awkward-case summary as JSON")
    args = parser.parse_args(argv)
    summary = generate(args.out, args.seed_file)
    if args.summary:
        print(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
