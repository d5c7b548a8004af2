# Every target sets up what it needs (virtualenv, engine) by itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= staging
STAMP := $(VENV)/.installed

.PHONY: test check unit lint setup postgres preview bootstrap plan diff engine engine-check bench clean

# Root installs packages itself; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## test: lint, type check, unit and inventory tests, then the real engine checks.
test: check engine-check

## check: the fast part of `make test` (no engine build).
check: lint unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: $(STAMP) postgres
	$(PY) -m pytest -q -m "not engine"

## postgres: initdb, pg_ctl and psql, for the tests that run the RLS check and the migrations
## on a throwaway cluster (tests/postgres.py): Debian's postgresql package, installed only
## where they are missing.
postgres:
	@if command -v psql >/dev/null && { command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then \
		:; \
	else \
		echo "installing Debian's postgresql package (initdb, pg_ctl and psql for the tests)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	fi

## setup: the virtualenv (venv/) the program, the tools and the tests run in.
setup: $(STAMP)

## preview: the real `pulumi preview` of STACK with your backend and credentials, else its
## offline plan at once; the first line says which and why (engine/make-preview.sh).
preview:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash engine/make-preview.sh $(STACK)

## bootstrap: create STACK on your backend with its own secrets key, and set its secret
## config from BOOTSTRAP_* environment variables (tools/bootstrap.py). Idempotent.
bootstrap: $(STAMP)
	@VENV=$(VENV) SECRETS_PROVIDER='$(SECRETS_PROVIDER)' bash engine/bootstrap.sh $(STACK)

## engine: build the Pulumi CLI, Python language host and actionlint from pinned Go modules.
engine:
	bash engine/build.sh

## engine-check: through the real engine, up → no-change preview → update → destroy of the
## Supabase dynamic provider against a local fake Management API; bad config refused cleanly;
## bootstrap with two secrets keys, saved plans and the deploy guard (pytest -m engine).
engine-check: $(STAMP)
	bash engine/cycle.sh
	bash engine/config-check.sh
	$(PY) -m pytest -q -m engine

## plan: offline desired state of STACK (no credentials, no network).
plan: $(STAMP)
	$(PY) -m tools.plan $(STACK)

## diff: Markdown diff of staging → production, or with BASE=rev of STACK at rev → working tree.
diff: $(STAMP)
	$(PY) -m tools.diff $(if $(BASE),--base $(BASE) $(STACK),staging production)

## bench: offline plan timings: each stack vs a one-resource program, and how they scale.
bench: $(STAMP)
	$(PY) -m tools.bench

clean:
	rm -rf $(VENV) .engine .pulumi-state .pulumi-home build
