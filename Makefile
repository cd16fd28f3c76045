# Two entry points (see README): `make demo` and `make test`. Both create .venv first, with
# the versions locked in constraints.txt (`make lock` refreshes it).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The lock: one file for Python 3.11-3.13 (uv's universal resolution, markers where they
# differ), used by `make install`, CI and tests/packaging; users may pass it to pip with -c.
CONSTRAINTS := constraints.txt
UV_VERSION  := 0.13.9

.PHONY: demo test lint install lock

$(BIN)/gen: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

install: $(BIN)/gen

# Re-resolve every dependency to its newest allowed version for Python 3.11-3.13 (after a
# change of pyproject.toml, or to take upgrades); then `make test` and commit the file.
lock: $(BIN)/gen
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--upgrade --quiet --custom-compile-command "make lock" --output-file $(CONSTRAINTS)

# Build the example specs, migrate the embedded SQLite database, run server + worker.
demo: $(BIN)/gen
	$(BIN)/gen dev specs

lint: $(BIN)/gen
	$(BIN)/gen build specs --check
	$(BIN)/ruff check generator flowgen_runtime generated handlers tests bench setup.py
	$(BIN)/ruff format --check generator flowgen_runtime generated handlers tests bench setup.py
	$(BIN)/mypy generator flowgen_runtime generated handlers

# Everything CI runs: sync check, lint, types, and the whole test suite.
test: lint
	$(BIN)/pytest -q
