"""Shared pieces of the RAW loaders: text-only arrow rows, content keys, rejects, the pipeline."""

from loaders.common.arrow import Row, dedupe_rows, ensure_utc, rows_to_arrow, stringify
from loaders.common.columns import Column, arrow_schema, dlt_columns, table_hints, text
from loaders.common.keys import canonical_json, canonical_md5, compact_json, md5_hex, md5_key
from loaders.common.pipeline import (
    RAW_DATASET,
    LoadSummary,
    NewFields,
    Stopwatch,
    load_waiting_packages,
    make_pipeline,
    run_pipeline,
    utc_now,
)
from loaders.common.progress import (
    LoadProgress,
    ProgressCallback,
    ProgressCounter,
    StderrProgress,
    log_progress,
    print_progress,
)
from loaders.common.rejected import (
    REJECTED_COLUMNS,
    REJECTED_TABLE,
    make_rejection,
    not_yet_recorded,
    rejected_records,
    rejected_records_table,
)

__all__ = [
    "RAW_DATASET",
    "REJECTED_COLUMNS",
    "REJECTED_TABLE",
    "Column",
    "LoadProgress",
    "LoadSummary",
    "NewFields",
    "ProgressCallback",
    "ProgressCounter",
    "Row",
    "StderrProgress",
    "Stopwatch",
    "arrow_schema",
    "canonical_json",
    "canonical_md5",
    "compact_json",
    "dedupe_rows",
    "dlt_columns",
    "ensure_utc",
    "load_waiting_packages",
    "log_progress",
    "make_pipeline",
    "make_rejection",
    "md5_hex",
    "md5_key",
    "not_yet_recorded",
    "print_progress",
    "rejected_records",
    "rejected_records_table",
    "rows_to_arrow",
    "run_pipeline",
    "stringify",
    "table_hints",
    "text",
    "utc_now",
]
