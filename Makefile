# The two commands: `make repro` (set up, then run the pipeline on the demo data) and
# `make test`. Everything installs into .venv from the locks, hashes checked:
# requirements.lock (what the pipeline runs with) and requirements-dev.lock (the tools to test
# and lint it), both made by `make lock` from the ranges in pyproject.toml.
# The venv's Python: python3.11, the Python dvc.lock was made with, when it runs;
# otherwise python3 (3.11 to 3.13 are supported). Override: make setup PYTHON=python3.12
PYTHON ?= $(shell python3.11 -c '' >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# uv resolves the locks and installs them. make installs it from PyPI with $(PYTHON)'s pip, at
# this version, into .tools/ (outside the venv, which uv keeps to the locks).
UV_VERSION := 0.13.9
UV_DIR := .tools/uv-$(UV_VERSION)
UV := $(UV_DIR)/bin/uv
BOOTSTRAP_UV = test -x $(UV) || { rm -rf $(UV_DIR) && $(PYTHON) -m pip install --quiet \
	--disable-pip-version-check --target $(UV_DIR) uv==$(UV_VERSION); }
# The locks' cutoff: `make lock` sees only what was uploaded to PyPI before it (uv's
# --exclude-newer; a UTC time, so the same on every machine), so the same pyproject.toml and
# cutoff give the same locks, byte for byte. Move it forward to take newer releases.
LOCK_CUTOFF := 2026-11-19T16:00:00Z
LOCKS := requirements.lock requirements-dev.lock
# One resolution for Python 3.11 to 3.13 on every platform (--universal), one version of each
# package across them where one fits all (--fork-strategy fewest), every file's hash.
COMPILE = $(UV) pip compile --quiet --universal --fork-strategy fewest --python-version 3.11 \
	--generate-hashes --upgrade --exclude-newer $(LOCK_CUTOFF) --custom-compile-command "make lock"

export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1

.DEFAULT_GOAL := help

.PHONY: setup lock data repro test test-fast test-integration lint format rehearse image image-test bench bench-startup bench-ingest bench-daily bench-layout bench-backfill bench-load bench-predict full-year full-year-labels-late policy-replay verdict-replay bench-evidently bench-cbpe

# uv pip sync: the venv gets exactly the locks (a package a lock dropped goes). The project
# itself builds with the setuptools of requirements.lock (no build isolation: nothing unhashed).
# Byte code is compiled here, once: every stage, `driftline` and `dvc` command is a Python
# process, and where nothing writes .pyc files (PYTHONDONTWRITEBYTECODE, a read-only venv)
# each would compile what it imports again, about 3 s of CPU (docs/benchmarks.md).
$(STAMP): $(LOCKS) pyproject.toml
	@echo "Creating $(VENV) with $(PYTHON): Python $$($(PYTHON) -c 'import sys; print(sys.version.split()[0], "at", sys.executable)')"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] == (3, 11))' && echo "  (dvc.lock was made with Python 3.11: see the README for what differs)" || true
	@$(BOOTSTRAP_UV)
	$(PYTHON) -m venv $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $(LOCKS)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

.PHONY: help
## help: list the targets (what `make` alone prints)
help:
	@echo "make <target>   (the venv's Python: $(PYTHON); override with PYTHON=...)"
	@awk '/^## / { sub(/^## /, ""); d = d (d == "" ? "" : "\n") $$0; next } \
	     /^[A-Za-z0-9_.-]+:/ && d != "" { t = $$1; sub(/:.*/, "", t); sub("^" t ": *", "", d); \
	       n = split(d, l, "\n"); for (i = 1; i <= n; i++) printf "  %-16s %s\n", (i == 1 ? t : ""), l[i] } \
	     { d = "" }' $(firstword $(MAKEFILE_LIST))

## setup: .venv from the locks (runtime and dev), every file's hash checked
setup: $(STAMP)

## lock: requirements.lock (runtime) and requirements-dev.lock (pyproject.toml's dev group)
## from pyproject.toml, with the packages on PyPI before LOCK_CUTOFF (the Makefile's)
lock:
	@$(BOOTSTRAP_UV)
	$(COMPILE) pyproject.toml -o requirements.lock
	$(COMPILE) --group pyproject.toml:dev -c requirements.lock -o requirements-dev.lock

## data: write the registered demo batches into data/raw and track them with DVC (in the
## demo project only: a project of its own, after `driftline init`, is left as it is)
data: setup
	driftline demo materialize

## repro: set up, materialize the demo data (demo project only) and run the whole pipeline
repro: data
	dvc repro
	@echo
	@echo "Done. Metrics:  metrics/*.json, one row per file  (dvc metrics show)"
	@echo "      History:  metrics/history.csv"
	@echo "      Plots:    plots/*.png, or 'dvc plots show' for dvc_plots/index.html"
	@echo "      Report:   reports/drift.md; names, reasons and detail in reports/*.json"

## test: tests/unit and tests/integration, the whole suite but the rehearsal (what .ci/run
## runs), on one pytest-xdist worker per core (a module's tests stay on one worker, so its
## fixtures are built once; the slowest modules first: tests/conftest.py), the 15 slowest listed
test: setup
	$(BIN)/python -m pytest -n auto --dist loadscope tests/unit tests/integration --durations=15

## test-fast: tests/unit only (in-process: no command, repository or server)
test-fast: setup
	$(BIN)/python -m pytest tests/unit --durations=5

## test-integration: tests/integration only (commands, repositories, the pipeline, S3, faults)
test-integration: setup
	$(BIN)/python -m pytest -n auto --dist loadscope tests/integration --durations=15

## lint: ruff, and actionlint on the workflows
lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/actionlint

## format: ruff's safe fixes (import order...), then ruff format: it owns the layout
format: setup
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## rehearse: play GitHub events against the workflows locally with act, under GitHub's rules,
## against a local git origin and moto's S3 server on 127.0.0.1 (tests/rehearsal/),
## on two workers: the story from a branch push to a release, and the scenes beside it
rehearse: setup
	$(BIN)/python -m pytest -n 2 --dist loadscope tests/rehearsal --durations=10

# The container image (docs/container.md), built and run with podman here, as root: rootless
# podman does not run on these machines, crun refuses their cgroups (so runc), and their
# default limits cannot be raised (so the --ulimit pair). GitHub builds the same Dockerfile
# with docker buildx (.github/workflows/image.yml). The build's pip step gets the machine's
# CA bundle as a build secret, for a TLS-intercepting proxy; it is never stored in the image.
IMAGE ?= localhost/driftline:dev
PODMAN := podman --runtime runc
PODMAN_LIMITS := --ulimit nofile=20000:20000 --ulimit nproc=32768:32768
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
CA_SECRET = --secret id=ca_bundle,src=$(CA_BUNDLE)
IMAGE_VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE_REVISION = $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_SOURCE = $(shell git remote get-url origin 2>/dev/null || echo unknown)
# The image test's own temp folder (emptied by each run, left for a look afterwards): apart
# from the suite's pytest temp folders, whose clean-up must not meet its root- and
# uid-2000-owned clone.
IMAGE_TEST_TMP ?= /tmp/driftline-image-test

## image: the container image (IMAGE=localhost/driftline:dev) with podman; installs podman
## and builds the local stand-in for the base image when missing (tests/image/base.sh)
image:
	tests/image/base.sh
	$(PODMAN) build --pull=never $(PODMAN_LIMITS) \
		$(if $(wildcard $(CA_BUNDLE)),$(CA_SECRET)) \
		--build-arg VERSION=$(IMAGE_VERSION) --build-arg REVISION=$(IMAGE_REVISION) \
		--build-arg SOURCE=$(IMAGE_SOURCE) --tag $(IMAGE) .

## image-test: build the image, then test it for real (tests/image/): non-root, nothing
## leaked, `dvc repro` in it gives the committed lock, predict as on the host
image-test: setup image
	IMAGE=$(IMAGE) $(BIN)/python -m pytest tests/image -v --durations=0 -p no:cacheprovider \
		--basetemp=$(IMAGE_TEST_TMP)

## bench: full and no-op `dvc repro` on the demo months (figures in docs/benchmarks.md)
bench: setup
	$(BIN)/python bench/bench_repro.py

## bench-startup: each stage's import time and heavy libraries; then adding one batch:
## `dvc repro` against the stages' own time
bench-startup: setup
	$(BIN)/python bench/bench_startup.py --add-batch

## bench-ingest: the cost of adding one batch to 6 and to 48 batches
bench-ingest: setup
	$(BIN)/python bench/bench_ingest.py

## bench-daily: adding one daily batch at 10, 365 and 1,000 registered batches, no-op status
## and repro, lock sizes, peak memory (set-up runs the stages in one process; long)
bench-daily: setup
	$(BIN)/python bench/bench_daily.py

## bench-layout: DVC's own bookkeeping at 10, 365 and 1,000 daily batches, per stage layout
## (the root dvc.yaml against 0.1.0's per-month files), with stand-in stage commands; long
bench-layout: setup
	$(BIN)/python bench/bench_layout.py

## bench-backfill: a backfill on k simulated runners (fresh clones sharing one remote) against
## the serial build: time per shard, the critical path, projections for k = 4 and 16 (long)
bench-backfill: setup
	$(BIN)/python bench/bench_backfill.py

## bench-load: 10 million rows in 120 batches, one ingest and one repro, against 12 batches
## of the same size: peak memory follows the batch, not the total (more than 37 minutes)
bench-load: setup
	$(BIN)/python bench/bench_load.py

## full-year: ingest July to December month by month; writes docs/full-year-history.png
full-year: setup
	$(BIN)/python bench/full_year.py

## full-year-labels-late: the same months, each first without labels, its labels a month later
full-year-labels-late: setup
	$(BIN)/python bench/full_year.py --labels-late

## bench-predict: `driftline predict` against a plain whole-frame predict_proba script, on 1M
## and 10M rows: rows/s and peak memory (run `make repro` first: both use its model)
bench-predict: setup
	$(BIN)/python bench/bench_predict.py

## policy-replay: July to December once per retrain policy (never, verdict + gate, monthly);
## writes docs/policy-replay.png (about 55 minutes on a loaded 2-core machine)
policy-replay: setup
	$(BIN)/python bench/policy_replay.py

## verdict-replay: the retrain verdict per policy on a churn dataset with three known change
## points (table in docs/monitoring.md; about 3 minutes)
verdict-replay: setup
	$(BIN)/python bench/verdict_replay.py

## bench-evidently: our drift engine against evidently's DataDriftPreset (own venv; about 18 min)
bench-evidently: setup
	$(BIN)/python bench/bench_evidently.py

## bench-cbpe: our label-free quality estimate against NannyML's CBPE: error, band coverage,
## concept-drift alarm, time and memory (own venv; the demo year's scores cached)
bench-cbpe: setup
	$(BIN)/python bench/bench_cbpe.py
