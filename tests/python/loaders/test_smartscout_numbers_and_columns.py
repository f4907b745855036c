"""Bad numbers and a misread column in SmartScout CSV exports: what the real loader lands in RAW.

CLEAN then quarantines what is not a usable number (dbt unit tests in
models/clean/smartscout/_smartscout__unit_tests.yml read these same texts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from loader_test_support import Warehouse

from loaders.common.undecodable import undecodable_reason
from loaders.smartscout import (
    DirectoryPageFetcher,
    clean_csv_value,
    load_brand_pages,
    load_brands_export,
    parse_brands_export_csv,
)

AT = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
URL = "https://www.amazon.com/stores/AcmeKitchen/page/4E71AC67"


def _export(path: Path, header: str, *lines: str) -> Path:
    path.write_text("DATABASE / SMARTSCOUT,,\n" + header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("cell", "landed"),
    [
        ("$12,345.67", "12345.67"),
        ("1,234,567", "1234567"),
        ("$ 2,500.00", "2500.00"),
        ("(1,000)", "-1000"),
        # a comma that may be a decimal comma is not guessed: kept as written, CLEAN quarantines it
        ("12,5", "12,5"),
        ("1,2345", "1,2345"),
        ("1.234,56", "1.234,56"),
        ("1 234", "1 234"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("1e400", "1e400"),
    ],
)
def test_numbers_are_read_only_when_their_separators_are_unambiguous(cell: str, landed: str) -> None:
    assert clean_csv_value(cell, "monthly_revenue") == landed


def test_bad_numbers_and_a_storefront_url_column_land_as_written(tmp_path: Path, warehouse: Warehouse) -> None:
    numbers = _export(
        tmp_path / "numbers.csv",
        "Brand,Estimated Monthly Revenue,Storefront",
        'Comma Decimal,"12,5",Yes',
        "Not A Number,NaN,No",
        "Endless,Infinity,Yes",
        "Too Big,1e400,No",
        'Fine,"$12,345.67",Yes',
    )
    # the same `Storefront` header holding the store's URL (an export of another layout)
    urls = _export(
        tmp_path / "urls.csv",
        "Brand,Estimated Monthly Revenue,Storefront",
        f"Acme Kitchen,100,{URL}",
        "No Store,200,",
        "Odd One,300,maybe",
    )
    summary = load_brands_export([numbers, urls], "US", warehouse.duckdb_path, warehouse.pipelines_dir, fetched_at=AT)
    assert (summary.rows_loaded, summary.rows_rejected) == (8, 0)

    landed = dict(
        warehouse.rows(
            "select brand_name, [monthly_revenue, has_storefront, storefront_url] from raw.smartscout_brands"
        )
    )
    assert landed == {
        "Comma Decimal": ["12,5", "true", None],
        "Not A Number": ["NaN", "false", None],
        "Endless": ["Infinity", "true", None],
        "Too Big": ["1e400", "false", None],
        "Fine": ["12345.67", "true", None],
        # mapped by what the cells are: URLs, so the storefront URL, never a `no`
        "Acme Kitchen": ["100", None, URL],
        "No Store": ["200", None, None],
        # fits no mapping: kept as written for CLEAN to quarantine, never read as false
        "Odd One": ["300", None, "maybe"],
    }


def test_a_yes_no_storefront_column_stays_the_flag_and_a_stray_url_is_kept_as_written(tmp_path: Path) -> None:
    path = _export(
        tmp_path / "flags.csv",
        "Brand,Has Storefront",
        "A,Yes",
        "B,no",
        f"C,{URL}",
    )
    rows, rejected = parse_brands_export_csv(path, "US", AT)
    assert rejected == []
    assert [(row["has_storefront"], row["storefront_url"]) for row in rows] == [
        ("true", None),
        ("false", None),
        (URL, None),  # not a yes/no: CLEAN reads it as the URL it is
    ]


def test_a_lone_surrogate_rejects_its_item_not_the_page(tmp_path: Path, warehouse: Warehouse) -> None:
    """Found by the property tests: `"\\ud800"` is valid JSON, but no UTF-8 text holds it; the
    hash of the item failed and took the whole load down."""
    pages = tmp_path / "pages"
    pages.mkdir()
    body = '{"paging": {"hasMoreRecords": false}, "data": [{"brandName": "Bad \\ud800"}, {"brandName": "Good"}]}'
    (pages / "first.json").write_text(body, encoding="utf-8")
    summary = load_brand_pages(DirectoryPageFetcher(pages), "US", warehouse.duckdb_path, warehouse.pipelines_dir)
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)
    assert warehouse.rows("select brand_name from raw.smartscout_brands") == [("Good",)]
    [(row_number, reason, raw_text)] = warehouse.rows(
        "select source_row_number, reason, raw_text from raw.rejected_records"
    )
    assert (row_number, reason) == (1, undecodable_reason("brandName"))
    assert "Bad \\ud800" in raw_text  # kept, escaped
