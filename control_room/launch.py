"""`outreach ui`: starts `streamlit run control_room/app.py` on the warehouse the CLI resolved.

Safe by default: it binds to 127.0.0.1. Any other address serves the app to whoever reaches this
machine, so it needs OUTREACH_UI_PASSWORD (the app then asks for it first); an auth proxy in
front belongs on this machine, with the app on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from warehouse_layer import DUCKDB, WarehouseTarget

PASSWORD_ENV = "OUTREACH_UI_PASSWORD"
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501
LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")
APP = Path(__file__).resolve().parent / "app.py"


class UiSettingError(ValueError):
    """`outreach ui` cannot start as asked: the message says why and the way out."""


def check_can_serve(address: str, target: WarehouseTarget, env: Mapping[str, str]) -> None:
    if address not in LOCAL_ADDRESSES and not env.get(PASSWORD_ENV, "").strip():
        raise UiSettingError(
            f"outreach ui --address {address} would serve the control room to anyone who reaches this machine: "
            f"set {PASSWORD_ENV} (the app then asks for it), or keep the default {DEFAULT_ADDRESS} "
            "(behind an auth proxy on this machine)"
        )
    if target.kind == DUCKDB and target.duckdb_path is not None and not target.duckdb_path.exists():
        raise UiSettingError(
            f"warehouse file {target.duckdb_path} does not exist: build one first (`outreach run-all`, "
            "or `make demo`), or point --duckdb at yours"
        )


def streamlit_command(address: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.address={address}",
        f"--server.port={port}",
        "--server.headless=true",  # no browser opened, no e-mail prompt
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",  # nothing leaves the machine
        "--client.toolbarMode=viewer",
    ]


def streamlit_env(target: WarehouseTarget, duckdb_path: Path, project_dir: Path) -> dict[str, str]:
    """The app resolves the same target (reader.active_target) from these."""
    env = dict(os.environ)
    env["OUTREACH_DUCKDB_PATH"] = str(duckdb_path)
    env["OUTREACH_PROJECT_DIR"] = str(project_dir)
    env["DBT_TARGET"] = target.name
    # `streamlit run` puts control_room/ on the path, not the project
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project_dir), env.get("PYTHONPATH")]))
    return env


def serve(target: WarehouseTarget, duckdb_path: Path, project_dir: Path, address: str, port: int) -> int:
    check_can_serve(address, target, os.environ)
    print(f"[ui] control room on http://{address}:{port} ({target.description}); Ctrl-C stops it", flush=True)
    server = subprocess.Popen(streamlit_command(address, port), env=streamlit_env(target, duckdb_path, project_dir))
    try:
        return server.wait()
    except KeyboardInterrupt:  # Streamlit got the same Ctrl-C: let it finish
        return server.wait()
