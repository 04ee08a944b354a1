# Everyday commands. `make build` and `make test` install everything they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PORT ?= 3000
# The Dagster instance `make dev` and `indicators build` record runs in (README, "Running the nightly build").
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install build test bench bench-report report browser lint dev clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,s3]'
	touch $@

build: install          ## build warehouse/indicators.duckdb from raw/
	$(VENV)/bin/indicators build

test: install browser   ## run the test suite (installs headless Chromium for the report's browser tests when missing)
	$(VENV)/bin/pytest -q

bench: install          ## print extraction and build speed and peak memory
	$(PY) -m pipeline.bench

bench-report: install   ## print what the offline report costs a build at 24, 120 and 600 reports
	$(PY) -m pipeline.bench.report

report: install         ## write the offline report of warehouse/indicators.duckdb to warehouse/report/
	$(VENV)/bin/indicators report

lint: install
	$(VENV)/bin/ruff check pipeline tests

# The two processes `dagster dev` (superseded; Dagster now points to `dg dev`) would start: the daemon runs
# the schedule, the sensor and queued runs; the webserver is the UI. Both on the instance at DAGSTER_HOME.
dev: install $(DAGSTER_HOME)/dagster.yaml   ## the Dagster UI and daemon: make dev [PORT=3001]
	export DAGSTER_HOME=$(DAGSTER_HOME); \
	$(VENV)/bin/dagster-daemon run -m pipeline.definitions & daemon=$$!; \
	trap 'kill $$daemon 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/dagster-webserver -m pipeline.definitions -h 127.0.0.1 -p $(PORT)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

clean:
	rm -rf warehouse/indicators.duckdb warehouse/.cache warehouse/.staging warehouse/report warehouse/.report-*

browser:                ## headless Chromium and its driver for the report's browser tests (Debian packages)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-dejavu-core)
