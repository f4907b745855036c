"""The dlt pipeline every loader uses, and the summary a load reports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.pipeline import Pipeline

RAW_DATASET = "raw"

# Settings the loaders depend on. `.dlt/config.toml` sets them too; they are applied here
# for the duration of a run so that a loader behaves the same from any working directory.
# Environment variables still win (dlt reads them before config.toml).
REQUIRED_CONFIG: dict[str, Any] = {
    # arrow tables skip dlt's row normalizer: ask for the lineage columns explicitly
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    "normalize.parquet_normalizer.add_dlt_id": True,
    # merge loads through `raw_staging`; do not leave a copy of the last batch there
    "load.truncate_staging_dataset": True,
    # loaded packages would otherwise keep a copy of every row (emails included) on disk
    "load.delete_completed_jobs": True,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_pipeline(pipeline_name: str, duckdb_path: Path, pipelines_dir: Path) -> Pipeline:
    """A dlt pipeline that loads into dataset `raw` of the DuckDB file `duckdb_path`."""
    duckdb_path = Path(duckdb_path)
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=dlt.destinations.duckdb(str(duckdb_path)),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(pipelines_dir),
    )


@contextmanager
def loader_config() -> Iterator[None]:
    with dlt.config.values(REQUIRED_CONFIG):
        yield


def run_pipeline(pipeline_name: str, duckdb_path: Path, pipelines_dir: Path, data: Any) -> LoadInfo:
    """Run `data` (a source or resources) through a fresh pipeline; raises on failed jobs."""
    with loader_config():
        pipeline = make_pipeline(pipeline_name, duckdb_path, pipelines_dir)
        info = pipeline.run(data)
    info.raise_on_failed_jobs()
    return info


@dataclass
class LoadSummary:
    """What one load did, printed as one line by the CLI."""

    source: str
    rows_loaded: int
    rows_rejected: int
    files_or_pages: int
    seconds: float
    details: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = "".join(f", {key}={value}" for key, value in sorted(self.details.items()))
        return (
            f"{self.source}: {self.rows_loaded} rows loaded, {self.rows_rejected} rejected, "
            f"{self.files_or_pages} files/pages, {self.seconds:.2f}s{extra}"
        )


class Stopwatch:
    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start
