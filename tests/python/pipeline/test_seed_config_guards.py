"""A broken business configuration makes `dbt build` fail before any model uses it, and the
failure names the problem."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).with_name("dbt"))


def copy_dbt_project(destination: Path) -> Path:
    for folder in ["models", "seeds", "macros", "snapshots", "tests/sql"]:
        shutil.copytree(PROJECT_DIR / folder, destination / folder)
    shutil.copyfile(PROJECT_DIR / "dbt_project.yml", destination / "dbt_project.yml")
    shutil.copyfile(PROJECT_DIR / "profiles.yml.example", destination / "profiles.yml")
    return destination


def build_seeds(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTREACH_DUCKDB_PATH": str(project / "config.duckdb"), "DBT_TARGET": "duckdb"}
    return subprocess.run(
        [
            DBT,
            "build",
            "--select",
            "resource_type:seed",
            "--indirect-selection",
            "cautious",
            "--profiles-dir",
            str(project),
        ],
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


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "thresholds_out_of_order": (
        lambda project: replace_in(project / "seeds/segment_thresholds.csv", "B,43,", "B,75,"),
        "assert_segment_thresholds_in_order",
    ),
    "weights_do_not_sum_to_100": (
        lambda project: replace_in(project / "seeds/scoring_weights.csv", ",30,v1,", ",35,v1,"),
        "assert_scoring_weights_sum_to_100",
    ),
    "unknown_segment_in_campaigns": (
        lambda project: replace_in(project / "seeds/segment_campaigns.csv", "E,false,,", "F,false,,"),
        "relationships_segment_campaigns_segment",
    ),
    "unknown_scaling": (
        lambda project: replace_in(project / "seeds/scoring_weights.csv", ",log_minmax,", ",logarithmic,"),
        "accepted_values_scoring_weights_scaling",
    ),
    "suppression_key_that_matches_nothing": (
        lambda project: replace_in(
            project / "seeds/suppression_list.csv",
            "key_type,key,reason,source,added_on\n",
            "key_type,key,reason,source,added_on\nbrand_name,!!!,existing_client,manual,2026-01-01\n",
        ),
        "assert_suppression_list_keys_are_usable",
    ),
    "outreach_segment_without_campaign": (
        lambda project: replace_in(project / "seeds/segment_campaigns.csv", "C,true,1003,", "C,true,,"),
        "assert_outreach_segments_have_campaign",
    ),
}


def test_shipped_configuration_passes(tmp_path: Path) -> None:
    result = build_seeds(copy_dbt_project(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_broken_configuration_fails_and_names_the_problem(tmp_path: Path, breakage: str) -> None:
    project = copy_dbt_project(tmp_path)
    break_it, failing_test = BREAKAGES[breakage]
    break_it(project)
    result = build_seeds(project)
    assert result.returncode != 0
    failures = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert any(failing_test in line for line in failures), result.stdout[-3000:]
