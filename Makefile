# The two commands: `make run` (install + serve on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-any-date install install-test services lint typecheck bench load load-postgres prod-local chaos clean FORCE

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The editable install is strict: a tree of links under build/ that mypy and editors can follow (setuptools'
# default import hook is invisible to them). Editing a file needs no reinstall, the link points at it; adding,
# removing or renaming one does. So the stamp holds the sorted list of package files and is rewritten only when
# that list differs: make compares its time again after the recipe, and reinstalls only when the tree changed.
PACKAGE_DIRS := engine api adapters storage bpmn
EDITABLE     := --config-settings editable_mode=strict
$(VENV)/.package-files: FORCE | $(BIN)/python
	@find $(PACKAGE_DIRS) -type f ! -path '*/__pycache__/*' ! -name '*.py[co]' | LC_ALL=C sort > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

FORCE:

# Reinstall when the dependency list or the tree of package files changes.
$(VENV)/.installed: pyproject.toml $(VENV)/.package-files | $(BIN)/python
	$(BIN)/pip install --quiet -e . $(EDITABLE)
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.package-files | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]" $(EDITABLE)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Migrate, load every BPMN definition and serve on BIZPORTAL_HOST:BIZPORTAL_PORT (default 127.0.0.1:8000),
## with SQLite and a local object store under ./var and jobs in-process.
run: install
	$(BIN)/bizportal serve

## The production shape on this machine, without Docker (api/stack): the machine's PostgreSQL (database bizportal_local)
## and Redis (database 5), SeaweedFS, two API processes on port 8000 and two arq workers, one key set under
## var/prod-local; Ctrl-C stops them all.
prod-local: install-test services
	$(BIN)/bizportal prod-local

## The whole fault suite (tests/chaos, marker `chaos`; `make test` runs a bounded part): every fault of
## process_faults.py, held longer, one at a time and combined, 4 users, and the load-held comparison (the report goes
## to benchmarks/results/chaos.json); the payment races 20 rounds (BIZPORTAL_CHAOS_ROUNDS) instead of 5.
chaos: install-test services
	BIZPORTAL_CHAOS=full BIZPORTAL_CHAOS_ROUNDS=20 $(BIN)/pytest -q -s tests/chaos

## PostgreSQL and Redis started if they are down; the S3 server is started by the tests themselves.
services:
	bash .ci/ensure-services

## Lint (ruff), type-check (mypy), then the suite; the suite also checks the import contracts (import-linter,
## tests/test_architecture.py) and the OpenAPI contract (schemathesis, tests/api/test_openapi_contract.py).
## The suite runs on every core (pytest-xdist), a test module per worker: module fixtures (a browser, a server) start
## once, and each worker has its own Redis database (tests/support/helpers.py REDIS_DB).
test: install-test services
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/pytest -q -n auto --dist loadfile

## mypy ([tool.mypy] in pyproject.toml) reads the packages through the strict install's links under build/; it takes
## packages or files in one run, so the tests and benchmarks are a second run (the first one's cache makes it quick).
typecheck: install-test
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks

## The suite with the wall clock moved years ahead and years back (libfaketime): no test may depend on
## today's date, only on the engine's clock. Long (two whole runs), so not part of `make test`. The S3 tests skip
## themselves: an S3 server refuses requests signed more than 15 minutes off its own clock, which faketime leaves alone.
test-any-date: install-test services
	@command -v faketime >/dev/null || (apt-get update -qq && apt-get install -y -qq faketime >/dev/null)
	faketime -f "+1600d" $(BIN)/pytest -q -p no:cacheprovider
	faketime -f "-1000d" $(BIN)/pytest -q -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/documents.py
	$(BIN)/python benchmarks/engine_throughput.py
	$(BIN)/python benchmarks/http_edge.py
	$(BIN)/python benchmarks/uploads.py

## The HTTP journey under load on the embedded default (benchmarks/load_driver.py starts `bizportal serve`):
## 1 then 8 virtual users, 20 s each; PostgreSQL and arq workers: README, Benchmarks.
load: install
	$(BIN)/python benchmarks/load_driver.py --serve

## The production shape on this machine: PostgreSQL (a database of its own, dropped after), Redis (database 3, emptied
## first), one API process and 1, 2 then 4 arq workers, with pgbench's composite step measured first as the yardstick.
LOAD_DB := bizportal_load
load-postgres: install services
	dropdb --if-exists -h 127.0.0.1 -U postgres $(LOAD_DB) && createdb -h 127.0.0.1 -U postgres $(LOAD_DB)
	redis-cli -n 3 flushdb >/dev/null
	$(BIN)/python benchmarks/load_driver.py --serve --database-url postgresql://postgres@127.0.0.1:5432/$(LOAD_DB) \
		--redis-url redis://127.0.0.1:6379/3 --workers 1,2,4 --pgbench $(LOAD_ARGS) --out benchmarks/results/load_postgres.json; \
		status=$$?; dropdb -h 127.0.0.1 -U postgres $(LOAD_DB); exit $$status

clean:
	rm -rf $(VENV) var build .pytest_cache .ruff_cache .mypy_cache
