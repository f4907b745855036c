"""SmartScout parsing and cursor paging (no dlt here: plain functions that are easy to test)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson
import pyarrow as pa

from loaders.common import Row, canonical_json, canonical_md5, compact_json, ensure_utc, make_rejection
from loaders.common.arrow import stringify
from loaders.common.columns import arrow_schema
from loaders.common.undecodable import lone_surrogate_path, undecodable_reason
from loaders.smartscout.settings import (
    API_FIELDS,
    BANNER_SCAN_ROWS,
    BRAND_COLUMNS,
    CSV_BOOLEAN_COLUMNS,
    CSV_FALSE_VALUES,
    CSV_HEADERS,
    CSV_NULL_VALUES,
    CSV_TEXT_COLUMNS,
    CSV_TRUE_VALUES,
    CSV_URL_COLUMNS,
    CSV_VALUE_MAPPED_HEADERS,
    MAX_PAGES,
    SOURCE_KIND_API,
    SOURCE_KIND_CSV,
)

# --------------------------------------------------------------------------- API pages


def parse_brand_page(
    envelope: Any, marketplace: str, source_file: str, fetched_at: datetime
) -> tuple[list[Row], list[Row]]:
    """Map one `brands/search` envelope to (smartscout_brands rows, rejected_records rows).

    Known camelCase fields go to their column as text, unknown ones to `extra_fields_json`,
    anything that is not a JSON object is rejected with its 1-based position in the page.
    (`load_brand_pages` builds the same rows column by column: `brand_page_items` and
    `brand_items_table`.)
    """
    items, rejected = brand_page_items(envelope, source_file, fetched_at)
    rows: list[Row] = []
    for position, item in items:
        try:
            record_hash = brand_item_hash(marketplace, item)
        except UnicodeEncodeError:  # a lone surrogate: this item is rejected, the page goes on
            rejected.append(undecodable_item((position, item), source_file, fetched_at))
            continue
        row: Row = {column: stringify(item.get(name)) for name, column in API_FIELDS.items()}
        extras = {key: value for key, value in item.items() if key not in API_FIELDS}
        row.update(
            record_hash=record_hash,
            marketplace=marketplace,
            extra_fields_json=compact_json(extras) if extras else None,
            source_kind=SOURCE_KIND_API,
            source_file=source_file,
            source_row_number=position,
            fetched_at=fetched_at,
        )
        rows.append(row)
    return rows, rejected


def brand_page_items(
    envelope: Any, source_file: str, fetched_at: datetime
) -> tuple[list[tuple[int, Mapping[str, Any]]], list[Row]]:
    """The brand items of one envelope with their 1-based position, and the rejections
    (a malformed page, a `data` that is not a list, items that are not JSON objects)."""
    if isinstance(envelope, MalformedPage):
        return [], [make_rejection("smartscout", source_file, None, envelope.reason, envelope.raw_text, fetched_at)]
    if not isinstance(envelope, Mapping):
        reason = f"page is not a JSON object ({type(envelope).__name__})"
        return [], [_reject(source_file, None, reason, envelope, fetched_at)]
    data = envelope.get("data")
    if data is None:
        return [], []
    if not isinstance(data, list):
        reason = f"page `data` is not a list ({type(data).__name__})"
        return [], [_reject(source_file, None, reason, data, fetched_at)]
    if all(type(item) is dict for item in data):  # the usual page: every item an object
        return list(enumerate(data, start=1)), []
    items: list[tuple[int, Mapping[str, Any]]] = []
    rejected: list[Row] = []
    for position, item in enumerate(data, start=1):
        if isinstance(item, Mapping):
            items.append((position, item))
        else:
            reason = f"brand item is not a JSON object ({type(item).__name__})"
            rejected.append(_reject(source_file, position, reason, item, fetched_at))
    return items, rejected


def brand_item_hash(marketplace: str, item: Mapping[str, Any]) -> str:
    """record_hash of an API brand item: md5 of the marketplace and the item's canonical JSON.
    Raises UnicodeEncodeError for an item holding a lone surrogate (`"\\ud800"` in the JSON)."""
    return canonical_md5(marketplace, payload=item)


def undecodable_item(position_item: tuple[int, Mapping[str, Any]], source_file: str, at: datetime) -> Row:
    """The rejection of a brand item whose text UTF-8 cannot hold (`brand_item_hash` raised
    UnicodeEncodeError: a lone surrogate such as `\\ud83d` from the JSON), naming the field."""
    position, item = position_item
    reason = undecodable_reason(lone_surrogate_path(item) or "$")
    return _reject(source_file, position, reason, item, at)


_NONE_TYPE = type(None)
_STR_KINDS = frozenset({str, _NONE_TYPE})
_NUMBER_KINDS = frozenset({int, float, _NONE_TYPE})  # exact types: bool is not int here
_BOOL_KINDS = frozenset({bool, _NONE_TYPE})
_BOOL_TEXT = {True: "true", False: "false", None: None}
_BRAND_SCHEMA = arrow_schema(BRAND_COLUMNS)


def _text_column(values: list[Any]) -> list[Any]:
    """`stringify` of every value, a column at a time (the common JSON types without a call each)."""
    kinds = set(map(type, values))
    if kinds <= _STR_KINDS:
        return values
    if kinds <= _NUMBER_KINDS:  # repr(int) == str(int); repr(float) is what stringify writes
        return [None if value is None else repr(value) for value in values]
    if kinds <= _BOOL_KINDS:
        return [_BOOL_TEXT[value] for value in values]
    return [stringify(value) for value in values]


def brand_items_table(
    items: Sequence[tuple[int, Mapping[str, Any]]],
    hashes: Sequence[str],
    marketplace: str,
    source_file: str,
    fetched_at: datetime,
) -> pa.Table:
    """The smartscout_brands rows of `items` (with their `record_hash`es) as one arrow table,
    built column by column: the same values as `parse_brand_page` + `rows_to_arrow`."""
    count = len(items)
    objects = [item for _, item in items]
    columns: dict[str, Any] = {
        "record_hash": list(hashes),
        "marketplace": pa.repeat(pa.scalar(marketplace, pa.string()), count),
    }
    for name, column in API_FIELDS.items():
        columns[column] = _text_column([item.get(name) for item in objects])
    known = API_FIELDS.keys()
    columns["extra_fields_json"] = [
        None
        if item.keys() <= known
        else (compact_json(extras) if (extras := {k: v for k, v in item.items() if k not in API_FIELDS}) else None)
        for item in objects
    ]
    columns["source_kind"] = pa.repeat(pa.scalar(SOURCE_KIND_API, pa.string()), count)
    columns["source_file"] = pa.repeat(pa.scalar(source_file, pa.string()), count)
    columns["source_row_number"] = [position for position, _ in items]
    at = pa.scalar(ensure_utc(fetched_at), _BRAND_SCHEMA.field("fetched_at").type)
    columns["fetched_at"] = pa.repeat(at, count)
    arrays = [
        value if isinstance(value, pa.Array) else pa.array(value, type=field.type)
        for field, value in ((field, columns[field.name]) for field in _BRAND_SCHEMA)
    ]
    return pa.Table.from_arrays(arrays, schema=_BRAND_SCHEMA)


def _reject(source_file: str, position: int | None, reason: str, value: Any, at: datetime) -> Row:
    return make_rejection("smartscout", source_file, position, reason, canonical_json(value), at)


@dataclass(frozen=True)
class MalformedPage:
    """A page whose body could not be read as JSON: a fetcher returns it instead of raising,
    so the pages before it are kept and the page itself lands in raw.rejected_records."""

    reason: str
    raw_text: str | None


class PageFetcher(Protocol):
    """Returns the `brands/search` envelope for a cursor (None = first page).

    Implemented by `DirectoryPageFetcher` (recorded pages) and by the HTTP client, so the
    same paging loop (`PageCursor`) serves both.
    """

    def fetch_page(self, page_id: str | None) -> Any: ...


class DirectoryPageFetcher:
    """Replays recorded pages: `first.json`, then `<nextPageId>.json`."""

    FIRST_PAGE = "first"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"no page directory {self.directory}")

    def fetch_page(self, page_id: str | None) -> Any:
        stem = self.FIRST_PAGE if page_id is None else str(page_id)
        if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
            raise ValueError(f"unusable page id {page_id!r}")
        path = self.directory / f"{stem}.json"
        if not path.is_file():
            raise FileNotFoundError(f"page {page_id!r} not recorded: {path} is missing")
        raw = path.read_bytes()
        parsed = fast_json_loads(raw)
        if parsed is not UNPARSED:
            return parsed
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)


# Page bodies are parsed with orjson (3-4x faster than json) where it gives exactly what `json`
# gives: it refuses NaN/Infinity, out-of-range floats, lone surrogates and invalid UTF-8 (the
# caller then parses as before), but it reads an integer beyond 64 bits as a float, and its
# rounding of very long decimals is not the reference. So a body with a run of 18 or more digits
# (and dots) anywhere goes to the usual parser too. record_hash is derived from these values.
UNPARSED: Any = object()
_NUMBER_CHARS = bytes.maketrans(b"0123456789.", b"0" * 11)
_LONG_NUMBER = b"0" * 18


def fast_json_loads(raw: bytes) -> Any:
    """`json.loads(raw)` when orjson gives the same values, else `UNPARSED` (parse it as before)."""
    if _LONG_NUMBER in raw.translate(_NUMBER_CHARS):
        return UNPARSED
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return UNPARSED


StopReason = Literal[
    "no_more_records",
    "empty_page",
    "no_next_page_id",
    "repeated_page_id",
    "not_an_object",
    "malformed_page",
    "max_pages",
]
# Stops after which the cursor is unknown although the query is not finished.
MALFORMED_STOPS: frozenset[str] = frozenset({"not_an_object", "malformed_page"})


@dataclass(frozen=True)
class FetchedPage:
    number: int  # 1-based
    page_id: str | None
    envelope: Any


@dataclass
class PageCursor:
    """Follows `paging.nextPageId` until `hasMoreRecords` is false, a page has no data,
    or there is no next id. Every fetched page is yielded (also the last, empty one).

    `start_page_id`/`start_number` resume a query part-way (page numbers continue from
    `start_number`). While a page is being consumed, `stop_reason` is already set if it is the
    last one, and `next_page_id` is the cursor the next page would be fetched with (None when
    the query is over; kept after a `max_pages` stop, so that the query can be resumed).
    """

    fetcher: PageFetcher
    max_pages: int = MAX_PAGES
    pages_fetched: int = 0
    stop_reason: StopReason | None = None
    page_ids: list[str | None] = field(default_factory=list)
    start_page_id: str | None = None
    start_number: int = 0
    next_page_id: str | None = None

    def __iter__(self) -> Iterator[FetchedPage]:
        page_id: str | None = self.start_page_id
        seen: set[str] = set() if page_id is None else {page_id}
        while True:
            envelope = self.fetcher.fetch_page(page_id)
            self.pages_fetched += 1
            self.page_ids.append(page_id)
            reason, next_id = _next_page(envelope)
            if reason is None and next_id in seen:
                reason, next_id = "repeated_page_id", None
            if reason is None and self.pages_fetched >= self.max_pages:
                reason = "max_pages"
            self.stop_reason = reason
            self.next_page_id = next_id
            yield FetchedPage(self.start_number + self.pages_fetched, page_id, envelope)
            if reason is not None:
                return
            assert next_id is not None
            seen.add(next_id)
            page_id = next_id


def _next_page(envelope: Any) -> tuple[StopReason | None, str | None]:
    if isinstance(envelope, MalformedPage):
        return "malformed_page", None
    if not isinstance(envelope, Mapping):
        return "not_an_object", None
    data = envelope.get("data")
    if data is not None and not isinstance(data, list):
        return "malformed_page", None
    paging = envelope.get("paging")
    paging = paging if isinstance(paging, Mapping) else {}
    if "hasMoreRecords" in paging and not _truthy(paging["hasMoreRecords"]):
        return "no_more_records", None
    if not data:
        return "empty_page", None
    next_id = paging.get("nextPageId")
    if next_id is None or str(next_id).strip() == "":
        return "no_next_page_id", None
    if lone_surrogate_path(str(next_id)) is not None:  # a cursor no file or column can hold
        return "malformed_page", None
    return None, str(next_id)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in {"true", "1", "yes"}
    return bool(value)


# --------------------------------------------------------------------------- CSV exports

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
# Commas are read as thousands separators only in whole groups of three before any decimal point
# (`1,234,567.89`): `12,5`, `1,23` or `1.234,56` could be a decimal comma, so they are not guessed
# (kept as written, CLEAN quarantines them).
_THOUSANDS_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def normalize_header(header: str) -> str:
    """`Est. Monthly Revenue ($)` -> `estmonthlyrevenue`: case, accents, spaces, punctuation ignored."""
    decomposed = unicodedata.normalize("NFKD", header)
    ascii_only = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]", "", ascii_only.casefold())


_HEADER_LOOKUP: dict[str, str] = {normalize_header(name): col for name, col in CSV_HEADERS.items()}
_VALUE_MAPPED: dict[str, tuple[str, ...]] = {
    normalize_header(name): candidates for name, candidates in CSV_VALUE_MAPPED_HEADERS.items()
}
# what a storefront cell must look like to be read as its URL (also checked in CLEAN)
_URL = re.compile(r"^(?:https?://)?[a-z0-9.-]+\.[a-z]{2,}(?:[/?#]\S*)?$", re.IGNORECASE)


def clean_csv_value(raw: str, column: str | None) -> str | None:
    """Parse one export cell for `column` (None = unknown column kept in extra_fields_json).

    `N/A`/`-`/empty -> None; booleans `Yes`/`No` -> `true`/`false`; for numeric columns
    `$`, `%` and thousands separators are stripped when what remains is a number, otherwise the
    cell is kept as written (CLEAN quarantines it): a comma that may be a decimal comma (`12,5`)
    or a space inside the digits is not guessed at, and neither is `NaN` or `Infinity`.
    """
    value = raw.strip()
    folded = value.casefold()
    if folded in CSV_NULL_VALUES:
        return None
    if column in CSV_TEXT_COLUMNS:
        return value
    if column is None or column in CSV_BOOLEAN_COLUMNS:
        if folded in CSV_TRUE_VALUES:
            return "true"
        if folded in CSV_FALSE_VALUES:
            return "false"
        if column is not None:
            return value
    number = number_text(value)
    return value if number is None else number


def number_text(value: str) -> str | None:
    """`$12,345.67` -> `12345.67`, `(1,000)` -> `-1000`, `12.5%` -> `12.5`; None when the text is
    not a plain number once `$` and `%` are gone (`12,5`, `1 234`, `NaN`, `$abc`)."""
    candidate = value.replace("$", "").replace("%", "").strip()
    if candidate.startswith("(") and candidate.endswith(")"):  # accounting negative
        candidate = "-" + candidate[1:-1].strip()
    if "," in candidate:
        if not _THOUSANDS_GROUPED.match(candidate):
            return None
        candidate = candidate.replace(",", "")
    return candidate if _NUMBER.match(candidate) else None


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def _header_columns(cells: Sequence[str]) -> list[str | None] | None:
    """The RAW column for each header cell if `cells` is the header row, else None (the usual
    column of a header whose column depends on its cells: `_columns_by_values` decides)."""
    mapped = [_HEADER_LOOKUP.get(normalize_header(cell)) for cell in cells]
    if "brand_name" not in mapped or sum(column is not None for column in mapped) < 2:
        return None
    return mapped


def _columns_by_values(
    headers: Sequence[str], mapped: Sequence[str | None], lines: Sequence[_Line]
) -> list[str | None]:
    """The RAW column of each header: a value-mapped header (`Storefront`) goes to the candidate
    column most of its cells fit; a second header mapping to the same column goes to extras."""
    chosen = list(mapped)
    for index, header in enumerate(headers):
        candidates = _VALUE_MAPPED.get(normalize_header(header))
        if candidates is None:
            continue
        cells = [line.cells[index] for line in lines]
        fits = [sum(_fits(column, cell) for cell in cells) for column in candidates]
        chosen[index] = candidates[fits.index(max(fits))]  # ties: the first, the usual meaning
    result: list[str | None] = []
    for column in chosen:
        result.append(column if column is None or column not in result else None)
    return result


def _fits(column: str, cell: str) -> bool:
    """True when a non-empty `cell` reads as a value of `column` (a yes/no, a URL)."""
    value = cell.strip()
    folded = value.casefold()
    if folded in CSV_NULL_VALUES:
        return False
    if column in CSV_BOOLEAN_COLUMNS:
        return folded in CSV_TRUE_VALUES or folded in CSV_FALSE_VALUES
    if column in CSV_URL_COLUMNS:
        return _URL.match(value) is not None
    return True


@dataclass(frozen=True)
class _Line:
    number: int  # the line in the file the row starts on
    cells: list[str]


def parse_brands_export_csv(path: Path, marketplace: str, fetched_at: datetime) -> tuple[list[Row], list[Row]]:
    """Parse a SmartScout UI brands export into (smartscout_brands rows, rejected_records rows).

    Banner rows before the header are skipped; `source_row_number` is the line in the file.
    """
    path = Path(path)
    source_file = path.name
    reader = csv.reader(io.StringIO(_decode(path.read_bytes()), newline=""))
    rows: list[Row] = []
    rejected: list[Row] = []

    headers: list[str] | None = None
    columns: list[str | None] = []
    lines: list[_Line] = []  # the data rows: a column's mapping may depend on all of its cells
    first_line = ""
    while True:
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            rejected.append(
                make_rejection("smartscout", source_file, start_line, f"unreadable CSV: {error}", None, fetched_at)
            )
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if headers is None:
            first_line = first_line or _csv_line(cells)
            found = _header_columns(cells)
            if found is not None:
                headers, columns = [cell.strip() for cell in cells], found
            elif start_line >= BANNER_SCAN_ROWS:
                break
            continue
        if len(cells) != len(headers):
            reason = f"expected {len(headers)} cells, got {len(cells)}"
            rejected.append(make_rejection("smartscout", source_file, start_line, reason, _csv_line(cells), fetched_at))
            continue
        lines.append(_Line(start_line, cells))

    if headers is None:
        reason = f"no header row with a brand column in the first {BANNER_SCAN_ROWS} lines"
        rejected.append(make_rejection("smartscout", source_file, None, reason, first_line, fetched_at))
        return rows, rejected
    columns = _columns_by_values(headers, columns, lines)
    for line in lines:
        rows.append(_csv_row(headers, columns, line.cells, marketplace, source_file, line.number, fetched_at))
    return rows, rejected


def _csv_row(
    headers: Sequence[str],
    columns: Sequence[str | None],
    cells: Sequence[str],
    marketplace: str,
    source_file: str,
    line_number: int,
    fetched_at: datetime,
) -> Row:
    item: dict[str, str] = {}
    row: Row = dict.fromkeys(API_FIELDS.values())
    extras: dict[str, str | None] = {}
    for header, column, cell in zip(headers, columns, cells, strict=True):
        key = header
        suffix = 2
        while key in item:
            key = f"{header}#{suffix}"
            suffix += 1
        item[key] = cell
        if column is None:
            extras[key] = clean_csv_value(cell, None)
        else:
            row[column] = clean_csv_value(cell, column)
    row.update(
        record_hash=canonical_md5(marketplace, payload=item),
        marketplace=marketplace,
        extra_fields_json=compact_json(extras) if extras else None,
        source_kind=SOURCE_KIND_CSV,
        source_file=source_file,
        source_row_number=line_number,
        fetched_at=fetched_at,
    )
    return row
