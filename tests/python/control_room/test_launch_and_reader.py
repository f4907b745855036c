"""`outreach ui`'s refusals, the reader's retry on a busy warehouse, and the rates' intervals."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from control_room.launch import UiSettingError, check_can_serve, streamlit_command
from control_room.reader import WarehouseBusyError, WarehouseReader
from control_room.stats import rate_inversions, wilson_interval
from tests.python.cli_runner import run_outreach
from warehouse_layer import WarehouseTarget
from warehouse_layer.run_lock import RunLockedError


def test_ui_on_another_address_without_a_password_is_refused_in_one_line(tmp_path: Path) -> None:
    run = run_outreach(tmp_path / "outreach.duckdb", "ui", "--address", "0.0.0.0", env={"OUTREACH_UI_PASSWORD": ""})
    assert run.returncode == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("error: outreach ui --address 0.0.0.0 ") and "set OUTREACH_UI_PASSWORD" in line


def test_ui_needs_a_password_for_any_address_but_this_machines(tmp_path: Path) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    warehouse.touch()
    target = WarehouseTarget.duckdb_file(warehouse)
    for address in ("127.0.0.1", "localhost", "::1"):
        check_can_serve(address, target, {})
    with pytest.raises(UiSettingError, match="OUTREACH_UI_PASSWORD"):
        check_can_serve("192.168.1.10", target, {"OUTREACH_UI_PASSWORD": "  "})
    check_can_serve("0.0.0.0", target, {"OUTREACH_UI_PASSWORD": "s3cret"})
    assert "--server.address=0.0.0.0" in streamlit_command("0.0.0.0", 8600)


def test_ui_without_a_warehouse_file_says_what_to_run(tmp_path: Path) -> None:
    run = run_outreach(tmp_path / "missing" / "outreach.duckdb", "ui")
    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert "does not exist" in line and "outreach run-all" in line


def test_reader_retries_a_busy_warehouse_then_names_its_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "outreach.duckdb"
    (tmp_path / "outreach.duckdb.run-lock").write_text('{"holder": "`outreach build` (host h, pid 7)"}')
    opened: list[bool] = []

    def busy(*_args: object, **_kwargs: object) -> None:
        opened.append(True)
        raise RunLockedError("the warehouse is busy")

    monkeypatch.setattr("control_room.reader.connect", busy)
    waits: list[float] = []
    reader = WarehouseReader(WarehouseTarget.duckdb_file(warehouse), attempts=3, sleep=waits.append)
    with pytest.raises(WarehouseBusyError, match=r"pipeline running \(`outreach build` \(host h, pid 7\)\)"):
        reader.frame("select 1")
    assert len(opened) == 3 and len(waits) == 2  # opened anew each time, waited in between


def test_reader_opens_read_only_and_returns_the_columns_of_an_empty_result(tmp_path: Path) -> None:
    import duckdb

    warehouse = tmp_path / "outreach.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create table t (brand_id varchar, score double)")
    frame = WarehouseReader(WarehouseTarget.duckdb_file(warehouse)).frame("select * from t")
    assert list(frame.columns) == ["brand_id", "score"] and frame.empty
    with pytest.raises(duckdb.Error, match="read-only"):
        WarehouseReader(WarehouseTarget.duckdb_file(warehouse)).frame("insert into t values ('x', 1)")


@given(st.integers(min_value=1, max_value=100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_rate_within_zero_and_one(counts: tuple[int, int]) -> None:
    successes, trials = counts
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert 0.0 <= interval.low <= successes / trials <= interval.high <= 1.0


def test_wilson_interval_known_value_and_no_trials() -> None:
    interval = wilson_interval(1, 5)
    assert interval is not None
    assert math.isclose(interval.low, 0.0362, abs_tol=1e-4) and math.isclose(interval.high, 0.6245, abs_tol=1e-4)
    assert wilson_interval(0, 0) is None


def test_rate_inversions_skip_segments_without_a_rate() -> None:
    assert rate_inversions([("A", 0.4), ("B", None), ("C", 0.3), ("D", float("nan")), ("E", 0.1)]) == []
    assert rate_inversions([("A", 0.2), ("B", 0.0), ("C", 0.11)]) == ["C (0.11) > B (0.00)"]
