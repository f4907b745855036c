"""Property tests: arbitrary rows, numbers and strings through the SmartScout CSV export parser and
the `brands/search` page parser. Nothing crashes, and every row that comes in is either loaded or
rejected with a reason (rows in = rows loaded + rows rejected, per file and per page)."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.common import Row, rejected_records_table, rows_to_arrow
from loaders.smartscout import _BrandBatches, clean_csv_value, parse_brand_page, parse_brands_export_csv
from loaders.smartscout.settings import API_FIELDS, BRAND_COLUMNS, CSV_HEADERS

AT = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
# cheap enough for every CI run (~1-2 s each); raise max_examples locally to search harder
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
# what a number cell of an export can look like: plain, grouped, currency, percent, decimal
# comma, NaN/Infinity spellings, overflow, garbage
number_cells = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=10**12).map(lambda n: f"${n:,}"),
    finite_floats.map(repr),
    finite_floats.map(lambda x: f"{x:,.2f}"),
    finite_floats.map(lambda x: f"{x:.1f}%"),
    st.tuples(st.integers(0, 999), st.integers(0, 99)).map(lambda p: f"{p[0]},{p[1]}"),
    st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "N/A", "-", "", "(1,000)"]),
    st.text(max_size=12),
)
cells = st.one_of(number_cells, st.text(max_size=20), st.sampled_from(["Yes", "no", "https://www.amazon.com/stores/X"]))
known_headers = st.sampled_from(sorted(CSV_HEADERS))


@st.composite
def exports(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (the brand column, known and unknown headers) and rows, some of another width."""
    others = draw(st.lists(st.one_of(known_headers, st.text(min_size=1, max_size=15)), max_size=5))
    headers = ["Brand", draw(known_headers), *others]  # a header row: the brand and another known column
    width = len(headers)
    row = st.lists(cells, min_size=width, max_size=width)
    ragged = st.lists(cells, min_size=0, max_size=width + 2)
    rows = draw(st.lists(st.one_of(row, row, ragged), max_size=12))
    return headers, rows


def _write(path: Path, headers: list[str], rows: list[list[str]], banner: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if banner:
        writer.writerow(["DATABASE / SMARTSCOUT"] + [""] * (len(headers) - 1))
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


@PROPERTY_SETTINGS
@given(export=exports(), banner=st.booleans())
def test_every_csv_row_is_loaded_or_rejected(tmp_path_factory: Any, export: Any, banner: bool) -> None:
    headers, written = export
    path = tmp_path_factory.mktemp("csv") / "export.csv"
    _write(path, headers, written, banner)

    rows, rejected = parse_brands_export_csv(path, "US", AT)

    # a row of nothing but blanks is a blank line, not a record
    records_in = [row for row in written if any(cell.strip() for cell in row)]
    assert len(rows) + len(rejected) == len(records_in)
    assert all(reason["reason"] for reason in rejected)
    numbers = [row["source_row_number"] for row in rows] + [reason["source_row_number"] for reason in rejected]
    assert len(set(numbers)) == len(numbers)  # each record once, by its line in the file
    rows_to_arrow(rows, BRAND_COLUMNS)  # lands as it is parsed


@PROPERTY_SETTINGS
@given(cell=number_cells, column=st.sampled_from(["monthly_revenue", "avg_price", "has_storefront", None]))
def test_a_cell_is_a_plain_number_or_kept_as_written(cell: str, column: str | None) -> None:
    value = clean_csv_value(cell, column)
    if value is None or value == cell.strip() or value in {"true", "false"}:
        return
    float(value)  # anything rewritten is a plain number
    assert "," not in value


@PROPERTY_SETTINGS
@given(
    whole=st.integers(min_value=0, max_value=10**15),
    decimals=st.integers(min_value=1, max_value=99),
    comma_digits=st.integers(min_value=1, max_value=6).filter(lambda n: n != 3),
)
def test_grouped_numbers_are_read_and_a_possible_decimal_comma_is_never_guessed(
    whole: int, decimals: int, comma_digits: int
) -> None:
    assert clean_csv_value(f"${whole:,}.{decimals:02d}", "monthly_revenue") == f"{whole}.{decimals:02d}"
    ambiguous = f"{whole},{decimals:0{comma_digits}d}"[: len(str(whole)) + 1 + comma_digits]
    if len(ambiguous.split(",")[1]) != 3:
        assert clean_csv_value(ambiguous, "monthly_revenue") == ambiguous


# JSON text may escape a lone surrogate (`"\ud800"`): Python reads it into a str no UTF-8 holds
json_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=15)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN and infinities included: what a server may write as NaN/Infinity
    st.text(max_size=15),
    json_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(json_text, children, max_size=3)),
    max_leaves=6,
)
brand_items = st.dictionaries(st.one_of(st.sampled_from(sorted(API_FIELDS)), json_text), json_values, max_size=8)
page_data = st.lists(st.one_of(brand_items, brand_items, brand_items, json_values), max_size=10)


@PROPERTY_SETTINGS
@given(data=page_data)
def test_every_page_item_is_loaded_or_rejected(data: list[Any]) -> None:
    envelope = {"dataCount": len(data), "paging": {"nextPageId": None, "hasMoreRecords": False}, "data": data}

    rows, rejected = parse_brand_page(envelope, "US", "page-1", AT)
    assert len(rows) + len(rejected) == len(data)
    assert all(reason["reason"] for reason in rejected)

    # the loader's own path (column by column): the same rows, writable to RAW
    batches = _BrandBatches()
    batches.add_page(envelope, "US", "page-1", AT)
    (tables, rejected_again, _) = batches.drain()
    assert batches.rows + len(rejected_again) == len(data) - _duplicates(rows)
    if tables:
        assert tables[0].equals(rows_to_arrow(_first_of_each(rows), BRAND_COLUMNS))
    rejected_records_table(rejected_again)  # the rejections land too


def _first_of_each(rows: list[Row]) -> list[Row]:
    first: dict[str, Row] = {}
    for row in rows:
        first.setdefault(row["record_hash"], row)
    return list(first.values())


def _duplicates(rows: list[Row]) -> int:
    """Items identical to an earlier one of the page: one observation, landed once."""
    return len(rows) - len({row["record_hash"] for row in rows})


@PROPERTY_SETTINGS
@given(data=page_data)
def test_a_page_read_from_the_wire_is_loaded_or_rejected(data: list[Any]) -> None:
    """The same through JSON text (NaN/Infinity written as a Python server writes them)."""
    body = json.dumps({"paging": {"hasMoreRecords": False}, "data": data})
    envelope = json.loads(body)
    rows, rejected = parse_brand_page(envelope, "US", "page-1", AT)
    assert len(rows) + len(rejected) == len(data)
    for row in rows:
        revenue = row["monthly_revenue"]
        if revenue in {"nan", "inf", "-inf"}:  # lands as text: CLEAN quarantines it
            assert not math.isfinite(float(revenue))
