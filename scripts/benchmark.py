"""Benchmark the pipeline on synthetic data: per stage wall time, rows/s and peak RSS, and the
issue's ratios (loader vs DuckDB's own read of the same files, incremental vs full dbt build,
reverse-ETL calls vs the minimum), written to BENCHMARKS.md.

    .venv/bin/python scripts/benchmark.py --size 100k       # or: make bench SIZE=100k

The data (scripts/generate_synthetic_data.py) is generated under benchmarks/data/<size>/ when
missing. The run goes into a fresh DuckDB file under benchmarks/data/runs/<size>/ and is a
production run against local fakes: every stage is the real `outreach` command in its own
process (so its peak RSS is its own), with OUTREACH_SOURCE_MODE=live and the vendors' base URLs
pointing at fakes served by this process (SmartScout replays the generated pages, Apollo serves
the generated organizations, Smartlead and HubSpot are the test fakes). The webhook deliveries
are handed over as a webhook spool. Nothing leaves the machine.

Day 1 loads everything, builds, enriches, builds, builds again with nothing new (the fixed cost of
a build), syncs (and syncs again: no change, no call);
day 2 re-scans SmartScout (1% of the brands changed or new), lands 1% more events, and runs
build, enrich, build, sync again. Then each control room page is rendered headless (AppTest) and
`outreach whatif` runs with the current seeds, on day 2's warehouse.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

REPO_DIR = Path(__file__).resolve().parent.parent
# this checkout's packages and test fakes (not another copy installed in the virtualenv)
sys.path.insert(0, str(REPO_DIR))

from generate_synthetic_data import DEFAULT_DATA_ROOT, SIZES, is_current  # noqa: E402

from reverse_etl.smartlead_client import BLOCK_LIST_BATCH_SIZE  # noqa: E402
from tests.python.fakes.apollo import FakeApollo, load_organizations  # noqa: E402
from tests.python.fakes.destinations import Destinations, running_destinations  # noqa: E402
from tests.python.fakes.server import Reply, Request, serve  # noqa: E402

BENCHMARKS_MD = REPO_DIR / "BENCHMARKS.md"
SMARTSCOUT_KEY = "bench-smartscout-key"
APOLLO_KEY = "bench-apollo-master-key"
BATCH_SIZE = 100  # Smartlead leads and HubSpot upserts: the documented safe maximum
# destination -> rows per request (associations are one request per row)
BATCH_SIZES = {
    "smartlead_leads": BATCH_SIZE,
    "smartlead_block_list": BLOCK_LIST_BATCH_SIZE,
    "hubspot_contacts": BATCH_SIZE,
    "hubspot_companies": BATCH_SIZE,
    "hubspot_associations": 1,
}
TARGET_FLOOR_RATIO = 3.0
TARGET_INCREMENTAL_SHARE = 0.10
TARGET_RSS_MB = 2048.0
TARGET_PAGE_SECONDS = 2.0  # a control room page, rendered (AppTest)
TARGET_WHATIF_SECONDS = 20.0  # `outreach whatif` at 100k brands
# measured once the two days are done: not part of a day's pipeline work
READ_SIDE_KINDS = ("ui", "page", "whatif")
MB = 1024 * 1024
# set per stage by the benchmark (anything else, e.g. OUTREACH_DUCKDB_MEMORY_LIMIT, passes through)
ISOLATED_ENV = frozenset(
    {
        "PIPELINE_MODE",
        "OUTREACH_SOURCE_MODE",
        "OUTREACH_DUCKDB_PATH",
        "OUTREACH_PROJECT_DIR",
        "OUTREACH_SAMPLE_DATA_DIR",
        "OUTREACH_CSV_EXPORTS_DIR",
        "OUTREACH_WEBHOOK_SPOOL_DIR",
        "DBT_TARGET",
        "DBT_TARGET_PATH",
        "DBT_LOG_PATH",
        "DBT_PROFILES_DIR",
        "OUTREACH_INCREMENTAL_LOOKBACK_DAYS",
    }
)


# ---------------------------------------------------------------------------------------------
# Fakes: the recorded SmartScout pages over HTTP.
# ---------------------------------------------------------------------------------------------


class RecordedSmartScout:
    """`POST /api/v2/brands/search` answered from generated page files (`first.json`, then the
    file named by each page's `nextPageId`), as bytes: the fake costs nothing per item."""

    def __init__(self, directory: Path, api_key: str) -> None:
        self.directory = directory
        self.api_key = api_key
        self.pages_served = 0

    def __call__(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/api/v2/brands/search":
            return Reply(404, {"title": "Not Found"})
        if request.header("X-Api-Key") != self.api_key:
            return Reply(401, {"title": "Unauthorized"})
        if not request.param("marketplace"):
            return Reply(400, {"title": "marketplace is required"})
        page_id = request.param("page[id]") or "first"
        path = self.directory / f"{page_id}.json"
        if "/" in page_id or not path.is_file():
            return Reply(400, {"title": "unknown page id"})
        self.pages_served += 1
        return Reply(200, path.read_bytes())


@dataclass
class Fakes:
    smartscout: RecordedSmartScout
    smartscout_url: str
    apollo: FakeApollo
    apollo_url: str
    destinations: Destinations  # Smartlead and HubSpot, with the env of a production sync

    def destination_calls(self) -> int:
        return self.destinations.smartlead.calls + self.destinations.hubspot.calls


@contextlib.contextmanager
def running_fakes(data: Path) -> Iterator[Fakes]:
    smartscout = RecordedSmartScout(data / "smartscout" / "brands_search_US", SMARTSCOUT_KEY)
    apollo = FakeApollo(load_organizations(data / "apollo" / "organizations.json"), api_keys=[APOLLO_KEY])
    with serve(smartscout) as smartscout_server, serve(apollo) as apollo_server, running_destinations() as sinks:
        yield Fakes(smartscout, smartscout_server.base_url, apollo, apollo_server.base_url, sinks)


# ---------------------------------------------------------------------------------------------
# Running a stage in a child process: wall time and peak RSS of that stage alone.
# ---------------------------------------------------------------------------------------------


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# A child's ru_maxrss starts from its parent's peak at fork time (Linux keeps the old memory
# map's high-water mark across exec), and this process holds the fakes' data. So each stage is
# forked by this tiny launcher (`python -S`: a few MB) and the launcher reports the stage's own
# rusage: peak RSS of its largest process (dbt and other waited-for grandchildren included), CPU.
LAUNCHER = """
import os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as handle:
    handle.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
"""


@dataclass
class ChildRun:
    seconds: float
    cpu_seconds: float  # user + system, the stage's processes together (less sensitive to a busy machine)
    returncode: int
    peak_rss_mb: float  # kernel high-water mark of the largest process of the stage (ru_maxrss)
    peak_tree_rss_mb: float  # sampled every 0.2 s: the stage's processes together
    killed_for_memory: bool


def run_child(argv: list[str], env: dict[str, str], log_path: Path, rss_limit_mb: float) -> ChildRun:
    """Run `argv` through the launcher, and kill its process group if its processes together
    pass `rss_limit_mb` (others share this machine)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    report = log_path.with_suffix(".rusage")
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv],
            cwd=REPO_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    peak_tree = 0
    killed = threading.Event()
    done = threading.Event()

    def watch() -> None:
        nonlocal peak_tree
        while not done.wait(0.2):
            total = sum(_rss_bytes(pid) for pid in _process_tree(process.pid))
            peak_tree = max(peak_tree, total)
            if total > rss_limit_mb * MB and not killed.is_set():
                killed.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    launcher_status = process.wait()
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    try:
        returncode, maxrss_kb, cpu = report.read_text().split()
    except (OSError, ValueError):  # the launcher itself was killed
        returncode, maxrss_kb, cpu = str(launcher_status), "0", "0"
    peak_rss_mb = float(maxrss_kb) / 1024 or peak_tree / MB
    return ChildRun(seconds, float(cpu), int(returncode), peak_rss_mb, peak_tree / MB, killed.is_set())


# ---------------------------------------------------------------------------------------------
# DuckDB's own read of the same files: the floor a loader is compared with.
# ---------------------------------------------------------------------------------------------

# kind -> (statement, table it fills)
FLOORS: dict[str, tuple[str, str]] = {
    "smartscout_pages": (
        """
        create table brands as
        select unnest(data, recursive := true)
        from read_json({files}, format = 'auto', maximum_object_size = {max_object_size})
        """,
        "brands",
    ),
    "smartscout_csv": (
        """
        create table brands as
        select * from read_csv({files}, skip = 1, header = true, all_varchar = true, null_padding = true,
                               union_by_name = true, ignore_errors = true)
        """,
        "brands",
    ),
    "smartlead_events": (
        """
        create table events as
        select * from read_json({files}, format = 'newline_delimited', union_by_name = true, ignore_errors = true)
        """,
        "events",
    ),
    "apollo": (
        """
        create table people as
        select unnest(people, recursive := true)
        from read_json({files}, format = 'array', maximum_object_size = {max_object_size})
        """,
        "people",
    ),
}


def floor_main(kind: str, database: Path, files: list[str]) -> int:
    """(In the child process.) Read `files` into a table of a fresh DuckDB file."""
    statement, table = FLOORS[kind]
    database.unlink(missing_ok=True)
    # DuckDB sizes its read buffers by maximum_object_size: as large as the largest file, no larger
    largest = max(Path(f).stat().st_size for f in files)
    with duckdb.connect(str(database)) as connection:
        file_list = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        connection.execute(statement.format(files=file_list, max_object_size=largest + 1024))
        row = connection.execute(f"select count(*) from {table}").fetchone()
    print(json.dumps({"rows": row[0] if row else 0}))
    return 0


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    day: int
    kind: str  # loader | floor | dbt | sync | ui (the page timer's process) | page | whatif
    role: str = ""  # builds: full (from an empty warehouse), after enrich, nothing new, incremental
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    returncode: int = 0
    peak_rss_mb: float = 0.0
    peak_tree_rss_mb: float = 0.0
    rows: int | None = None
    rows_label: str = ""
    floor_seconds: float | None = None
    floor_peak_rss_mb: float | None = None
    api_calls: int | None = None
    minimum_calls: int | None = None
    killed_for_memory: bool = False
    log: str = ""
    notes: str = ""

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0

    @property
    def rows_per_second(self) -> float | None:
        if not self.succeeded or self.rows is None or self.seconds <= 0:
            return None
        return self.rows / self.seconds

    @property
    def floor_ratio(self) -> float | None:
        return self.seconds / self.floor_seconds if self.floor_seconds and self.succeeded else None


@dataclass
class Check:
    name: str
    expected: int
    actual: int | None

    @property
    def ok(self) -> bool:
        return self.actual == self.expected


@dataclass
class Run:
    size: str
    data: Path
    run_dir: Path
    manifest: dict[str, Any]
    fakes: Fakes
    rss_limit_mb: float
    stages: list[Stage] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return self.run_dir / "outreach.duckdb"

    @property
    def spool(self) -> Path:
        return self.run_dir / "webhook_spool"

    def counted(self, key: str) -> int:
        """A count from the generator's manifest (absent: none written)."""
        return int(self.manifest["counts"].get(key, 0))

    # -- environment -------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """Live mode with every base URL on a local fake and only the stage's own keys."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SOURCES__", "DESTINATION__", "SMARTLEAD_")) and key not in ISOLATED_ENV
        }
        sinks = self.fakes.destinations.env
        env.update(
            {
                "OUTREACH_SOURCE_MODE": "live",
                "OUTREACH_WEBHOOK_SPOOL_DIR": str(self.run_dir / "no_spool_yet"),
                "DBT_TARGET": "duckdb",
                # the project's target/ and logs/ are shared with whoever else runs dbt here
                "DBT_TARGET_PATH": str(self.run_dir / "dbt_target"),
                "DBT_LOG_PATH": str(self.run_dir / "dbt_logs"),
                # day 2 comes minutes after day 1: with the default lookback (days of loads) an
                # incremental build would read all of day 1 again (docs/incremental.md)
                "OUTREACH_INCREMENTAL_LOOKBACK_DAYS": "0",
                "SOURCES__SMARTSCOUT__BASE_URL": self.fakes.smartscout_url,
                "SOURCES__APOLLO__BASE_URL": self.fakes.apollo_url,
                "SOURCES__SMARTLEAD__BASE_URL": sinks["DESTINATION__SMARTLEAD__BASE_URL"],
                "DESTINATION__SMARTLEAD__BASE_URL": sinks["DESTINATION__SMARTLEAD__BASE_URL"],
                "DESTINATION__HUBSPOT__BASE_URL": sinks["DESTINATION__HUBSPOT__BASE_URL"],
            }
        )
        env.update(extra)
        return env

    def outreach(self, stage: Stage, command: str, env: dict[str, str], *args: str) -> Stage:
        argv = [sys.executable, "-m", "pipeline.cli", "--duckdb", str(self.warehouse), command, *args]
        return self.measure(stage, argv, env)

    def plan(self, env: dict[str, str]) -> str:
        """The plan id of a dry run (`outreach sync`) with this environment ("" when none)."""
        dry_run = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "--duckdb", str(self.warehouse), "sync"],
            cwd=REPO_DIR,
            env={**env, "PIPELINE_MODE": "dry_run"},
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"outreach sync --plan (\S+)", dry_run.stdout)
        return found.group(1) if found else ""

    def measure(self, stage: Stage, argv: list[str], env: dict[str, str]) -> Stage:
        log = self.run_dir / "logs" / f"{len(self.stages) + 1:02d}-{stage.name.replace(' ', '_')}.log"
        print(f"[bench {self.size}] {stage.name} ...", flush=True)
        child = run_child(argv, env, log, self.rss_limit_mb)
        stage.seconds, stage.cpu_seconds, stage.returncode = child.seconds, child.cpu_seconds, child.returncode
        stage.peak_rss_mb, stage.peak_tree_rss_mb = child.peak_rss_mb, child.peak_tree_rss_mb
        stage.killed_for_memory, stage.log = child.killed_for_memory, str(log)
        if child.killed_for_memory:
            stage.notes = f"killed: its processes passed {self.rss_limit_mb:.0f} MB"
        elif child.returncode != 0:
            stage.notes = f"failed (exit {child.returncode}): {log.relative_to(self.run_dir)}"
        print(
            f"[bench {self.size}] {stage.name}: {stage.seconds:.1f}s, peak RSS {stage.peak_rss_mb:.0f} MB"
            + (f" -- {stage.notes}" if stage.notes else ""),
            flush=True,
        )
        self.stages.append(stage)
        return stage

    def floor(self, stage: Stage, kind: str, files: list[Path]) -> None:
        """DuckDB's own read of the stage's input files, in its own process and database."""
        argv = [sys.executable, str(Path(__file__)), "--floor", kind, "--floor-db", str(self.run_dir / "floor.duckdb")]
        argv += ["--floor-files", *[str(f) for f in files]]
        floor = self.measure(Stage(f"floor: {kind}", stage.day, "floor", rows=stage.rows), argv, self.env())
        if floor.returncode != 0:
            stage.notes = "; ".join(filter(None, [stage.notes, f"DuckDB floor failed, see {floor.log}"]))
            return
        stage.floor_seconds, stage.floor_peak_rss_mb = floor.seconds, floor.peak_rss_mb
        (self.run_dir / "floor.duckdb").unlink(missing_ok=True)

    # -- warehouse -----------------------------------------------------------------------------

    def count(self, sql: str) -> int | None:
        if not self.warehouse.exists():
            return None
        try:
            with duckdb.connect(str(self.warehouse), read_only=True) as connection:
                row = connection.execute(sql).fetchone()
        except duckdb.Error:
            return None
        return int(row[0]) if row and row[0] is not None else 0

    def check(self, name: str, expected: int, sql: str) -> None:
        self.checks.append(Check(name, expected, self.count(sql)))

    def raw_rows(self) -> int:
        tables = ("smartscout_brands", "smartlead_events", "apollo_people", "apollo_lookups", "rejected_records")
        return sum(self.count(f"select count(*) from raw.{table}") or 0 for table in tables)

    def minimum_calls(self) -> int | None:
        """⌈rows / batch⌉ per destination and target for the rows this sync had to send (None
        when the sync did not get as far as planning)."""
        try:
            with duckdb.connect(str(self.warehouse), read_only=True) as connection:
                rows = connection.execute(
                    "select destination, target, count(*) from reverse_etl.sync_preview"
                    " where action in ('add', 'change', 'retry') group by 1, 2"
                ).fetchall()
        except duckdb.Error:
            return None
        return sum(math.ceil(count / BATCH_SIZES[destination]) for destination, _, count in rows)

    def rows_to_send(self) -> int:
        return (
            self.count("select count(*) from reverse_etl.sync_preview where action in ('add', 'change', 'retry')") or 0
        )

    # -- stages --------------------------------------------------------------------------------

    def ingest_smartscout(self, day: int) -> None:
        pages = (self.data if day == 1 else self.data / "day2") / "smartscout" / "brands_search_US"
        self.fakes.smartscout.directory = pages
        items = self.counted("api_items" if day == 1 else "day2_api_items")
        stage = Stage("ingest smartscout api", day, "loader", rows=items, rows_label="items")
        env = self.env(
            SOURCES__SMARTSCOUT__API_KEY=SMARTSCOUT_KEY,
            SOURCES__SMARTSCOUT__PAGE_SIZE=str(self.manifest["page_size"]),
            SOURCES__SMARTSCOUT__REQUESTS_PER_SECOND="100000",
        )
        self.outreach(stage, "ingest", env)
        if day == 1:
            self.floor(stage, "smartscout_pages", sorted(pages.glob("*.json")))
        expected = self.manifest["expected"][f"raw_smartscout_api_rows_day{day}"]
        self.check(f"day {day}: raw SmartScout API rows", expected, _raw_brands("api"))

    def ingest_exports(self) -> None:
        exports = sorted((self.data / "smartscout").glob("*.csv"))
        rows = sum(self.counted(key) for key in ("export_rows", "variant_export_rows", "export_short_rows"))
        stage = Stage("ingest smartscout csv", 1, "loader", rows=rows, rows_label="rows")
        self.outreach(stage, "ingest", self.env(OUTREACH_CSV_EXPORTS_DIR=str(self.data / "smartscout")))
        self.floor(stage, "smartscout_csv", exports)
        expected = self.manifest["expected"]
        self.check("raw SmartScout CSV rows", expected["raw_smartscout_csv_rows"], _raw_brands("csv_export"))
        self.check(
            "raw rejected SmartScout rows",
            expected["raw_rejected_smartscout"],
            "select count(*) from raw.rejected_records where source = 'smartscout'",
        )

    def ingest_events(self, day: int) -> None:
        """The day's deliveries handed over as a webhook spool (hard links: no copy)."""
        folder = (self.data if day == 1 else self.data / "day2") / "smartlead"
        files = sorted(folder.glob("*.jsonl"))
        self.spool.mkdir(parents=True, exist_ok=True)
        for number, path in enumerate(files, start=1):
            target = self.spool / f"events-2026111{4 + day}T00Z-{number}.jsonl"
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        lines = self.counted("lines" if day == 1 else "day2_lines")
        stage = Stage("ingest smartlead webhooks", day, "loader", rows=lines, rows_label="events")
        self.outreach(stage, "ingest", self.env(OUTREACH_WEBHOOK_SPOOL_DIR=str(self.spool)))
        if day == 1:
            self.floor(stage, "smartlead_events", files)
        expected = self.manifest["expected"]
        self.check(
            f"day {day}: raw Smartlead events",
            expected[f"raw_smartlead_events_day{day}"],
            "select count(*) from raw.smartlead_events",
        )
        if day == 1:
            self.check(
                "raw rejected Smartlead lines",
                expected["raw_rejected_smartlead_day1"],
                "select count(*) from raw.rejected_records where source = 'smartlead'",
            )

    def build(self, day: int, label: str, role: str) -> Stage:
        stage = Stage(f"dbt build ({label})", day, "dbt", role, rows=self.raw_rows(), rows_label="RAW rows")
        self.outreach(stage, "build", self.env())
        return stage

    def enrich(self, day: int) -> None:
        """Apollo over HTTP for the work list; brands looked up within the TTL are skipped."""
        due = self.count(
            "select count(*) from segmented.seg_apollo_worklist as w where not exists ("
            " select 1 from raw.apollo_lookups as l where l.brand_id = w.brand_id and l.status in ('ok', 'no_match'))"
        )
        before = self.count("select count(*) from raw.apollo_lookups") or 0
        stage = Stage("enrich apollo", day, "loader", rows=due, rows_label="brands looked up")
        env = self.env(SOURCES__APOLLO__API_KEY=APOLLO_KEY, SOURCES__APOLLO__REQUESTS_PER_SECOND="100000")
        self.outreach(stage, "enrich", env)
        if day == 1:
            self.floor(stage, "apollo", [self.data / "apollo" / "organizations.json"])
            stage.notes = stage.notes or "a search per brand, shared bulk_match calls, fake over HTTP"
        self.check(
            f"day {day}: apollo looks up each brand due once",
            due or 0,
            f"select count(*) - {before} from raw.apollo_lookups",
        )

    def sync(self, day: int, label: str) -> None:
        stage = Stage(f"reverse ETL ({label})", day, "sync", rows_label="rows sent")
        calls_before = self.fakes.destination_calls()
        env = self.env(**self.fakes.destinations.env)
        # the events are ingested from the webhook spool (what production requires), not polled
        del env["SOURCES__SMARTLEAD__API_KEY"]
        env.update(
            OUTREACH_WEBHOOK_SPOOL_DIR=str(self.spool),
            DESTINATION__SMARTLEAD__BATCH_SIZE=str(BATCH_SIZE),
            DESTINATION__HUBSPOT__BATCH_SIZE=str(BATCH_SIZE),
        )
        # every queued lead goes out at once here: the volume caps are for operators
        env.update(OUTREACH_MAX_NEW_LEADS_PER_CAMPAIGN=str(10**9), OUTREACH_MAX_NEW_LEADS_TOTAL=str(10**9))
        # production applies a plan: the dry run that makes it runs first (not timed)
        self.outreach(stage, "sync", env, "--plan", self.plan(env))
        stage.api_calls = self.fakes.destination_calls() - calls_before
        stage.minimum_calls = self.minimum_calls()
        if stage.minimum_calls is None:
            stage.api_calls = None  # nothing planned: no ratio
            return
        stage.rows = self.rows_to_send()
        self.checks.append(Check(f"day {day}: {label}: API calls = minimum", stage.minimum_calls, stage.api_calls))

    def control_room_pages(self, day: int) -> None:
        """Each control room page rendered headless (scripts/benchmark_ui.py): a row per page."""
        timer = Stage("control room (AppTest process)", day, "ui")
        argv = [sys.executable, str(Path(__file__).with_name("benchmark_ui.py"))]
        env = self.env(OUTREACH_DUCKDB_PATH=str(self.warehouse), OUTREACH_PROJECT_DIR=str(REPO_DIR))
        self.measure(timer, argv, env)
        try:
            timed = json.loads(Path(timer.log).read_text(encoding="utf-8").strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            timer.notes = timer.notes or f"no page times in {timer.log}"
            return
        timer.notes = timer.notes or f"warm-up (imports, first run) {timed['warm_up_seconds']:.1f} s"
        for page in timed["pages"]:
            self.stages.append(
                Stage(
                    f"control room page: {page['title']}",
                    day,
                    "page",
                    seconds=page["seconds"],
                    returncode=1 if page["error"] else 0,
                    peak_rss_mb=timer.peak_rss_mb,  # one process renders every page
                    notes=page["error"] or "",
                )
            )

    def whatif(self, day: int) -> None:
        """`outreach whatif` with the current seeds: a sandbox copy of the warehouse, rebuilt."""
        self.outreach(Stage("what-if (current seeds)", day, "whatif"), "whatif", self.env())

    def execute(self) -> None:
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True)
        expected = self.manifest["expected"]
        self.ingest_smartscout(1)
        self.ingest_exports()
        self.ingest_events(1)
        self.build(1, "full", "full")  # an empty warehouse: every model and table from scratch
        self.enrich(1)
        self.build(1, "after enrich", "after enrich")  # incremental models already built: not a full build
        self.check(
            "day 1: clean brands", expected["clean_brands_day1"], "select count(*) from clean.stg_smartscout__brands"
        )
        # the fixed part of any build: ~200 nodes and tests over whole tables, with no new RAW
        self.build(1, "nothing new", "nothing new")
        self.sync(1, "first sync")
        self.sync(1, "no change")
        self.ingest_smartscout(2)
        self.ingest_events(2)
        self.build(2, "1% changed, before enrich", "incremental")
        self.enrich(2)
        self.build(2, "1% changed, after enrich", "incremental")
        self.check(
            "day 2: clean brands", expected["clean_brands_day2"], "select count(*) from clean.stg_smartscout__brands"
        )
        self.sync(2, "after 1% change")
        self.control_room_pages(2)
        self.whatif(2)
        self.checks.append(Check("every stage succeeded", 0, sum(1 for s in self.stages if s.returncode != 0)))


def _raw_brands(source_kind: str) -> str:
    return f"select count(*) from raw.smartscout_brands where source_kind = '{source_kind}'"


# ---------------------------------------------------------------------------------------------
# Results: ratios, targets, BENCHMARKS.md.
# ---------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    measured: str
    limit: str
    met: bool
    gap: str = ""


def targets(run: Run) -> list[Target]:
    found: list[Target] = []
    for stage in run.stages:
        if stage.kind == "loader" and stage.floor_seconds and not stage.succeeded:
            found.append(Target(f"{stage.name} ≤ 3x DuckDB floor", "stage failed", "3.0x", False, stage.notes))
        if stage.kind == "loader" and stage.floor_ratio is not None:
            ratio = stage.floor_ratio
            met = ratio <= TARGET_FLOOR_RATIO
            gap = "" if met else f"{ratio / TARGET_FLOOR_RATIO:.1f}x over"
            found.append(Target(f"{stage.name} ≤ 3x DuckDB floor", f"{ratio:.1f}x", "3.0x", met, gap))
    # every day-2 build is compared with the from-scratch build of day 1 (an empty warehouse)
    day1_builds = {s.role: s for s in run.stages if s.kind == "dbt" and s.day == 1}
    full, nothing_new = day1_builds.get("full"), day1_builds.get("nothing new")
    for stage in run.stages:
        if stage.kind != "dbt" or stage.role != "incremental" or full is None or full.seconds <= 0:
            continue
        if not (stage.succeeded and full.succeeded):
            found.append(Target(f"{stage.name} ≤ 10% of {full.name}", "build failed", "10%", False, ""))
            continue
        share = stage.seconds / full.seconds
        met = share <= TARGET_INCREMENTAL_SHARE
        gap = "" if met else f"{share / TARGET_INCREMENTAL_SHARE:.1f}x over"
        if not met and nothing_new is not None and nothing_new.succeeded:
            gap += f"; a build with nothing new takes {nothing_new.seconds / full.seconds:.0%} of the full one"
        found.append(Target(f"{stage.name} ≤ 10% of {full.name}", f"{share:.0%}", "10%", met, gap))
    measured = [s for s in run.stages if s.kind != "floor"]
    if measured:
        top = max(measured, key=lambda s: s.peak_rss_mb)
        over = [s for s in measured if s.peak_rss_mb >= TARGET_RSS_MB]
        gap = "; ".join(f"{s.name} {s.peak_rss_mb:,.0f} MB" for s in over)
        found.append(
            Target(
                "peak RSS < 2 GB (every stage)", f"{top.peak_rss_mb:,.0f} MB ({top.name})", "2,048 MB", not over, gap
            )
        )
    for stage in run.stages:
        if stage.kind == "page":
            met = stage.succeeded and stage.seconds <= TARGET_PAGE_SECONDS
            gap = (
                stage.notes
                if not stage.succeeded
                else ""
                if met
                else f"{stage.seconds / TARGET_PAGE_SECONDS:.1f}x over"
            )
            found.append(Target(f"{stage.name} ≤ 2 s", f"{stage.seconds:.1f} s", "2 s", met, gap))
        if stage.kind == "whatif":
            met = stage.succeeded and stage.seconds <= TARGET_WHATIF_SECONDS
            gap = (
                stage.notes
                if not stage.succeeded
                else ""
                if met
                else f"{stage.seconds / TARGET_WHATIF_SECONDS:.1f}x over"
            )
            found.append(Target("what-if ≤ 20 s (the target is for 100k)", f"{stage.seconds:.1f} s", "20 s", met, gap))
    for stage in run.stages:
        if stage.kind == "sync" and stage.api_calls is not None and stage.minimum_calls is not None:
            met = stage.api_calls == stage.minimum_calls
            gap = "" if met else f"{stage.api_calls - stage.minimum_calls:+d} calls"
            found.append(
                Target(f"{stage.name}: API calls = minimum", f"{stage.api_calls}", f"{stage.minimum_calls}", met, gap)
            )
    return found


def machine() -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("duckdb", "dlt", "dbt-core", "dbt-duckdb")
    )
    return {
        "cpu": f"{os.cpu_count()} cores{f' ({model})' if model else ''}",
        "memory": f"{memory / 1024**3:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            # the benchmark's own output is not code under measurement
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit}{' with uncommitted changes' if dirty else ''}"


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def markdown_section(run: Run, command: str, info: dict[str, str], generated: str, label: str) -> str:
    """The section of BENCHMARKS.md for this run's size (and label)."""
    target = run.manifest["target"]
    counts = {key: run.counted(key) for key in ("api_items", "api_pages", "export_rows", "variant_export_rows")}
    counts |= {key: run.counted(key) for key in ("apollo_people", "lines")}
    lines = [
        f"## {run.size}{f' ({label})' if label else ''}: {target['brands']:,} brands, "
        f"{target['contacts']:,} contacts, {target['events']:,} events",
        "",
        f"- Command: `{command}`",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; commit {info['commit']}",
        f"- Machine: {info['cpu']}, {info['memory']} RAM; {info['os']}; Python {info['python']}; {info['versions']}",
        f"- Load average (1 min) at start / end: {info['load']} (other work on the machine slows every stage)",
        f"- Data: {counts['api_items']:,} SmartScout items in {counts['api_pages']:,} pages, "
        f"{counts['export_rows'] + counts['variant_export_rows']:,} CSV rows, {counts['apollo_people']:,} Apollo "
        f"people, {counts['lines']:,} webhook deliveries; {run.manifest['bytes'] / 1e6:,.0f} MB, {generated}",
        "",
        "| day | stage | rows | wall (s) | CPU (s) | rows/s | peak RSS (MB) | DuckDB floor (s) | x floor "
        "| API calls / minimum | notes |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for stage in run.stages:
        if stage.kind == "floor":
            continue
        calls = f"{stage.api_calls} / {stage.minimum_calls}" if stage.api_calls is not None else ""
        rows = f"{stage.rows:,} {stage.rows_label}" if stage.rows is not None else ""
        ratio = f"{stage.floor_ratio:.1f}x" if stage.floor_ratio is not None else ""
        lines.append(
            f"| {stage.day} | {stage.name} | {rows} | {stage.seconds:,.1f} | {_number(stage.cpu_seconds or None, 1)} "
            f"| {_number(stage.rows_per_second)} "
            f"| {stage.peak_rss_mb:,.0f} | {_number(stage.floor_seconds, 1)} | {ratio} | {calls} | {stage.notes} |"
        )
    # a measurement, not part of a day's work: the build with nothing new
    day_totals = {
        day: sum(
            s.seconds
            for s in run.stages
            if s.day == day and s.kind not in ("floor", *READ_SIDE_KINDS) and s.role != "nothing new"
        )
        for day in (1, 2)
    }
    lines += [
        "",
        f"Day 1 (first load) {day_totals[1]:,.0f} s; day 2 (1% changed) {day_totals[2]:,.0f} s "
        f"({day_totals[2] / day_totals[1]:.0%} of day 1; the control room pages and the what-if, "
        "measured after day 2, not included)."
        if day_totals[1]
        else "",
        "",
        "| target | measured | limit | met | missed by |",
        "|---|--:|--:|:-:|---|",
    ]
    for item in targets(run):
        lines.append(
            f"| {item.name} | {item.measured} | {item.limit} | {'yes' if item.met else '**no**'} | {item.gap} |"
        )
    failed = [check for check in run.checks if not check.ok]
    lines += [
        "",
        f"Correctness checks against the generator's manifest: {len(run.checks) - len(failed)} of "
        f"{len(run.checks)} passed"
        + ("." if not failed else ": " + "; ".join(f"{c.name}: expected {c.expected}, got {c.actual}" for c in failed)),
        "",
    ]
    return "\n".join(lines)


MD_HEADER = """# Benchmarks

Produced by `scripts/benchmark.py` (`make bench SIZE=<size>`); each section is replaced when its
size is run again. Data from `scripts/generate_synthetic_data.py` (never committed). Every stage is
the real `outreach` command in its own process, in live mode against local fakes (SmartScout
replays the generated pages over HTTP, Apollo and the reverse-ETL destinations are the test fakes;
webhook deliveries arrive as a webhook spool), into a fresh DuckDB file. Day 1: ingest, build
(full: from an empty warehouse), enrich, build, build again with nothing new (what any build costs:
the fixed part), sync, and sync again (nothing changed: no request). Day 2: a full SmartScout re-scan
in which 1% of the brands changed or are new, 1% more events (new sends, late opens, re-deliveries),
then build, enrich, build, sync. Then, on day 2's warehouse: each control room page rendered
headless (Streamlit's AppTest in one process, scripts/benchmark_ui.py: each page's run timed, the
process's imports and first run reported apart as its warm-up) and `outreach whatif` with the
current seeds (a sandbox copy rebuilt). Builds run with `OUTREACH_INCREMENTAL_LOOKBACK_DAYS=0`: day 2
comes minutes after day 1, and the default lookback (2 days of loads) would read all of day 1
again; a real daily run re-reads about two days of loads (docs/incremental.md).

- **rows/s**: the stage's input rows (items, CSV rows, webhook deliveries, brands looked up, RAW
  rows for dbt, rows sent for the reverse ETL) per second of wall time (process start included).
- **CPU**: user + system seconds of the stage's processes. The machine may be shared: wall times
  move with its load (noted per run), CPU times much less.
- **peak RSS**: the kernel's high-water mark of the largest process of the stage (dbt for builds).
- **DuckDB floor**: DuckDB itself reading the same files into a table of a fresh database
  (`read_json` / `read_csv`), also in its own process. Targets: each loader ≤ 3x its floor; each
  day-2 build (after a 1% change) ≤ 10% of day 1's full build; peak RSS < 2 GB; reverse-ETL
  requests equal to ⌈changed rows / batch size⌉ per destination and campaign (one per HubSpot
  association); a control room page ≤ 2 s; a what-if ≤ 20 s (the target is set for 100k brands).
"""


def update_markdown(path: Path, size: str, label: str, section: str) -> None:
    """Replace this size's (and label's) section, or add it before the sections of larger sizes."""
    key = f"{size}{f' ({label})' if label else ''}"
    start, end = f"<!-- benchmark:{key}:start -->", f"<!-- benchmark:{key}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else MD_HEADER
    first = text.find("<!-- benchmark:")
    if first >= 0:  # the header describes this script: keep it current
        text = MD_HEADER.rstrip("\n") + "\n\n" + text[first:]
    block = f"{start}\n{section}{end}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + "\n" + rest.split(end, 1)[1].lstrip("\n")
    else:
        larger = list(SIZES)[list(SIZES).index(size) + 1 :]
        positions = [text.find(f"<!-- benchmark:{name}") for name in larger]
        cut = min((position for position in positions if position >= 0), default=-1)
        text = text[:cut] + block + "\n" + text[cut:] if cut >= 0 else text.rstrip("\n") + "\n\n" + block
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------------


def ensure_data(size: str, data: Path, rss_limit_mb: float, logs: Path) -> str:
    if is_current(data, size):
        return "reused"
    argv = [sys.executable, str(Path(__file__).with_name("generate_synthetic_data.py")), "--size", size]
    argv += ["--out", str(data), "--force"]
    print(f"[bench {size}] generating data into {data} ...", flush=True)
    child = run_child(argv, dict(os.environ), logs / "generate.log", rss_limit_mb)
    if child.returncode != 0:
        raise SystemExit(f"data generation failed, see {logs / 'generate.log'}")
    return f"generated in {child.seconds:,.0f} s (peak RSS {child.peak_rss_mb:,.0f} MB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=list(SIZES), default="10k")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT, help="default: benchmarks/data")
    parser.add_argument("--benchmarks-md", type=Path, default=BENCHMARKS_MD, help="default: BENCHMARKS.md")
    parser.add_argument("--no-markdown", action="store_true", help="do not write the Markdown section")
    parser.add_argument("--label", default="", help="name a variant of the code being measured: its own section")
    parser.add_argument(
        "--rss-limit-mb", type=float, default=8192, help="kill a stage whose processes pass this (default 8192)"
    )
    parser.add_argument("--floor", choices=sorted(FLOORS), help=argparse.SUPPRESS)
    parser.add_argument("--floor-db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-files", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        return floor_main(args.floor, args.floor_db, args.floor_files)

    data = args.data_root / args.size
    run_dir = args.data_root / "runs" / args.size
    generated = ensure_data(args.size, data, args.rss_limit_mb, args.data_root / "runs")
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    if generated == "reused":
        generated = f"generated earlier in {manifest['seconds']:,.0f} s"
    load_at_start = os.getloadavg()[0]
    with running_fakes(data) as fakes:
        run = Run(args.size, data, run_dir, manifest, fakes, args.rss_limit_mb)
        run.execute()
    command = " ".join([os.path.relpath(sys.executable, REPO_DIR), *sys.argv]) if argv is None else " ".join(argv)
    info = machine() | {"load": f"{load_at_start:.1f} / {os.getloadavg()[0]:.1f}"}
    section = markdown_section(run, command, info, generated, args.label)
    results = {
        "size": args.size,
        "command": command,
        "machine": info,
        "manifest_expected": manifest["expected"],
        "stages": [asdict(stage) | {"floor_ratio": stage.floor_ratio} for stage in run.stages],
        "targets": [asdict(target) for target in targets(run)],
        "checks": [asdict(check) | {"ok": check.ok} for check in run.checks],
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not args.no_markdown:
        update_markdown(args.benchmarks_md, args.size, args.label, section)
    print(section)
    failed = [check for check in run.checks if not check.ok]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
