"""A broken business configuration makes `dbt build` fail before any model uses it, and the
failure names the problem."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.dbt_runner import DbtFailedError, run_dbt
from pipeline.settings import Settings
from tests.python.cli_runner import PipelineRun, run_outreach

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).with_name("dbt"))


def copy_dbt_project(destination: Path) -> Path:
    for folder in ["models", "seeds", "macros", "snapshots", "tests/sql"]:
        shutil.copytree(PROJECT_DIR / folder, destination / folder)
    shutil.copyfile(PROJECT_DIR / "dbt_project.yml", destination / "dbt_project.yml")
    shutil.copyfile(PROJECT_DIR / "profiles.yml.example", destination / "profiles.yml")
    return destination


# the seeds and the tests that read only seeds
SEED_BUILD_ARGS = ("build", "--select", "resource_type:seed", "--indirect-selection", "cautious")


def build_seeds(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTREACH_DUCKDB_PATH": str(project / "config.duckdb"), "DBT_TARGET": "duckdb"}
    return subprocess.run(
        [DBT, *SEED_BUILD_ARGS, "--profiles-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def swap_a_and_b_thresholds(project: Path) -> None:
    replace_in(project / "seeds/segment_thresholds.csv", "A,50,", "A,43,")
    replace_in(project / "seeds/segment_thresholds.csv", "B,43,", "B,50,")


@dataclass(frozen=True)
class Breakage:
    break_it: Callable[[Path], None]
    # the test that must fail, and what `outreach build` must print from its stored failing rows
    failing_test: str
    problem: str


BREAKAGES: dict[str, Breakage] = {
    "thresholds_out_of_order": Breakage(
        lambda project: replace_in(project / "seeds/segment_thresholds.csv", "B,43,", "B,75,"),
        "assert_segment_thresholds_in_order",
        "segment_thresholds: thresholds out of order: B (75) >= A (50)",
    ),
    "thresholds_a_and_b_swapped": Breakage(
        swap_a_and_b_thresholds,
        "assert_segment_thresholds_in_order",
        "segment_thresholds: thresholds out of order: B (50) >= A (43)",
    ),
    "thresholds_overlap": Breakage(
        lambda project: replace_in(project / "seeds/segment_thresholds.csv", "C,35,", "C,43,"),
        "assert_segment_thresholds_in_order",
        "segment_thresholds: thresholds overlap: B and C both start at 43",
    ),
    "weights_do_not_sum_to_100": Breakage(
        lambda project: replace_in(project / "seeds/scoring_weights.csv", ",30,v1,", ",35,v1,"),
        "assert_scoring_weights_sum_to_100",
        "scoring_weights: weights of version v1 sum to 105, not 100",
    ),
    "unknown_segment_in_campaigns": Breakage(
        lambda project: replace_in(project / "seeds/segment_campaigns.csv", "E,false,,", "F,false,,"),
        "segment_campaigns_segment_is_in_segment_thresholds",
        "from_field=F",
    ),
    "unknown_segment_in_thresholds": Breakage(
        lambda project: replace_in(project / "seeds/segment_thresholds.csv", "E,0,", "F,0,"),
        "assert_segment_thresholds_in_order",
        "segment_thresholds: unknown segment F (segments are A-E)",
    ),
    "unknown_scaling": Breakage(
        lambda project: replace_in(project / "seeds/scoring_weights.csv", ",log_minmax,", ",logarithmic,"),
        "scoring_weights_scaling_is_a_known_scaling",
        "value_field=logarithmic",
    ),
    "suppression_key_that_matches_nothing": Breakage(
        lambda project: replace_in(
            project / "seeds/suppression_list.csv",
            "key_type,key,reason,source,added_on\n",
            "key_type,key,reason,source,added_on\nbrand_name,!!!,existing_client,manual,2026-01-01\n",
        ),
        "assert_suppression_list_keys_are_usable",
        'suppression_list: brand_name "!!!" has no letters or digits',
    ),
    "outreach_segment_without_campaign": Breakage(
        lambda project: replace_in(project / "seeds/segment_campaigns.csv", "C,true,1003,", "C,true,,"),
        "assert_outreach_segments_have_campaign",
        "segment_campaigns: segment C gets outreach but has no smartlead_campaign_id",
    ),
}


def test_shipped_configuration_passes(tmp_path: Path) -> None:
    result = build_seeds(copy_dbt_project(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]


# breakages that can share one build: at most one per seed row they touch, so each is still the
# cause of its own failure (a dbt build costs seconds: one per breakage made this test minutes)
BREAKAGE_GROUPS = [
    ["thresholds_out_of_order", "weights_do_not_sum_to_100", "unknown_segment_in_campaigns"],
    ["thresholds_a_and_b_swapped", "unknown_scaling", "outreach_segment_without_campaign"],
    ["thresholds_overlap", "suppression_key_that_matches_nothing"],
    ["unknown_segment_in_thresholds"],
]


def test_every_breakage_is_in_a_group() -> None:
    grouped = [name for group in BREAKAGE_GROUPS for name in group]
    assert sorted(grouped) == sorted(BREAKAGES)


@pytest.mark.parametrize("group", BREAKAGE_GROUPS, ids="+".join)
def test_broken_configuration_fails_and_names_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: list[str]
) -> None:
    """Through pipeline.dbt_runner, as `outreach build` runs dbt: the error names each failed test
    and shows its stored failing rows (its `problem`)."""
    monkeypatch.setenv("DBT_TARGET", "duckdb")
    project = copy_dbt_project(tmp_path)
    for breakage in group:
        BREAKAGES[breakage].break_it(project)
    settings = dataclasses.replace(Settings.from_env(str(project / "config.duckdb")), project_dir=project)
    with pytest.raises(DbtFailedError) as failure:
        run_dbt(settings, *SEED_BUILD_ARGS)
    found = str(failure.value).split("Failing tests and what they found:", 1)
    assert len(found) == 2, str(failure.value)[-3000:]
    for breakage in group:
        assert f"\n  {BREAKAGES[breakage].failing_test}: " in found[1], (breakage, found[1])
        assert BREAKAGES[breakage].problem in found[1], (breakage, found[1])


def test_weights_changed_under_a_built_version_fail_the_build_until_the_version_changes(
    demo_run: PipelineRun, tmp_path: Path
) -> None:
    """Through `outreach build` on the demo's warehouse (built with the shipped weights, v1): new
    weights under v1 stop the build before scoring, even with --full-refresh; as v2 they build."""
    project = copy_dbt_project(tmp_path / "project")
    warehouse = tmp_path / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, warehouse)
    env = {"OUTREACH_PROJECT_DIR": str(project), "DBT_TARGET": "duckdb"}
    weights = project / "seeds/scoring_weights.csv"
    # still 100 in all: no other seed test fails
    replace_in(weights, ",log_minmax,higher_is_better,,30,v1,", ",log_minmax,higher_is_better,,25,v1,")
    replace_in(weights, ",boolean,higher_is_better,,5,v1,", ",boolean,higher_is_better,,10,v1,")

    def scored_fingerprints() -> list[tuple[Any, ...]]:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.execute(
                "select distinct weights_version, weights_fingerprint from segmented.seg_brand_signal_contributions"
            ).fetchall()

    scored_before = scored_fingerprints()
    refused = run_outreach(warehouse, "build", "--full-refresh", env=env)
    assert refused.returncode == 1, refused.stdout[-2000:]
    assert (
        "scoring_weights version v1 was built before with other weights: give the new weights a new weights_version"
        in refused.stderr
    ), refused.stderr[-3000:]
    assert scored_fingerprints() == scored_before  # nothing was scored with the new weights

    weights.write_text(weights.read_text().replace(",v1,", ",v2,"))
    built = run_outreach(warehouse, "build", env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    [(version, fingerprint)] = scored_fingerprints()
    assert version == "v2" and (version, fingerprint) not in scored_before
