"""A static portability check: SQL compiled for the Snowflake target may call only functions
Snowflake has. fakesnow runs on DuckDB and happily executes DuckDB-only functions
(`strip_accents`, `list_value`, `strftime`, ...), so the build alone cannot catch them; sqlglot's
Snowflake dialect parses such calls as anonymous functions, which this check reports."""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp

# Real Snowflake functions that sqlglot does not model (add one only after checking the
# Snowflake documentation).
SNOWFLAKE_FUNCTIONS_UNKNOWN_TO_SQLGLOT: frozenset[str] = frozenset()


def unknown_functions(sql: str) -> set[str]:
    """Function names in `sql` that Snowflake does not know (lower case)."""
    found: set[str] = set()
    for statement in sqlglot.parse(sql, read="snowflake"):
        if statement is None:
            continue
        for call in statement.find_all(exp.Anonymous):
            name = call.name.lower()
            if name not in SNOWFLAKE_FUNCTIONS_UNKNOWN_TO_SQLGLOT:
                found.add(name)
    return found


def non_portable_files(compiled_dir: Path) -> dict[str, set[str]]:
    """{relative path: unknown functions} for every compiled .sql file under `compiled_dir`."""
    problems: dict[str, set[str]] = {}
    for path in sorted(compiled_dir.rglob("*.sql")):
        names = unknown_functions(path.read_text())
        if names:
            problems[str(path.relative_to(compiled_dir))] = names
    return problems
