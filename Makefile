# Two entry points (see README): `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install conformance

$(BIN)/gen: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/gen

# Build the example specs, migrate the embedded SQLite database, run server + worker.
demo: $(BIN)/gen
	$(BIN)/gen dev specs

lint: $(BIN)/gen
	$(BIN)/gen build specs --check
	$(BIN)/ruff check generator flowgen_runtime generated handlers tests bench
	$(BIN)/ruff format --check generator flowgen_runtime generated handlers tests bench
	$(BIN)/mypy generator flowgen_runtime generated handlers

# Everything CI runs: sync check, lint, types, and the whole test suite.
test: lint
	$(BIN)/pytest -q

# The generative tests with a large budget (random valid specs built, linted, imported and
# migrated; one-mistake specs refused at file:line). CI runs a few examples of each.
conformance: $(BIN)/gen
	FLOWGEN_HYPOTHESIS_PROFILE=conformance $(BIN)/pytest -q tests/generative
