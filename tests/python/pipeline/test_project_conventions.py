"""Conventions every model and seed must keep, read from dbt's own manifest: a model without a grain
test, a seed without column types or an undocumented CLEAN/ENRICHED column fails here, not in
review. Only the column check reads a warehouse (the session's demo build, read-only)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

UNIQUE_TESTS = {"unique", "unique_combination"}
# the layers whose every column is described in the models' YAML (docs and the catalog read them)
DESCRIBED_SCHEMAS = ("clean", "enriched")


def project_nodes(manifest: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == resource_type and node["package_name"] == manifest["metadata"]["project_name"]
    }


def test_every_model_has_a_unique_and_not_null_grain(manifest: dict[str, Any]) -> None:
    tests_by_model: dict[str, set[str]] = defaultdict(set)
    for test in project_nodes(manifest, "test").values():
        metadata = test.get("test_metadata") or {}
        if test.get("attached_node") and metadata.get("name"):
            tests_by_model[test["attached_node"]].add(metadata["name"])
    missing = {
        model["name"]: sorted(
            {"unique", "not_null"}
            - ({"unique"} if tests_by_model[unique_id] & UNIQUE_TESTS else set())
            - tests_by_model[unique_id]
        )
        for unique_id, model in project_nodes(manifest, "model").items()
    }
    assert {name: tests for name, tests in missing.items() if tests} == {}


def test_every_model_is_described(manifest: dict[str, Any]) -> None:
    undescribed = sorted(
        model["name"] for model in project_nodes(manifest, "model").values() if not model["description"].strip()
    )
    assert undescribed == []


def test_every_seed_declares_its_column_types(manifest: dict[str, Any]) -> None:
    untyped = sorted(
        seed["name"] for seed in project_nodes(manifest, "seed").values() if not seed["config"].get("column_types")
    )
    assert untyped == []


def test_every_clean_and_enriched_column_is_described(
    manifest: dict[str, Any], demo_db: duckdb.DuckDBPyConnection
) -> None:
    """The columns each model really has (the built warehouse, views and tables alike), not only those
    its YAML lists: a column added to the SQL without a description fails here."""
    built: dict[str, set[str]] = defaultdict(set)
    for schema, table, column in demo_db.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
        f" where table_schema in ({', '.join('?' for _ in DESCRIBED_SCHEMAS)})",
        list(DESCRIBED_SCHEMAS),
    ).fetchall():
        built[f"{schema}.{table}"].add(column.lower())
    models = {
        f"{model['schema']}.{model['alias']}": model
        for model in project_nodes(manifest, "model").values()
        if model["schema"] in DESCRIBED_SCHEMAS
    }
    assert sorted(models) == sorted(built), "every CLEAN and ENRICHED model is built by the demo run"
    undescribed = sorted(
        f"{relation}.{column}"
        for relation, columns in built.items()
        for column in columns
        if not models[relation]["columns"].get(column, {}).get("description", "").strip()
    )
    assert undescribed == [], "describe these columns in the model's _*__models.yml: " + ", ".join(undescribed)
    # a description of a column the model no longer has is wrong documentation
    stale = sorted(
        f"{relation}.{column}"
        for relation, model in models.items()
        for column in model["columns"]
        if column.lower() not in built[relation]
    )
    assert stale == [], "remove (or rename) these columns in the model's _*__models.yml: " + ", ".join(stale)
