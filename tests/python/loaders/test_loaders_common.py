from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import dlt
import orjson
import pyarrow as pa
import pytest
from loader_test_support import Warehouse

from loaders.common import (
    Column,
    LoadProgress,
    LoadSummary,
    NewFields,
    ProgressCounter,
    StderrProgress,
    canonical_json,
    canonical_md5,
    compact_json,
    load_waiting_packages,
    make_pipeline,
    make_rejection,
    md5_hex,
    md5_key,
    rejected_records,
    rows_to_arrow,
    run_pipeline,
    stringify,
    table_hints,
    text,
)
from loaders.common.keys import parsed_json_key_and_text


def test_stringify_keeps_source_values_exact() -> None:
    assert stringify(12) == "12"
    assert stringify(12.0) == "12.0"
    assert stringify(1234.5) == "1234.5"
    assert stringify(0.1) == "0.1"
    assert stringify(1e20) == "1e+20"
    assert stringify(True) == "true"
    assert stringify(False) == "false"
    assert stringify("  as is ") == "  as is "
    assert stringify(None) is None
    assert stringify({"b": [1, 2.5, None], "a": "é"}) == '{"b":[1,2.5,null],"a":"é"}'


def test_canonical_keys_ignore_key_order_but_not_values() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'
    assert canonical_md5("US", payload={"a": 1, "b": 2}) == canonical_md5("US", payload={"b": 2, "a": 1})
    assert canonical_md5("US", payload={"a": 1}) != canonical_md5("UK", payload={"a": 1})
    assert canonical_md5("US", payload={"a": 1}) != canonical_md5("US", payload={"a": "1"})


def test_rows_to_arrow_types_every_declared_column() -> None:
    columns = [
        Column("k", nullable=False),
        *text("v", "empty"),
        Column("n", "bigint"),
        Column("at", "timestamp"),
    ]
    table = rows_to_arrow(
        [{"k": "a", "v": 1.5, "n": 3, "at": datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))}],
        columns,
    )
    assert table.schema.field("empty").type == pa.string()
    assert table.schema.field("k").nullable is False
    assert table.to_pylist() == [
        {"k": "a", "v": "1.5", "empty": None, "n": 3, "at": datetime(2026, 1, 1, 10, tzinfo=UTC)}
    ]


def test_load_summary_is_one_line() -> None:
    summary = LoadSummary("smartlead events", 5, 2, 1, 0.5)
    assert str(summary) == "smartlead events: 5 rows loaded, 2 rejected, 1 files/pages, 0.50s"


def test_make_pipeline_targets_raw_dataset_in_the_duckdb_file(tmp_path: Path) -> None:
    pipeline = make_pipeline("unit", tmp_path / "db" / "x.duckdb", tmp_path / "pipelines")
    assert pipeline.dataset_name == "raw"
    assert pipeline.destination.destination_name == "duckdb"
    assert Path(pipeline.pipelines_dir) == tmp_path / "pipelines"


def test_all_null_column_is_created_as_text_with_dlt_lineage(warehouse: Warehouse) -> None:
    columns = [Column("k", nullable=False), *text("always_null")]

    @dlt.resource(**table_hints("null_probe", columns, primary_key="k"))
    def probe() -> object:
        yield rows_to_arrow([{"k": "1"}, {"k": "2"}], columns)

    at = datetime(2026, 1, 1, tzinfo=UTC)
    rejection = make_rejection("smartlead", "f.jsonl", 3, "invalid JSON", "{", at)
    for _ in range(2):
        run_pipeline("unit", warehouse.duckdb_path, warehouse.pipelines_dir, [probe(), rejected_records([rejection])])
    types = warehouse.column_types("null_probe")
    assert types["always_null"] == "VARCHAR"
    assert {"_dlt_load_id", "_dlt_id"} <= set(types)
    assert warehouse.count("null_probe") == 2
    assert warehouse.rows("select source, source_row_number, reason from raw.rejected_records") == [
        ("smartlead", 3, "invalid JSON")
    ]


def test_a_package_an_earlier_run_left_unloaded_lands_with_the_next_run(warehouse: Warehouse) -> None:
    columns = [Column("k", nullable=False)]

    @dlt.resource(**table_hints("pending_probe", columns, primary_key="k"))
    def probe(keys: list[str]) -> object:
        yield rows_to_arrow([{"k": key} for key in keys], columns)

    # an earlier run extracted and normalized, then its load failed (e.g. the warehouse was down)
    earlier = make_pipeline("unit", warehouse.duckdb_path, warehouse.pipelines_dir)
    earlier.extract(probe(["a", "b"]))
    earlier.normalize()
    assert earlier.has_pending_data
    info = run_pipeline("unit", warehouse.duckdb_path, warehouse.pipelines_dir, probe(["c"]))
    assert len(info.loads_ids) == 2  # the left-over package and this run's
    assert warehouse.rows("select k from raw.pending_probe order by k") == [("a",), ("b",), ("c",)]


def test_waiting_packages_are_loaded_before_a_stage_reads_raw(warehouse: Warehouse) -> None:
    columns = [Column("k", nullable=False)]

    @dlt.resource(**table_hints("waiting_probe", columns, primary_key="k"))
    def probe(keys: list[str]) -> object:
        yield rows_to_arrow([{"k": key} for key in keys], columns)

    assert load_waiting_packages("unit", warehouse.duckdb_path, warehouse.pipelines_dir) == 0
    earlier = make_pipeline("unit", warehouse.duckdb_path, warehouse.pipelines_dir)
    earlier.extract(probe(["paid-for"]))  # e.g. Apollo lookups whose load failed
    earlier.normalize()
    assert load_waiting_packages("unit", warehouse.duckdb_path, warehouse.pipelines_dir) == 1
    assert warehouse.rows("select k from raw.waiting_probe") == [("paid-for",)]
    assert load_waiting_packages("unit", warehouse.duckdb_path, warehouse.pipelines_dir) == 0


def _as_text(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if isoformat else str(value)


def _stdlib_canonical(value: object) -> str:
    """The text event keys were always computed from (keys are persisted: it must not change)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True, default=_as_text
    )


def _stdlib_compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True, default=_as_text)


TRICKY_VALUES: list[object] = [
    {"small": 1e-05, "smaller": 1.5e-07, "edge": 0.0001, "tiny": 5e-324, "neg": -2.5e-9, "zero": -0.0},
    {"big": 1e16, "bigger": 1.2345678901234568e17, "huge": 1.5e300, "plain": 1234.5, "third": 1 / 3},
    {"ints": [2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**30, 0]},
    {"nan": float("nan"), "inf": float("inf"), "minus_inf": float("-inf"), "null": None},
    [float("nan"), None, 1e-7],
    {"unicode": "é ü 中文 😀 \u2028 \u2029 \x7f \ufeff", "ctrl": '\x00\x01\x08\t\n\x0c\r\x1f"\\/'},
    {"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": True, "é": False, "A": "", "\U0001f600": 1, "\uffff": 2},
    {"e": "1e-05 in text", "n": "0.00001", "looks": ":1e+5,[0.00001"},
    1e-05,
    -3.2e-12,
    "top-level text",
    12,
    {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "decimal_like": 1.10},
]


def test_canonical_and_compact_json_are_the_stdlib_text_exactly() -> None:
    for value in TRICKY_VALUES:
        assert canonical_json(value) == _stdlib_canonical(value), value
        assert compact_json(value) == _stdlib_compact(value), value
        assert canonical_md5(payload=value) == md5_hex(_stdlib_canonical(value)), value
        assert canonical_md5("US", payload=value) == md5_key("US", _stdlib_canonical(value)), value
    # key order is kept by compact_json, sorted (by code point) by canonical_json
    value = {"b": 1, "a": {"d": 2, "c": 3}, "\U0001f600": 0, "\uffff": 0}
    assert compact_json(value) == '{"b":1,"a":{"d":2,"c":3},"😀":0,"\uffff":0}'
    assert canonical_json(value) == '{"a":{"c":3,"d":2},"b":1,"\uffff":0,"😀":0}'


def test_parsed_json_keys_match_the_stdlib_or_defer_to_it() -> None:
    texts = [
        '{"a": 1e-5, "b": 1.5E-7, "c": 0.0001}',
        '{"big": 123456789012345678901234567890, "neg": -9223372036854775809, "ok": 18446744073709551615}',
        '{"x": 1e16, "y": 12345678901234567890.5, "z": [1.0, 2.50, -0.0]}',
        '{"s": "\\u2028\\u0000\\u001f\\ud83d\\ude00 é", "t": "\\"quoted\\""}',
        '{"b": {"z": 1, "a": 2}, "a": [3, {"k": null}], "b2": true}',
        '{"dup": 1, "other": 2, "dup": 3}',
        '{"plain": "no numbers to check", "n": 42}',
    ]
    deferred = 0
    for source in texts:
        parsed = orjson.loads(source)
        result = parsed_json_key_and_text(parsed)
        expected = json.loads(source)
        if result is None:
            deferred += 1
            continue
        assert result == (md5_hex(_stdlib_canonical(expected)), _stdlib_compact(expected)), source
    assert deferred >= 3  # the tiny floats and the integers beyond 64 bits are left to the stdlib
    plain = orjson.loads(texts[-1])
    assert parsed_json_key_and_text(plain, floats=False) == parsed_json_key_and_text(plain)
    in_order = orjson.loads('{"a": {"b": 1, "c": [{"d": "x"}]}, "z": null}')
    assert parsed_json_key_and_text(in_order, sorted_keys=True) == parsed_json_key_and_text(in_order)


def test_load_summary_names_new_fields_so_drift_is_visible() -> None:
    drift = NewFields(known={"a", "b"})
    for keys in (["a"], ["a", "zeta"], ["b", "alpha", "zeta"]):
        drift.see(keys)
    summary = drift.apply(LoadSummary("smartlead statistics", 3, 0, 1, 0.5))
    assert summary.rows_with_new_fields == 2
    assert "0.50s, 2 rows with new fields: alpha, zeta" in str(summary)
    assert "new fields" not in str(LoadSummary("x", 1, 0, 1, 0.1))


def test_stderr_progress_is_throttled_per_source_and_always_prints_the_end() -> None:
    now = [0.0]
    stream = io.StringIO()
    printer = StderrProgress(2.0, stream=stream, clock=lambda: now[0])
    counter = ProgressCounter("smartlead statistics", printer)
    for _ in range(5):  # five pages within one second: only the first is printed
        counter.page(rows=100)
        now[0] += 0.2
    now[0] += 2.0
    counter.page(rows=100, rejected=1)  # two seconds later: printed
    printer(LoadProgress("other source", 1, 1, 0, 1.0))  # another source has its own clock
    counter.finish()  # the end is printed whatever the time
    lines = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "[progress] smartlead statistics: loading",
        "[progress] smartlead statistics: loading",
        "[progress] other source: loading",
        "[progress] smartlead statistics: done",
    ]
    assert lines[1].startswith("[progress] smartlead statistics: loading, 6 pages, 600 rows, 1 rejected, ")
    assert lines[-1].startswith("[progress] smartlead statistics: done, 6 pages, 600 rows, 1 rejected, ")
    assert all(line.endswith(" rows/s") for line in lines)


def test_progress_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_PROGRESS_SECONDS", "0")
    assert StderrProgress().min_interval_seconds == 0
    monkeypatch.setenv("OUTREACH_PROGRESS_SECONDS", "soon")
    assert StderrProgress().min_interval_seconds == 2.0
