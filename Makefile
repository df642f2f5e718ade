# Casework: `make run` to use it, `make test` to check it. Needs GNU make and Python 3.11.
#
# The virtual environment lives in .venv; stamp files inside it record that the pinned
# dependencies were installed from the current pyproject.toml, so re-running is quick and a change
# to pyproject.toml reinstalls.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# The DfE's validators pin an old pandas: they get their own environment, used by the tests and by
# `casework returns check` (never imported by the service).
VALIDATORS := .validators
VALIDATORS_STAMP := $(VALIDATORS)/.installed
VALIDATOR_PACKAGES := csc-validator-be-cin==0.1.13 csc-validator-be-903==0.1.17
# The browser tests (tests/browser) drive Debian's Chromium through Playwright: Playwright's own
# browser download is not used. Installed with apt-get when missing (sudo only when not root).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help run test validators chromium lint typecheck pytest-sqlite pytest-postgresql openapi clean clean-db bench

help:
	@echo "make run        install, migrate the embedded database, load demo data once, serve on http://$(HOST):$(PORT)"
	@echo "make test       ruff, mypy (strict), then pytest on SQLite and on PostgreSQL"
	@echo "make validators install the DfE validators in .validators (tests and returns check)"
	@echo "make chromium   install Debian's chromium for the browser tests (apt-get, when missing)"
	@echo "make lint       ruff format --check and ruff check"
	@echo "make typecheck  mypy --strict"
	@echo "make openapi    regenerate openapi/openapi.json"
	@echo "make bench      issue 8's benchmark (SIZE=1x,10x DB=postgresql,sqlite SCENARIOS=p1,p2,p3,p4 REUSE=1)"
	@echo "make clean      remove .venv and caches (keeps the database in var/)"
	@echo "make clean-db   remove the embedded database in var/"

# Python 3.11 exactly (pyproject.toml says >=3.11,<3.12): python3.11 if there is one, else python3
# when that is 3.11.
$(BIN)/python:
	@py=$$(command -v python3.11 || true); \
	if [ -z "$$py" ] || ! "$$py" -c 'import sys' >/dev/null 2>&1; then py=$$(command -v python3 || true); fi; \
	if [ -z "$$py" ] || ! "$$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		echo "Casework needs Python 3.11 (python3.11, or python3 being 3.11); none found." >&2; \
		exit 1; \
	fi; \
	echo "Creating $(VENV) with $$("$$py" --version) ($$py)"; \
	"$$py" -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/casework db upgrade
	$(BIN)/casework demo-data --if-empty
	$(BIN)/casework serve --host $(HOST) --port $(PORT)

$(VALIDATORS_STAMP): Makefile | $(BIN)/python
	@echo "Installing the DfE validators in $(VALIDATORS): $(VALIDATOR_PACKAGES)"
	$(BIN)/python -m venv --clear $(VALIDATORS)
	$(VALIDATORS)/bin/python -m pip install --quiet --disable-pip-version-check $(VALIDATOR_PACKAGES)
	@touch $@

validators: $(VALIDATORS_STAMP)

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (tests/browser)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

chromium: $(CHROMIUM)

# The benchmark (bench/run.py, bench/README.md): never part of `make test` (a smoke version of it
# is, tests/test_bench_smoke.py). Loads the council-scale demo into databases of its own and keeps
# them: REUSE=1 measures again without loading. The load generator is Debian's wrk (C, light on
# the two cores it shares with the server), installed with apt-get when missing.
WRK := /usr/bin/wrk
SIZE ?= 1x
DB ?= postgresql
SCENARIOS ?= p1,p2,p3,p4
REUSE ?=
WORKERS ?= 2
DURATION ?= 30
BENCH_ARGS ?=

$(WRK):
	@echo "Installing Debian's wrk for the benchmark's load generator"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk

bench: $(DEV_STAMP) $(WRK)
	$(BIN)/python bench/run.py --sizes $(SIZE) --backends $(DB) --scenarios $(SCENARIOS) \
		--workers $(WORKERS) --duration $(DURATION) $(if $(REUSE),--reuse) $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	# Static security analysis: no finding of medium severity or above in the product's code.
	$(BIN)/bandit -r app -q --severity-level medium

typecheck: $(DEV_STAMP)
	$(BIN)/mypy app tests

# Each pass says which database it runs on. pytest's own exit code is kept (5, "no tests
# collected", fails the build like any other failure).
pytest-sqlite: $(DEV_STAMP) $(VALIDATORS_STAMP) $(CHROMIUM)
	@echo
	@echo "================ pytest on SQLite (embedded) ================"
	CASEWORK_TEST_BACKEND=sqlite $(BIN)/pytest $(PYTEST_ARGS)

pytest-postgresql: $(DEV_STAMP) $(VALIDATORS_STAMP) $(CHROMIUM)
	@echo
	@echo "================ pytest on PostgreSQL ================"
	CASEWORK_TEST_BACKEND=postgresql $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck
	@$(MAKE) --no-print-directory pytest-sqlite
	@$(MAKE) --no-print-directory pytest-postgresql

openapi: $(RUN_STAMP)
	$(BIN)/casework openapi --out openapi/openapi.json

clean:
	rm -rf $(VENV) $(VALIDATORS) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +

clean-db:
	rm -rf var
