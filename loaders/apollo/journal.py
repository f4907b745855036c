"""A write-ahead journal of what Apollo was paid for, so a killed `enrich` loses no credit.

Brands are landed in RAW a batch at a time (about a minute of work against the real API); a
process killed in between would lose the answers of that batch, and the re-run would pay for them
again. So every paid answer (an organization found, a bulk_match answered) and every bulk_match
about to be sent is appended here, as the RAW rows it makes, and fsync'ed before the next paid
call. The next run lands the journal first (`land_paid_journal`), then reads the work list: the
brands come back as `error` rows (retried) with what they paid for, which is never paid again.
A landed batch empties the journal.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from loaders.common import RAW_DATASET, Row
from warehouse_layer import WarehouseLike, connect, warehouse_exists

JOURNAL_FILE = "apollo_paid_journal.jsonl"
TABLES = ("people", "lookups", "rejected", "calls", "reveals")
# the primary key of each table's rows: the last journal entry of a key is the one landed
KEYS: dict[str, tuple[str, ...]] = {
    "people": ("brand_id", "person_id"),
    "lookups": ("lookup_id",),
    "rejected": ("rejection_key",),
    "calls": ("call_id",),
    "reveals": ("lookup_id", "person_id"),
}
_DATETIME = "$datetime"


def journal_path(pipelines_dir: Path) -> Path:
    return Path(pipelines_dir) / JOURNAL_FILE


class PaidJournal:
    """Appends entries (rows per table) to the journal file, each one flushed and fsync'ed.
    Thread-safe: the searches of several threads may record organizations at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Sequence[Row]]) -> None:
        line = json.dumps({table: list(rows) for table, rows in entry.items() if rows}, default=_encode)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    def clear(self) -> None:
        """Everything journaled is in RAW now."""
        with self._lock:
            self.path.unlink(missing_ok=True)


def read_journal(path: Path) -> dict[str, list[Row]]:
    """The journal's rows per table, the last entry of each key winning. A torn last line (the
    process was killed while writing it) is skipped: its call had not been answered yet."""
    latest: dict[str, dict[tuple[Any, ...], Row]] = {table: {} for table in TABLES}
    if not path.exists():
        return {table: [] for table in TABLES}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line, object_hook=_decode)
        except ValueError:
            continue
        for table in TABLES:
            for row in entry.get(table) or []:
                latest[table][tuple(row.get(column) for column in KEYS[table])] = row
    return {table: list(rows.values()) for table, rows in latest.items()}


def land_paid_journal(
    destination: WarehouseLike,
    pipelines_dir: Path,
    land: Callable[[dict[str, list[Row]]], None],
) -> int:
    """Land what a killed run journaled (lookups already landed by their batch are left as they
    are), then empty the journal. Returns the number of brand lookups landed from it."""
    path = journal_path(pipelines_dir)
    if not path.exists():
        return 0
    rows = read_journal(path)
    landed = _landed_lookup_ids(destination, {str(row["lookup_id"]) for row in rows["lookups"]})
    if landed:
        rows = {
            table: [row for row in table_rows if row.get("lookup_id") not in landed]
            for table, table_rows in rows.items()
        }
    if rows["lookups"]:
        land(rows)
    path.unlink(missing_ok=True)
    return len(rows["lookups"])


def _landed_lookup_ids(destination: WarehouseLike, lookup_ids: Iterable[str]) -> set[str]:
    wanted = sorted(lookup_ids)
    if not wanted or not warehouse_exists(destination):
        return set()
    with connect(destination) as warehouse:
        if not warehouse.table_exists(RAW_DATASET, "apollo_lookups"):
            return set()
        placeholders = ", ".join("?" for _ in wanted)
        found = warehouse.execute(
            f"select lookup_id from {RAW_DATASET}.apollo_lookups where lookup_id in ({placeholders})", wanted
        )
    return {str(row[0]) for row in found}


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode(value: dict[str, Any]) -> object:
    if len(value) == 1 and _DATETIME in value:
        return datetime.fromisoformat(value[_DATETIME])
    return value
