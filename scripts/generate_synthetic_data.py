"""Generate synthetic vendor data at benchmark sizes (never committed: `benchmarks/data/` is
git-ignored).

    python scripts/generate_synthetic_data.py --size 100k      # -> benchmarks/data/100k/

The output has the layout of `sample_data/` (SmartScout pages and CSV exports, Apollo
organizations, Smartlead webhook deliveries), so the pipeline reads it as sample data
(`OUTREACH_SAMPLE_DATA_DIR=benchmarks/data/100k`), and the benchmark serves it from local fakes.
`day2/` holds the next day's delivery: a full SmartScout re-scan in which 1% of the brands
changed or are new, and 1% more events (new sends, late opens and replies, re-deliveries).
`manifest.json` counts everything written, so a load can be checked against it.

Same seed, same size, same bytes. Everything is streamed to disk: memory stays flat with
size (only the Apollo recipients and small reservoirs are kept). The awkward cases of the
sample data appear in realistic proportions (see RATES), and the brands listed in
`seeds/suppression_list.csv` are planted under other spellings or store slugs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

# a sibling script: `python scripts/...` puts this folder on sys.path
from generate_sample_data import (
    CAMPAIGN_LINK,
    CAMPAIGNS,
    CATEGORIES,
    COINED_SYLLABLES,
    EMAIL_STATUSES,
    EVENTS_END,
    EVENTS_START,
    EXPORT_BANNER,
    EXPORT_HEADER,
    FIRST_NAMES,
    HARD_BOUNCE,
    LAST_NAMES,
    NAME_FIRST_WORDS,
    NEW_ENVELOPE_NAMES,
    NEW_ENVELOPE_RATE,
    NON_ASCII_BRANDS,
    OTHER_REPLIES,
    OTHER_TITLES,
    POSITIVE_REPLIES,
    SCHEMA_DRIFT_BRAND,
    SENDERS,
    SHARED_AGENCY_EMAIL,
    TRUNCATED_LINE,
    UNMATCHED_SUPPRESSION_NAMES,
    VARIANT_EXPORT_HEADER,
    VARIANT_GROUPS,
    Brand,
    Event,
    Person,
    Recipient,
    ascii_words,
    brand_item,
    export_row,
    flat_event,
    fold_ascii,
    is_clean_verified,
    iso_z,
    make_org,
    make_person,
    new_brand,
    normalize_name,
    page_id,
    perturbed_item,
    pick_category,
    pick_title,
    reobserved,
    reply_event,
    respell,
    rng_uuid,
    sent_event,
    set_email,
    to_new_envelope,
    variant_export_row,
    weighted_choice,
)

REPO_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_ROOT = REPO_DIR / "benchmarks" / "data"
SUPPRESSION_SEED = REPO_DIR / "seeds" / "suppression_list.csv"
SEED = 20261124
# Data from another version of the generators is regenerated.
GENERATOR_VERSION = hashlib.sha256(
    b"".join(path.read_bytes() for path in (Path(__file__), Path(__file__).with_name("generate_sample_data.py")))
).hexdigest()[:16]
MARKETPLACE = "US"
PAGE_SIZE = 1000  # SmartScout's cap: the fewest pages a real load can ask for
EVENTS_PER_FILE = 250_000  # webhook deliveries per JSON-lines file (a spool rotates its files too)


@dataclass(frozen=True)
class Size:
    brands: int
    contacts: int
    events: int
    page_size: int = PAGE_SIZE


# 1m is the target; the smaller sizes keep its proportions.
SIZES: dict[str, Size] = {
    "smoke": Size(brands=500, contacts=150, events=5_000, page_size=100),  # a few pages: the cursor is followed
    "10k": Size(brands=10_000, contacts=3_000, events=100_000),
    "100k": Size(brands=100_000, contacts=30_000, events=1_000_000),
    "1m": Size(brands=1_000_000, contacts=300_000, events=10_000_000),
}

# Shares of brands, items, people or events that are awkward on purpose (the cases of
# sample_data/README.md), sized like a real feed: mostly clean, a steady trickle of everything.
RATES: dict[str, float] = {
    # brands: where they come from
    "csv_only_brands": 0.04,  # in the UI export only
    "variant_header_brands": 0.01,  # in the export with other header spellings only
    "csv_overlap": 0.015,  # API brands also in the export (a third of them re-spelled)
    # SmartScout API items
    "spelling_variant": 0.02,  # a second observation under another spelling
    "exact_duplicate": 0.002,  # the same item sent twice
    "schema_drift": 0.005,  # an unexpected field
    "accented_name": 0.01,  # non-ASCII letters that fold to ASCII
    "cjk_name": 0.0005,  # no Latin letters at all (CLEAN keeps them; no store, no Apollo)
    "null_name": 0.001,
    "blank_name": 0.001,
    "revenue_not_a_number": 0.002,
    "negative_revenue": 0.001,
    "rating_with_comma": 0.001,
    # UI export rows
    "garbage_revenue": 0.005,
    "empty_brand": 0.003,
    "short_row": 0.002,
    # Apollo
    "apollo_people_per_brand": 0.30,  # contacts / brands
    "invalid_email": 0.005,
    "padded_upper_email": 0.005,
    "null_email": 0.01,
    "placeholder_email": 0.003,
    "shared_agency_email": 0.0005,  # orgs that also list an agency consultant
    "contacted": 0.25,  # clean verified contacts already emailed (they appear in the events)
    # Smartlead events
    "bounce": 0.03,
    "unsubscribe": 0.02,
    "reply": 0.08,
    "duplicate_delivery": 0.01,  # the same webhook delivered twice
    "both_envelopes": 0.1,  # replies also delivered in the other envelope
    "special_line": 0.00002,  # each: unknown type, no recipient, bad timestamp, truncated JSON
    # the next day
    "day2_changed": 0.005,  # brands whose metrics moved
    "day2_new": 0.005,  # brands seen for the first time
    "day2_events": 0.01,
}
PEOPLE_PER_ORG = ((1, 55), (2, 28), (3, 11), (4, 6))
MEAN_PEOPLE_PER_ORG = sum(n * w for n, w in PEOPLE_PER_ORG) / sum(w for _, w in PEOPLE_PER_ORG)
OPENS_PER_EMAIL = ((0, 35), (1, 30), (2, 18), (3, 10), (4, 7))
SEQUENCE_STEPS = 4
DAY2_START = EVENTS_END + timedelta(hours=2)
DAY2_END = DAY2_START + timedelta(days=3)
REVENUE_MEDIAN = 35_000.0  # of lognormal_revenue in generate_sample_data
CJK_DIGITS = "山田森川花光青木"  # a CJK name per index: its digits in these characters, then 工房
ACCENTS = str.maketrans("aeoun", "áéöüñ")  # every one folds back in normalize_name
TIKTOK = "https://www.tiktok.com/@{}/shop"
INVALID_EMAILS = ("{f}@@{d}", "{f}.{l}@", "n/a")
WORDS_IN_NAMES = {word.casefold() for word in NAME_FIRST_WORDS} | {
    word.casefold() for spec in CATEGORIES.values() for noun in spec[1] for word in noun.split()
}


def dumps(value: Any) -> str:
    """Key-sorted compact JSON, non-ASCII kept (orjson: the generator's hot path)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


# ---------------------------------------------------------------------------------------------
# Names: unique by construction, so a million brands never collide after normalization.
# ---------------------------------------------------------------------------------------------


class Names:
    """A made-up word per index. The syllables are a prefix code (none starts another), so
    different indexes spell different words; words that are also real name words or planted
    names move to a range no index reaches."""

    def __init__(self, reserved_words: set[str]) -> None:
        self.reserved = reserved_words | WORDS_IN_NAMES
        self.base = len(COINED_SYLLABLES)

    def word(self, index: int) -> str:
        word = self._spell(index + self.base**2)  # at least three syllables
        if word in self.reserved:
            word = self._spell(index + self.base**7)
        return word.capitalize()

    def _spell(self, number: int) -> str:
        syllables: list[str] = []
        while number:
            number, digit = divmod(number, self.base)
            syllables.append(COINED_SYLLABLES[digit])
        return "".join(reversed(syllables))

    def brand_name(self, rng: random.Random, index: int, category: str) -> str:
        word = self.word(index)
        if rng.random() < RATES["accented_name"]:
            word = word[0] + word[1:].translate(ACCENTS)
        noun = rng.choice(CATEGORIES[category][1])
        style = rng.random()
        if style < 0.40:
            return f"{word} {noun}"
        if style < 0.65:
            return word
        if style < 0.80:
            return f"{rng.choice(NAME_FIRST_WORDS)} {word}"
        if style < 0.90:
            return f"{word} & {rng.choice(NAME_FIRST_WORDS)}"
        return f"{word} {noun} Co."


def variant_spelling(rng: random.Random, name: str) -> str:
    """Another spelling of the same brand (it normalizes to the same key)."""
    candidates = (
        name.upper() + ", INC.",
        f"  {name.lower()} ",
        name.replace(" ", "-") + " LLC",
        name.replace("&", "and") + " Ltd.",
        respell(rng, name),
    )
    spelling = rng.choice(candidates)
    return spelling if normalize_name(spelling) == normalize_name(name) else name.upper()


# ---------------------------------------------------------------------------------------------
# Planted brands: the suppression list must find them by another spelling, slug, email, domain.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    name: str
    category: str
    spellings: tuple[str, ...] = ()  # other spellings the API also sends
    slug: str | None = None  # forced store slug (CamelCase)
    domain: str | None = None
    contact_email: str | None = None  # a verified Apollo contact with this address
    suppression: str = ""  # the seed row it should match


def display_name(key: str) -> str:
    """A display spelling of a suppression-list name that is not the listed one:
    `peak and pine` -> `Peak & Pine`, `Timber Goods` -> `Timber Goods Inc.`."""
    normalized = normalize_name(key) or key
    name = " ".join(word.capitalize() for word in normalized.split()).replace(" And ", " & ")
    return f"{name} Inc." if name == key.strip() else name


def read_suppression_seed(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def planted_brands(seed_rows: list[dict[str, str]], names: Names) -> list[Planted]:
    """One brand per suppression row (the deliberately unmatched names excepted), spelled
    otherwise than the list: the sample data's own spellings where it has that brand (`Zephyr
    Home`, also sent as `ZEPHYR HOME, INC.`), else a display form of the listed name."""
    sample_names = {normalize_name(c): (c, o) for c, o in VARIANT_GROUPS}
    sample_names.update({normalize_name(n): (n, ()) for n, _ in NON_ASCII_BRANDS if normalize_name(n)})
    unmatched = {normalize_name(name) for name, *_ in UNMATCHED_SUPPRESSION_NAMES}
    planted: dict[str, Planted] = {}
    for index, row in enumerate(seed_rows):
        key_type, key = row["key_type"], row["key"]
        label = f"{key_type}:{key}"
        if key_type == "brand_name":
            normalized = normalize_name(key)
            if normalized is None or normalized in unmatched or normalized in planted:
                continue
            canonical, others = sample_names.get(normalized, (display_name(key), ()))
            planted[normalized] = Planted(canonical, "Home & Kitchen", tuple(others), suppression=label)
        elif key_type == "store_slug":
            name = f"{names.word(10_000_000 + index)} Goods"  # nothing in the name gives the slug away
            slug = key[0].upper() + key[1:]
            planted[normalize_name(name) or name] = Planted(
                name, "Beauty & Personal Care", slug=slug, suppression=label
            )
        elif key_type in ("email", "domain"):
            address = key.strip().lower()
            domain = address.rpartition("@")[2] if key_type == "email" else address.removeprefix("www.")
            stem = domain.split(".")[0].removeprefix("get")
            name = display_name(stem)
            contact = address if key_type == "email" else f"hello@{domain}"
            planted[normalize_name(name) or name] = Planted(
                name, "Grocery & Gourmet Food", domain=domain, contact_email=contact, suppression=label
            )
    return list(planted.values())


# ---------------------------------------------------------------------------------------------
# Writers (streaming).
# ---------------------------------------------------------------------------------------------


class PageSetWriter:
    """`brands/search` pages as DirectoryPageFetcher replays them: `first.json`, then
    `<nextPageId>.json`. A page is written once the next item exists (so its cursor is known);
    `dataCount` (the total) is patched into every page at the end."""

    PREFIX = '{"dataCount":'
    WIDTH = 12

    def __init__(self, folder: Path, page_size: int = PAGE_SIZE) -> None:
        self.folder = folder
        self.page_size = page_size
        folder.mkdir(parents=True, exist_ok=True)
        self.buffer: list[str] = []
        self.pages = 0
        self.items = 0

    def add(self, item: dict[str, Any]) -> None:
        if len(self.buffer) == self.page_size:
            self._write(last=False)
        self.buffer.append(dumps(item))
        self.items += 1

    def _path(self, number: int) -> Path:
        return self.folder / ("first.json" if number == 1 else f"{page_id(number)}.json")

    def _write(self, *, last: bool) -> None:
        self.pages += 1
        next_id = None if last else page_id(self.pages + 1)
        paging = json.dumps({"hasMoreRecords": not last, "nextPageId": next_id}, sort_keys=True)
        body = ",\n".join(self.buffer)
        text = f'{self.PREFIX}{" " * self.WIDTH},"paging":{paging},"data":[\n{body}\n]}}\n'
        self._path(self.pages).write_text(text, encoding="utf-8")
        self.buffer = []

    def close(self) -> int:
        self._write(last=True)
        total = f"{self.items:>{self.WIDTH}}".encode()
        for number in range(1, self.pages + 1):
            with self._path(number).open("r+b") as handle:
                handle.seek(len(self.PREFIX))
                handle.write(total)
        return self.pages


class JsonLinesWriter:
    """Webhook deliveries, `EVENTS_PER_FILE` lines per `webhook_events-NNNN.jsonl`."""

    def __init__(self, folder: Path, lines_per_file: int = EVENTS_PER_FILE) -> None:
        self.folder = folder
        self.lines_per_file = lines_per_file
        folder.mkdir(parents=True, exist_ok=True)
        self.handle: IO[str] | None = None
        self.files = 0
        self.lines = 0

    def write(self, line: str) -> None:
        if self.handle is None or self.lines % self.lines_per_file == 0:
            self._rotate()
        assert self.handle is not None
        self.handle.write(line)
        self.handle.write("\n")
        self.lines += 1

    def _rotate(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.files += 1
        path = self.folder / f"webhook_events-{self.files:04d}.jsonl"
        self.handle = path.open("w", encoding="utf-8", newline="\n")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


class ApolloWriter:
    """`apollo/organizations.json`: a JSON list, one `{organization, people}` per line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("w", encoding="utf-8", newline="\n")
        self.handle.write("[")
        self.orgs = 0

    def write(self, entry: dict[str, Any]) -> None:
        self.handle.write(",\n" if self.orgs else "\n")
        self.handle.write(dumps(entry))
        self.orgs += 1

    def close(self) -> None:
        self.handle.write("\n]\n")
        self.handle.close()


class ExportWriter:
    """A SmartScout UI export: banner row, header, rows as the UI formats them."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow([EXPORT_BANNER] + [""] * (len(header) - 1))
        self.writer.writerow(header)
        self.rows = 0

    def write(self, row: list[str]) -> None:
        self.writer.writerow(row)
        self.rows += 1

    def close(self) -> None:
        self.handle.close()


# ---------------------------------------------------------------------------------------------
# Brands, exports and Apollo (one pass).
# ---------------------------------------------------------------------------------------------


@dataclass
class Counts:
    """Everything the manifest reports, counted while writing."""

    values: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, amount: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + amount

    def __getitem__(self, key: str) -> int:
        return self.values.get(key, 0)


MALFORMED = ("null_name", "blank_name", "revenue_not_a_number", "negative_revenue", "rating_with_comma")


class BrandGenerator:
    def __init__(self, rng: random.Random, out: Path, size: Size, planted: list[Planted], names: Names) -> None:
        self.rng = rng
        self.size = size
        self.names = names
        self.counts = Counts()
        self.pages = PageSetWriter(out / "smartscout" / f"brands_search_{MARKETPLACE}", size.page_size)
        self.day2_pages = PageSetWriter(out / "day2" / "smartscout" / f"brands_search_{MARKETPLACE}", size.page_size)
        self.export = ExportWriter(out / "smartscout" / "brands_export.csv", EXPORT_HEADER)
        self.variant_export = ExportWriter(
            out / "smartscout" / "brands_export_variant_headers.csv", VARIANT_EXPORT_HEADER
        )
        self.apollo = ApolloWriter(out / "apollo" / "organizations.json")
        self.planted = planted
        self.contacted: list[Recipient] = []  # Apollo contacts that are in the events
        self.reserve: list[Recipient] = []  # clean Apollo contacts not emailed yet (day 2 sends)
        self.next_index = 0
        self.coverage = RATES["apollo_people_per_brand"] / MEAN_PEOPLE_PER_ORG

    def fresh(self, category: str) -> str:
        self.next_index += 1
        return self.names.brand_name(self.rng, self.next_index, category)

    # -- API brands --------------------------------------------------------------------------

    def run(self) -> Counts:
        api_brands = self.size.brands - round(self.size.brands * RATES["csv_only_brands"])
        api_brands -= round(self.size.brands * RATES["variant_header_brands"])
        planted_at = dict(zip(self.rng.sample(range(api_brands), len(self.planted)), self.planted, strict=True))
        carried: list[dict[str, Any]] = []  # exact duplicates, re-sent a few items later
        for index in range(api_brands):
            for item in carried:
                self.pages.add(item)
                self.day2_pages.add(item)
                self.counts.add("api_items")
                self.counts.add("day2_api_items")
            carried = self.api_brand(planted_at.get(index))
        for item in carried:
            self.pages.add(item)
            self.day2_pages.add(item)
            self.counts.add("api_items")
            self.counts.add("day2_api_items")
        for _ in range(round(api_brands * RATES["day2_new"])):
            category = pick_category(self.rng)
            brand = new_brand(self.rng, self.fresh(category), category, "api")
            self.day2_pages.add(brand_item(brand))
            self.counts.add("day2_api_items")
            self.counts.add("day2_new_brands")
            self.maybe_apollo(brand, day2=True)
        self.csv_only_brands()
        self.counts.add("api_pages", self.pages.close())
        self.counts.add("day2_api_pages", self.day2_pages.close())
        self.export.close()
        self.variant_export.close()
        self.apollo.close()
        return self.counts

    def api_brand(self, planted: Planted | None) -> list[dict[str, Any]]:
        """Write one API brand's items; return the items to re-send as exact duplicates."""
        rng = self.rng
        kind = None if planted else self.pick_kind()
        if kind == "cjk_name":
            name, kind = self.cjk_name(), None
            category = pick_category(rng)
        elif planted is not None:
            name, category = planted.name, planted.category
        else:
            category = pick_category(rng)
            name = self.fresh(category)
        brand = new_brand(rng, name, category, "api")
        if planted is not None:
            self.plant(brand, planted)
        item = brand_item(brand)
        self.counts.add("api_brands")
        self.counts.add("api_items")
        if kind is not None:
            self.malformed(brand, item, kind)
        elif rng.random() < RATES["schema_drift"]:
            item["tiktokShopUrl"] = TIKTOK.format(fold_ascii(name) or "shop")
            self.counts.add("schema_drift_items")
        if name != name.encode("ascii", "ignore").decode():
            self.counts.add("non_ascii_brands")
        self.pages.add(item)
        self.day2(brand, item)
        if not brand.is_quarantined:
            self.spelling_variants(brand, planted)
            self.maybe_export(brand)
        self.maybe_apollo(brand, planted)
        if not brand.is_quarantined and rng.random() < RATES["exact_duplicate"]:
            self.counts.add("exact_duplicate_items")
            return [item]
        return []

    def cjk_name(self) -> str:
        self.counts.add("cjk_brands")
        number, digits = self.counts["cjk_brands"], ""
        while number:
            number, digit = divmod(number, len(CJK_DIGITS))
            digits += CJK_DIGITS[digit]
        return f"{digits}工房"

    def pick_kind(self) -> str | None:
        draw = self.rng.random()
        for kind in ("cjk_name", *MALFORMED):
            draw -= RATES[kind]
            if draw < 0:
                return kind
        return None

    def plant(self, brand: Brand, planted: Planted) -> None:
        self.counts.add("planted_brands")
        if planted.slug is not None:
            brand.metrics["hasStorefront"] = True
            brand.slug = planted.slug
            brand.storefront_url = f"https://www.amazon.com/stores/{planted.slug}/page/{rng_uuid(self.rng).upper()}"
        if planted.domain is not None:
            brand.domain = planted.domain
        brand.spellings.extend(planted.spellings)

    def malformed(self, brand: Brand, item: dict[str, Any], kind: str) -> None:
        """The brand's only observation cannot be cleaned (CLEAN quarantines it)."""
        brand.is_quarantined = True
        item["storefrontUrl"] = None
        item["hasStorefront"] = False
        if kind == "null_name":
            item["brandName"] = None
        elif kind == "blank_name":
            item["brandName"] = "   "
        elif kind == "revenue_not_a_number":
            item["monthlyRevenue"] = "n/a"
        elif kind == "negative_revenue":
            item["monthlyRevenue"] = -round(abs(brand.revenue or 1843.5), 2)
        elif kind == "rating_with_comma":
            item["reviewRating"] = "4,5"
        if kind in ("null_name", "blank_name"):
            self.counts.add("nameless_items")
            self.counts.add("api_brands", -1)  # an item without a brand
        else:
            self.counts.add("quarantined_api_brands")
        self.counts.add(f"{kind}_items")

    def day2(self, brand: Brand, item: dict[str, Any]) -> None:
        """Tomorrow's re-scan: the same item, or (for a few brands) moved metrics."""
        self.counts.add("day2_api_items")
        if not brand.is_quarantined and self.rng.random() < RATES["day2_changed"]:
            self.day2_pages.add(perturbed_item(self.rng, brand, brand.name))
            self.counts.add("day2_changed_brands")
        else:
            self.day2_pages.add(item)

    def spelling_variants(self, brand: Brand, planted: Planted | None) -> None:
        spellings = list(planted.spellings) if planted is not None else []
        if not spellings and self.rng.random() < RATES["spelling_variant"]:
            spellings.append(variant_spelling(self.rng, brand.name))
        for spelling in spellings:
            variant = perturbed_item(self.rng, brand, spelling)
            self.pages.add(variant)
            self.day2_pages.add(variant)
            self.counts.add("api_items")
            self.counts.add("day2_api_items")
            self.counts.add("spelling_variant_items")

    def maybe_export(self, brand: Brand) -> None:
        """A few API brands are in the UI export too, a third of them spelled otherwise."""
        if self.rng.random() >= RATES["csv_overlap"]:
            return
        spelling = respell(self.rng, brand.name) if self.rng.random() < 1 / 3 else brand.name
        if normalize_name(spelling) != normalize_name(brand.name):
            spelling = brand.name
        self.export.write(export_row(self.rng, reobserved(self.rng, brand), spelling))
        self.counts.add("export_rows")
        self.counts.add("export_overlap_rows")
        self.counts.add("export_respelled_rows", spelling != brand.name)

    def csv_only_brands(self) -> None:
        rng = self.rng
        for _ in range(round(self.size.brands * RATES["csv_only_brands"])):
            category = pick_category(rng)
            brand = new_brand(rng, self.fresh(category), category, "csv_export")
            row = export_row(rng, brand, brand.name)
            draw = rng.random()
            if draw < RATES["garbage_revenue"]:
                row[EXPORT_HEADER.index("Estimated Monthly Revenue")] = "$12abc"
                brand.is_quarantined = True
                self.counts.add("export_garbage_revenue_rows")
            elif draw < RATES["garbage_revenue"] + RATES["empty_brand"]:
                row[0] = ""
                self.counts.add("export_empty_brand_rows")
                self.export.write(row)
                self.counts.add("export_rows")
                continue  # an empty name is no brand
            elif draw < RATES["garbage_revenue"] + RATES["empty_brand"] + RATES["short_row"]:
                self.export.write(row[:6])  # the UI cut the line: raw.rejected_records
                self.counts.add("export_short_rows")
                continue
            self.export.write(row)
            self.counts.add("export_rows")
            self.counts.add("csv_only_brands")
            self.counts.add("quarantined_csv_brands", brand.is_quarantined)
            self.maybe_apollo(brand)
        for _ in range(round(self.size.brands * RATES["variant_header_brands"])):
            category = pick_category(rng)
            brand = new_brand(rng, self.fresh(category), category, "csv_variant_headers")
            self.variant_export.write(variant_export_row(rng, brand))
            self.counts.add("variant_export_rows")
            self.maybe_apollo(brand)

    # -- Apollo ------------------------------------------------------------------------------

    def maybe_apollo(self, brand: Brand, planted: Planted | None = None, *, day2: bool = False) -> None:
        """Apollo knows about a fifth of the brands, the bigger ones more often (and every
        planted one). Nobody at a brand first listed tomorrow has been emailed yet."""
        weight = 1.6 if (brand.revenue or 0) > REVENUE_MEDIAN else 0.4
        if planted is None and (brand.is_quarantined or self.rng.random() >= self.coverage * weight):
            return
        if not ascii_words(brand.name):
            return  # no Latin name, no web domain to find people by
        org = make_org(self.rng, brand)
        count = weighted_choice(self.rng, PEOPLE_PER_ORG)
        people: list[dict[str, Any]] = []
        emails: set[str] = set()
        for position in range(count):
            record = make_person(
                self.rng, org, brand, pick_title(self.rng, position), weighted_choice(self.rng, EMAIL_STATUSES)
            )
            if record["email"] in emails:
                continue  # a namesake at the same company: Apollo lists one
            emails.add(record["email"])
            people.append(record)
        if planted is not None and planted.contact_email is not None:
            set_email(people[0], planted.contact_email, "verified")
        for position, record in enumerate(people):
            keep = position == 0 and planted is not None and planted.contact_email is not None
            self.person(record, brand, spoil=not keep, may_be_contacted=not day2)
        if self.rng.random() < RATES["shared_agency_email"]:
            agency = make_person(self.rng, org, brand, OTHER_TITLES[0], "verified")
            agency.update({"first_name": "Alex", "last_name": "Rivera", "name": "Alex Rivera"})
            set_email(agency, SHARED_AGENCY_EMAIL, "verified")
            people.append(agency)
            self.counts.add("apollo_people")
            self.counts.add("apollo_shared_agency_people")
        self.apollo.write({"organization": org, "people": people})
        self.counts.add("apollo_orgs")

    def person(self, record: dict[str, Any], brand: Brand, *, spoil: bool, may_be_contacted: bool) -> None:
        """Count the person, spoil a few emails, and pick who was already emailed."""
        self.counts.add("apollo_people")
        f, last, domain = fold_ascii(record["first_name"]), fold_ascii(record["last_name"]), brand.domain
        draw = self.rng.random() if spoil else 1.0
        awkward = True
        if draw < RATES["invalid_email"]:
            bad = self.rng.choice(INVALID_EMAILS).format(f=f, l=last, d=domain)
            set_email(record, bad, "unverified")
            self.counts.add("apollo_invalid_emails")
        elif (draw := draw - RATES["invalid_email"]) < RATES["padded_upper_email"]:
            set_email(record, f" {record['email'][0].upper()}{record['email'][1:]} ", "verified")
            self.counts.add("apollo_padded_emails")
        elif (draw := draw - RATES["padded_upper_email"]) < RATES["null_email"]:
            set_email(record, None, "unavailable")
            self.counts.add("apollo_null_emails")
        elif draw - RATES["null_email"] < RATES["placeholder_email"]:
            set_email(record, "email_not_unlocked@domain.com", None)
            self.counts.add("apollo_placeholder_emails")
        else:
            awkward = False
        person = Person(record, brand, is_awkward=awkward)
        if not is_clean_verified(person) or brand.is_quarantined:
            return
        recipient = Recipient(
            email=record["email"],
            first_name=record["first_name"],
            last_name=record["last_name"],
            company=brand.name,
            campaign_id=campaign_for(brand.revenue),
            lead_id=self.rng.randint(1_000_000, 9_999_999),
            sender=self.rng.choice(SENDERS),
        )
        if may_be_contacted and self.rng.random() < RATES["contacted"]:
            self.contacted.append(recipient)
        elif len(self.reserve) < 10_000:
            self.reserve.append(recipient)


def campaign_for(revenue: float | None) -> int:
    if (revenue or 0) > 100_000:
        return 1001
    return 1002 if (revenue or 0) > REVENUE_MEDIAN else 1003


# ---------------------------------------------------------------------------------------------
# Smartlead webhook deliveries.
# ---------------------------------------------------------------------------------------------


def sequence(
    rng: random.Random, recipient: Recipient, start: datetime, outcome: str, reply: tuple[str, str] | None
) -> Iterator[Event]:
    """One lead through a 4-step sequence: each email opened a few times, now and then a
    click, until it bounces, unsubscribes, replies or the sequence ends."""
    at = start
    stop_step = rng.randint(1, SEQUENCE_STEPS)
    for step in range(1, SEQUENCE_STEPS + 1):
        sent, stats_id = sent_event(rng, recipient, at, step)
        yield sent
        if outcome == "bounce":
            at += timedelta(minutes=rng.randint(1, 4))
            yield flat_event(recipient, "EMAIL_BOUNCE", at, step, stats_id, bounce_message=HARD_BOUNCE)
            return
        now = at
        for _ in range(weighted_choice(rng, OPENS_PER_EMAIL)):
            now += timedelta(minutes=rng.randint(20, 2000))
            yield flat_event(recipient, "EMAIL_OPEN", now, step, stats_id, time_opened=iso_z(now))
        if rng.random() < 0.12:
            now += timedelta(minutes=rng.randint(1, 30))
            yield flat_event(
                recipient,
                "EMAIL_LINK_CLICK",
                now,
                step,
                stats_id,
                time_clicked=iso_z(now),
                link_clicked=[CAMPAIGN_LINK],
            )
        if step == stop_step and outcome == "unsubscribe":
            now += timedelta(minutes=rng.randint(2, 90))
            yield flat_event(recipient, "LEAD_UNSUBSCRIBED", now, step, stats_id)
            return
        if step == stop_step and reply is not None:
            now += timedelta(hours=rng.randint(2, 40))
            yield reply_event(rng, recipient, now, step, stats_id, reply[1])
            now += timedelta(hours=rng.randint(1, 18))
            category = {"new_name": reply[0], "old_name": None}
            yield flat_event(recipient, "LEAD_CATEGORY_UPDATED", now, step, stats_id, lead_category=category)
            return
        at += timedelta(days=rng.randint(3, 5), minutes=rng.randint(0, 180))


def pick_outcome(rng: random.Random) -> tuple[str, tuple[str, str] | None]:
    draw = rng.random()
    if draw < RATES["bounce"]:
        return "bounce", None
    if (draw := draw - RATES["bounce"]) < RATES["unsubscribe"]:
        return "unsubscribe", None
    if draw - RATES["unsubscribe"] < RATES["reply"]:
        return "reply", rng.choice(POSITIVE_REPLIES + OTHER_REPLIES)
    return "plain", None


class EventWriter:
    """Serializes events with the delivery noise of a real webhook feed."""

    def __init__(self, rng: random.Random, writer: JsonLinesWriter, counts: Counts, prefix: str) -> None:
        self.rng = rng
        self.writer = writer
        self.counts = counts
        self.prefix = prefix
        self.redeliverable: list[str] = []  # a reservoir of lines for tomorrow's re-deliveries
        self.seen = 0

    def event(self, event: Event, recipient: Recipient) -> None:
        payload = event.payload
        if payload["event_type"] in NEW_ENVELOPE_NAMES and self.rng.random() < NEW_ENVELOPE_RATE:
            payload = to_new_envelope(event, recipient).payload
            self.counts.add(f"{self.prefix}new_envelope_lines")
        line = dumps(payload)
        self.line(line, ordinary=True)
        if payload.get("event_type") == "EMAIL_REPLY" and self.rng.random() < RATES["both_envelopes"]:
            self.line(dumps(to_new_envelope(event, recipient).payload), ordinary=True)
            self.counts.add(f"{self.prefix}both_envelope_replies")

    def line(self, line: str, *, ordinary: bool = False, valid: bool = True) -> None:
        self.writer.write(line)
        self.counts.add(f"{self.prefix}lines")
        self.counts.add(f"{self.prefix}valid_lines", valid)
        if not ordinary:
            return
        self.seen += 1
        if len(self.redeliverable) < 2_000:
            self.redeliverable.append(line)
        elif self.rng.random() < 2_000 / self.seen:
            self.redeliverable[self.rng.randrange(2_000)] = line
        if self.rng.random() < RATES["duplicate_delivery"]:
            self.writer.write(line)
            self.counts.add(f"{self.prefix}lines")
            self.counts.add(f"{self.prefix}valid_lines")
            self.counts.add(f"{self.prefix}duplicate_lines")

    def special(self, kind: str, recipient: Recipient, at: datetime) -> None:
        """Deliveries CLEAN must quarantine (or the loader reject)."""
        self.counts.add(f"{self.prefix}special_{kind}")
        if kind == "truncated":
            self.line(TRUNCATED_LINE, valid=False)
            return
        event = flat_event(recipient, "EMAIL_OPEN", at, 1, rng_uuid(self.rng), time_opened=iso_z(at))
        if kind == "unknown_type":
            event.payload["event_type"] = "EMAIL_TELEPORTED"
        elif kind == "no_recipient":
            del event.payload["to_email"]
        else:
            event.payload["event_timestamp"] = "yesterday"
        self.line(dumps(event.payload))


SPECIAL_KINDS = ("unknown_type", "no_recipient", "bad_timestamp", "truncated")


class ExternalRecipients:
    """Leads the agency emails that Apollo never gave us (other lead sources)."""

    def __init__(self, rng: random.Random, names: Names) -> None:
        self.rng = rng
        self.names = names
        self.count = 0

    def next(self) -> Recipient:
        self.count += 1
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        word = self.names.word(20_000_000 + self.count)
        return Recipient(
            email=f"{fold_ascii(first)}.{fold_ascii(last)}@{word.lower()}.com",
            first_name=first,
            last_name=last,
            company=f"{word} {rng.choice(('Brands', 'Goods', 'Supply', 'Labs'))}",
            campaign_id=rng.choice(tuple(CAMPAIGNS)),
            lead_id=rng.randint(1_000_000, 9_999_999),
            sender=rng.choice(SENDERS),
        )


def write_events(
    rng: random.Random, out: Path, target: int, apollo: list[Recipient], names: Names, counts: Counts
) -> tuple[EventWriter, list[tuple[Recipient, datetime]]]:
    """Day 1: timelines of Apollo and external recipients until `target` lines are written."""
    writer = EventWriter(rng, JsonLinesWriter(out / "smartlead"), counts, "")
    external = ExternalRecipients(rng, names)
    specials = max(1, round(target * RATES["special_line"]))
    special_at = sorted((rng.randrange(max(1, target)), kind) for kind in SPECIAL_KINDS for _ in range(specials))
    expected_recipients = max(1, target // 9)
    apollo_share = min(1.0, len(apollo) / expected_recipients)
    pending = list(apollo)
    rng.shuffle(pending)
    late: list[tuple[Recipient, datetime]] = []  # recipients whose late opens arrive tomorrow
    window_days = (EVENTS_END - EVENTS_START).days
    while writer.writer.lines < target:
        if pending and rng.random() < apollo_share:
            recipient = pending.pop()
            counts.add("recipients_apollo")
        else:
            recipient = external.next()
            counts.add("recipients_external")
        start = EVENTS_START + timedelta(days=rng.randint(0, window_days - 3), minutes=rng.randint(0, 600))
        outcome, reply = pick_outcome(rng)
        last_sent = start
        for event in sequence(rng, recipient, start, outcome, reply):
            if event.at > EVENTS_END:
                break  # scheduled after the window: never sent
            writer.event(event, recipient)
            last_sent = event.at
        while special_at and special_at[0][0] <= writer.writer.lines:
            writer.special(special_at.pop(0)[1], recipient, last_sent)
        if outcome == "plain" and len(late) < 5_000 and rng.random() < 0.05:
            late.append((recipient, last_sent))
    counts.add("unused_apollo_recipients", len(pending))
    writer.writer.close()
    counts.add("event_files", writer.writer.files)
    return writer, late


def write_day2_events(
    rng: random.Random,
    out: Path,
    target: int,
    day1: EventWriter,
    late: list[tuple[Recipient, datetime]],
    reserve: list[Recipient],
    names: Names,
    counts: Counts,
) -> None:
    """Tomorrow's deliveries: new sends, late opens/replies of earlier emails, re-deliveries."""
    writer = EventWriter(rng, JsonLinesWriter(out / "day2" / "smartlead"), counts, "day2_")
    external = ExternalRecipients(rng, names)
    external.count = 5_000_000  # other addresses than day 1's
    for line in rng.sample(day1.redeliverable, min(len(day1.redeliverable), max(1, target // 20))):
        writer.writer.write(line)  # a webhook retried a day later: the same event again
        counts.add("day2_lines")
        counts.add("day2_valid_lines")
        counts.add("day2_redelivered_lines")
    for recipient, last_sent in late[: max(1, target // 4)]:
        at = min(last_sent + timedelta(days=rng.randint(1, 9)), DAY2_START - timedelta(minutes=5))
        stats_id = rng_uuid(rng)
        writer.event(flat_event(recipient, "EMAIL_OPEN", at, 1, stats_id, time_opened=iso_z(at)), recipient)
        counts.add("day2_late_events")
    fresh = list(reserve)
    rng.shuffle(fresh)
    while writer.writer.lines < target:
        recipient = fresh.pop() if fresh and rng.random() < 0.3 else external.next()
        start = DAY2_START + timedelta(minutes=rng.randint(0, 60 * 36))
        outcome, reply = pick_outcome(rng)
        for event in sequence(rng, recipient, start, outcome, reply):
            if event.at > DAY2_END:
                break
            writer.event(event, recipient)
    writer.writer.close()
    counts.add("day2_event_files", writer.writer.files)


# ---------------------------------------------------------------------------------------------
# The whole dataset.
# ---------------------------------------------------------------------------------------------


def expected_rows(c: Counts) -> dict[str, int]:
    """What a correct load of this data holds (the benchmark checks its warehouse against it)."""
    day1_api = c["api_items"] - c["exact_duplicate_items"]
    day2_new_api = c["day2_changed_brands"] + c["day2_new_brands"]
    return {
        "raw_smartscout_api_rows_day1": day1_api,
        "raw_smartscout_api_rows_day2": day1_api + day2_new_api,
        "raw_smartscout_csv_rows": c["export_rows"] + c["variant_export_rows"],
        "raw_rejected_smartscout": c["export_short_rows"],
        "raw_smartlead_events_day1": c["valid_lines"] - c["duplicate_lines"],
        "raw_smartlead_events_day2": c["valid_lines"]
        - c["duplicate_lines"]
        + c["day2_valid_lines"]
        - c["day2_duplicate_lines"]
        - c["day2_redelivered_lines"],
        "raw_rejected_smartlead_day1": c["special_truncated"],
        "clean_brands_day1": c["api_brands"]
        - c["quarantined_api_brands"]
        + c["csv_only_brands"]
        - c["quarantined_csv_brands"]
        + c["variant_export_rows"],
        "clean_brands_day2": c["api_brands"]
        - c["quarantined_api_brands"]
        + c["csv_only_brands"]
        - c["quarantined_csv_brands"]
        + c["variant_export_rows"]
        + c["day2_new_brands"],
    }


def generate(size_name: str, out: Path, seed: int = SEED, suppression_seed: Path = SUPPRESSION_SEED) -> dict[str, Any]:
    """Write the dataset for `size_name` into `out` (replacing a previous one) and its manifest."""
    size = SIZES[size_name]
    started = time.perf_counter()
    for stale in ("smartscout", "apollo", "smartlead", "day2", "manifest.json"):
        path = out / stale
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{size_name}")
    seed_rows = read_suppression_seed(suppression_seed)
    reserved = {word for row in seed_rows for word in (normalize_name(row["key"]) or "").split()}
    reserved |= {word for name, *_ in VARIANT_GROUPS for word in (normalize_name(name) or "").split()}
    reserved |= {word for word in (normalize_name(SCHEMA_DRIFT_BRAND) or "").split()}
    names = Names(reserved)
    planted = planted_brands(seed_rows, names)
    brands = BrandGenerator(rng, out, size, planted, names)
    counts = brands.run()
    day1, late = write_events(rng, out, size.events, brands.contacted, names, counts)
    day2_target = max(10, round(size.events * RATES["day2_events"]))
    write_day2_events(rng, out, day2_target, day1, late, brands.reserve, names, counts)
    manifest: dict[str, Any] = {
        "size": size_name,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "target": {"brands": size.brands, "contacts": size.contacts, "events": size.events},
        "rates": RATES,
        "page_size": size.page_size,
        "counts": dict(sorted(counts.values.items())),
        "expected": expected_rows(counts),
        "planted": [{"name": p.name, "suppression": p.suppression} for p in planted],
        "seconds": round(time.perf_counter() - started, 2),
        "bytes": sum(path.stat().st_size for path in out.rglob("*") if path.is_file()),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def is_current(out: Path, size_name: str, seed: int = SEED) -> bool:
    """A complete dataset from this generator version for this size and seed is already there."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        manifest.get("size") == size_name
        and manifest.get("seed") == seed
        and manifest.get("generator_version") == GENERATOR_VERSION
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    parser.add_argument("--out", type=Path, help="output folder (default: benchmarks/data/<size>)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="regenerate even if the data is current")
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_DATA_ROOT / args.size
    if not args.force and is_current(out, args.size, args.seed):
        print(f"{out}: current (use --force to regenerate)")
        return 0
    manifest = generate(args.size, out, args.seed)
    counts = manifest["counts"]
    print(
        f"{out}: {counts['api_brands'] + counts['csv_only_brands'] + counts['variant_export_rows']} brands, "
        f"{counts['apollo_people']} Apollo people, {counts['lines']} webhook lines (+{counts['day2_lines']} "
        f"tomorrow), {manifest['bytes'] / 1e6:.0f} MB in {manifest['seconds']:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
