"""What every page shares: queries that survive a running pipeline, the password gate, the banner."""

from __future__ import annotations

import hmac
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from control_room.launch import PASSWORD_ENV
from control_room.reader import WarehouseBusyError, WarehouseReader, active_target
from pipeline.settings import Settings
from warehouse_layer import DUCKDB, WarehouseError

BUSY_KEY = "control_room_warehouse_busy"
MAX_REMEMBERED_RESULTS = 256

# the last result of each query, shown (with its time) while a stage holds the warehouse
_last_results: OrderedDict[tuple[Any, ...], tuple[datetime, pd.DataFrame]] = OrderedDict()
_last_results_lock = threading.Lock()  # one Streamlit server runs its sessions in threads


def reader() -> WarehouseReader:
    return WarehouseReader(active_target())


def settings() -> Settings:
    """The settings `outreach` reads from the same environment (the what-if and status need them);
    a setting that cannot be read is one line in place of the page."""
    try:
        return Settings.from_env()
    except ValueError as error:
        st.error(f"{error}")
        st.stop()


def forget_last_results() -> None:
    """Nothing remembered: the next busy warehouse shows no data (tests start from here)."""
    with _last_results_lock:
        _last_results.clear()


def busy_notice() -> str | None:
    """`pipeline running (<the stage holding the warehouse>), data as of <last read>` while a stage
    has the DuckDB file open for writing, else None. The queries of this run then answer at once
    from what was read last."""
    st.session_state.pop(BUSY_KEY, None)
    source = reader()
    if source.target.kind != DUCKDB:  # only DuckDB shuts readers out while it is written
        return None
    try:
        source.frame("select 1")
    except WarehouseBusyError as busy:
        st.session_state[BUSY_KEY] = True
        with _last_results_lock:
            read_at = max((at for at, _ in _last_results.values()), default=None)
        return f"{busy}, data as of {read_at:%Y-%m-%d %H:%M:%S} UTC" if read_at else f"{busy}, nothing read yet"
    except WarehouseError:  # the page says what is wrong
        return None
    return None


def query(sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """The query's rows; while a pipeline stage writes the warehouse (busy_notice), the rows last
    read, or, for a query never read, a line saying so in place of the page."""
    source = reader()
    if st.session_state.get(BUSY_KEY):  # busy at the start of this run: no more waiting
        source = replace(source, attempts=1)
    key = (source.target.description, sql, tuple(params))
    try:
        frame = source.frame(sql, params)
    except WarehouseBusyError as busy:
        with _last_results_lock:
            remembered = _last_results.get(key)
        if remembered is None:
            st.info(f"{busy}: this page was not read before it started; reload it when the stage finishes.")
            st.stop()
        return remembered[1]
    except WarehouseError as error:  # no file, no target: one line saying what to run, not a traceback
        st.error(f"{error}")
        st.stop()
    with _last_results_lock:
        _last_results[key] = (datetime.now(UTC), frame)
        _last_results.move_to_end(key)
        while len(_last_results) > MAX_REMEMBERED_RESULTS:
            _last_results.popitem(last=False)
    return frame


def existing_tables() -> set[str]:
    frame = query(
        """
        select table_schema, table_name from information_schema.tables
        union all
        select table_schema, table_name from information_schema.views
        """
    )
    return {f"{schema}.{table}".lower() for schema, table in frame.itertuples(index=False)}


def require_tables(*tables: str, run: str) -> bool:
    """False (and a line saying which command creates them) when a table is missing."""
    missing = sorted(set(tables) - existing_tables())
    if missing:
        st.info(f"{', '.join(missing)} does not exist yet: run `{run}` first.")
        return False
    return True


def password_accepted() -> bool:
    """With OUTREACH_UI_PASSWORD set, the app shows nothing until that password is typed."""
    expected = os.environ.get(PASSWORD_ENV, "")
    if not expected or st.session_state.get("control_room_authenticated"):
        return True
    typed = st.text_input("Password", type="password", help=f"the value of {PASSWORD_ENV}")
    if typed and hmac.compare_digest(typed.encode(), expected.encode()):
        st.session_state["control_room_authenticated"] = True
        st.rerun()
    if typed:
        st.error("wrong password")
    return False


def pipeline_mode() -> str:
    mode = os.environ.get("PIPELINE_MODE", "dry_run")
    return "production" if mode == "production" else f"dry run (PIPELINE_MODE={mode})"
