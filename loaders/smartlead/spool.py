"""The webhook spool: durable JSON-lines files written by the receiver, loaded into RAW later.

Layout of `spool_dir`:

- `events-<YYYYMMDDTHH>Z[-<n>].jsonl`: accepted deliveries, one JSON object per line, `secret_key`
  removed, exactly the body Smartlead sent otherwise (so `event_key` = md5 of that body collapses
  duplicate deliveries). A new file each UTC hour, or when the current one passes `max_bytes`.
- `rejected-<YYYYMMDDTHH>Z.jsonl`: deliveries answered 400, with the reason and the body text
  (secrets redacted): whole for an authenticated event that cannot be stored, else a capped,
  rate-limited trace (see webhook_receiver.py). `load_spool` lands them in raw.rejected_records.
- `processing/`: files claimed by a load that has not finished yet.
- `loaded/`: files whose events are in raw.smartlead_events.
- `.lock`: an advisory `flock` shared by writers and the loader.

Every append opens the file, writes one line, flushes, `fsync`s and closes it, under the lock
(a thread lock in-process plus `flock` across processes), so concurrent deliveries never
interleave and an acknowledged event is on disk. A receiver killed in the middle of a write
leaves a torn last line (never acknowledged); the next append to that file first ends it with a
newline, so the fragment stays a line of its own (the loader rejects it as invalid JSON) instead
of swallowing the next, acknowledged, event.

Loading never reads a file that is being written: `load_spool` takes the lock, *renames* every
`events-*.jsonl` into `processing/` (the next append creates a fresh file), releases the lock,
loads everything in `processing/` through `load_event_files(source_kind='webhook')` and only
after the dlt load succeeded moves the files to `loaded/`. A crash in between leaves the files in
`processing/`: the next load reads them again and the merge on `event_key` makes that a no-op.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.common import LoadSummary, Row, compact_json, make_rejection, rejected_records, run_pipeline, utc_now
from loaders.common.pipeline import landing_source_mode
from loaders.smartlead.helpers import redact_secrets, without_secrets
from loaders.smartlead.settings import PIPELINE_NAME
from warehouse_layer import EVENTS_WEBHOOKS, LIVE, WarehouseLike, connect, record_event_read

__all__ = ["Spool", "load_spool"]

EVENTS_PREFIX = "events-"
REJECTED_PREFIX = "rejected-"
PROCESSING_DIR = "processing"
LOADED_DIR = "loaded"
LOCK_FILE = ".lock"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_REJECTED_TEXT_CHARS = 10_000


def _fsync_dir(path: Path) -> None:
    """Make a create/rename in `path` durable (best effort on file systems that refuse it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Spool:
    """Appends events durably to hour/size-rotated JSON-lines files under `directory`."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._clock = clock
        self._thread_lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive access to the spool, for threads of this process and for other processes."""
        with self._thread_lock, (self.directory / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _current_file(self, prefix: str, extra_bytes: int) -> Path:
        hour = self._clock().astimezone(UTC).strftime("%Y%m%dT%HZ")
        base = f"{prefix}{hour}"
        index = 0
        while True:
            path = self.directory / (f"{base}.jsonl" if index == 0 else f"{base}-{index}.jsonl")
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                return path
            if size == 0 or size + extra_bytes <= self.max_bytes:
                return path
            index += 1

    def _append_line(self, prefix: str, line: str) -> Path:
        data = (line + "\n").encode("utf-8")
        with self.locked():
            path = self._current_file(prefix, len(data))
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if not created and _ends_torn(fd):
                    data = b"\n" + data
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.directory)
        return path

    def append_event(self, event: Mapping[str, Any]) -> Path:
        """Write one delivery (secret removed) and return once it is on disk."""
        return self._append_line(EVENTS_PREFIX, compact_json(without_secrets(event)))

    def append_rejected(self, reason: str, body_text: str, received_at: datetime | None = None) -> Path:
        text = redact_secrets(body_text)[:MAX_REJECTED_TEXT_CHARS]
        record = {"received_at": (received_at or utc_now()).isoformat(), "reason": reason, "body": text}
        return self._append_line(REJECTED_PREFIX, json.dumps(record, ensure_ascii=False))

    def rejected_bytes(self) -> int:
        """Size of the rejected spool not loaded yet (what a flood of bad deliveries could grow)."""
        total = 0
        for folder in (self.directory, self.directory / PROCESSING_DIR):
            for path in folder.glob(f"{REJECTED_PREFIX}*.jsonl"):
                try:
                    total += path.stat().st_size
                except FileNotFoundError:  # claimed by a load meanwhile
                    continue
        return total

    def event_files(self) -> list[Path]:
        return sorted(self.directory.glob(f"{EVENTS_PREFIX}*.jsonl"))

    def claim(self, prefix: str = EVENTS_PREFIX) -> list[Path]:
        """Move the current `prefix` files into `processing/` (under the lock) and return every
        such file waiting there, including those left by an interrupted load."""
        processing = self.directory / PROCESSING_DIR
        processing.mkdir(exist_ok=True)
        with self.locked():
            stamp = f"{time.time_ns()}"
            for path in sorted(self.directory.glob(f"{prefix}*.jsonl")):
                path.rename(processing / f"{path.stem}.{stamp}{path.suffix}")
            _fsync_dir(processing)
            _fsync_dir(self.directory)
        return sorted(processing.glob(f"{prefix}*.jsonl"))

    def mark_loaded(self, paths: list[Path]) -> None:
        loaded = self.directory / LOADED_DIR
        loaded.mkdir(exist_ok=True)
        for path in paths:
            path.rename(loaded / path.name)
        _fsync_dir(loaded)


def _ends_torn(fd: int) -> bool:
    """Whether the file ends in the middle of a line (a write cut short by a crash)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def load_spool(
    spool_dir: Path,
    destination: WarehouseLike,
    pipelines_dir: Path,
    *,
    received_at: datetime | None = None,
) -> LoadSummary:
    """Land every acknowledged webhook delivery in raw.smartlead_events (source_kind='webhook')."""
    from loaders.smartlead import load_event_files  # the package imports this module

    spool = Spool(Path(spool_dir))
    files = spool.claim()
    summary = load_event_files(files, destination, pipelines_dir, source_kind="webhook", received_at=received_at)
    spool.mark_loaded(files)  # only after the load succeeded: a crash before this re-loads (a no-op)
    # deliveries answered 400 are not lost either: they become raw.rejected_records rows
    rejected_files = spool.claim(REJECTED_PREFIX)
    rejected = _rejected_rows(rejected_files)
    if rejected_files:
        run_pipeline(PIPELINE_NAME, destination, pipelines_dir, rejected_records(rejected))
        spool.mark_loaded(rejected_files)
    summary.source = "smartlead webhook spool"
    summary.rows_rejected += len(rejected)
    summary.details["spool_files"] = len(files) + len(rejected_files)
    return summary


def _rejected_rows(paths: list[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                received = datetime.fromisoformat(record["received_at"])
                reason, body = str(record["reason"]), str(record.get("body") or "")
            except (ValueError, KeyError, TypeError):
                received, reason, body = utc_now(), "unreadable line in the rejected spool", line
            rows.append(make_rejection("smartlead", path.name, line_number, f"webhook: {reason}", body, received))
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="python -m loaders.smartlead.spool", description="Load the Smartlead webhook spool into RAW."
    )
    parser.add_argument("--spool-dir", type=Path, default=Path("warehouse/webhook_spool"))
    parser.add_argument(
        "--duckdb-path", type=Path, default=Path(os.environ.get("OUTREACH_DUCKDB_PATH") or "warehouse/outreach.duckdb")
    )
    parser.add_argument("--pipelines-dir", type=Path, default=None, help="default: dlt_pipelines next to the file")
    args = parser.parse_args(argv)
    pipelines_dir = args.pipelines_dir or args.duckdb_path.parent / "dlt_pipelines"
    started = utc_now().replace(tzinfo=None)
    with landing_source_mode(LIVE):  # deliveries from Smartlead: live data
        summary = load_spool(args.spool_dir, args.duckdb_path, pipelines_dir)
    with connect(args.duckdb_path) as warehouse:  # a successful read: the production gate counts it
        record_event_read(warehouse, EVENTS_WEBHOOKS, started, summary.rows_loaded, LIVE)
    print(summary)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
