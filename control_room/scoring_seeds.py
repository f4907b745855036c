"""The scoring configurator's files: the seeds it edits, the what-if it runs, the seeds it saves.

No scoring here: the edited tables are written to temporary CSV files and built by
`pipeline.whatif.run_whatif` (the build's own SQL, in a sandbox copy of the warehouse). Saving
writes `seeds/scoring_weights.csv` and `seeds/segment_thresholds.csv` only, for review and a
commit; the warehouse changes at the next `outreach build`, never here.
"""

from __future__ import annotations

import csv
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.settings import Settings
from pipeline.whatif import THRESHOLDS_SEED, WEIGHTS_SEED, WhatIfResult, run_whatif

# where Save writes (and the editors start from): the project's seeds/ unless set (tests use a copy)
SEEDS_DIR_ENV = "OUTREACH_SEEDS_DIR"
WEIGHTS_VERSION = "weights_version"
_VERSION_NUMBER = re.compile(r"^v(\d+)$")


def seeds_dir(settings: Settings) -> Path:
    configured = os.environ.get(SEEDS_DIR_ENV, "").strip()
    return Path(configured) if configured else settings.project_dir / "seeds"


def seed_path(folder: Path, seed: str) -> Path:
    return folder / f"{seed}.csv"


def read_seed(folder: Path, seed: str) -> pd.DataFrame:
    """The seed as text cells (an empty cell stays empty), in its file's column order."""
    path = seed_path(folder, seed)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: the configurator edits the project's seeds; "
            f"unset {SEEDS_DIR_ENV} or point it at a folder holding {WEIGHTS_SEED}.csv and {THRESHOLDS_SEED}.csv"
        )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def typed_for_editing(seed: pd.DataFrame, numeric_columns: tuple[str, ...]) -> pd.DataFrame:
    """Numbers as numbers, so the editor offers number cells (an empty cap_value is NaN)."""
    frame = seed.copy()
    for column in numeric_columns:
        frame[column] = pd.to_numeric(frame[column].replace("", None), errors="coerce")
    return frame


def _cell(value: object) -> str:
    """A CSV cell as a person writes it: 30, not 30.0; empty for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_seed_csv(frame: pd.DataFrame, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(frame.columns))
        for row in frame.itertuples(index=False):
            writer.writerow([_cell(value) for value in row])


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda column: column.map(_cell)).reset_index(drop=True)


def weights_changed(current: pd.DataFrame, edited: pd.DataFrame) -> bool:
    """Anything but the version label and the descriptions differs: the scores would change."""
    ignored = [WEIGHTS_VERSION, "description"]
    before = as_text(current).drop(columns=ignored, errors="ignore")
    after = as_text(edited).drop(columns=ignored, errors="ignore")
    return not before.equals(after)


def next_weights_version(used: set[str]) -> str:
    """`v<n+1>` after the highest `v<n>` used (in the seed or built before): never a reused label."""
    numbers = [int(found[1]) for version in used if (found := _VERSION_NUMBER.match(version.strip()))]
    return f"v{max(numbers, default=0) + 1}"


def with_weights_version(weights: pd.DataFrame, version: str) -> pd.DataFrame:
    frame = weights.copy()
    frame[WEIGHTS_VERSION] = version
    return frame


def run_proposal(settings: Settings, weights: pd.DataFrame, thresholds: pd.DataFrame) -> WhatIfResult:
    """`run_whatif` on the edited tables, written to temporary CSV files (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="outreach-configurator-") as folder:
        weights_file = seed_path(Path(folder), WEIGHTS_SEED)
        thresholds_file = seed_path(Path(folder), THRESHOLDS_SEED)
        write_seed_csv(weights, weights_file)
        write_seed_csv(thresholds, thresholds_file)
        return run_whatif(settings, weights_file=weights_file, thresholds_file=thresholds_file)


@dataclass(frozen=True)
class SavedSeeds:
    weights_file: Path
    thresholds_file: Path
    # the weights_version written; None when the weights did not change (the file is left as it was)
    new_weights_version: str | None


def save_seeds(folder: Path, weights: pd.DataFrame, thresholds: pd.DataFrame, versions_built: set[str]) -> SavedSeeds:
    """Writes the thresholds, and the weights under a new weights_version when they changed.
    `versions_built`: the versions the warehouse recorded (seg_scoring_weights_versions)."""
    current_weights = read_seed(folder, WEIGHTS_SEED)
    new_version = None
    if weights_changed(current_weights, weights):
        new_version = next_weights_version(versions_built | set(current_weights[WEIGHTS_VERSION]))
        write_seed_csv(with_weights_version(weights, new_version), seed_path(folder, WEIGHTS_SEED))
    write_seed_csv(thresholds, seed_path(folder, THRESHOLDS_SEED))
    return SavedSeeds(seed_path(folder, WEIGHTS_SEED), seed_path(folder, THRESHOLDS_SEED), new_version)
