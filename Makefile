# The README's two commands: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := webapp:create_app
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages the platform needs: Pango/HarfBuzz/fonts for WeasyPrint, Chromium for the
# browser tests, valgrind and wrk for the benchmarks.
RUN_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_DEBS := chromium
BENCH_DEBS := valgrind wrk
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coop_test_$(shell id -u)
# pytest-xdist workers: one per core by default (`make test TEST_WORKERS=0` runs in one process).
TEST_WORKERS ?= auto

.PHONY: run test test-postgres test-browser install install-dev system-deps test-system-deps \
        migrate seed translations messages lint bench clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"' \
	  || { echo "Python 3.11+ is needed (Debian: apt-get install python3)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { echo "The venv module is missing: apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed system-deps
install-dev: $(VENV)/.installed-dev system-deps test-system-deps

# Missing Debian packages are installed when we may (root with apt-get), or named otherwise.
define ensure_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing. Install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi
endef

system-deps:
	$(call ensure_debs,$(RUN_DEBS))
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || { \
	  echo "WeasyPrint cannot load Pango: sudo apt-get install $(RUN_DEBS)"; exit 1; }

test-system-deps:
	$(call ensure_debs,$(TEST_DEBS))

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d webapp/translations

migrate: install translations
	$(BIN)/flask db upgrade heads

seed: migrate
	$(BIN)/flask seed-demo

run: seed
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop); background jobs: 2 workers"
	@$(BIN)/flask jobs-worker & worker=$$!; \
	  trap 'kill -INT $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host $(HOST) --port $(PORT) --with-threads

test: install-dev translations
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

test-postgres: install-dev translations
	@$(BIN)/python -c "import psycopg; c = psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=postgres', autocommit=True); \
	  db = '$(PG_TEST_URL)'.rsplit('/', 1)[1]; c.execute(f'DROP DATABASE IF EXISTS {db}'); c.execute(f'CREATE DATABASE {db}')" \
	  || { echo "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not browser"

test-browser: install-dev translations
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m browser

# After changing interface strings: refresh the French catalogue (then fill the new msgstrs;
# tests/webapp/test_translations.py fails on any left empty or fuzzy).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o messages.pot .
	$(BIN)/pybabel update -N -i messages.pot -d webapp/translations
	rm -f messages.pot

# Benchmarks (bench/README.md): not part of `make test`; writes bench/RESULTS.md, raw outputs in bench/out/.
# The test tools are installed too: the deadline rush is the tests/reliability drill, run for its figures.
bench: $(VENV)/.installed-dev system-deps translations
	$(call ensure_debs,$(BENCH_DEBS))
	$(BIN)/python bench/run.py

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-artifacts
