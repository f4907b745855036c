"""Conventions every model and seed must keep, read from dbt's own manifest (no warehouse needed):
a model without a grain test or a seed without column types fails here, not in review."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

UNIQUE_TESTS = {"unique", "unique_combination"}


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
