"""`outreach ui`: the control room's entry point (`streamlit run control_room/app.py`).

Read-only towards the warehouse: every query opens its own read-only connection (reader.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from control_room import ui

PAGES_DIR = Path(__file__).resolve().parent / "pages"

# (file in pages/, title, url path): the browser test opens each of them
PAGES = (
    ("funnel.py", "Funnel and health", "funnel"),
    ("segments.py", "Segments", "segments"),
    ("brand.py", "Brand", "brand"),
    ("sync_review.py", "Sync review", "sync-review"),
    ("pipeline.py", "Pipeline", "pipeline"),
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
    banner = st.empty()  # filled after the page ran: a stage may hold the warehouse meanwhile
    st.session_state.pop(ui.BUSY_NOTICE_KEY, None)
    navigation.run()
    if notice := st.session_state.get(ui.BUSY_NOTICE_KEY):
        banner.warning(notice)


main()
