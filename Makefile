# Everyday commands. `make build` and `make test` install everything they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install build test bench lint dev clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

build: install          ## build warehouse/indicators.duckdb from raw/
	$(VENV)/bin/indicators build

test: install           ## run the test suite
	$(VENV)/bin/pytest -q

bench: install          ## print extraction and build speed and peak memory
	$(PY) -m pipeline.bench

lint: install
	$(VENV)/bin/ruff check pipeline tests

dev: install            ## the Dagster UI with the asset graph and the nightly schedule
	$(VENV)/bin/dagster dev -m pipeline.definitions

clean:
	rm -rf warehouse/indicators.duckdb warehouse/.cache warehouse/.staging
