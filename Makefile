# The two commands: `make run` (install + serve on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-any-date install install-test services lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Migrate, load every BPMN definition and serve on BIZPORTAL_HOST:BIZPORTAL_PORT (default 127.0.0.1:8000),
## with SQLite and a local object store under ./var and jobs in-process.
run: install
	$(BIN)/bizportal serve

## PostgreSQL and Redis started if they are down; the S3 server is started by the tests themselves.
services:
	bash .ci/ensure-services

## Lint (ruff), then the suite; the suite also checks the import contracts (import-linter, tests/test_architecture.py)
## and the OpenAPI contract (schemathesis, tests/api/test_openapi_contract.py).
test: install-test services
	$(BIN)/ruff check .
	$(BIN)/pytest -q

## The suite with the wall clock moved years ahead and years back (libfaketime): no test may depend on
## today's date, only on the engine's clock. Long (two whole runs), so not part of `make test`.
test-any-date: install-test services
	@command -v faketime >/dev/null || (apt-get update -qq && apt-get install -y -qq faketime >/dev/null)
	faketime -f "+1600d" $(BIN)/pytest -q -p no:cacheprovider
	faketime -f "-1000d" $(BIN)/pytest -q -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/engine_throughput.py
	$(BIN)/python benchmarks/http_edge.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
