# The README's two commands: `make run` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SERVER ?= daphne

# Local development defaults; every one can be overridden from the environment.
export DEBUG ?= 1

# What the test suite runs against: the machine's MariaDB and Redis (see scripts/services.sh).
TEST_DATABASE_URL ?= mysql://chat:chat@127.0.0.1:3306/chatdb
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test check install install-dev services lint format clean conformance superuser screenshots

## Install, migrate and serve HTTP and WebSockets with daphne on http://$(HOST):$(PORT)
## (server.daphne: daphne's command line, with the project's WebSocket fixes).
## SERVER=uvicorn or SERVER=granian serves with those instead (docs/performance.md says when);
## SERVER=split: nginx on PORT, granian's WSGI interface for the pages, daphne for /ws
## (docs/deploy.md). Every one prints "Serving on http://HOST:PORT/ (Ctrl+C to stop)" last.
run: install
	$(PY) manage.py migrate --noinput
	exec $(PY) -m server $(SERVER) --host $(HOST) --port $(PORT)

## Create an administrator for /admin/ (asks for a username and a password), on the same
## database `make run` uses: the embedded SQLite unless DATABASE_URL is set.
superuser: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createsuperuser $(SUPERUSER_ARGS)

## PNGs of every page (tests/browser/pages.py) at 1280 and 375 px, English and Chinese, into
## docs/screenshots/ (scripts/screenshots.py: a throwaway daphne on the embedded defaults).
screenshots: install-dev chromium
	$(PY) scripts/screenshots.py $(SCREENSHOTS_ARGS)

## Install with the test tools, run the checks (make check), make sure MariaDB, Redis, nginx,
## chromium, redis-sentinel and memcached are there, run the whole suite with coverage: it fails
## below the floor of [tool.coverage.report] in pyproject.toml.
test: install-dev check services nginx chromium sentinel memcached
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

## The checks that need no services, first in `make test` and in .pre-commit-config.yaml:
## ruff's lint, ruff's formatting, and mypy (django-stubs) on the apps ([tool.mypy]).
check: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy

## RFC 6455 conformance: every case of the Autobahn|Testsuite against both echo endpoints on
## daphne (server.daphne) and uvicorn; reports in test-artifacts/conformance/<server>/, exit 1
## when a case FAILED. wstest (Python 2) gets a venv of its own, .venv-conformance/.
## Narrow it with e.g. CONFORMANCE_ARGS="--server daphne --cases 1.* 2.*".
conformance: install
	$(PY) -m conformance $(CONFORMANCE_ARGS)

# The benchmark (docs/performance.md): the seed's stack as the peer, and the project on
# a bench database, MariaDB user and Redis database of its own.
PEER_DIR ?= ../shared/peer_flask
BENCH_DB_NAME ?= chatdb_bench
BENCH_DB_USER ?= chatbench
BENCH_DB_PASSWORD ?= chatbench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/4

.PHONY: bench
## Measure the project beside the peer: make bench [BENCH_ARGS="--quick --only session,echo"].
bench: install-dev
	@DB_NAME=$(BENCH_DB_NAME) DB_USER=$(BENCH_DB_USER) DB_PASSWORD=$(BENCH_DB_PASSWORD) \
		scripts/services.sh
	@bash $(PEER_DIR)/setup.sh >&2
	@$(PY) -m pip install -q --disable-pip-version-check -r bench/requirements.txt >&2
	$(PY) -m bench --peer-dir $(PEER_DIR) --redis-url $(BENCH_REDIS_URL) \
		--database-url mysql://$(BENCH_DB_USER):$(BENCH_DB_PASSWORD)@127.0.0.1:3306/$(BENCH_DB_NAME) \
		$(BENCH_ARGS)

install:
	@scripts/install.sh

install-dev:
	@scripts/install.sh dev

services:
	@scripts/services.sh

# Debian packages some tests need, installed when absent (scripts/ensure-NAME.sh; none is left
# running): nginx for the deployment test (tests/deploy), chromium for the browser tests
# (tests/browser), redis-sentinel for the failover test (tests/ha), memcached for the
# SESSION_BACKEND=memcached tests. Each test starts its own instances.
TEST_TOOLS := nginx chromium sentinel memcached
.PHONY: $(TEST_TOOLS)
$(TEST_TOOLS):
	@scripts/ensure-$@.sh

lint: check

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .venv-conformance .pytest_cache .ruff_cache staticfiles test-artifacts
