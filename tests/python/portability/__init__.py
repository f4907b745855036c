"""Portability tests: the dbt project built on a local Snowflake emulator (fakesnow) vs DuckDB."""
