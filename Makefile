# The README's commands. `make run` serves the demo city; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
export FLASK_APP := wsgi

.PHONY: run test serve nginx pgbouncer setup setup-dev vendor translations migrate demo lint check-migrations browser clean bench bench-city lock

# SMS_DEV_PAGE=1: the development SMS provider also shows its codes at /auth/dev-sms.
# PORT: where to serve (make run PORT=8000); the sign-up help names the same address.
PORT ?= 5000
run: setup migrate  ## Set up, migrate, seed the demo when empty, serve on 127.0.0.1:$(PORT) (5000)
	@if $(FLASK) db is-empty; then $(FLASK) demo; fi
	@$(PY) -c 'from community.demo import signup_help; print(signup_help("http://127.0.0.1:$(PORT)"))'
	SMS_DEV_PAGE=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

# pytest on every core (pytest-xdist), with coverage and its floor (pyproject.toml).
# Options: make test PYTEST_ARGS="-n 0 tests/points"
PYTEST_ARGS ?=
test: setup-dev browser pgbouncer lint check-migrations  ## ruff, mypy, import-linter, migration check, pytest
	$(PY) -m pytest -n auto --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

setup: $(VENV)/.stamp-run vendor translations
setup-dev: $(VENV)/.stamp-dev vendor translations

# requirements*.txt are lock files (every package, pinned, with hashes): what CI tested.
$(VENV)/.stamp-run: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.txt
	touch $@ $(VENV)/.stamp-run

# Re-pin after editing requirements.in / requirements-dev.in (needs the package index).
LOCK := $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: $(VENV)/.stamp-dev
	$(LOCK) -o requirements.txt requirements.in
	$(LOCK) -o requirements-dev.txt requirements.in requirements-dev.in

vendor: static/vendor/.stamp
static/vendor/.stamp: package.json package-lock.json scripts/vendor.sh
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	scripts/vendor.sh
	touch $@

translations:
	$(PY) scripts/i18n.py compile

migrate:
	$(FLASK) db upgrade

demo:
	$(FLASK) demo

# Ingestion benchmark (gunicorn on SQLite and PostgreSQL vs raw SQL); not part of `make test`.
# Options: make bench BENCH_ARGS="--backend sqlite --duration 10 --clients 8"
bench: setup
	$(PY) bench/ingest.py $(BENCH_ARGS)

# City-scale dashboards and ratings: generate 1,000 communities, 500,000 households and
# 20 million drops on SQLite and on PostgreSQL (~5 GB each), measure, remove; not in `make test`.
# Options: make bench-city CITY_ARGS="--drops 2000000" DASH_ARGS="--requests 50"
CITY_SQLITE ?= /tmp/bench_city.db
CITY_PG ?= postgresql+psycopg://root@127.0.0.1:5432/bench_city
bench-city: setup
	@for url in $(CITY_SQLITE) $(CITY_PG); do \
	  $(PY) bench/citygen.py --url $$url --fresh $(CITY_ARGS) && \
	  $(PY) bench/dashboard.py --url $$url $(DASH_ARGS); rc=$$?; \
	  $(PY) bench/citygen.py --url $$url --remove; [ $$rc = 0 ] || exit $$rc; \
	done

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Models and migrations must agree: migrate a scratch SQLite database, then autogenerate-compare.
check-migrations:
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	DATABASE_URL=sqlite:///$$tmp/check.db $(FLASK) db upgrade && \
	DATABASE_URL=sqlite:///$$tmp/check.db $(FLASK) db check

# Browser tests need Debian's Chromium and a CJK font; install them when missing and we are root.
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	  else echo "chromium missing: install the Debian packages chromium and fonts-wqy-zenhei"; fi; \
	fi

serve: setup migrate nginx pgbouncer  ## Production-style: nginx → gunicorn workers (→ PgBouncer) + one scheduler (WORKERS, BIND)
	scripts/serve.sh

# nginx (Debian package) in front of gunicorn; installed when missing and we are root.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else echo "nginx missing: install the Debian package nginx"; exit 1; fi; \
	fi

# PgBouncer (Debian package) between the workers and PostgreSQL; installed when missing and
# we are root (tests/test_deploy.py runs it too). scripts/serve.sh runs one with its own
# config and says so if it is still missing.
pgbouncer:
	@if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
	  else echo "pgbouncer missing: install the Debian package pgbouncer"; fi; \
	fi

clean:
	rm -rf $(VENV) node_modules static/vendor
