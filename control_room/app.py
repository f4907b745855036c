"""`outreach ui`: the control room's entry point (`streamlit run control_room/app.py`).

Read-only towards the warehouse: every query opens its own read-only connection (reader.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from control_room import ui

# not `pages/`: beside the entry script that name turns on Streamlit's older page discovery
PAGES_DIR = Path(__file__).resolve().parent / "views"

# (file in views/, title, url path): the browser test opens each of them
PAGES = (
    ("funnel.py", "Funnel and health", "funnel"),
    ("segments.py", "Segments", "segments"),
    ("brand.py", "Brand", "brand"),
    ("sync_review.py", "Sync review", "sync-review"),
    ("pipeline.py", "Pipeline", "pipeline"),
    ("configurator.py", "Scoring configurator", "configurator"),
)


def main() -> None:
    st.set_page_config(page_title="Outreach control room", layout="wide")
    if not ui.password_accepted():
        return
    navigation = st.navigation(
        [
            st.Page(PAGES_DIR / file_name, title=title, url_path=url_path, default=index == 0)
            for index, (file_name, title, url_path) in enumerate(PAGES)
        ]
    )
    st.sidebar.caption(f"{ui.pipeline_mode()} · {ui.reader().target.description}")
    if notice := ui.busy_notice():  # a stage writes the warehouse: the pages show what was read last
        st.warning(notice)
    navigation.run()


main()
