"""Which warehouse the Python stages and the loaders use: the active dbt target of profiles.yml.

Resolution only (no connection is opened): the DuckDB target, the local Snowflake-compatible
target, the real Snowflake target from SNOWFLAKE_* variables, dlt's Snowflake destination built
from either, and a clear error for anything missing.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from loaders.common.pipeline import RAW_DATASET, dlt_destination, make_pipeline
from warehouse_layer import (
    DUCKDB,
    SNOWFLAKE,
    WarehouseConfigError,
    WarehouseTarget,
    _duckdb_target_without_dbt,
    _render_profile,
    resolve_target,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]


def resolved_config(target: WarehouseTarget) -> Any:
    """dlt's configuration for the loaders' destination, resolved as a load would (no connection)."""
    destination = dlt_destination(target)
    initial = destination.spec()
    initial.dataset_name = RAW_DATASET
    return destination.configuration(initial)


SNOWFLAKE_ENV = {
    "SNOWFLAKE_ACCOUNT": "acme-xy12345",
    "SNOWFLAKE_USER": "LOADER",
    "SNOWFLAKE_PASSWORD": "not-a-real-password",
    "SNOWFLAKE_ROLE": "TRANSFORMER",
    "SNOWFLAKE_WAREHOUSE": "TRANSFORMING",
    "SNOWFLAKE_DATABASE": "OUTREACH",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project dir with the repository's dbt_project.yml and profiles.yml.example only."""
    for name in ("dbt_project.yml", "profiles.yml.example"):
        shutil.copyfile(PROJECT_DIR / name, tmp_path / name)
    for variable in ["DBT_TARGET", *SNOWFLAKE_ENV, "SNOWFLAKE_PRIVATE_KEY_PATH", "FAKESNOW_PORT"]:
        monkeypatch.delenv(variable, raising=False)
    for variable in ("DATABASE", "HOST", "USERNAME", "PASSWORD", "WAREHOUSE", "ROLE"):
        monkeypatch.delenv(f"DESTINATION__SNOWFLAKE__CREDENTIALS__{variable}", raising=False)
    return tmp_path


def test_default_target_is_the_duckdb_file_and_profiles_are_created(project: Path) -> None:
    target = resolve_target(project, project / "warehouse" / "x.duckdb")
    assert (project / "profiles.yml").exists()  # created from the example, as `make` does
    assert (target.name, target.kind, target.duckdb_path) == ("duckdb", DUCKDB, project / "warehouse" / "x.duckdb")


def test_dbt_target_variable_selects_the_local_snowflake_server(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET", "fakesnow")
    monkeypatch.setenv("FAKESNOW_PORT", "4567")
    target = resolve_target(project, project / "unused.duckdb")
    assert (target.name, target.kind, target.database) == ("fakesnow", SNOWFLAKE, "OUTREACH")
    args = target.snowflake_connect_args
    assert (args["host"], args["port"], args["protocol"], args["account"]) == ("localhost", 4567, "http", "fakesnow")


def test_snowflake_target_reads_everything_from_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET", "snowflake")
    for name, value in SNOWFLAKE_ENV.items():
        monkeypatch.setenv(name, value)
    target = resolve_target(project, project / "unused.duckdb")
    args = target.snowflake_connect_args
    assert (args["account"], args["user"], args["password"], args["role"], args["warehouse"]) == (
        "acme-xy12345",
        "LOADER",
        "not-a-real-password",
        "TRANSFORMER",
        "TRANSFORMING",
    )
    assert "not-a-real-password" not in repr(target) and "not-a-real-password" not in target.description

    # the loaders land RAW in the same account and database, dataset `raw`
    config = resolved_config(target)
    credentials = config.credentials
    assert (credentials.host, credentials.username, credentials.database, credentials.warehouse) == (
        "acme-xy12345",
        "LOADER",
        "OUTREACH",
        "TRANSFORMING",
    )
    assert (credentials.password, credentials.role) == ("not-a-real-password", "TRANSFORMER")
    pipeline = make_pipeline("config_check", target, project / "pipelines")
    assert (pipeline.destination.destination_name, pipeline.dataset_name) == ("snowflake", RAW_DATASET)


def test_key_pair_authentication_reaches_dbt_and_dlt(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = tmp_path / "rsa_key.p8"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("DBT_TARGET", "snowflake")
    for name, value in SNOWFLAKE_ENV.items():
        if name != "SNOWFLAKE_PASSWORD":
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", str(key_path))
    target = resolve_target(project, project / "unused.duckdb")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert target.snowflake_connect_args["private_key"] == der and "password" not in target.snowflake_connect_args
    credentials = resolved_config(target).credentials
    assert base64.b64decode(str(credentials.private_key)) == der


def test_missing_snowflake_variable_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET", "snowflake")
    for name, value in SNOWFLAKE_ENV.items():
        if name != "SNOWFLAKE_ACCOUNT":
            monkeypatch.setenv(name, value)
    with pytest.raises(WarehouseConfigError, match="SNOWFLAKE_ACCOUNT"):
        resolve_target(project, project / "unused.duckdb")


def test_unknown_target_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET", "bigquery_prod")
    with pytest.raises(WarehouseConfigError, match="bigquery_prod"):
        resolve_target(project, project / "unused.duckdb")


def test_dlt_configuration_wins_and_must_be_complete(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET", "snowflake")
    for name, value in SNOWFLAKE_ENV.items():
        monkeypatch.setenv(name, value)
    target = resolve_target(project, project / "unused.duckdb")
    # a separate loader account configured the dlt way, but without its host and user
    monkeypatch.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__DATABASE", "RAW_LANDING")
    monkeypatch.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__PASSWORD", "loader-secret")
    with pytest.raises(WarehouseConfigError, match=r"missing field.*host") as error:
        dlt_destination(target)
    assert "loader-secret" not in str(error.value)
    monkeypatch.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__HOST", "acme-loader")
    monkeypatch.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__USERNAME", "DLT_LOADER")
    credentials = resolved_config(target).credentials
    assert (credentials.host, credentials.username, credentials.database) == (
        "acme-loader",
        "DLT_LOADER",
        "RAW_LANDING",
    )


@pytest.mark.parametrize(
    ("dbt_target", "relative_path"),
    [(None, False), ("duckdb", False), (None, True)],
)
def test_duckdb_target_read_without_dbt_is_what_dbt_renders(
    project: Path, monkeypatch: pytest.MonkeyPatch, dbt_target: str | None, relative_path: bool
) -> None:
    if dbt_target:
        monkeypatch.setenv("DBT_TARGET", dbt_target)
    duckdb_path = Path("warehouse/rel.duckdb") if relative_path else project / "abs.duckdb"
    fast = resolve_target(project, duckdb_path)  # creates profiles.yml from the example
    credentials, name = _render_profile(project, duckdb_path, None)
    rendered = Path(credentials.path)
    assert fast == WarehouseTarget.duckdb_file(rendered if rendered.is_absolute() else project / rendered, name)
    assert _duckdb_target_without_dbt(project, duckdb_path, None) == fast


def test_profiles_the_plain_reader_cannot_be_sure_of_go_to_dbt(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_target(project, project / "x.duckdb")
    profiles = project / "profiles.yml"
    # other Jinja than env_var (here a dbt context member): dbt renders it, the plain reader steps back
    profiles.write_text(profiles.read_text().replace("env_var('OUTREACH_DUCKDB_PATH'", "env_var(target_dir ~ 'X'"))
    assert _duckdb_target_without_dbt(project, project / "x.duckdb", None) is None
    monkeypatch.setenv("DBT_TARGET", "fakesnow")
    assert _duckdb_target_without_dbt(project, project / "x.duckdb", None) is None  # not a DuckDB target
    monkeypatch.setenv("DBT_TARGET", "no_such_target")
    with pytest.raises(WarehouseConfigError, match="no_such_target"):
        resolve_target(project, project / "x.duckdb")


def test_a_path_dbt_would_refuse_is_left_to_dbt(project: Path) -> None:
    resolve_target(project, project / "x.duckdb")
    assert _duckdb_target_without_dbt(project, Path("."), None) is None  # no file name: no database name
    with pytest.raises(WarehouseConfigError):
        resolve_target(project, Path("."))
