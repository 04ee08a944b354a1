# Everyday commands. `make build` and `make test` install everything they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install build test bench bench-report report browser lint dev clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

build: install          ## build warehouse/indicators.duckdb from raw/
	$(VENV)/bin/indicators build

test: install           ## run the test suite (the report's browser tests need `make browser` once)
	$(VENV)/bin/pytest -q

bench: install          ## print extraction and build speed and peak memory
	$(PY) -m pipeline.bench

bench-report: install   ## print how long the offline report takes (sample warehouse, 100 reports)
	$(PY) -m pipeline.bench_report

report: install         ## write the offline report of warehouse/indicators.duckdb to warehouse/report/
	$(VENV)/bin/indicators report

lint: install
	$(VENV)/bin/ruff check pipeline tests

dev: install            ## the Dagster UI with the asset graph and the nightly schedule
	$(VENV)/bin/dagster dev -m pipeline.definitions

clean:
	rm -rf warehouse/indicators.duckdb warehouse/.cache warehouse/.staging warehouse/report warehouse/.report-*

browser:                ## headless Chromium and its driver for the report's browser tests (Debian packages)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-dejavu-core)
