"""Helpers shared by the loader tests (a uniquely named module, importable from the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_DATA = REPO_ROOT / "sample_data"


@dataclass(frozen=True)
class Warehouse:
    duckdb_path: Path
    pipelines_dir: Path

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path)) as connection:
            return connection.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.rows(sql, params)[0][0]

    def count(self, table: str) -> int:
        return int(self.scalar(f"select count(*) from raw.{table}"))

    def column_types(self, table: str) -> dict[str, str]:
        return dict(
            self.rows(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                [table],
            )
        )

    def tables(self) -> set[str]:
        return {
            row[0] for row in self.rows("select table_name from information_schema.tables where table_schema = 'raw'")
        }

    def all_stored_text(self) -> str:
        """Every varchar value in every table of the database, joined (for leak checks)."""
        parts: list[str] = []
        columns = self.rows(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        )
        for schema, table, column in columns:
            values = self.rows(f'select "{column}" from "{schema}"."{table}" where "{column}" is not null')
            parts.extend(str(value[0]) for value in values)
        return "\n".join(parts)
