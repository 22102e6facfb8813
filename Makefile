# The README's two commands: `make run` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Local development defaults; every one can be overridden from the environment.
export DEBUG ?= 1

# What the test suite runs against: the machine's MariaDB and Redis (see scripts/services.sh).
TEST_DATABASE_URL ?= mysql://chat:chat@127.0.0.1:3306/chatdb
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test install install-dev services lint format clean

## Install, migrate and serve HTTP and WebSockets with daphne on http://$(HOST):$(PORT)
## (project.serve: daphne's command line, with the project's WebSocket fixes).
run: install
	$(PY) manage.py migrate --noinput
	exec $(PY) -m project.serve -b $(HOST) -p $(PORT) project.asgi:application

## Install with the test tools, make sure MariaDB and Redis are up, run the whole suite.
test: install-dev services
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(PY) -m pytest $(PYTEST_ARGS)

install:
	@scripts/install.sh

install-dev:
	@scripts/install.sh dev

services:
	@scripts/services.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles test-artifacts
