# The two commands: `make repro` (set up, then run the pipeline on the demo data) and
# `make test`. Everything installs from requirements.lock into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: setup data repro test test-fast lint rehearse bench bench-ingest bench-load full-year bench-evidently

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## setup: a pinned environment in .venv
setup: $(STAMP)

## data: write the registered demo batches into data/raw and track them with DVC
data: setup
	driftline demo materialize

## repro: set up, materialize the demo data and run the whole pipeline
repro: data
	dvc repro
	@echo
	@echo "Done. Metrics:  metrics/train.json, metrics/evaluate.json, metrics/drift.json  (dvc metrics show)"
	@echo "      History:  metrics/history.csv"
	@echo "      Plots:    plots/*.png, or 'dvc plots show' for dvc_plots/index.html"
	@echo "      Report:   reports/drift.md"

## test: the whole test suite but the rehearsal (what .ci/run runs), the 15 slowest listed
test: setup
	$(BIN)/python -m pytest --durations=15

## test-fast: the unit tests only (in-process: no command, repository or server; about 10 s)
test-fast: setup
	$(BIN)/python -m pytest -m unit --durations=5

## lint: ruff, and actionlint on the workflows
lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/actionlint

## rehearse: run the GitHub Actions workflows locally with act, against a local git origin
## and moto's S3 server on 127.0.0.1 (tests/test_rehearsal.py; a few minutes)
rehearse: setup
	$(BIN)/python -m pytest -m rehearsal tests/test_rehearsal.py

## bench: full and no-op `dvc repro` on the demo months (figures in README)
bench: setup
	$(BIN)/python bench/bench_repro.py

## bench-ingest: the cost of adding one batch to 6 and to 48 batches (about 15 minutes)
bench-ingest: setup
	$(BIN)/python bench/bench_ingest.py

## bench-load: 10 million rows in 120 batches, one ingest and one repro, against 12 batches
## of the same size: peak memory follows the batch, not the total (about an hour)
bench-load: setup
	$(BIN)/python bench/bench_load.py

## full-year: ingest July to December month by month; writes docs/full-year-history.png
full-year: setup
	$(BIN)/python bench/full_year.py

## bench-evidently: our drift engine against evidently's DataDriftPreset (own venv; ~18 min)
bench-evidently: setup
	$(BIN)/python bench/bench_evidently.py
