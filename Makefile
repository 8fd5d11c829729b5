# The two commands that matter: `make run` and `make test`. Everything they need is installed
# by scripts/install_deps.sh, which only installs what is missing.
SHELL := /bin/bash
PY := .venv/bin/python
export DATABASE_URL_TEST ?= postgres://root@127.0.0.1:5432/leanvibe_billing

.PHONY: run test deps deps-run services lint format bench migrate clean-test-dbs security

deps-run:
	@scripts/install_deps.sh run

deps:
	@scripts/install_deps.sh dev

# `make run PORT=8001` serves on another port; DATABASE_URL=... uses that server instead of the
# embedded one in .pgdata/.
run: deps-run
	@scripts/run.sh

services:
	@scripts/ensure_services.sh

test: deps services
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} DJANGO_SETTINGS_MODULE=billing_project.settings.test \
	  $(PY) -m pytest -n 2 --dist loadgroup -p no:randomly; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	  [ $$rc -eq 0 ] || exit $$rc
	$(PY) scripts/smoke_embedded.py
	$(MAKE) --no-print-directory lint

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	@# makemigrations --check also checks the migration history: on the test server's database.
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(PY) -m billing_project.localdb ensure
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} DJANGO_SETTINGS_MODULE=billing_project.settings.test $(PY) manage.py makemigrations --check --dry-run >/dev/null
	DJANGO_SETTINGS_MODULE=billing_project.settings.test $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: deps services
	@scripts/bench.sh

clean-test-dbs:
	psql -h 127.0.0.1 -U root -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE '%leanvibe_billing%'" | \
	  while read db; do psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE \"$$db\" WITH (FORCE)"; done

# README "Security": bandit over the apps (findings already explained in the README are in
# bandit-baseline.json; anything new fails), then pip-audit over every pinned package.
APPS := billing_project tax subscriptions ledger usage invoicing payments dunning analytics console
security: deps
	.venv/bin/bandit -q -r $(APPS) -x '*/tests/*,*/testing/*' -b bandit-baseline.json
	.venv/bin/pip-audit -r requirements-dev.txt --progress-spinner off
