# Two entry points (see README): `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install evolution

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

# The generative evolution test with a larger budget than CI's (random specs, edits, rows).
evolution: $(BIN)/gen
	EVOLUTION_EXAMPLES=$${EVOLUTION_EXAMPLES:-25} EVOLUTION_STEPS=$${EVOLUTION_STEPS:-12} \
		$(BIN)/pytest -q tests/generative
