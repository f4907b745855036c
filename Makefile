# Two commands: `make demo` (whole pipeline on the bundled sample data, DuckDB) and
# `make test` (lint + every test, including the Snowflake-compatible build).
# Both create the virtualenv and profiles.yml when missing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint setup system-packages clean

demo: setup
	$(BIN)/outreach run-all

test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@mkdir -p warehouse  # the dbt templater opens the DuckDB target to compile
	$(BIN)/sqlfluff lint models tests/sql snapshots

setup: $(INSTALLED) profiles.yml system-packages

# Chromium and chromedriver for the control room's browser test: installed (apt) only when missing
system-packages:
	@sh scripts/install_system_packages.sh

# constraints.txt pins every package, dependencies of dependencies included, so a fresh machine
# installs exactly the set CI tested
$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(INSTALLED)

# Benchmark on synthetic data (generated under benchmarks/data/ when missing): figures into
# BENCHMARKS.md. Sizes: smoke, 10k, 100k, 1m.
SIZE ?= 10k
.PHONY: bench
bench: setup
	$(BIN)/python scripts/benchmark.py --size $(SIZE)

# git-ignored: your own copy, created once from the example and never overwritten
profiles.yml:
	cp profiles.yml.example profiles.yml

clean:
	rm -rf warehouse target logs .pytest_cache
