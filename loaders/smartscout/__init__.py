"""SmartScout brands -> raw.smartscout_brands (+ raw.rejected_records, raw.smartscout_load_progress).

Two inputs land in the same table: `brands/search` pages followed along their cursor
(`load_brand_pages`, with any `PageFetcher`; the live API is `client.SmartScoutApiFetcher`)
and UI CSV exports (`load_brands_export`).

API loads are written as they arrive: every `commit_every_pages` pages, at least
`commit_min_seconds` apart (and when the run ends, also by an error) the pages so far are
committed together with the query's progress row (the cursor of the next page), so an
interrupted query resumes where it stopped instead of paying for its pages again. See `load_brand_pages`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from loaders.common import (
    RAW_DATASET,
    LoadSummary,
    NewFields,
    Row,
    Stopwatch,
    canonical_json,
    ensure_utc,
    md5_key,
    not_yet_recorded,
    rejected_records,
    rows_to_arrow,
    run_pipeline,
    table_hints,
    utc_now,
)
from loaders.common.progress import LoadProgress, log_progress, print_progress
from loaders.smartscout.helpers import (
    MALFORMED_STOPS,
    DirectoryPageFetcher,
    FetchedPage,
    MalformedPage,
    PageCursor,
    PageFetcher,
    brand_item_hash,
    brand_items_table,
    brand_page_items,
    clean_csv_value,
    normalize_header,
    parse_brand_page,
    parse_brands_export_csv,
    unencodable_item_rejection,
)
from loaders.smartscout.settings import (
    API_FIELDS,
    BRAND_COLUMNS,
    BRANDS_TABLE,
    CSV_KNOWN_EXTRA_HEADERS,
    DEFAULT_COMMIT_EVERY_PAGES,
    DEFAULT_PROGRESS_EVERY_PAGES,
    DEFAULT_RESUME_WINDOW_HOURS,
    MAX_PAGES,
    PIPELINE_NAME,
    PROGRESS_COLUMNS,
    PROGRESS_FINISHED,
    PROGRESS_INTERRUPTED,
    PROGRESS_RUNNING,
    PROGRESS_TABLE,
    SOURCE_KIND_API,
    SOURCE_KIND_CSV,
)
from warehouse_layer import WarehouseLike, connect, warehouse_exists

logger = logging.getLogger(__name__)

# A resumed query whose first page answers one of these: the saved cursor has expired.
STALE_CURSOR_STATUSES = frozenset({400, 404, 410})

__all__ = [
    "DirectoryPageFetcher",
    "FetchedPage",
    "LoadProgress",
    "MalformedPage",
    "PageCursor",
    "PageFetcher",
    "clean_csv_value",
    "load_brand_pages",
    "load_brands_export",
    "log_progress",
    "normalize_header",
    "parse_brand_page",
    "parse_brands_export_csv",
    "print_progress",
    "query_hash",
    "smartscout_brands",
    "smartscout_load_progress",
    "smartscout_source",
]


@dlt.resource(**table_hints(BRANDS_TABLE, BRAND_COLUMNS, primary_key="record_hash"))
def smartscout_brands(batches: Sequence[pa.Table]) -> Iterator[pa.Table]:
    """Brand observations: the batches (pages or files) as one arrow table (empty when none).

    One table per commit, not one per page: dlt computes the table schema for every item it
    extracts (~20 ms each), which at 1,000 pages cost more than the rows themselves.
    """
    if not batches:
        yield rows_to_arrow([], BRAND_COLUMNS)
    elif len(batches) == 1:
        yield batches[0]
    else:
        yield pa.concat_tables(batches)


@dlt.resource(**table_hints(PROGRESS_TABLE, PROGRESS_COLUMNS, primary_key="query_hash"))
def smartscout_load_progress(rows: Sequence[Row]) -> Iterator[pa.Table]:
    """Where the last load of each query got to (one row per query hash)."""
    yield rows_to_arrow(list(rows), PROGRESS_COLUMNS)


@dlt.source(name="smartscout", max_table_nesting=0)
def smartscout_source(
    brand_batches: Sequence[pa.Table],
    rejected: Sequence[Row],
    progress: Sequence[Row] | None = None,
    *,
    append_brands: bool = False,
) -> tuple[DltResource, ...]:
    """`append_brands`: none of the batches' record_hashes is in RAW yet (the caller checked), so
    the rows are appended instead of merged: the same result without the staging copy and the
    delete + insert (3x the cost of the rows at 100k)."""
    brands = smartscout_brands(brand_batches)
    if append_brands:
        brands.apply_hints(write_disposition="append")
    resources = (brands, rejected_records(rejected))
    if progress is not None:  # only API queries keep progress; recorded pages and CSVs do not
        return (*resources, smartscout_load_progress(progress))
    return resources


class _BrandBatches:
    """Collects parsed rows as arrow tables, dropping observations already seen in this run."""

    def __init__(self, unchanged: set[str] | None = None, older: set[str] | None = None) -> None:
        self.tables: list[pa.Table] = []
        self.rejected: list[Row] = []
        self.rows = 0
        self.unchanged_rows = 0
        self._seen: set[str] = set()
        # the latest RAW observation of each brand: a re-scan that finds the same figures does not
        # land them again, so the incremental CLEAN models only see brands that changed
        self._unchanged = unchanged or set()
        # the other record_hashes of the marketplace in RAW (older observations, CSV rows): a
        # batch holding one of them must be merged (it replaces that row); any other is appended
        self._older = older
        self.needs_merge = older is None
        self.drift = NewFields(API_FIELDS)  # API items with fields outside API_FIELDS

    def add(self, rows: list[Row], rejected: list[Row]) -> None:
        fresh: list[Row] = []
        for row in rows:  # also drops an exact duplicate within the same page
            if row["record_hash"] in self._unchanged:
                self.unchanged_rows += 1
            elif row["record_hash"] not in self._seen:
                self._seen.add(row["record_hash"])
                fresh.append(row)
        if fresh:
            self.tables.append(rows_to_arrow(fresh, BRAND_COLUMNS))
        self.rows += len(fresh)
        self.rejected.extend(rejected)

    def add_page(self, envelope: Any, marketplace: str, source_file: str, fetched_at: datetime) -> None:
        """`add(*parse_brand_page(...))`, column by column: the rows to drop are found from their
        record_hash before any row is built (a re-scan builds only the brands that changed)."""
        items, rejected = brand_page_items(envelope, source_file, fetched_at)
        fresh: list[tuple[int, Mapping[str, Any]]] = []
        hashes: list[str] = []
        seen, unchanged = self._seen, self._unchanged
        known = API_FIELDS.keys()
        for _, item in items:
            if not item.keys() <= known:
                self.drift.see(item)
        for position_item in items:  # also drops an exact duplicate within the same page
            try:
                record_hash = brand_item_hash(marketplace, position_item[1])
            except UnicodeEncodeError:
                rejected.append(unencodable_item_rejection(source_file, *position_item, fetched_at))
                continue
            if record_hash in unchanged:
                self.unchanged_rows += 1
            elif record_hash not in seen:
                seen.add(record_hash)
                fresh.append(position_item)
                hashes.append(record_hash)
                if not self.needs_merge and self._older is not None and record_hash in self._older:
                    self.needs_merge = True
        if fresh:
            self.tables.append(brand_items_table(fresh, hashes, marketplace, source_file, fetched_at))
        self.rows += len(fresh)
        self.rejected.extend(rejected)

    def drain(self) -> tuple[list[pa.Table], list[Row], bool]:
        """The batches collected since the last drain (the seen-set is kept for the whole run),
        and whether they must be merged (else they can be appended: no row of theirs is in RAW)."""
        tables, rejected, needs_merge = self.tables, self.rejected, self.needs_merge
        self.tables, self.rejected, self.needs_merge = [], [], self._older is None
        return tables, rejected, needs_merge


def _marketplace(value: str) -> str:
    marketplace = value.strip().upper()
    if not marketplace:
        raise ValueError("marketplace is required (US, UK, DE, ...)")
    return marketplace


def query_hash(query: Mapping[str, Any]) -> str:
    """The identity of a query (marketplace, filters, sort, page size) for resuming it."""
    return md5_key("smartscout-query", canonical_json(query))


@dataclass(frozen=True)
class _SavedProgress:
    next_page_id: str | None
    pages_done: int
    rows_loaded: int
    status: str
    started_at: datetime | None
    updated_at: datetime | None


def _read_progress(destination: WarehouseLike, key: str) -> _SavedProgress | None:
    if not warehouse_exists(destination):
        return None
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, PROGRESS_TABLE):  # no API load has run yet
            return None
        found = warehouse.fetch_one(
            f"select next_page_id, pages_done, rows_loaded, status, started_at, updated_at "
            f"from {RAW_DATASET}.{PROGRESS_TABLE} where query_hash = ?",
            [key],
        )
    if found is None:
        return None
    next_page_id, pages_done, rows_loaded, status, started_at, updated_at = found
    return _SavedProgress(
        next_page_id,
        int(pages_done or 0),
        int(rows_loaded or 0),
        str(status),
        ensure_utc(started_at) if started_at else None,
        ensure_utc(updated_at) if updated_at else None,
    )


def _latest_observations(
    destination: WarehouseLike, marketplace: str, source_kind: str = SOURCE_KIND_API
) -> tuple[set[str], set[str]]:
    """record_hash of the newest observation of every brand name from `source_kind` in RAW, and
    the other record_hashes of the marketplace (older observations, the other source kind; the
    marketplace is part of every record_hash, so no other marketplace can hold one of ours). A
    brand whose figures went A -> B -> A is landed again on the third scan (its newest
    observation is B), replacing its first A row (so that batch is merged, not appended)."""
    if not warehouse_exists(destination):
        return set(), set()
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, BRANDS_TABLE):
            return set(), set()
        rows = warehouse.execute(
            f"""
            select record_hash, source_kind = ? and recency = 1 as newest from (
                select
                    record_hash,
                    source_kind,
                    -- rank: rows of one brand landed together (an export listing it twice) are all newest
                    rank() over (partition by source_kind, brand_name order by fetched_at desc) as recency
                from {RAW_DATASET}.{BRANDS_TABLE}
                where marketplace = ?
            ) as observations
            """,
            [source_kind, marketplace],
        )
    newest: set[str] = set()
    older: set[str] = set()
    for record_hash, is_newest in rows:
        (newest if is_newest else older).add(record_hash)
    return newest, older


def _resumable(saved: _SavedProgress | None, window: timedelta | None, now: datetime) -> bool:
    return (
        saved is not None
        and window is not None
        and window > timedelta(0)
        and saved.status != PROGRESS_FINISHED
        and saved.next_page_id is not None
        and saved.updated_at is not None
        and now - saved.updated_at <= window
    )


def load_brand_pages(
    fetcher: PageFetcher,
    marketplace: str,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    fetched_at: datetime | None = None,
    max_pages: int = MAX_PAGES,
    query: Mapping[str, Any] | None = None,
    commit_every_pages: int = DEFAULT_COMMIT_EVERY_PAGES,
    commit_min_seconds: float = 0.0,
    resume_window: timedelta | None = timedelta(hours=DEFAULT_RESUME_WINDOW_HOURS),
    progress: Callable[[LoadProgress], None] | None = log_progress,
    progress_every_pages: int = DEFAULT_PROGRESS_EVERY_PAGES,
    clock: Callable[[], datetime] = utc_now,
) -> LoadSummary:
    """Follow the `brands/search` cursor and load every brand observation.

    `fetched_at` fixes the fetch time (tests); by default each page gets its own fetch time.
    Pages are labelled `page-<n>` in `source_file` (numbers continue when a query resumes).

    Pages are committed every `commit_every_pages` pages (once at least `commit_min_seconds`
    have passed since the previous commit: a commit costs the same for 1 page as for 100, so
    pages that come fast are committed in larger groups) and at the end of the run, also when
    fetching a page raises (the error is re-raised after the commit): a failure at page 400
    keeps pages 1-399. Re-loading a page adds no rows (merge on `record_hash`).

    `query` (default: `fetcher.query` when the fetcher has one, as `SmartScoutApiFetcher`
    does) identifies the query. With a query, each commit also records in
    `raw.smartscout_load_progress` the cursor of the next page; a run of the same query whose
    last load did not finish, updated within `resume_window`, starts from that cursor. A
    finished query (or `resume_window=None`) starts from the first page.

    A malformed page (not JSON, not an object, `data` not a list) is rejected into
    `raw.rejected_records` and stops the query: the next cursor is unknown. The pages before it
    are kept and the query stays resumable from the malformed page (retried on the next run).

    If the first page of a resumed query is refused with 400/404/410 (the vendor forgot the
    cursor), the query starts over from the first page.

    `progress` is called every `progress_every_pages` pages and once at the end.
    """
    watch = Stopwatch()
    marketplace = _marketplace(marketplace)
    if commit_every_pages < 1:
        raise ValueError(f"commit_every_pages must be at least 1, got {commit_every_pages}")
    if commit_min_seconds < 0:
        raise ValueError(f"commit_min_seconds must not be negative, got {commit_min_seconds}")
    if query is None:
        query = getattr(fetcher, "query", None)
    source = f"smartscout api {marketplace}"
    key = query_hash(query) if query is not None else None
    saved = _read_progress(destination, key) if key is not None else None
    started_at = clock()
    resumed = _resumable(saved, resume_window, started_at)
    if resumed:
        assert saved is not None
        cursor = PageCursor(
            fetcher, max_pages=max_pages, start_page_id=saved.next_page_id, start_number=saved.pages_done
        )
        started_at = saved.started_at or started_at
        logger.info("%s: resuming from page %d (saved cursor)", source, saved.pages_done + 1)
    else:
        cursor = PageCursor(fetcher, max_pages=max_pages)
    previous_rows = saved.rows_loaded if resumed and saved is not None else 0
    newest, older = _latest_observations(destination, marketplace)
    batches = _BrandBatches(unchanged=newest, older=older)
    rejected_total = 0
    commits = 0
    resume_from: str | None = cursor.start_page_id  # the cursor of the next page not yet loaded
    pages_done = cursor.start_number
    pending = 0
    last_commit = watch.seconds

    def report(done: bool) -> None:
        if progress is not None:
            progress(LoadProgress(source, cursor.pages_fetched, batches.rows, rejected_total, watch.seconds, done))

    def commit(status: str) -> None:
        nonlocal commits, pending, rejected_total, last_commit
        tables, rejected, needs_merge = batches.drain()
        rejected_total += len(rejected)
        progress_rows: list[Row] | None = None
        if key is not None and query is not None:
            progress_rows = [
                {
                    "query_hash": key,
                    "marketplace": marketplace,
                    "query_json": canonical_json(query),
                    "next_page_id": resume_from,
                    "status": status,
                    "stop_reason": cursor.stop_reason or ("fetch_error" if status == PROGRESS_INTERRUPTED else None),
                    "pages_done": pages_done,
                    "rows_loaded": previous_rows + batches.rows + batches.unchanged_rows,  # received, landed or not
                    "started_at": started_at,
                    "updated_at": clock(),
                }
            ]
        elif not tables and not rejected and commits:
            return  # nothing new and no progress to record
        data = smartscout_source(tables, rejected, progress_rows, append_brands=not needs_merge)
        run_pipeline(PIPELINE_NAME, destination, pipelines_dir, data)
        commits += 1
        pending = 0
        last_commit = watch.seconds

    iterator = iter(cursor)
    while True:
        try:
            page = next(iterator)
        except StopIteration:
            break
        except BaseException as error:  # also Ctrl-C: the pages fetched so far are still committed
            if resumed and cursor.pages_fetched == 0 and getattr(error, "status", None) in STALE_CURSOR_STATUSES:
                # The vendor no longer knows the saved cursor: start the query over rather than stay stuck.
                logger.warning("%s: saved cursor refused (%s), starting from the first page", source, error)
                resumed, previous_rows, started_at = False, 0, clock()
                cursor = PageCursor(fetcher, max_pages=max_pages)
                resume_from, pages_done = None, 0
                iterator = iter(cursor)
                continue
            # The page could not be fetched: keep what was fetched so far, resumable, then fail.
            # (Nothing fetched in this run, e.g. a refused key: leave the warehouse untouched.)
            try:
                if cursor.pages_fetched:
                    commit(PROGRESS_INTERRUPTED)
            except Exception:  # the original error matters more; this one is logged
                logger.exception("%s: could not commit the pages fetched before the error", source)
            raise
        at = ensure_utc(fetched_at) if fetched_at else utc_now()
        batches.add_page(page.envelope, marketplace, f"page-{page.number}", at)
        pending += 1
        if cursor.stop_reason in MALFORMED_STOPS:
            resume_from = page.page_id  # retry the malformed page next time
            pages_done = page.number - 1
        else:
            resume_from = cursor.next_page_id
            pages_done = page.number
        if cursor.stop_reason is not None:
            break
        if pending >= commit_every_pages and watch.seconds - last_commit >= commit_min_seconds:
            commit(PROGRESS_RUNNING)
        if progress_every_pages > 0 and cursor.pages_fetched % progress_every_pages == 0:
            report(False)

    stop = cursor.stop_reason or ""
    interrupted = stop in MALFORMED_STOPS or (stop == "max_pages" and resume_from is not None)
    commit(PROGRESS_INTERRUPTED if interrupted else PROGRESS_FINISHED)
    report(True)
    details: dict[str, object] = {"stop_reason": stop}
    if batches.unchanged_rows:
        details["unchanged"] = batches.unchanged_rows
    if resumed:
        details["resumed_at_page"] = cursor.start_number + 1
    if key is not None:
        details["commits"] = commits
    summary = LoadSummary(
        source=source,
        rows_loaded=batches.rows,
        rows_rejected=rejected_total,
        files_or_pages=cursor.pages_fetched,
        seconds=watch.seconds,
        details=details,
    )
    return batches.drift.apply(summary)


def load_brands_export(
    csv_path: Path | Sequence[Path],
    marketplace: str,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    fetched_at: datetime | None = None,
) -> LoadSummary:
    """Load one SmartScout UI brands export (or several) into raw.smartscout_brands."""
    watch = Stopwatch()
    marketplace = _marketplace(marketplace)
    paths = [Path(csv_path)] if isinstance(csv_path, (str, Path)) else [Path(p) for p in csv_path]
    # a row whose brand's newest CSV observation has the same figures is not landed again: re-loading
    # an export keeps each observation's first fetched_at (and load id), so nothing downstream moves
    newest, _ = _latest_observations(destination, marketplace, SOURCE_KIND_CSV)
    batches = _BrandBatches(unchanged=newest)  # merged: a figure that went A -> B -> A replaces the A row
    known_extras = {normalize_header(header) for header in CSV_KNOWN_EXTRA_HEADERS}
    drift = NewFields(())  # headers neither mapped to a column nor known: schema drift
    for path in paths:
        at = ensure_utc(fetched_at) if fetched_at else utc_now()
        rows, rejected = parse_brands_export_csv(path, marketplace, at)
        # every row of a file carries the same extra headers (short rows are rejected): read one
        if rows and rows[0]["extra_fields_json"]:
            extras = json.loads(rows[0]["extra_fields_json"])
            drift.see([header for header in extras if normalize_header(header) not in known_extras], rows=len(rows))
        batches.add(rows, rejected)
    tables, rejected, needs_merge = batches.drain()
    run_pipeline(
        PIPELINE_NAME,
        destination,
        pipelines_dir,
        smartscout_source(tables, not_yet_recorded(destination, rejected), append_brands=not needs_merge),
    )
    summary = LoadSummary(
        source=f"smartscout csv {marketplace}",
        rows_loaded=batches.rows,
        rows_rejected=len(rejected),
        files_or_pages=len(paths),
        seconds=watch.seconds,
        details={"unchanged": batches.unchanged_rows} if batches.unchanged_rows else {},
    )
    return drift.apply(summary)
