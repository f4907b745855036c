"""`outreach whatif`: proposed scoring seeds built by the project's own models in a sandbox copy.

One what-if run (a changed threshold, on a copy of the session's demo warehouse) is shared by the
module's checks; its figures are compared with SQL on an independent rebuild of the warehouse with
the same seed, and with SQL over the sandbox it kept. The warehouse itself must not change.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from tests.python.cli_runner import PipelineRun, run_outreach
from tests.python.pipeline.test_seed_config_guards import copy_dbt_project, replace_in

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).with_name("dbt"))
THRESHOLDS = PROJECT_DIR / "seeds" / "segment_thresholds.csv"
WEIGHTS = PROJECT_DIR / "seeds" / "scoring_weights.csv"


def lower_b_and_c(path: Path) -> None:
    """C brands move up to B, D brands into C: outreach segments gain brands (queue, Apollo)."""
    replace_in(path, "B,43,", "B,40,")
    replace_in(path, "C,35,", "C,30,")


def reweight_keeping_v1(path: Path) -> None:
    """Other weights, still 100 in all, still v1 (which the demo built with the shipped weights)."""
    replace_in(path, ",log_minmax,higher_is_better,,30,v1,", ",log_minmax,higher_is_better,,25,v1,")
    replace_in(path, ",boolean,higher_is_better,,5,v1,", ",boolean,higher_is_better,,10,v1,")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot_versions(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute(
            "select (select count(*) from history.snap_brand_segments) + "
            "(select count(*) from history.snap_brand_metrics)"
        ).fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True)
class WhatIf:
    warehouse: Path
    sandbox: Path
    thresholds: Path
    weights: Path
    run: PipelineRun
    hash_before: str
    hash_after: str
    snapshots_before: int
    snapshots_after: int


@pytest.fixture(scope="module")
def whatif(demo_run: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> WhatIf:
    folder = tmp_path_factory.mktemp("whatif")
    warehouse = folder / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, warehouse)
    thresholds = folder / "thresholds.csv"
    shutil.copyfile(THRESHOLDS, thresholds)
    lower_b_and_c(thresholds)
    weights = folder / "weights.csv"
    shutil.copyfile(WEIGHTS, weights)
    reweight_keeping_v1(weights)
    hash_before, snapshots_before = sha256(warehouse), snapshot_versions(warehouse)
    sandbox = folder / "sandbox"
    run = run_outreach(
        warehouse, "whatif", "--thresholds", str(thresholds), "--weights", str(weights), "--keep-sandbox", str(sandbox)
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return WhatIf(
        warehouse=warehouse,
        sandbox=sandbox,
        thresholds=thresholds,
        weights=weights,
        run=run,
        hash_before=hash_before,
        hash_after=sha256(warehouse),
        snapshots_before=snapshots_before,
        snapshots_after=snapshot_versions(warehouse),
    )


# --- reading the Markdown ---------------------------------------------------------------------------


def markdown_table(markdown: str, heading: str, first_header_cell: str) -> list[dict[str, str]]:
    """The rows of the first table under `heading` whose header starts with `first_header_cell`."""
    section = markdown.split(heading, 1)[1]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header_cell} |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True)))
    return rows


def number(cell: str) -> int:
    return 0 if cell == "·" else int(cell.strip("*"))


def reported_moves(markdown: str) -> dict[tuple[str, str], int]:
    moves = {}
    for row in markdown_table(markdown, "### Segment moves", "now \\ proposed"):
        before = row.pop("now \\ proposed")
        row.pop("all")
        if before == "**all**":
            continue
        moves |= {(before, after): number(cell) for after, cell in row.items() if number(cell)}
    return moves


# --- SQL over the warehouses --------------------------------------------------------------------------

CATEGORY_SQL = """
    select
        brands.brand_id,
        case when brands.is_suppressed then 'suppressed' else coalesce(scores.segment, 'unsegmented') end as category
    from {db}.enriched.dim_brands as brands
    left join {db}.segmented.seg_brand_scores as scores on brands.brand_id = scores.brand_id
"""


def rebuilt_with(warehouse: Path, thresholds: Path, weights: Path, folder: Path) -> Path:
    """An independent rebuild: a copy of the warehouse and of the dbt project with the seeds, every
    model downstream of them rebuilt by plain `dbt build` (no snapshot, no test)."""
    rebuilt = folder / "rebuilt.duckdb"
    shutil.copyfile(warehouse, rebuilt)
    project = copy_dbt_project(folder / "project")
    shutil.copyfile(thresholds, project / "seeds" / "segment_thresholds.csv")
    shutil.copyfile(weights, project / "seeds" / "scoring_weights.csv")
    parsed = PROJECT_DIR / os.environ["DBT_TARGET_PATH"] / "partial_parse.msgpack"
    (project / "target").mkdir()
    if parsed.exists():  # seconds of parsing saved
        shutil.copyfile(parsed, project / "target" / parsed.name)
    completed = subprocess.run(
        [
            DBT,
            "build",
            "--select",
            "segment_thresholds+",
            "scoring_weights+",
            "--exclude",
            "resource_type:snapshot",
            "resource_type:unit_test",
            "resource_type:test",
            "--profiles-dir",
            str(project),
            "--target-path",
            str(project / "target"),
        ],
        cwd=project,
        env={**os.environ, "OUTREACH_DUCKDB_PATH": str(rebuilt), "DBT_TARGET": "duckdb"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    return rebuilt


def test_whatif_reports_the_moves_of_a_rebuild_and_leaves_the_warehouse_unchanged(
    whatif: WhatIf, tmp_path: Path
) -> None:
    assert whatif.hash_after == whatif.hash_before  # byte for byte
    assert whatif.snapshots_after == whatif.snapshots_before
    rebuilt = rebuilt_with(whatif.warehouse, whatif.thresholds, whatif.weights, tmp_path)
    with duckdb.connect(str(rebuilt), read_only=True) as connection:
        connection.execute(f"attach '{whatif.warehouse}' as now (read_only)")
        expected_moves = {
            (before, after): brands
            for before, after, brands in connection.execute(
                f"""
                select now_brands.category, rebuilt_brands.category, count(*)
                from ({CATEGORY_SQL.format(db="now")}) as now_brands
                inner join ({CATEGORY_SQL.format(db="rebuilt")}) as rebuilt_brands
                    on now_brands.brand_id = rebuilt_brands.brand_id
                group by 1, 2
                """
            ).fetchall()
        }
        queue_query = "select campaign_id, count(*) from {db}.segmented.seg_outreach_queue group by 1"
        queue_now = dict(connection.execute(queue_query.format(db="now")).fetchall())
        queue_rebuilt = dict(connection.execute(queue_query.format(db="rebuilt")).fetchall())
        cutoff = datetime.now(UTC) - timedelta(days=30)
        [(entering, extra)] = connection.execute(
            """
            select count(*), count(*) filter (where lookups.brand_id is null)
            from rebuilt.segmented.seg_apollo_worklist as rebuilt_list
            left join now.segmented.seg_apollo_worklist as now_list on rebuilt_list.brand_id = now_list.brand_id
            left join (
                select distinct brand_id from now.raw.apollo_lookups
                where status in ('ok', 'no_match') and looked_up_at > ?
            ) as lookups on rebuilt_list.brand_id = lookups.brand_id
            where now_list.brand_id is null
            """,
            [cutoff],
        ).fetchall()

    markdown = whatif.run.stdout
    assert reported_moves(markdown) == expected_moves
    moved = sum(brands for (before, after), brands in expected_moves.items() if before != after)
    assert moved > 0  # the change moves brands: the comparison is not vacuous
    assert f"**{moved} of {sum(expected_moves.values())} brands move.**" in markdown

    queue = {
        row["campaign"].split()[0]: (int(row["now"]), int(row["proposed"]))
        for row in markdown_table(markdown, "### Outreach queue", "campaign")
        if row["campaign"] != "**all**"
    }
    assert queue == {
        str(campaign): (queue_now.get(campaign, 0), queue_rebuilt.get(campaign, 0))
        for campaign in queue_now.keys() | queue_rebuilt.keys()
    }
    apollo = {
        row["Apollo work list"]: row["brands"] for row in markdown_table(markdown, "### Apollo", "Apollo work list")
    }
    assert apollo["newly on the list"] == str(entering)
    assert entering > 0  # D brands entering C: the Apollo figure is not vacuous
    assert next(value for key, value in apollo.items() if key.startswith("**extra lookups**")) == f"**{extra}**"


def percent(part: int, whole: int) -> str:
    return "-" if not whole else f"{part / whole:.1%}"


def test_backtest_figures_equal_sql_over_the_sandbox(whatif: WhatIf) -> None:
    sandbox = whatif.sandbox / "warehouse" / "outreach.duckdb"
    with duckdb.connect(str(sandbox), read_only=True) as connection:
        # the contacted brands (dim_brands.was_contacted), by the segment the sandbox scored them in
        counts = {
            segment: (contacted, replied, positive)
            for segment, contacted, replied, positive in connection.execute(
                """
                select scores.segment, count(*), count(*) filter (where history.has_replied),
                    count(*) filter (where history.has_positive_reply)
                from enriched.dim_brands as brands
                inner join enriched.int_brand_outreach_history as history on brands.brand_id = history.brand_id
                inner join segmented.seg_brand_scores as scores on brands.brand_id = scores.brand_id
                where brands.was_contacted
                group by 1
                """
            ).fetchall()
        }
    contacted = sum(row[0] for row in counts.values())
    positive = sum(row[2] for row in counts.values())
    assert contacted > 0 and positive > 0
    reported = markdown_table(whatif.run.stdout, "### Backtest", "proposed segment")
    expected = []
    for segment in "ABCDE":
        brands, replied, positives = counts.get(segment, (0, 0, 0))
        expected.append(
            {
                "proposed segment": segment,
                "contacted": str(brands),
                "replied": str(replied),
                "positive": str(positives),
                "reply rate": percent(replied, brands),
                "positive rate": percent(positives, brands),
                "share of contacted": percent(brands, contacted),
                "share of positive": percent(positives, positive),
            }
        )
    assert reported == expected

    checks = {row["check"]: row for row in markdown_table(whatif.run.stdout, "Validation", "check")}
    top, bottom = counts.get("A", (0, 0, 0)), counts.get("E", (0, 0, 0))
    share = checks["A's share of contacted brands"]
    assert (share["value"], share["brands"]) == (percent(top[0], contacted), f"{top[0]} of {contacted}")
    assert share["result"] == ("✅ pass" if 0.15 <= top[0] / contacted <= 0.35 else "❌ fail")
    conversions = checks["A's share of positive replies"]
    assert conversions["brands"] == f"{top[2]} of {positive}"
    assert conversions["result"] == ("✅ pass" if top[2] / positive >= 0.6 else "❌ fail")
    lift = checks["lift of A over E (positive-reply rate)"]
    assert lift["brands"] == f"A {top[2]}/{top[0]}, E {bottom[2]}/{bottom[0]}"
    if bottom[0] == 0:  # nobody contacted in E: no lift to tell
        assert (lift["value"], lift["result"]) == ("-", "n/a")


def test_a_broken_thresholds_file_is_one_line_and_exit_2(whatif: WhatIf, tmp_path: Path) -> None:
    broken = tmp_path / "thresholds.csv"
    shutil.copyfile(THRESHOLDS, broken)
    replace_in(broken, "B,43,", "B,75,")
    run = run_outreach(whatif.warehouse, "whatif", "--thresholds", str(broken))
    assert run.returncode == 2, run.stderr[-3000:]
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("error: the proposed seeds are rejected: ")
    assert "segment_thresholds: thresholds out of order: B (75) >= A (50)" in line
    assert f"segment_thresholds={broken}" in line


def test_a_file_with_other_columns_is_refused_before_any_build(whatif: WhatIf, tmp_path: Path) -> None:
    wrong = tmp_path / "weights.csv"
    wrong.write_text("segment,min_score,description\nA,50,x\n")  # the thresholds, given as weights
    run = run_outreach(whatif.warehouse, "whatif", "--weights", str(wrong))
    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert f"--weights {wrong}: its columns are segment,min_score,description" in line
    assert "start from a copy of seeds/scoring_weights.csv" in line


def test_refused_while_a_stage_runs_on_the_warehouse(whatif: WhatIf) -> None:
    lock_file = whatif.warehouse.with_name(whatif.warehouse.name + ".run-lock")
    with lock_file.open("a+") as handle:  # as a running stage holds it (warehouse_layer.run_lock)
        fcntl.flock(handle, fcntl.LOCK_EX)
        run = run_outreach(whatif.warehouse, "whatif")
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert run.returncode == 75
    [line] = run.stderr.splitlines()
    assert line.startswith("error: the warehouse is busy: ") and "run `outreach whatif` again" in line


def test_refused_on_snowflake_in_one_line(
    whatif: WhatIf, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBT_TARGET", "fakesnow")  # in process: the CLI's path, without a second interpreter
    assert cli.main(["--duckdb", str(whatif.warehouse), "whatif"]) == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert line.startswith("error: outreach whatif supports DuckDB warehouses for now; the active dbt target fakesnow")


def test_weights_changed_under_a_built_version_warn_and_still_report(whatif: WhatIf) -> None:
    warning = "scoring_weights version v1 was built before with other weights"
    assert [line for line in whatif.run.stderr.splitlines() if warning in line] == [
        f"warning: {warning}: `outreach build` will refuse these weights until they get a new weights_version (e.g. v2)"
    ]
    assert f"**WARNING:** {warning}" in whatif.run.stdout
