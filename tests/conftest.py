from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path

import pytest

from driftline.core.config import load_contract, load_params, parse_yaml
from helpers import ENV, foreign

ROOT = Path(__file__).resolve().parents[1]

# DVC in tests (also for the in-process calls): no analytics.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

# What tests the demo rather than the machinery: the repository's own params, contract and
# demo data, and the session repositories built from them. After `driftline init` these
# tests skip; the machinery tests (their own small data) still run.
DEMO_FIXTURES = {"params", "contract", "demo_months", "committed", "materialized", "reproduced"}
IS_DEMO = "demo" in (parse_yaml((ROOT / "params.yaml").read_text(encoding="utf-8")) or {})
NOT_THE_DEMO = (
    "a demo test: params.yaml has no 'demo' block, so this project holds its own data "
    "(driftline init removed the demo); the machinery tests still run"
)


# The rehearsal's quick runs of the workflows' test jobs (tests/rehearsal/world.py)
# select a few tests; this collects only the test files they are in (patterns on the file's
# stem, comma-separated), so each run does not import every test module to find them.
REHEARSAL_FILES = os.environ.get("REHEARSAL_TEST_FILES", "")


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if (
        REHEARSAL_FILES
        and collection_path.suffix == ".py"
        and collection_path.stem.startswith("test_")
    ):
        return not any(fnmatch(collection_path.stem, p) for p in REHEARSAL_FILES.split(","))
    return None


# The slowest modules, slowest first (`make test` alone, --durations, 2026-12-07): they run
# first, so that the two workers end together on the many short ones. pytest-xdist hands a
# worker one module at a time (--dist loadscope) in this order (--no-loadscope-reorder, in
# pyproject.toml's addopts: by default it puts the modules with the most tests first, so
# these came last and one worker spent minutes alone on them). A module missing here only
# runs later.
SLOWEST_FIRST = (
    "test_pipeline_e2e",
    "test_labels_later",
    "test_faults",
    "test_backfill",
    "test_group_stages",
    "test_promotion",
    "test_ingest",
    "test_s3_remote",
    "test_own_data",
    "test_retrain",
    "test_amend",
    "test_report",
    "test_predict",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {f"integration/{name}.py": i for i, name in enumerate(SLOWEST_FIRST)}
    # A stable sort: each module's tests keep their order.
    items.sort(key=lambda item: rank.get(f"{item.path.parent.name}/{item.path.name}", len(rank)))
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("demo") or DEMO_FIXTURES & fixtures:
            item.add_marker(pytest.mark.demo)
            if not IS_DEMO:
                item.add_marker(pytest.mark.skip(reason=NOT_THE_DEMO))
        # On made-up data of its own whatever this repository holds: `.ci/run`'s second pass,
        # on a project switched to that same data, leaves these out (-m "not weather").
        if "weather_project" in fixtures:
            item.add_marker(pytest.mark.weather)


@pytest.fixture(autouse=True)
def _test_environment(monkeypatch):
    """In-process code sees what subprocesses see (helpers.ENV): none of the caller's CI, DVC,
    AWS, git or driftline variables."""
    for name in list(os.environ):
        if foreign(name):
            monkeypatch.delenv(name)
    for name, value in ENV.items():
        if foreign(name):
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def params() -> dict:
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def demo_months(params) -> dict:
    from driftline.tooling.demo import load_months

    return load_months(params["demo"]["year"])


@pytest.fixture(scope="session")
def contract() -> dict:
    return load_contract(ROOT / "contract.yaml")
