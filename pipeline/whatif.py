"""What a proposed scoring change would move, before it is merged: `outreach whatif`.

The proposed `scoring_weights` / `segment_thresholds` seeds are built by the project's own dbt
models in a sandbox (a copy of the DuckDB warehouse and of the dbt project's configuration, in a
temporary folder), never in the warehouse: its history, snapshots and ledger are not touched, and
no run lock is taken. Scoring lives in SQL only; this module copies, runs `dbt build` on the
copy, and compares the copy's tables before and after. The Markdown rendering is
`pipeline/whatif_report.py`; the Streamlit configurator calls `run_whatif` for the typed result.
"""

from __future__ import annotations

import csv
import fcntl
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from loaders.apollo import BrandToEnrich, filter_recently_looked_up
from pipeline.dbt_runner import (
    DbtFailedError,
    DbtSummary,
    dbt_target_path,
    ensure_profiles,
    failed_tests,
    run_dbt,
    stored_problems,
)
from pipeline.settings import Settings
from warehouse_layer import DUCKDB, Warehouse, connect
from warehouse_layer.run_lock import RunLockedError, os_lock_holder, os_lock_path

WEIGHTS_SEED = "scoring_weights"
THRESHOLDS_SEED = "segment_thresholds"
CAMPAIGNS_SEED = "segment_campaigns"
# the seeds the what-if loads (the proposed ones, the others as they are in seeds/), and the
# outputs it compares: only the models between them are built
SANDBOX_SEEDS = (WEIGHTS_SEED, THRESHOLDS_SEED, CAMPAIGNS_SEED)
SANDBOX_OUTPUTS = ("seg_outreach_queue", "seg_apollo_worklist")
# the build's own guard against reusing a weights_version: the what-if warns instead (see
# `weights_version_warning`), so it can still show what the new weights would move
WEIGHTS_VERSION_TEST = "assert_scoring_weights_version_is_unchanged"

SEGMENTS = ("A", "B", "C", "D", "E")
UNSEGMENTED = "unsegmented"
SUPPRESSED = "suppressed"
# the rows and columns of the move matrix, in this order
CATEGORIES = (*SEGMENTS, UNSEGMENTED, SUPPRESSED)
TOP_SEGMENT, BOTTOM_SEGMENT = SEGMENTS[0], SEGMENTS[-1]

# tables the what-if reads from the warehouse: a warehouse never built cannot be compared
REQUIRED_TABLES = (
    ("enriched", "dim_brands"),
    ("enriched", "int_brand_outreach_history"),
    ("segmented", "seg_brand_scores"),
    ("segmented", "seg_outreach_queue"),
    ("segmented", "seg_apollo_worklist"),
    ("segmented", "seg_scoring_weights_versions"),
)
# the warehouse's figures, saved in the sandbox copy before the proposed seeds are built
BEFORE_SCHEMA = "whatif_before"

# MadKudu's validation figures for a lead score, over the brands already contacted
TOP_SHARE_OF_LEADS = (0.15, 0.35)
TOP_SHARE_OF_CONVERSIONS = 0.60
TOP_OVER_BOTTOM_LIFT = 10.0


class WhatIfInputError(ValueError):
    """A proposed seed file cannot be used (missing, wrong columns, or rejected by the seed tests)."""


class WhatIfUnsupportedError(ValueError):
    """The active dbt target is not a DuckDB file: the sandbox copies one."""


@dataclass(frozen=True)
class CampaignQueue:
    campaign_id: int | None
    campaign_name: str | None
    leads_before: int
    leads_after: int


@dataclass(frozen=True)
class NewApolloLookup:
    brand_id: str
    brand_name: str
    segment: str
    score: float


@dataclass(frozen=True)
class BacktestSegment:
    """Brands already contacted, grouped by the segment the proposed seeds give them now."""

    segment: str
    brands_contacted: int
    brands_replied: int
    brands_positive: int

    @property
    def reply_rate(self) -> float | None:
        return _ratio(self.brands_replied, self.brands_contacted)

    @property
    def positive_rate(self) -> float | None:
        return _ratio(self.brands_positive, self.brands_contacted)


SHARE, LIFT = "share", "lift"


@dataclass(frozen=True)
class ValidationCheck:
    name: str
    kind: str  # SHARE (a fraction) or LIFT (a ratio of rates)
    target: str
    value: float | None
    counts: str
    # None: cannot be told (no brand to count)
    passed: bool | None


@dataclass(frozen=True)
class Backtest:
    segments: list[BacktestSegment]

    def segment(self, name: str) -> BacktestSegment:
        for row in self.segments:
            if row.segment == name:
                return row
        return BacktestSegment(name, 0, 0, 0)

    @property
    def brands_contacted(self) -> int:
        return sum(row.brands_contacted for row in self.segments)

    @property
    def brands_positive(self) -> int:
        return sum(row.brands_positive for row in self.segments)

    def share_of_brands(self, name: str) -> float | None:
        return _ratio(self.segment(name).brands_contacted, self.brands_contacted)

    def share_of_positive(self, name: str) -> float | None:
        return _ratio(self.segment(name).brands_positive, self.brands_positive)

    @property
    def lift(self) -> float | None:
        """Positive-reply rate of the top segment over the bottom one; inf when the bottom one has
        contacted brands and no positive reply while the top one has some."""
        top, bottom = self.segment(TOP_SEGMENT).positive_rate, self.segment(BOTTOM_SEGMENT).positive_rate
        if top is None or bottom is None:
            return None
        if bottom == 0:
            return float("inf") if top > 0 else None
        return top / bottom

    def checks(self) -> list[ValidationCheck]:
        top, bottom = self.segment(TOP_SEGMENT), self.segment(BOTTOM_SEGMENT)
        low, high = TOP_SHARE_OF_LEADS
        share = self.share_of_brands(TOP_SEGMENT)
        positive_share = self.share_of_positive(TOP_SEGMENT)
        lift = self.lift
        return [
            ValidationCheck(
                f"{TOP_SEGMENT}'s share of contacted brands",
                SHARE,
                f"{low:.0%}-{high:.0%}",
                share,
                f"{top.brands_contacted} of {self.brands_contacted}",
                None if share is None else low <= share <= high,
            ),
            ValidationCheck(
                f"{TOP_SEGMENT}'s share of positive replies",
                SHARE,
                f">= {TOP_SHARE_OF_CONVERSIONS:.0%}",
                positive_share,
                f"{top.brands_positive} of {self.brands_positive}",
                None if positive_share is None else positive_share >= TOP_SHARE_OF_CONVERSIONS,
            ),
            ValidationCheck(
                f"lift of {TOP_SEGMENT} over {BOTTOM_SEGMENT} (positive-reply rate)",
                LIFT,
                f">= {TOP_OVER_BOTTOM_LIFT:g}x",
                lift,
                f"{TOP_SEGMENT} {top.brands_positive}/{top.brands_contacted}, "
                f"{BOTTOM_SEGMENT} {bottom.brands_positive}/{bottom.brands_contacted}",
                None if lift is None else lift >= TOP_OVER_BOTTOM_LIFT,
            ),
        ]


@dataclass(frozen=True)
class WhatIfResult:
    weights_file: Path
    thresholds_file: Path
    weights_version: str
    # brands per (segment before, segment after), every pair with at least one brand
    moves: dict[tuple[str, str], int]
    queue: list[CampaignQueue]
    apollo_worklist_before: int
    apollo_worklist_after: int
    # brands new on the Apollo work list, and those of them with no lookup within the TTL
    apollo_entering: int
    new_apollo_lookups: list[NewApolloLookup]
    apollo_ttl_days: float
    backtest: Backtest
    warnings: list[str] = field(default_factory=list)
    dbt_summary: str = ""
    # the sandbox warehouse, when kept (`keep_sandbox`)
    sandbox_duckdb: Path | None = None

    @property
    def brands(self) -> int:
        return sum(self.moves.values())

    @property
    def brands_moved(self) -> int:
        return sum(count for (before, after), count in self.moves.items() if before != after)


def run_whatif(
    settings: Settings,
    *,
    weights_file: Path | None = None,
    thresholds_file: Path | None = None,
    keep_sandbox: Path | None = None,
    now: datetime | None = None,
) -> WhatIfResult:
    """Builds the proposed seeds (the current ones where None) in a sandbox copy of the warehouse
    and compares it with the warehouse as copied. `keep_sandbox`: a folder to keep the sandbox in
    (to query it), else a temporary one, removed."""
    if settings.warehouse.kind != DUCKDB:
        raise WhatIfUnsupportedError(
            f"outreach whatif supports DuckDB warehouses for now; the active dbt target {settings.warehouse.name} "
            f"is {settings.warehouse.kind}: run it on a DuckDB warehouse (--duckdb PATH, DBT_TARGET=duckdb)"
        )
    seeds_dir = settings.project_dir / "seeds"
    proposed = {
        WEIGHTS_SEED: _checked_seed_file(weights_file, seeds_dir / f"{WEIGHTS_SEED}.csv", "--weights"),
        THRESHOLDS_SEED: _checked_seed_file(thresholds_file, seeds_dir / f"{THRESHOLDS_SEED}.csv", "--thresholds"),
    }
    with _sandbox_folder(keep_sandbox) as root:
        sandbox = _sandbox_settings(settings, root, proposed)
        sandbox_file = sandbox.warehouse.duckdb_path
        if sandbox_file is None or not sandbox_file.resolve().is_relative_to(root.resolve()):
            # dbt would build into the warehouse itself: never
            raise WhatIfUnsupportedError(
                f"the DuckDB path of dbt target {settings.warehouse.name} in profiles.yml does not follow "
                "OUTREACH_DUCKDB_PATH, so the what-if cannot point dbt at a copy: use "
                "\"{{ env_var('OUTREACH_DUCKDB_PATH', ...) }}\" as its path (as profiles.yml.example does)"
            )
        _copy_warehouse(settings, sandbox_file)
        with connect(sandbox.warehouse) as warehouse:
            _save_before(warehouse)
        summary = _build_sandbox(sandbox, proposed)
        with connect(sandbox.warehouse) as warehouse:
            figures = _compare(warehouse)
            version, warning = _weights_version(warehouse)
        due = filter_recently_looked_up(
            [BrandToEnrich(brand_id=row.brand_id, brand_name=row.brand_name) for row in figures.entering],
            sandbox.warehouse,
            settings.apollo_ttl_days,
            now or datetime.now(UTC),
        )
        due_ids = {brand.brand_id for brand in due}
        return WhatIfResult(
            weights_file=proposed[WEIGHTS_SEED],
            thresholds_file=proposed[THRESHOLDS_SEED],
            weights_version=version,
            moves=figures.moves,
            queue=figures.queue,
            apollo_worklist_before=figures.worklist_before,
            apollo_worklist_after=figures.worklist_after,
            apollo_entering=len(figures.entering),
            new_apollo_lookups=[row for row in figures.entering if row.brand_id in due_ids],
            apollo_ttl_days=settings.apollo_ttl_days,
            backtest=figures.backtest,
            warnings=[warning] if warning else [],
            dbt_summary=str(summary),
            sandbox_duckdb=sandbox.duckdb_path if keep_sandbox else None,
        )


# --- the proposed files -----------------------------------------------------------------------------


def _checked_seed_file(proposed: Path | None, current: Path, option: str) -> Path:
    """The file to load as this seed: the proposed one once its header is the seed's, else the
    current seed. Values are checked by the seed tests, in the sandbox build."""
    if proposed is None:
        return current
    if not proposed.is_file():
        raise WhatIfInputError(f"{option} {proposed}: no such file; give the path of an edited copy of {current.name}")
    expected, found = _csv_header(current), _csv_header(proposed)
    if found != expected:
        raise WhatIfInputError(
            f"{option} {proposed}: its columns are {','.join(found) or '(none)'}, not those of {current.name} "
            f"({','.join(expected)}); start from a copy of seeds/{current.name}"
        )
    return proposed


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [column.strip() for column in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise WhatIfInputError(f"{path}: cannot be read as a UTF-8 CSV file ({error}); save it as CSV, UTF-8") from None


# --- the sandbox ------------------------------------------------------------------------------------


@contextmanager
def _sandbox_folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        if keep.exists() and any(keep.iterdir()):
            raise WhatIfInputError(f"--keep-sandbox {keep}: the folder is not empty; give a new or empty folder")
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="outreach-whatif-") as folder:
        yield Path(folder)


def _sandbox_settings(settings: Settings, root: Path, proposed: dict[str, Path]) -> Settings:
    """A dbt project reading the real models, macros and tests (linked) and a copy of the seeds with
    the proposed ones, building into `root/warehouse/` with its own dbt artifacts."""
    project = root / "project"
    project.mkdir()
    source = ensure_profiles(settings.project_dir)
    shutil.copyfile(source / "dbt_project.yml", project / "dbt_project.yml")
    shutil.copyfile(source / "profiles.yml", project / "profiles.yml")
    config = yaml.safe_load((source / "dbt_project.yml").read_text()) or {}
    for key in ("model-paths", "macro-paths", "snapshot-paths", "test-paths", "analysis-paths"):
        for relative in config.get(key, []):
            if (source / relative).exists():
                (project / relative).parent.mkdir(parents=True, exist_ok=True)
                (project / relative).symlink_to((source / relative).resolve(), target_is_directory=True)
    seed_paths = config.get("seed-paths", ["seeds"])
    for relative in seed_paths:
        shutil.copytree(source / relative, project / relative)
    for seed, path in proposed.items():
        shutil.copyfile(path, project / seed_paths[0] / f"{seed}.csv")
    sandbox = replace(settings, project_dir=project, duckdb_path=root / "warehouse" / settings.duckdb_path.name)
    # dbt's partial parse of the project: only the changed seeds are parsed again (seconds saved)
    parsed = dbt_target_path(settings.project_dir) / "partial_parse.msgpack"
    sandbox_parsed = dbt_target_path(project) / parsed.name
    # an absolute DBT_TARGET_PATH is the same folder for the sandbox: nothing to copy
    if parsed.exists() and parsed.resolve() != sandbox_parsed.resolve():
        sandbox_parsed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, sandbox_parsed)
    return sandbox


def _copy_warehouse(settings: Settings, destination: Path) -> None:
    """Copies the warehouse file, refusing while a stage runs: the copy must not be a half-written
    state. Takes no run lock; holds the file open read-only (no writer meanwhile) while copying."""
    source = settings.warehouse.duckdb_path
    assert source is not None  # a DuckDB target (checked by run_whatif)
    with _no_stage_running(source), connect(settings.warehouse, read_only=True) as warehouse:
        for schema, table in REQUIRED_TABLES:
            warehouse.require_table(schema, table, "build")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        wal = source.with_name(source.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, destination.with_name(destination.name + ".wal"))


@contextmanager
def _no_stage_running(duckdb_path: Path) -> Iterator[None]:
    """A shared hold on the OS lock every `outreach` stage keeps on its DuckDB file
    (warehouse_layer.run_lock): refused at once while a stage holds it."""
    lock_file = os_lock_path(duckdb_path)
    if not lock_file.exists():  # no stage ever ran on this file
        yield
        return
    with lock_file.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os_lock_holder(duckdb_path) or "an `outreach` stage"
            raise RunLockedError(
                f"the warehouse is busy: {holder} is running on {duckdb_path}; run `outreach whatif` again when "
                "it has finished (the what-if copies the warehouse and needs it at rest)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_sandbox(sandbox: Settings, proposed: dict[str, Path]) -> DbtSummary:
    """`dbt build` of the seeds and of the models between them and the compared outputs, with the
    tests of nothing but those (the seed tests among them); no snapshot, no unit test."""
    select = [*SANDBOX_SEEDS] + [f"{seed}+,+{output}" for seed in SANDBOX_SEEDS for output in SANDBOX_OUTPUTS]
    try:
        return run_dbt(
            sandbox,
            "build",
            "--select",
            *select,
            "--indirect-selection",
            "cautious",
            "--exclude",
            "resource_type:snapshot",
            "resource_type:unit_test",
            WEIGHTS_VERSION_TEST,
        )
    except DbtFailedError as error:
        raise WhatIfInputError(_one_line_failure(sandbox, proposed, error)) from None


def _one_line_failure(sandbox: Settings, proposed: dict[str, Path], error: DbtFailedError) -> str:
    """What the seed tests found (their stored `problem`s), or the error of the node that failed."""
    run_results = dbt_target_path(sandbox.project_dir) / "run_results.json"
    problems: list[str] = []
    for test in failed_tests(run_results):
        stored = stored_problems(sandbox, test) if test.failures_relation else []
        problems += stored or [f"{test.name}: {test.failing_rows or 'some'} failing rows"]
    problems += _node_errors(run_results)
    files = ", ".join(f"{seed}={path}" for seed, path in proposed.items())
    if not problems:
        last_line = str(error).strip().splitlines()[-1] if str(error).strip() else "dbt failed"
        problems = [last_line.strip()]
    return f"the proposed seeds are rejected: {'; '.join(problems)} ({files}); fix the file and run again"


def _node_errors(run_results: Path) -> list[str]:
    """Nodes that could not run (a seed value of the wrong type, say): their first error line."""
    if not run_results.exists():
        return []
    errors = []
    for result in json.loads(run_results.read_text()).get("results", []):
        if result.get("status") == "error" and not str(result.get("unique_id", "")).startswith("test."):
            message = " ".join(str(result.get("message") or "error").split())
            errors.append(f"{str(result['unique_id']).split('.')[-1]}: {_short_error(message)}")
    return errors


# DuckDB's refusal of a seed value, e.g. `CSV Error on Line: 3 ... Could not convert string "abc" to 'DOUBLE'`
_CSV_CONVERSION = re.compile(
    r"CSV Error on Line: (?P<line>\d+).*?Error when converting column \"(?P<column>[^\"]+)\"\. "
    r"(?P<problem>Could not convert string .*? to '\w+')"
)
MAX_ERROR_CHARS = 300


def _short_error(message: str) -> str:
    found = _CSV_CONVERSION.search(message)
    if found:
        return f"line {found['line']}, column {found['column']}: {found['problem']}"
    return message if len(message) <= MAX_ERROR_CHARS else message[:MAX_ERROR_CHARS] + " ..."


# --- the figures ------------------------------------------------------------------------------------


def _brand_categories(schema: str) -> str:
    """Each brand's place: suppressed (no outreach whatever its score), else its segment, else
    unsegmented (no score)."""
    return f"""
        select
            brands.brand_id,
            case
                when brands.is_suppressed then '{SUPPRESSED}'
                else coalesce(scores.segment, '{UNSEGMENTED}')
            end as category
        from enriched.dim_brands as brands
        left join {schema}.seg_brand_scores as scores
            on brands.brand_id = scores.brand_id
    """


def _save_before(warehouse: Warehouse) -> None:
    """The warehouse's figures, kept in the copy: the build replaces the models they come from."""
    warehouse.execute(f"create schema {BEFORE_SCHEMA}")
    warehouse.execute(f"create table {BEFORE_SCHEMA}.brand_categories as {_brand_categories('segmented')}")
    warehouse.execute(
        f"create table {BEFORE_SCHEMA}.outreach_queue as select campaign_id, campaign_name, count(*) as leads "
        "from segmented.seg_outreach_queue group by campaign_id, campaign_name"
    )
    warehouse.execute(
        f"create table {BEFORE_SCHEMA}.apollo_worklist as select brand_id from segmented.seg_apollo_worklist"
    )


@dataclass(frozen=True)
class _Figures:
    moves: dict[tuple[str, str], int]
    queue: list[CampaignQueue]
    worklist_before: int
    worklist_after: int
    entering: list[NewApolloLookup]
    backtest: Backtest


def _compare(warehouse: Warehouse) -> _Figures:
    moves = warehouse.execute(
        f"""
        select
            coalesce(before.category, '{UNSEGMENTED}') as category_before,
            coalesce(after.category, '{UNSEGMENTED}') as category_after,
            count(*) as brands
        from {BEFORE_SCHEMA}.brand_categories as before
        full outer join ({_brand_categories("segmented")}) as after
            on before.brand_id = after.brand_id
        group by 1, 2
        """
    )
    queue = warehouse.execute(
        f"""
        with after as (
            select campaign_id, campaign_name, count(*) as leads
            from segmented.seg_outreach_queue
            group by campaign_id, campaign_name
        )
        select
            coalesce(after.campaign_id, before.campaign_id) as campaign_id,
            coalesce(after.campaign_name, before.campaign_name) as campaign_name,
            coalesce(before.leads, 0) as leads_before,
            coalesce(after.leads, 0) as leads_after
        from {BEFORE_SCHEMA}.outreach_queue as before
        full outer join after
            on before.campaign_id = after.campaign_id
        order by 1
        """
    )
    entering = warehouse.execute(
        f"""
        select after.brand_id, after.brand_name, after.segment, after.score
        from segmented.seg_apollo_worklist as after
        left join {BEFORE_SCHEMA}.apollo_worklist as before
            on after.brand_id = before.brand_id
        where before.brand_id is null
        order by after.score desc, after.brand_id
        """
    )
    worklist = warehouse.fetch_one(
        f"select (select count(*) from {BEFORE_SCHEMA}.apollo_worklist), "
        "(select count(*) from segmented.seg_apollo_worklist)"
    )
    assert worklist is not None
    return _Figures(
        moves={(str(before), str(after)): int(count) for before, after, count in moves},
        queue=[
            CampaignQueue(None if cid is None else int(cid), name, int(before), int(after))
            for cid, name, before, after in queue
        ],
        worklist_before=int(worklist[0]),
        worklist_after=int(worklist[1]),
        entering=[NewApolloLookup(str(bid), str(name), str(seg), float(score)) for bid, name, seg, score in entering],
        backtest=Backtest(_backtest_segments(warehouse)),
    )


def _backtest_segments(warehouse: Warehouse) -> list[BacktestSegment]:
    """The brands already contacted, by the segment the proposed seeds give them."""
    rows = warehouse.execute(
        f"""
        select
            coalesce(scores.segment, '{UNSEGMENTED}') as segment,
            count(*) as brands_contacted,
            sum(case when history.has_replied then 1 else 0 end) as brands_replied,
            sum(case when history.has_positive_reply then 1 else 0 end) as brands_positive
        from enriched.int_brand_outreach_history as history
        left join segmented.seg_brand_scores as scores
            on history.brand_id = scores.brand_id
        group by 1
        """
    )
    found = {str(segment): BacktestSegment(str(segment), int(a), int(b), int(c)) for segment, a, b, c in rows}
    # every segment shown, an empty one too: a segment nobody contacted is a figure
    return [found.pop(segment, BacktestSegment(segment, 0, 0, 0)) for segment in SEGMENTS] + sorted(
        found.values(), key=lambda row: row.segment
    )


def _weights_version(warehouse: Warehouse) -> tuple[str, str | None]:
    """The proposed weights_version, and a warning when a version built before (recorded in
    seg_scoring_weights_versions) now labels other weights: `outreach build` would refuse them.
    Compares the fingerprint the contributions were computed with to the recorded one."""
    rows = warehouse.execute(
        """
        select distinct contributions.weights_version, recorded.weights_fingerprint is not null
            and contributions.weights_fingerprint != recorded.weights_fingerprint as is_reused
        from segmented.seg_brand_signal_contributions as contributions
        left join segmented.seg_scoring_weights_versions as recorded
            on contributions.weights_version = recorded.weights_version
        """
    )
    versions = sorted({str(version) for version, _ in rows})
    reused = sorted({str(version) for version, is_reused in rows if is_reused})
    warning = None
    if reused:
        warning = (
            f"scoring_weights version {', '.join(reused)} was built before with other weights: `outreach build` "
            "will refuse these weights until they get a new weights_version (e.g. v2)"
        )
    return ", ".join(versions), warning


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
