# `make run` serves the demo with a Celery worker and beat; `make test` runs the suite.
# Both create the virtual environment in .venv on first use and reuse it after.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# Development mode unless the caller says otherwise: the dev secret key is allowed and
# HTTPS is not forced. Production sets DEBUG=0 and its own SECRET_KEY.
export DEBUG ?= 1

.PHONY: run test lint clean bench storm screenshots

# Development defaults for anything run in this checkout (manage.py by hand too);
# the environment still wins. Production has no .env and sets DEBUG=0.
.env:
	@printf '# Local development settings (not committed).\nDEBUG=1\n' > $@

$(INSTALLED): pyproject.toml .env
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,test]"
	@touch $@

# One random password for the demo users, kept so every `make run` prints the same one.
var/demo-password: | $(INSTALLED)
	@mkdir -p var
	@$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))' > $@

run: $(INSTALLED) var/demo-password
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --password "$$(cat var/demo-password)"
	@echo
	@echo "  ITSM: http://$(HOST):$(PORT)/  (readiness: http://$(HOST):$(PORT)/readyz)"
	@echo "  Log in as requester, agent, incident_manager, manager or admin"
	@echo "  with the password: $$(cat var/demo-password)"
	@echo "  Ctrl-C stops the web server, the Celery worker and beat."
	@echo
	@# Links in emails point at the address served here, unless SITE_URL says otherwise.
	@PATH="$(abspath $(BIN)):$$PATH" HOST=$(HOST) WEB_PORT=$(PORT) \
		SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" \
		exec $(BIN)/honcho --procfile Procfile.dev start

test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Alert intake throughput and latency on PostgreSQL, Redis and gunicorn, then the SLA
# sweep over 10k and 1M incidents on PostgreSQL, the agent console, the knowledge base,
# the dashboards, the status page and the problems at 1M incidents; see
# benchmarks/README.md.
bench: $(INSTALLED)
	$(BIN)/python benchmarks/alerts.py
	$(BIN)/python benchmarks/sla_sweep.py
	$(BIN)/python benchmarks/console.py --peer
	$(BIN)/python benchmarks/kb.py
	$(BIN)/python benchmarks/dashboards.py
	$(BIN)/python benchmarks/status.py
	$(BIN)/python benchmarks/problems.py
	$(BIN)/python benchmarks/reviews.py

# 20,000 mixed alert posts at concurrency 32 against gunicorn, then the invariants
# (one incident per key, one occurrence per alert, no 5xx); see benchmarks/README.md.
storm: $(INSTALLED)
	$(BIN)/python benchmarks/storm.py

# Rewrite the README's screenshots from the browser tests.
screenshots: $(INSTALLED)
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser -k screenshots

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
