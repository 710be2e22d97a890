# Every target sets itself up on a bare machine (python3 + npm) and skips set-up when done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
ANVIL := node_modules/.bin/anvil
PYTEST_WORKERS ?= 2

.PHONY: setup demo test bench fuzz lint clean

setup: $(PY_STAMP) $(ANVIL)

$(PY_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(ANVIL): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(VENV)/bin/nektar demo

test: setup
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup

bench: setup
	$(PY) bench/run.py

fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not anvil" -k "invariant or fuzz or stateful" --timeout 0

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis
