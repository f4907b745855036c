from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import dlt
import pyarrow as pa
from loader_test_support import Warehouse

from loaders.common import (
    Column,
    LoadSummary,
    canonical_json,
    canonical_md5,
    make_pipeline,
    make_rejection,
    rejected_records,
    rows_to_arrow,
    run_pipeline,
    stringify,
    table_hints,
    text,
)


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
