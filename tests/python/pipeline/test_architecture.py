"""The walls of docs/architecture.md, read from the code: Python imports parsed with `ast` (nothing is
imported) and dbt's manifest. A new arrow across a wall fails here, not in review."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[3]
PACKAGES = ("pipeline", "loaders", "reverse_etl", "warehouse_layer", "control_room")

# package -> the project packages it must never import (docs/architecture.md, "Packages")
FORBIDDEN = {
    "loaders": {"pipeline", "control_room", "reverse_etl"},
    "reverse_etl": {"pipeline", "control_room", "loaders"},
    "warehouse_layer": {"pipeline", "loaders", "reverse_etl", "control_room"},
    "control_room": {"loaders", "reverse_etl"},
}

# Crossings that exist today, each named exactly (file -> module) so that none can be added silently
# and an entry fails once its import is gone. reverse_etl's HTTP clients are built on the loaders'
# HTTP layer and settings parsers: the fix is to move loaders/common/http.py and settings_env.py
# below both stages (docs/architecture.md, "Known crossings").
KNOWN_CROSSINGS = {
    ("reverse_etl/destinations.py", "loaders.common.http"),
    ("reverse_etl/hubspot_client.py", "loaders.common.http"),
    ("reverse_etl/hubspot_client.py", "loaders.common.settings_env"),
    ("reverse_etl/plans.py", "loaders.common.settings_env"),
    ("reverse_etl/preview.py", "loaders.common.settings_env"),
    ("reverse_etl/smartlead_client.py", "loaders.common.http"),
    ("reverse_etl/smartlead_client.py", "loaders.common.settings_env"),
    ("reverse_etl/sync.py", "loaders.common.http"),
}

# Models the reverse ETL reads besides the sync_* models, each with why (docs/architecture.md)
NON_SYNC_READS = {
    "stg_suppression__keys": "the send-time suppression recheck, and the Smartlead block list",
    "int_brand_suppressions": "the send-time suppression recheck of brands",
    "stg_brand_id_aliases": "moving ledger rows to a brand's new id",
}


def module_name(path: Path, root: Path = PROJECT_DIR) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = PROJECT_DIR) -> Iterator[str]:
    """Every module a file imports: at the top, inside functions, under TYPE_CHECKING, relative
    imports resolved, and `importlib.import_module("...")` / `__import__("...")` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            if node.module is None:  # `from . import x`: x is a module of the package
                yield from (f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = ast.unparse(node.func)
            if called in {"importlib.import_module", "import_module", "__import__"} and isinstance(
                node.args[0].value, str
            ):
                yield node.args[0].value


def package_files(package: str) -> list[Path]:
    return sorted((PROJECT_DIR / package).rglob("*.py"))


def crossings() -> set[tuple[str, str]]:
    found = set()
    for package, forbidden in FORBIDDEN.items():
        for path in package_files(package):
            for module in imported_modules(path):
                if module.split(".")[0] in forbidden:
                    found.add((str(path.relative_to(PROJECT_DIR)), module))
    return found


def test_every_package_is_read() -> None:
    assert all(package_files(package) for package in PACKAGES)


def test_no_import_crosses_a_wall() -> None:
    new = sorted(crossings() - KNOWN_CROSSINGS)
    assert new == [], "imports across a wall of docs/architecture.md (file, module): " + repr(new)


def test_known_crossings_still_exist() -> None:
    """A crossing that was mended leaves the list too (the list only shrinks)."""
    mended = sorted(KNOWN_CROSSINGS - crossings())
    assert mended == [], "mended: take these out of KNOWN_CROSSINGS and docs/architecture.md: " + repr(mended)


def test_the_import_reader_sees_every_form(tmp_path: Path) -> None:
    """The reader itself: each form of import is seen (else the walls above would pass blind)."""
    probe = tmp_path / "loaders" / "common" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "import pipeline.cli\n"
        "from control_room import ui\n"
        "from .. import smartscout\n"
        "from ..apollo.client import X\n"
        "def later():\n"
        "    from reverse_etl import sync\n"
        "    importlib.import_module('warehouse_layer.run_lock')\n"
    )
    found = set(imported_modules(probe, root=tmp_path))
    assert found >= {
        "pipeline.cli",
        "control_room",
        "loaders",
        "loaders.smartscout",
        "loaders.apollo.client",
        "reverse_etl",
        "warehouse_layer.run_lock",
    }


def project_nodes(manifest: dict[str, Any], *resource_types: str) -> dict[str, dict[str, Any]]:
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in resource_types and node["package_name"] == manifest["metadata"]["project_name"]
    }


def test_only_clean_models_read_sources(manifest: dict[str, Any]) -> None:
    readers = {
        node["original_file_path"]
        for node in project_nodes(manifest, "model", "snapshot").values()
        if any(dependency.startswith("source.") for dependency in node["depends_on"]["nodes"])
    }
    assert readers, "no model reads a source: the manifest was not read as expected"
    outside_clean = sorted(path for path in readers if not path.startswith("models/clean/"))
    assert outside_clean == [], "only models/clean may read source(): " + repr(outside_clean)


def code_strings(path: Path) -> Iterator[str]:
    """The string literals of a file's code (SQL, table names), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


def models_read_by_reverse_etl(manifest: dict[str, Any]) -> set[str]:
    model_names = {node["name"] for node in project_nodes(manifest, "model").values()}
    text = "\n".join(string for path in package_files("reverse_etl") for string in code_strings(path))
    words = set(re.findall(r"[a-z_0-9]+", text))
    return model_names & words


def test_reverse_etl_reads_only_sync_models(manifest: dict[str, Any]) -> None:
    read = models_read_by_reverse_etl(manifest)
    assert {name for name in read if name.startswith("sync_")}, "no sync_* model found: the reader is blind"
    others = sorted(name for name in read if not name.startswith("sync_"))
    assert others == sorted(NON_SYNC_READS), "reverse_etl/ reads models other than sync_*: " + repr(others)


def test_reverse_etl_segmented_relations_are_sync_models(manifest: dict[str, Any]) -> None:
    sync_models = {
        node["name"]
        for node in project_nodes(manifest, "model").values()
        if node["original_file_path"].startswith("models/segmented/sync/") and node["name"].startswith("sync_")
    }
    named = {
        match
        for path in package_files("reverse_etl")
        for string in code_strings(path)
        for match in re.findall(r"\bsegmented\.([a-z_0-9]+)", string)
    }
    assert named, "no segmented.* relation found in reverse_etl/: the reader is blind"
    not_sync = sorted(named - sync_models)
    assert not_sync == [], "reverse_etl/ reads segmented models that are no sync_* model: " + repr(not_sync)
