# Two commands for a newcomer: `make run` and `make test`. Each installs what is missing.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help run test lint format bench clean
# A bare `make` lists the targets instead of doing something.
.DEFAULT_GOAL := help

help: ## list the targets and what each does
	@awk -F':.*## ' '/^[a-z]+:.*## / { printf "  make %-7s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# uv itself, pinned, in a private virtualenv: nothing is installed system-wide.
$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The project and its locked dependencies (uv.lock), re-synced whenever either file changes.
# Compiled to bytecode once here: where PYTHONDONTWRITEBYTECODE is set, every process would
# otherwise compile every module it imports, each time (seconds per `tifli` command).
# The zone measurement's compiled loops too (numba caches them beside the code): otherwise the
# first processes to draw a zone, tests and services started together, each compile them.
$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	$(VENV)/bin/python -c "from alert_engine.footprint import load_compiled; load_compiled()"
	rm -f $(VENV)/.synced-* && touch $@

run: $(SYNCED) ## the embedded mode: every service in one process, SQLite, in-process bus
	$(VENV)/bin/tifli run all

# Coverage includes the tifli processes the tests start (see [tool.coverage] in pyproject.toml).
# The suite runs in TEST_PROCESSES processes side by side (pytest-xdist), a test file to each
# at a time (its module fixtures are made once): most of its time is spent waiting on servers
# (timeouts, expiries, restarts), not computing. Each process starts its own Kafka broker and
# PostgreSQL; what they need is installed first, once, so that no two processes install at once.
TEST_PROCESSES ?= 2

test: $(SYNCED) ## the whole suite, then its coverage; starts Kafka and PostgreSQL itself unless told where they run
	@[ -n "$$KAFKA_BOOTSTRAP_SERVERS" ] || deploy/kafka/kafka.sh fetch
	@[ -n "$$TIFLI_TEST_DATABASE_URL" ] || deploy/postgres/postgres.sh install
	@deploy/browser/chromium.sh install > /dev/null
	$(VENV)/bin/pytest --cov --cov-report= -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)
	@echo "coverage: $$($(VENV)/bin/coverage report --format=total)% of the lines of the five packages"

lint: $(SYNCED) ## ruff check, ruff format --check, mypy (strict)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(SYNCED) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(SYNCED) ## the benchmarks the README lists, each beside its baseline
	$(VENV)/bin/python -m bench.end_to_end --mode embedded --cases 300
	$(VENV)/bin/python -m bench.end_to_end --mode production --cases 500
	$(VENV)/bin/python -m bench.burst --approvals 500 --within-s 10 --partners 10
	$(VENV)/bin/python -m bench.relay_hop --events 200 --bursts 10
	$(VENV)/bin/python -m bench.timers --alerts 10000
	$(VENV)/bin/python -m bench.cost_growth --cases 15
	$(VENV)/bin/python -m bench.intake_throughput --requests 1000
	$(VENV)/bin/python -m bench.zones
	$(VENV)/bin/python -m bench.zone_stages
	$(VENV)/bin/python -m bench.housekeeping --rows 100000
	$(VENV)/bin/python -m bench.fanout --alerts 5
	$(VENV)/bin/python -m bench.partner_recovery --outage-s 60
	$(VENV)/bin/python -m bench.cli_startup --runs 10
	$(VENV)/bin/python -m bench.retention --cases 10000
	$(VENV)/bin/python -m bench.cap_signing --documents 500
	$(VENV)/bin/python -m bench.audit_chain --entries 2000
	$(VENV)/bin/python -m bench.list_deliveries --deliveries 1000
	$(VENV)/bin/python -m bench.console --cases 20
	$(VENV)/bin/python -m bench.maps
	$(VENV)/bin/python -m bench.list_endpoints --rows 1000
	$(VENV)/bin/python -m bench.api_while_drawing --cases 40

clean: ## delete the virtualenvs and caches (the next command reinstalls them)
	rm -rf .venv .uv .pytest_cache .mypy_cache .ruff_cache
