from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from loader_test_support import Warehouse

from loaders.common import LoadSummary, rows_to_arrow
from loaders.smartscout import (
    DirectoryPageFetcher,
    PageCursor,
    clean_csv_value,
    load_brand_pages,
    load_brands_export,
    parse_brand_page,
    parse_brands_export_csv,
)
from loaders.smartscout.helpers import brand_item_hash, brand_items_table, brand_page_items
from loaders.smartscout.settings import BRAND_COLUMNS as SMARTSCOUT_BRAND_COLUMNS

AT = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
BRAND_COLUMNS = [
    "record_hash", "marketplace", "brand_name", "category_name", "subcategory_name", "subcategory_id",
    "monthly_revenue", "monthly_units_sold", "month_growth", "month_growth12", "trailing12_months",
    "total_products", "total_reviews", "review_rating", "avg_price", "avg_volume", "avg_sellers",
    "avg_fba_sellers", "amazon_isr", "brand_score", "has_storefront", "has_single_seller",
    "dominant_seller_profile_id", "dominant_seller_brand_coverage", "storefront_url", "extra_fields_json",
    "source_kind", "source_file", "source_row_number", "fetched_at",
]  # fmt: skip


class MemoryFetcher:
    """Pages keyed by page id (None = first); records what was asked for."""

    def __init__(self, pages: dict[str | None, Any]) -> None:
        self.pages = pages
        self.requested: list[str | None] = []

    def fetch_page(self, page_id: str | None) -> Any:
        self.requested.append(page_id)
        return self.pages[page_id]


def envelope(data: Any, next_page_id: str | None, has_more: bool) -> dict[str, Any]:
    return {"dataCount": 99, "paging": {"nextPageId": next_page_id, "hasMoreRecords": has_more}, "data": data}


BRAND = [{"brandName": "A"}]


def test_parse_brand_page_maps_fields_keeps_extras_and_rejects_non_objects(fixtures_dir: Path) -> None:
    page = json.loads((fixtures_dir / "smartscout/brands_search_US/first.json").read_text())
    rows, rejected = parse_brand_page(page, "US", "page-1", AT)

    assert [row["brand_name"] for row in rows] == ["Acme Kitchen", "Béton Brut"]
    acme = rows[0]
    assert acme["subcategory_id"] == "3743561"
    assert acme["monthly_revenue"] == "1234.5"
    assert acme["monthly_units_sold"] == "120"
    assert acme["month_growth"] == "-3.25"
    assert acme["month_growth12"] == "41.0"
    assert acme["has_storefront"] == "true"
    assert acme["has_single_seller"] == "false"
    assert acme["storefront_url"] is None
    assert json.loads(acme["extra_fields_json"]) == {"sellerNote": {"tier": "gold", "tags": ["a", "b"]}}
    assert (acme["source_kind"], acme["source_file"], acme["source_row_number"]) == ("api", "page-1", 1)
    assert rows[1]["monthly_revenue"] == "n/a"  # garbage kept as text for CLEAN to quarantine
    assert rows[1]["source_row_number"] == 3

    assert len(rejected) == 1
    assert rejected[0]["source_row_number"] == 2
    assert rejected[0]["raw_text"] == '"not a brand"'
    assert rejected[0]["reason"] == "brand item is not a JSON object (str)"


def test_record_hash_depends_on_content_and_marketplace_only() -> None:
    item = {"brandName": "A", "monthlyRevenue": 1.5}
    (us1,), _ = parse_brand_page(envelope([item], None, False), "US", "page-1", AT)
    (us2,), _ = parse_brand_page(envelope([dict(reversed(item.items()))], None, False), "US", "page-7", AT)
    (uk,), _ = parse_brand_page(envelope([item], None, False), "UK", "page-1", AT)
    (changed,), _ = parse_brand_page(envelope([{**item, "monthlyRevenue": 2}], None, False), "US", "page-1", AT)
    assert us1["record_hash"] == us2["record_hash"]
    assert len({us1["record_hash"], uk["record_hash"], changed["record_hash"]}) == 3


@pytest.mark.parametrize(
    "body",
    [
        '{"data": [{"brandName": "A", "monthlyRevenue": 12.5, "totalReviews": 18446744073709551615}]}',
        '{"data": [{"brandName": "Big", "monthlyRevenue": 123456789012345678901234567890}]}',  # > 64 bits
        '{"data": [{"brandName": "Long", "monthlyRevenue": 0.123456789012345678901234567}]}',
        '{"data": [{"brandName": "NaN", "monthlyRevenue": NaN, "avgPrice": -Infinity}]}',
        '{"data": [{"brandName": "\\ud800 lone", "avgPrice": 1e400}]}',
        '{"data": [{"brandName": "B\u00e9ton \\ud83d\\ude00", "avgPrice": -0.0, "x": [1, {"y": null}]}]}',
    ],
)
def test_pages_are_read_exactly_as_json_reads_them(tmp_path: Path, body: str) -> None:
    """The fast parser is used only where it gives json's values; record_hash depends on them."""
    (tmp_path / "first.json").write_text(body, encoding="utf-8")
    expected = json.loads(body)
    page = DirectoryPageFetcher(tmp_path).fetch_page(None)
    assert json.dumps(page, sort_keys=True) == json.dumps(expected, sort_keys=True)
    if "lone" in body:  # a lone surrogate cannot be hashed (UTF-8): the item is rejected, naming the field
        rows, (rejection,) = parse_brand_page(page, "US", "page-1", AT)
        assert rows == [] and "lone surrogate" in rejection["reason"] and "`brandName`" in rejection["reason"]
        return
    (row,), _ = parse_brand_page(page, "US", "page-1", AT)
    (reference,), _ = parse_brand_page(expected, "US", "page-1", AT)
    assert row == reference


def test_brand_items_table_is_parse_brand_page_as_arrow(fixtures_dir: Path) -> None:
    """The column-by-column table the loader builds has the values of parse_brand_page's rows."""
    page = json.loads((fixtures_dir / "smartscout/brands_search_US/first.json").read_text())
    odd = [
        {"brandName": "Mixed", "monthlyRevenue": 12, "monthGrowth": -0.5, "hasStorefront": True, "x": None},
        {"brandName": 7, "monthlyRevenue": 1e-05, "hasStorefront": None, "subcategoryId": [1, {"a": 2}]},
        {"brandName": "Big", "monthlyRevenue": 123456789012345678901234567890, "monthGrowth": 1e16},
        {"brandName": "Ünïcode 中", "hasStorefront": "Yes", "amazonIsr": False, "extra": "é"},
    ]
    for envelope_ in (page, envelope(odd, None, False)):
        rows, rejected = parse_brand_page(envelope_, "US", "page-3", AT)
        items, items_rejected = brand_page_items(envelope_, "page-3", AT)
        hashes = [brand_item_hash("US", item) for _, item in items]
        table = brand_items_table(items, hashes, "US", "page-3", AT)
        assert table.equals(rows_to_arrow(rows, SMARTSCOUT_BRAND_COLUMNS))
        assert items_rejected == rejected


@pytest.mark.parametrize(
    ("pages", "expected_requests", "expected_reason"),
    [
        (
            {
                None: envelope(BRAND, "p2", True),
                "p2": envelope(BRAND, "p3", False),
                "p3": envelope(BRAND, None, False),
            },
            [None, "p2"],
            "no_more_records",
        ),
        (
            {
                None: envelope(BRAND, "p2", True),
                "p2": envelope(None, "p3", True),
                "p3": envelope(BRAND, None, False),
            },
            [None, "p2"],
            "empty_page",
        ),
        (
            {
                None: envelope(BRAND, "p2", True),
                "p2": envelope([], "p3", True),
                "p3": envelope(BRAND, None, False),
            },
            [None, "p2"],
            "empty_page",
        ),
        (
            {
                None: envelope(BRAND, "p2", True),
                "p2": envelope(BRAND, None, True),
                "p3": envelope(BRAND, None, False),
            },
            [None, "p2"],
            "no_next_page_id",
        ),
    ],
    ids=["has_more_false", "data_null", "data_empty", "next_id_missing"],
)
def test_page_cursor_stop_conditions(
    pages: dict[str | None, Any], expected_requests: list[str | None], expected_reason: str
) -> None:
    fetcher = MemoryFetcher(pages)
    cursor = PageCursor(fetcher)
    numbers = [page.number for page in cursor]
    assert fetcher.requested == expected_requests
    assert numbers == [1, 2]
    assert cursor.stop_reason == expected_reason


def test_page_cursor_stops_on_a_repeated_cursor() -> None:
    fetcher = MemoryFetcher({None: envelope(BRAND, "p2", True), "p2": envelope(BRAND, "p2", True)})
    cursor = PageCursor(fetcher)
    assert len(list(cursor)) == 2
    assert cursor.stop_reason == "repeated_page_id"


def test_directory_fetcher_follows_next_page_ids(fixtures_dir: Path) -> None:
    fetcher = DirectoryPageFetcher(fixtures_dir / "smartscout/brands_search_US")
    cursor = PageCursor(fetcher)
    assert [page.page_id for page in cursor] == [None, "c2Vjb25k", "dGhpcmQ"]
    assert cursor.stop_reason == "no_more_records"
    with pytest.raises(FileNotFoundError):
        fetcher.fetch_page("does-not-exist")


def test_load_brand_pages_twice_adds_no_rows(fixtures_dir: Path, warehouse: Warehouse) -> None:
    fetcher = DirectoryPageFetcher(fixtures_dir / "smartscout/brands_search_US")
    first = load_brand_pages(fetcher, "us", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT)
    assert (first.rows_loaded, first.rows_rejected, first.files_or_pages) == (4, 1, 3)
    assert (first.rows_with_new_fields, first.new_field_names) == (1, ["sellerNote"])
    assert "1 rows with new fields: sellerNote" in str(first)

    assert list(warehouse.column_types("smartscout_brands"))[: len(BRAND_COLUMNS)] == BRAND_COLUMNS
    types = warehouse.column_types("smartscout_brands")
    assert types["storefront_url"] == "VARCHAR"  # null in every item, still created as text
    assert types["source_row_number"] == "BIGINT"
    assert types["fetched_at"] == "TIMESTAMP WITH TIME ZONE"
    assert {"_dlt_load_id", "_dlt_id"} <= set(types)
    assert warehouse.rows(
        "select brand_name, marketplace, source_file, source_row_number, monthly_revenue "
        "from raw.smartscout_brands order by source_file, source_row_number"
    ) == [
        ("Acme Kitchen", "US", "page-1", 1, "1234.5"),
        ("Béton Brut", "US", "page-1", 3, "n/a"),
        ("Cobalt Outdoors", "US", "page-2", 1, "99000"),
        (None, "US", "page-2", 2, None),
    ]
    assert warehouse.count("rejected_records") == 1

    load_brand_pages(fetcher, "US", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT)
    assert warehouse.count("smartscout_brands") == 4
    assert warehouse.count("rejected_records") == 1
    assert warehouse.scalar("select count(distinct load_id) from raw._dlt_loads") == 2


def test_clean_csv_value_rules() -> None:
    assert clean_csv_value("$12,345.67", "monthly_revenue") == "12345.67"
    assert clean_csv_value("12.5%", "month_growth") == "12.5"
    assert clean_csv_value("-4.0%", "month_growth") == "-4.0"
    assert clean_csv_value("$ 2,500.00", "monthly_revenue") == "2500.00"
    assert clean_csv_value("N/A", "monthly_revenue") is None
    assert clean_csv_value("-", "amazon_isr") is None
    assert clean_csv_value("  ", "avg_price") is None
    assert clean_csv_value("$abc", "monthly_revenue") == "$abc"
    assert clean_csv_value("Yes", "has_storefront") == "true"
    assert clean_csv_value("NO", "has_storefront") == "false"
    assert clean_csv_value("Acme, Inc.", "brand_name") == "Acme, Inc."
    assert clean_csv_value("Acme, Inc.", None) == "Acme, Inc."
    assert clean_csv_value("1,000", None) == "1000"


def test_parse_brands_export_skips_banner_maps_headers_and_rejects_short_rows(fixtures_dir: Path) -> None:
    rows, rejected = parse_brands_export_csv(fixtures_dir / "smartscout/brands_export.csv", "US", AT)

    by_name = {row["brand_name"]: row for row in rows}
    assert list(by_name) == ["Acme Kitchen", "Béton Brut", "Delta Pets"]
    acme = by_name["Acme Kitchen"]
    assert acme["category_name"] == "Home & Kitchen"
    assert acme["monthly_revenue"] == "12345.67"
    assert acme["month_growth"] == "12.5"
    assert acme["review_rating"] == "4.6"
    assert acme["has_storefront"] == "true"
    assert acme["amazon_isr"] == "97"
    assert acme["total_products"] == "14"
    assert json.loads(acme["extra_fields_json"]) == {"Dominant Seller": "Acme, Inc."}
    assert (acme["source_kind"], acme["source_file"], acme["source_row_number"]) == (
        "csv_export",
        "brands_export.csv",
        3,
    )
    beton = by_name["Béton Brut"]
    assert [beton[c] for c in ("category_name", "monthly_revenue", "month_growth", "review_rating")] == [None] * 4
    assert beton["has_storefront"] == "false"
    assert json.loads(beton["extra_fields_json"]) == {"Dominant Seller": None}
    assert by_name["Delta Pets"]["source_row_number"] == 7  # blank line 6 counted, not loaded

    assert len(rejected) == 1
    assert rejected[0]["source"] == "smartscout"
    assert rejected[0]["source_file"] == "brands_export.csv"
    assert rejected[0]["source_row_number"] == 5
    assert rejected[0]["reason"] == "expected 9 cells, got 8"
    assert rejected[0]["raw_text"].startswith("Cobalt Outdoors,Sports,$abc")


def test_parse_brands_export_variant_headers(fixtures_dir: Path) -> None:
    rows, rejected = parse_brands_export_csv(fixtures_dir / "smartscout/brands_export_variant_headers.csv", "US", AT)
    assert rejected == []
    assert [
        (r["brand_name"], r["category_name"], r["monthly_revenue"], r["avg_sellers"], r["has_storefront"]) for r in rows
    ] == [
        ("Acme Kitchen", "Home & Kitchen", "12345.67", "1.5", "true"),
        ("Echo Audio", "Electronics", "2500.00", None, "false"),
    ]
    assert [r["total_products"] for r in rows] == ["14", "2"]
    assert [json.loads(r["extra_fields_json"]) for r in rows] == [
        {"Dominant Seller Name": "Acme, Inc."},
        {"Dominant Seller Name": None},
    ]
    assert [r["source_row_number"] for r in rows] == [3, 4]


def test_a_file_without_header_is_rejected_whole(tmp_path: Path) -> None:
    path = tmp_path / "not_an_export.csv"
    path.write_text("DATABASE / SMARTSCOUT\nfoo,bar\n1,2\n")
    rows, rejected = parse_brands_export_csv(path, "US", AT)
    assert rows == []
    assert [r["reason"] for r in rejected] == ["no header row with a brand column in the first 20 lines"]


def test_load_brands_export_twice_adds_no_rows(fixtures_dir: Path, warehouse: Warehouse) -> None:
    paths = [
        fixtures_dir / "smartscout/brands_export.csv",
        fixtures_dir / "smartscout/brands_export_variant_headers.csv",
    ]
    summary = load_brands_export(paths, "US", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT)
    assert (summary.rows_loaded, summary.rows_rejected, summary.files_or_pages) == (5, 1, 2)
    assert summary.rows_with_new_fields == 0  # Dominant Seller (Name, Country): known, kept as extras

    drifted = warehouse.duckdb_path.parent / "drifted.csv"
    drifted.write_text("Brand,Estimated Monthly Revenue,Dominant Seller,TikTok Shop\nZeta,$10,Z Co,Yes\n")
    summary = load_brands_export(drifted, "US", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT)
    assert "1 rows with new fields: TikTok Shop" in str(summary)
    assert warehouse.scalar("select extra_fields_json from raw.smartscout_brands where brand_name = 'Zeta'") == (
        '{"Dominant Seller":"Z Co","TikTok Shop":"true"}'  # cleaned like any cell
    )
    paths.append(drifted)
    assert warehouse.count("smartscout_brands") == 6
    assert warehouse.rows("select source_file, source_row_number, reason from raw.rejected_records") == [
        ("brands_export.csv", 5, "expected 9 cells, got 8")
    ]

    # a day later, the same exports again: nothing is landed, so nothing downstream moves
    again = load_brands_export(
        paths, "US", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT + timedelta(days=1)
    )
    assert (again.rows_loaded, again.details["unchanged"]) == (0, 6)
    assert warehouse.count("smartscout_brands") == 6
    assert warehouse.count("rejected_records") == 1
    assert warehouse.scalar("select count(*) from raw.rejected_records where rejected_at = ?", [AT]) == 1
    assert (
        warehouse.scalar(
            "select count(*) from raw.smartscout_brands where source_kind = 'csv_export' and fetched_at = ?",
            [AT],
        )
        == 6
    )


def test_an_export_lands_a_brand_again_only_when_its_figures_changed(tmp_path: Path, warehouse: Warehouse) -> None:
    header = "Brand,Estimated Monthly Revenue\n"

    def export(day: int, revenue: str) -> LoadSummary:
        path = tmp_path / f"export_{day}.csv"
        path.write_text(header + f"Acme Kitchen,{revenue}\nDelta Pets,$500\n", encoding="utf-8")
        return load_brands_export(
            path, "US", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT + timedelta(days=day)
        )

    assert export(0, "$100").rows_loaded == 2
    assert export(1, "$100").rows_loaded == 0  # same figures: first observation kept
    assert export(2, "$200").rows_loaded == 1  # Acme changed
    assert export(3, "$100").rows_loaded == 1  # back to $100: newest is $200, so landed again
    observations = warehouse.rows(
        "select brand_name, monthly_revenue, fetched_at from raw.smartscout_brands order by brand_name, fetched_at"
    )
    assert observations == [
        ("Acme Kitchen", "200", AT + timedelta(days=2)),
        ("Acme Kitchen", "100", AT + timedelta(days=3)),  # the day-0 row, replaced (same content)
        ("Delta Pets", "500", AT),
    ]
