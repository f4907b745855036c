"""Exits 2 with one line when the active dbt target is a DuckDB file: on a machine whose disk is
thrown away after the job (a CI runner), the warehouse and its send ledger would be lost, and
the next run would send again what this one sent. Used by .github/workflows/scheduled-pipeline.yml."""

from __future__ import annotations

import sys

from pipeline.settings import Settings
from warehouse_layer import DUCKDB, WarehouseConfigError


def main() -> int:
    try:
        target = Settings.from_env().warehouse
    except (ValueError, WarehouseConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if target.kind == DUCKDB:
        print(
            f"error: the dbt target is {target.description}: a DuckDB file on a runner that is thrown "
            "away after the job would lose the warehouse and its send ledger; set DBT_TARGET=snowflake "
            "and the SNOWFLAKE_* secrets (docs/scheduling.md)",
            file=sys.stderr,
        )
        return 2
    print(f"warehouse: {target.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
