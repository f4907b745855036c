"""Command-line runner: sequences self-contained stages (ingest, build, enrich, sync)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

# pyproject.toml pins it (constraints.txt is resolved for it): on another version an import deep
# in dbt or dlt fails with a traceback, so the runner says it first
SUPPORTED_PYTHON = (3, 11)


def require_supported_python(
    version: Sequence[int] = tuple(sys.version_info[:3]), executable: str = sys.executable
) -> None:
    if tuple(version[:2]) != SUPPORTED_PYTHON:
        running = ".".join(str(part) for part in version)
        raise SystemExit(
            f"error: outreach needs Python 3.11 (pinned in pyproject.toml), this is Python {running} ({executable}): "
            "recreate the virtualenv with python3.11 (`rm -rf .venv && make demo`, with python3.11 on PATH)"
        )


require_supported_python()
