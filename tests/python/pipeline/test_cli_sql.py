"""`outreach sql "select ..."`: one read-only query on a copy of the demo warehouse, the same answer
as DuckDB's own; a bad query, a write and a busy file are one line each. One subprocess (the real
CLI); the rest in-process."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.sql_query import QueryResult, render_table
from tests.python.cli_runner import PipelineRun, run_outreach
from warehouse_layer import WarehouseTarget
from warehouse_layer.run_lock import Claimant, holding_run_lock

WHY_A_SEGMENT = """
    select brand_name, segment, score, signal, raw_value, weight, contribution, points_missed
    from segmented.seg_brand_score_explained
    where segment = 'B'
    order by brand_name, contribution_rank
"""


@pytest.fixture
def warehouse_copy(demo_run: PipelineRun, tmp_path: Path) -> Path:
    copy = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, copy)
    return copy


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def test_sql_prints_what_duckdb_answers(warehouse_copy: Path) -> None:
    run = run_outreach(warehouse_copy, "sql", "--csv", WHY_A_SEGMENT)

    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(warehouse_copy), read_only=True) as connection:
        cursor = connection.execute(WHY_A_SEGMENT)
        expected_rows = cursor.fetchall()
        expected_columns = [column[0] for column in cursor.description or []]
    printed = list(csv.reader(io.StringIO(run.stdout)))
    assert printed[0] == expected_columns
    assert printed[1:] == [[_as_text(value) for value in row] for row in expected_rows]
    assert len(expected_rows) > 10  # the demo has B brands, each with its signals


def test_sql_table_is_aligned_and_counts_its_rows(warehouse_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = "select segment, count(*) as brands from segmented.seg_brand_scores group by segment order by segment"

    assert cli.main(["--duckdb", str(warehouse_copy), "sql", query]) == 0

    lines = capsys.readouterr().out.splitlines()
    with duckdb.connect(str(warehouse_copy), read_only=True) as connection:
        expected = connection.execute(query).fetchall()
    assert lines[0].split() == ["segment", "brands"] and set(lines[1]) == {"-", " "}
    assert [line.split() for line in lines[2:-1]] == [[segment, str(count)] for segment, count in expected]
    assert lines[-1] == f"({len(expected)} rows)"
    assert len({len(line) for line in lines[1:-1]}) == 1  # counts right-aligned under their header


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("selec 1", "start it with select"),
        ("delete from raw.smartscout_brands", "got 'delete'"),
        ("select * from no_such_table", "the query failed: Catalog Error"),
        ("select 1 +", "the query failed: Parser Error"),
    ],
)
def test_a_bad_query_is_one_line_and_changes_nothing(
    warehouse_copy: Path, capsys: pytest.CaptureFixture[str], query: str, says: str
) -> None:
    before = warehouse_copy.read_bytes()

    exit_code = cli.main(["--duckdb", str(warehouse_copy), "sql", query])

    err = capsys.readouterr().err
    assert exit_code == 1
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and says in err, err
    assert "Traceback" not in err
    assert warehouse_copy.read_bytes() == before


def test_sql_while_a_stage_holds_the_file_says_so_in_one_line(
    warehouse_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with holding_run_lock(WarehouseTarget.duckdb_file(warehouse_copy), Claimant("build")):
        exit_code = cli.main(["--duckdb", str(warehouse_copy), "sql", "select 1"])

    err = capsys.readouterr().err
    assert exit_code == cli.EXIT_BUSY
    assert len(err.strip().splitlines()) == 1 and "the warehouse is busy: `outreach build`" in err, err


def test_nulls_are_blank_and_numbers_right_aligned() -> None:
    text = render_table(QueryResult(["a", "b"], [(None, 1.5), ("x", None)]))
    assert text.splitlines() == ["a    b", "-  ---", "   1.5", "x", "(2 rows)"]
