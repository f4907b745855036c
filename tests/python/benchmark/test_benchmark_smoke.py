"""`scripts/benchmark.py` at its smallest size, end to end: every stage runs as the real command
against the local fakes, and what lands is checked against the generator's manifest.
Correctness only: no timing is asserted (the figures are in BENCHMARKS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from control_room.app import PAGES
from tests.python.cli_runner import PROJECT_DIR

STAGES = [
    (1, "ingest smartscout api"),
    (1, "ingest smartscout csv"),
    (1, "ingest smartlead webhooks"),
    (1, "dbt build (full)"),
    (1, "enrich apollo"),
    (1, "dbt build (after enrich)"),
    (1, "dbt build (nothing new)"),
    (1, "reverse ETL (first sync)"),
    (1, "reverse ETL (no change)"),
    (2, "ingest smartscout api"),
    (2, "ingest smartlead webhooks"),
    (2, "dbt build (1% changed, before enrich)"),
    (2, "enrich apollo"),
    (2, "dbt build (1% changed, after enrich)"),
    (2, "reverse ETL (after 1% change)"),
    (2, "control room (AppTest process)"),
    *[(2, f"control room page: {title}") for _file, title, _url_path in PAGES],
    (2, "what-if (current seeds)"),
]
LOADERS = ["ingest smartscout api", "ingest smartscout csv", "ingest smartlead webhooks", "enrich apollo"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(results.json, the data's manifest.json, the BENCHMARKS.md written) of one smoke run."""
    root = tmp_path_factory.mktemp("bench")
    markdown = root / "BENCHMARKS.md"
    command = [sys.executable, "scripts/benchmark.py", "--size", "smoke", "--data-root", str(root)]
    run = subprocess.run(
        [*command, "--benchmarks-md", str(markdown)], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, f"benchmark failed:\n{run.stdout[-6000:]}\n{run.stderr[-4000:]}"
    results = json.loads((root / "runs" / "smoke" / "results.json").read_text())
    manifest = json.loads((root / "smoke" / "manifest.json").read_text())
    return results, manifest, markdown.read_text()


def stages_of(results: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [stage for stage in results["stages"] if stage["kind"] == kind]


def test_every_stage_ran_and_succeeded(bench: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    results, _, _ = bench
    ran = [(stage["day"], stage["name"]) for stage in results["stages"] if stage["kind"] != "floor"]
    assert ran == STAGES
    assert [(s["name"], s["returncode"]) for s in results["stages"] if s["returncode"] != 0] == []
    assert all(stage["seconds"] > 0 and stage["peak_rss_mb"] > 0 for stage in results["stages"])


def test_what_landed_matches_the_generators_manifest(bench: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    results, manifest, _ = bench
    checks = {check["name"]: check for check in results["checks"]}
    assert [check for check in checks.values() if not check["ok"]] == []
    expected = manifest["expected"]
    # the benchmark compared against these very numbers (and they are not trivially zero)
    assert checks["day 1: raw SmartScout API rows"]["actual"] == expected["raw_smartscout_api_rows_day1"] > 400
    assert checks["day 2: raw SmartScout API rows"]["actual"] == expected["raw_smartscout_api_rows_day2"]
    assert expected["raw_smartscout_api_rows_day2"] > expected["raw_smartscout_api_rows_day1"]
    assert checks["day 1: raw Smartlead events"]["actual"] == expected["raw_smartlead_events_day1"] > 4_000
    assert checks["day 1: clean brands"]["actual"] == expected["clean_brands_day1"]
    assert checks["day 2: clean brands"]["actual"] == expected["clean_brands_day2"] > expected["clean_brands_day1"]
    counts = manifest["counts"]
    for awkward in ("spelling_variant_items", "exact_duplicate_items", "duplicate_lines", "special_truncated"):
        assert counts.get(awkward, 0) > 0, f"the smoke data has no {awkward}"


def test_reverse_etl_makes_the_minimum_number_of_calls(bench: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    results, _, _ = bench
    first, unchanged, after_change = stages_of(results, "sync")
    for stage in (first, unchanged, after_change):
        assert stage["api_calls"] == stage["minimum_calls"], stage["name"]
    assert first["rows"] > 0 and first["api_calls"] > 0
    assert unchanged["rows"] == unchanged["api_calls"] == 0  # nothing changed: no request at all


def test_ratios_and_targets_are_reported(bench: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    results, _, markdown = bench
    day1_loaders = {stage["name"]: stage for stage in stages_of(results, "loader") if stage["day"] == 1}
    assert sorted(day1_loaders) == sorted(LOADERS)
    assert all(stage["floor_ratio"] and stage["floor_ratio"] > 0 for stage in day1_loaders.values())
    target_names = [target["name"] for target in results["targets"]]
    assert sum("DuckDB floor" in name for name in target_names) == len(LOADERS)
    # both day-2 builds against the from-scratch build of day 1
    assert sum(name.endswith("≤ 10% of dbt build (full)") for name in target_names) == 2
    assert any(name.startswith("peak RSS") for name in target_names)
    assert sum("API calls = minimum" in name for name in target_names) == 3
    assert "## smoke: 500 brands" in markdown and "| target | measured |" in markdown
    assert results["command"] and results["machine"]["cpu"]


def test_control_room_pages_and_the_whatif_are_timed(bench: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    results, _, markdown = bench
    pages = stages_of(results, "page")
    assert [page["name"] for page in pages] == [f"control room page: {title}" for _file, title, _url_path in PAGES]
    assert all(page["returncode"] == 0 and page["notes"] == "" for page in pages)
    [whatif] = stages_of(results, "whatif")
    assert whatif["returncode"] == 0 and whatif["seconds"] > 0
    target_names = [target["name"] for target in results["targets"]]
    assert [name for name in target_names if name.startswith("control room page:")] == [
        f"{page['name']} ≤ 2 s" for page in pages
    ]
    assert "what-if ≤ 20 s (the target is for 100k)" in target_names
    assert "| 2 | control room page: Segments |" in markdown and "| 2 | what-if (current seeds) |" in markdown
