from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

import helpers
from driftline.core.config import load_contract, load_params
from helpers import ENV, copy_of, copy_repo, foreign, run

ROOT = Path(__file__).resolve().parents[1]

# DVC in tests (also for the in-process calls): no analytics.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

# The tiers (tests/README.md). `rehearsal` is marked in its module. A test is `integration`
# when it is marked `e2e` or `integration`, uses one of these fixtures (directly or through
# another fixture: they hold a git + DVC repository or a server), or lives in one of these
# modules (commands, repositories, processes, the model trained on the demo months). Every
# other test is `unit`: in-process, and helpers.run and copy_repo refuse to run in it.
INTEGRATION_MODULES = {
    "test_check_history",
    "test_demo",
    "test_failpoint",
    "test_faults",
    "test_fuzz",
    "test_ingest",
    "test_model",
    "test_pipeline_e2e",
    "test_s3_remote",
}
INTEGRATION_FIXTURES = {"committed", "materialized", "reproduced", "s3_endpoint"}
# What tests the demo rather than the machinery: the repository's own params, contract and
# demo data, and the session repositories built from them. After `driftline init` these
# tests skip; the machinery tests (their own small data) still run.
DEMO_FIXTURES = {"params", "contract", "demo_months", "committed", "materialized", "reproduced"}
IS_DEMO = "demo" in (yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")) or {})
NOT_THE_DEMO = (
    "a demo test: params.yaml has no 'demo' block, so this project holds its own data "
    "(driftline init removed the demo); the machinery tests still run"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("demo") or DEMO_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.demo)
            if not IS_DEMO:
                item.add_marker(pytest.mark.skip(reason=NOT_THE_DEMO))
        if item.get_closest_marker("rehearsal") or item.get_closest_marker("unit"):
            continue
        if (
            item.get_closest_marker("e2e")
            or item.get_closest_marker("integration")
            or item.module.__name__ in INTEGRATION_MODULES
            or INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _test_environment(request, monkeypatch):
    """In-process code sees what subprocesses see (helpers.ENV): none of the caller's CI, DVC,
    AWS, git or driftline variables. A unit test may run no command (helpers.run)."""
    for name in list(os.environ):
        if foreign(name):
            monkeypatch.delenv(name)
    for name, value in ENV.items():
        if foreign(name):
            monkeypatch.setenv(name, value)
    if request.node.get_closest_marker("unit"):
        monkeypatch.setattr(helpers, "IN_UNIT_TEST", True)


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


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1, started and stopped (by PID) by this fixture."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = shutil.which("moto_server", path=ENV["PATH"])
    assert server, "moto_server is missing: it installs from requirements-dev.lock"
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# The three session repositories, each built once from the one before. A test that changes
# one works on its own copy: `copy_of(reproduced, tmp_path / "repo")`.


@pytest.fixture(scope="session")
def committed(tmp_path_factory) -> Path:
    """The repository as committed, in a new git repo: metrics, plots and the report in git,
    no data and no DVC cache (like a CI checkout)."""
    return copy_repo(tmp_path_factory.mktemp("committed") / "driftline")


@pytest.fixture(scope="session")
def materialized(committed, tmp_path_factory) -> Path:
    """`committed` with the demo batches in data/raw and DVC's cache (`driftline demo
    materialize`), nothing reproduced: a fresh clone after `make data`."""
    repo = copy_of(committed, tmp_path_factory.mktemp("materialized") / "driftline")
    run(repo, "driftline", "demo", "materialize")
    return repo


@pytest.fixture(scope="session")
def reproduced(materialized, tmp_path_factory) -> Path:
    """`materialized` where `dvc repro` ran every stage, the git-tracked outputs (metrics,
    plots, report) removed first, so that every stage must write them again."""
    repo = copy_of(materialized, tmp_path_factory.mktemp("reproduced") / "driftline")
    for folder in ("metrics", "plots", "reports"):
        shutil.rmtree(repo / folder)
    run(repo, "dvc", "repro")
    return repo
