"""The scoring configurator and the pipeline page, headless (AppTest) on a copy of the demo
warehouse. The what-if is the real one (pipeline/whatif.py, dbt in a sandbox): one run in this
module; its moved-brand count is checked against SQL over the warehouse, and the warehouse file
must not change. Save writes into a copy of seeds/ (OUTREACH_SEEDS_DIR), never the repo's."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from control_room import scoring_seeds
from control_room.views.configurator import RESULT_KEY, THRESHOLDS_EDITOR, WEIGHTS_EDITOR
from pipeline.settings import Settings
from pipeline.status import collect_status
from tests.python.cli_runner import PROJECT_DIR
from tests.python.control_room.test_pages import metrics, open_page, table_with

Model = Callable[..., pd.DataFrame]
REPO_SEEDS = PROJECT_DIR / "seeds"
SEED_FILES = ("scoring_weights.csv", "segment_thresholds.csv")
# segment_thresholds.csv rows, in file order: A, B, C, D, E
B_ROW = 1
B_LOWERED_TO = 40


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edits(rows: dict[int, dict[str, object]]) -> dict[str, object]:
    """A data editor's state, as the browser sends it."""
    return {"edited_rows": rows, "added_rows": [], "deleted_rows": []}


@pytest.fixture
def seeds_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name in SEED_FILES:
        shutil.copyfile(REPO_SEEDS / name, folder / name)
    monkeypatch.setenv(scoring_seeds.SEEDS_DIR_ENV, str(folder))
    return folder


def open_configurator(**editor_states: dict[str, object]) -> AppTest:
    app = open_page("configurator.py")
    for key, state in editor_states.items():
        app.session_state[key] = state
    if editor_states:
        app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def brands_moving_from_c_to_b(model: Model) -> int:
    """Lowering B's bound to 40 moves the C brands scoring 40 or more (suppressed ones stay suppressed)."""
    return int(
        model(
            """
            select count(*) as brands
            from segmented.seg_brand_scores as scores
            inner join enriched.dim_brands as brands
                on scores.brand_id = brands.brand_id
            where not brands.is_suppressed and scores.segment = 'C' and scores.score >= ?
            """,
            [B_LOWERED_TO],
        )["brands"].iloc[0]
    )


def test_moving_a_threshold_shows_what_the_whatif_moves_and_changes_nothing(
    ui_env: Path, model: Model, seeds_copy: Path
) -> None:
    expected_moves = brands_moving_from_c_to_b(model)
    assert expected_moves > 0, "the demo data has no C brand between 40 and 43: pick another bound"
    queue_now = model("select campaign_id, count(*) as leads from segmented.seg_outreach_queue group by campaign_id")
    contacted = model("select count(*) as brands from enriched.int_brand_outreach_history")["brands"].iloc[0]
    warehouse_before, seeds_before = sha256(ui_env), {name: sha256(seeds_copy / name) for name in SEED_FILES}

    app = open_configurator(**{THRESHOLDS_EDITOR: edits({B_ROW: {"min_score": B_LOWERED_TO}})})
    app.button(key="configurator_whatif").click().run(timeout=180)
    assert not app.exception, [exception.value for exception in app.exception]
    assert not app.error, [error.value for error in app.error]

    assert metrics(app)["Brands moving"] == str(expected_moves)
    matrix = table_with(app, "now \\ proposed", "A", "E").set_index("now \\ proposed")
    assert matrix.loc["C", "B"] == expected_moves
    assert matrix.to_numpy().sum() - matrix.to_numpy().trace() == expected_moves
    queue = table_with(app, "campaign_id", "leads_now", "leads_proposed")
    assert dict(zip(queue["campaign_id"], queue["leads_now"], strict=True)) == dict(
        zip(queue_now["campaign_id"], queue_now["leads"], strict=True)
    )
    backtest = table_with(app, "proposed_segment", "brands_contacted", "share_of_positive")
    assert backtest["brands_contacted"].sum() == contacted
    assert len(table_with(app, "check", "target", "result")) == 3  # the MadKudu checks
    assert sha256(ui_env) == warehouse_before, "the what-if changed the warehouse"
    assert {name: sha256(seeds_copy / name) for name in SEED_FILES} == seeds_before

    # another edit: the figures shown belong to the old tables, so the page says so
    app.session_state[THRESHOLDS_EDITOR] = edits({B_ROW: {"min_score": B_LOWERED_TO - 1}})
    app.run()
    assert any("changed since the last what-if" in info.value for info in app.info)
    assert RESULT_KEY in app.session_state


def test_save_writes_changed_weights_under_a_new_version(ui_env: Path, model: Model, seeds_copy: Path) -> None:
    repo_seeds = {name: sha256(REPO_SEEDS / name) for name in SEED_FILES}
    built = set(model("select distinct weights_version from segmented.seg_scoring_weights_versions")["weights_version"])
    thresholds_before = (seeds_copy / "segment_thresholds.csv").read_text()
    # revenue 30 -> 25, storefront 5 -> 10: still 100 in all
    app = open_configurator(**{WEIGHTS_EDITOR: edits({0: {"weight": 25}, 6: {"weight": 10}})})
    assert any("weights_version v" in info.value for info in app.info)
    app.button(key="configurator_save").click().run()
    assert not app.exception and not app.error

    saved = pd.read_csv(seeds_copy / "scoring_weights.csv", dtype=str, keep_default_na=False)
    new_version = scoring_seeds.next_weights_version(built | {"v1"})
    assert set(saved["weights_version"]) == {new_version} and new_version not in built
    assert list(saved["weight"]) == ["25", "15", "15", "15", "10", "10", "10"]
    assert saved["cap_value"].tolist() == ["", "50", "200", "", "", "", ""]
    assert (seeds_copy / "segment_thresholds.csv").read_text() == thresholds_before
    assert new_version in app.success[0].value and "commit" in app.success[0].value
    assert {name: sha256(REPO_SEEDS / name) for name in SEED_FILES} == repo_seeds


def test_saving_unchanged_weights_keeps_their_file_and_version(ui_env: Path, seeds_copy: Path) -> None:
    weights_before = (seeds_copy / "scoring_weights.csv").read_bytes()
    app = open_configurator(**{THRESHOLDS_EDITOR: edits({B_ROW: {"min_score": B_LOWERED_TO}})})
    app.button(key="configurator_save").click().run()
    assert not app.exception and not app.error
    assert (seeds_copy / "scoring_weights.csv").read_bytes() == weights_before
    thresholds = pd.read_csv(seeds_copy / "segment_thresholds.csv", dtype=str)
    assert thresholds.loc[B_ROW, "min_score"] == str(B_LOWERED_TO)


def test_the_shipped_seeds_survive_a_read_and_write_unchanged(tmp_path: Path) -> None:
    for seed in ("scoring_weights", "segment_thresholds"):
        numeric = ("cap_value", "weight") if seed == "scoring_weights" else ("min_score",)
        edited = scoring_seeds.typed_for_editing(scoring_seeds.read_seed(REPO_SEEDS, seed), numeric)
        scoring_seeds.write_seed_csv(edited, tmp_path / f"{seed}.csv")
        assert (tmp_path / f"{seed}.csv").read_bytes() == (REPO_SEEDS / f"{seed}.csv").read_bytes()


@pytest.mark.parametrize(
    ("used", "expected"), [({"v1"}, "v2"), ({"v1", "v3", "custom"}, "v4"), (set(), "v1"), ({"draft"}, "v1")]
)
def test_next_weights_version_is_never_one_used(used: set[str], expected: str) -> None:
    assert scoring_seeds.next_weights_version(used) == expected


def test_pipeline_page_shows_each_stage_history_and_warnings_from_status(ui_env: Path, model: Model) -> None:
    report = collect_status(Settings.from_env())
    history = model("select stage, status from pipeline_ops.run_log order by started_at desc, run_id limit 20")
    builds = model("select build_id from pipeline_ops.build_runs order by started_at desc limit 20")
    app = open_page("pipeline.py")

    assert metrics(app)["Mode"].startswith("dry run")
    assert metrics(app)["Need a person"] == str(sum(warning.needs_person for warning in report.warnings))
    stages = table_with(app, "stage", "status", "last_run", "duration_seconds", "owned_by")
    assert list(stages["stage"]) == [entry["stage"] for entry in report.stages]
    for shown, entry in zip(stages.itertuples(), report.stages, strict=True):
        run = entry["last_run"] or {}
        assert shown.status.endswith(run.get("status") or "never run")
        assert (shown.rows_out if pd.notna(shown.rows_out) else None) == run.get("rows_out")
        if run.get("finished_at"):
            assert shown.duration_seconds >= 0
    shown_history = table_with(app, "stage", "command", "duration_seconds", "message")
    assert list(shown_history["stage"]) == list(history["stage"])
    assert list(shown_history["status"]) == list(history["status"])
    assert list(table_with(app, "build_id", "status")["build_id"]) == list(builds["build_id"])
    shown_warnings = [message.value for message in [*app.error, *app.warning]]
    assert shown_warnings == [
        f"{warning.check}: {warning.message}" for warning in report.warnings if warning.needs_person
    ] + [f"{warning.check}: {warning.message}" for warning in report.warnings if not warning.needs_person]
