"""Command-line runner: sequences self-contained stages (ingest, build, enrich, sync)."""
