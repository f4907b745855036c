"""(Run by scripts/benchmark.py in its own process.) Every control room page run headless
(Streamlit's AppTest, the same as tests/python/control_room/test_pages.py) on the warehouse of
OUTREACH_DUCKDB_PATH; prints one JSON line: the warm-up (imports, first run) and each page's
seconds, with the page's exception when it raised one.
"""

from __future__ import annotations

import ast
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = REPO_DIR / "control_room" / "app.py"
TIMEOUT_SECONDS = 600  # a page over 2 s misses its target; AppTest must not cut it short first


def control_room_pages() -> list[tuple[str, str]]:
    """(file in views/, title) of each page, from the app's own PAGES (importing app.py would run it)."""
    for node in ast.parse(APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(name, "id", "") == "PAGES" for name in node.targets):
            return [(file_name, title) for file_name, title, _url_path in ast.literal_eval(node.value)]
    raise SystemExit(f"no PAGES in {APP}")


def time_pages() -> dict[str, Any]:
    started = time.perf_counter()
    AppTest.from_file(str(APP), default_timeout=TIMEOUT_SECONDS).run()  # imports, caches: not a page's cost
    warm_up = time.perf_counter() - started
    pages = []
    for index, (file_name, title) in enumerate(control_room_pages()):
        app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_SECONDS)
        if index:  # every run starts on the default page: only the switch to this one is timed
            app.run()
            started = time.perf_counter()
            app.switch_page(f"views/{file_name}").run()
        else:
            started = time.perf_counter()
            app.run()
        seconds = time.perf_counter() - started
        errors = [str(exception.value) for exception in app.exception]
        pages.append({"title": title, "seconds": seconds, "error": "; ".join(errors) or None})
    return {"warm_up_seconds": warm_up, "pages": pages}


def main() -> int:
    timed = time_pages()
    print(json.dumps(timed), flush=True)
    return 1 if any(page["error"] for page in timed["pages"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
