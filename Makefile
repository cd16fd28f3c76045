# Two entry points (see README): `make demo` and `make test`. Both create .venv first, with
# the versions locked in constraints.txt (`make lock` refreshes it). CI (.ci/run) also runs
# test-newest, test-pythons and test-packaging.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The lock: one file for Python 3.11-3.13 (uv's universal resolution, markers where they
# differ), used by `make install`, CI and tests/packaging; users may pass it to pip with -c.
CONSTRAINTS := constraints.txt
UV_VERSION  := 0.13.9

# The fast, meaningful subset run on the newest (and lowest) versions pyproject.toml allows:
# the golden generator cases (output bytes depend on ruff/SQLAlchemy/Alembic/graphql-core),
# the runtime's tests and the end-to-end tests of a new user's path.
FAST_TESTS := tests/generator/test_golden.py tests/runtime tests/e2e/test_crud_http.py tests/e2e/test_readme.py
# Other interpreters for test-pythons (those present; CI=true requires them).
OTHER_PYTHONS ?= 3.12 3.13

.PHONY: demo test lint install lock test-newest test-lowest test-pythons test-packaging evolution conformance

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
	$(BIN)/ruff check generator flowgen_runtime generated handlers extensions tests bench tools setup.py
	$(BIN)/ruff format --check generator flowgen_runtime generated handlers extensions tests bench tools setup.py
	$(BIN)/mypy generator flowgen_runtime generated handlers extensions

# Everything CI runs on the locked versions: sync check, lint, types, the whole test suite
# (but the packaging test: test-packaging).
test: lint
	$(BIN)/pytest -q -m "not packaging"

# The newest versions pyproject.toml allows, in a venv of their own: catches the next
# dependency release that changes behaviour before a user meets it. Failing here means:
# fix the code or cap the bound, then `make lock`.
test-newest:
	rm -rf .venv-newest
	$(PYTHON) -m venv .venv-newest
	.venv-newest/bin/python -m pip install --quiet --upgrade pip
	.venv-newest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	@echo "newest versions that differ from $(CONSTRAINTS):"
	@comm -13 <(grep -E '^[A-Za-z0-9]' $(CONSTRAINTS) | sed 's/ *;.*//' | tr 'A-Z_' 'a-z-' | sort) \
		<(.venv-newest/bin/python -m pip list --format=freeze | grep -viE '^(flowgen|pip|setuptools)=' | tr 'A-Z_' 'a-z-' | sort) | sed 's/^/  /'
	.venv-newest/bin/python -m pytest -q -p no:cacheprovider $(FAST_TESTS)

# The lowest versions pyproject.toml allows (uv's lowest-direct resolution) on the fast
# subset: keeps the lower bounds true. Not in CI (time); run it when changing a bound.
test-lowest: $(BIN)/gen
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--resolution lowest-direct --quiet --no-header --output-file .venv-lowest.txt
	rm -rf .venv-lowest
	$(BIN)/uv venv --quiet --python $(PYTHON) .venv-lowest
	VIRTUAL_ENV=.venv-lowest $(BIN)/uv pip sync --quiet .venv-lowest.txt
	VIRTUAL_ENV=.venv-lowest $(BIN)/uv pip install --quiet --no-deps -e .
	.venv-lowest/bin/python -m pytest -q -p no:cacheprovider $(FAST_TESTS)

# The generator and runtime tests on each other interpreter, with the locked versions (the
# packaging test runs the rest of a user's path there).
test-pythons: $(BIN)/gen
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)  # installs in seconds, pip in a minute
	$(BIN)/python tests/packaging/pythons.py --require-under-ci $(OTHER_PYTHONS) | while read -r version python; do \
		echo "== Python $$version ($$python)"; \
		$(BIN)/uv venv --quiet --allow-existing --python "$$python" .venv-$$version || exit 1; \
		VIRTUAL_ENV=.venv-$$version $(BIN)/uv pip install --quiet -c $(CONSTRAINTS) -e '.[dev]' || exit 1; \
		.venv-$$version/bin/python -m pytest -q -p no:cacheprovider tests/generator tests/runtime || exit 1; \
	done

# Build the sdist and the wheel, install the wheel outside the repository on each Python
# present, and there build, migrate and serve a copy of specs/ (tests/packaging).
test-packaging: $(BIN)/gen
	$(BIN)/pytest -q -p no:cacheprovider -m packaging tests/packaging

# The generative evolution test with a larger budget than CI's (random specs, edits, rows).
evolution: $(BIN)/gen
	EVOLUTION_EXAMPLES=$${EVOLUTION_EXAMPLES:-25} EVOLUTION_STEPS=$${EVOLUTION_STEPS:-12} \
		$(BIN)/pytest -q tests/generative/test_evolution.py

# The generative conformance tests with a large budget (random valid specs built, linted,
# imported and migrated; one-mistake specs refused at file:line). CI runs a few of each.
conformance: $(BIN)/gen
	FLOWGEN_HYPOTHESIS_PROFILE=conformance $(BIN)/pytest -q tests/generative --ignore=tests/generative/test_evolution.py
