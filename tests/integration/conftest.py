"""The integration tier: commands (`driftline ...`, `dvc ...`), git + DVC in temporary
repositories, the pipeline, S3 on a loopback moto server, faults and fuzz."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

import weather
from helpers import ENV, built_in, copy_of, copy_repo, recode, run


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(pytest.mark.integration)


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


# The session repositories, each built once from the one before, and once per run: with
# pytest-xdist (`make test` runs two workers), the first worker that needs one builds it under
# a lock in the run's shared temp folder, and the others wait for it and read it. `.ci/run`
# names one folder for `make test`, `make rehearse` and its own-data pass beside them
# (TESTS_SHARED_DIR), so the weather project (and `recoded`, the serial build both backfill
# tests compare with) is built once for the three. A test that changes one works on its own
# copy: `copy_of(reproduced, tmp_path / "repo")`.


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``name``/driftline, made by ``build`` the first time any worker of this run asks."""
    given = os.environ.get("TESTS_SHARED_DIR")
    if not given and not os.environ.get("PYTEST_XDIST_WORKER"):
        target = tmp_path_factory.mktemp(name) / "driftline"
        build(target)
        return target
    # The folder the runs side by side share, or the workers' common parent.
    shared = Path(given) if given else tmp_path_factory.getbasetemp().parent / "shared"
    return built_in(shared, name, build)


@pytest.fixture(scope="session")
def committed(tmp_path_factory) -> Path:
    """The repository as committed, in a new git repo: metrics, plots and the report in git,
    no data and no DVC cache (like a CI checkout)."""
    return built_once(tmp_path_factory, "committed", copy_repo)


@pytest.fixture(scope="session")
def materialized(committed, tmp_path_factory) -> Path:
    """`committed` with the demo batches in data/raw and DVC's cache (`driftline demo
    materialize`), nothing reproduced: a fresh clone after `make data`."""

    def build(repo: Path) -> None:
        copy_of(committed, repo)
        run(repo, "driftline", "demo", "materialize")

    return built_once(tmp_path_factory, "materialized", build)


@pytest.fixture(scope="session")
def reproduced(materialized, tmp_path_factory) -> Path:
    """`materialized` where `dvc repro` ran every stage, the git-tracked outputs (metrics,
    plots, report) removed first, so that every stage must write them again."""

    def build(repo: Path) -> None:
        copy_of(materialized, repo)
        for folder in ("metrics", "plots", "reports"):
            shutil.rmtree(repo / folder)
        run(repo, "dvc", "repro")

    return built_once(tmp_path_factory, "reproduced", build)


@pytest.fixture(scope="session")
def weather_project(tmp_path_factory) -> Path:
    """A project of its own on made-up data, whatever this repository holds (tests/weather.py):
    `driftline init` on daily weather, four months ingested, reproduced, committed. Small
    (a few hundred rows a month), and no demo test: it runs in every fork. What `driftline
    init` said is in ``init.log`` beside it."""
    return built_once(tmp_path_factory, "weather", weather.build)


@pytest.fixture(scope="session")
def recoded(weather_project, tmp_path_factory) -> Path:
    """`weather_project` recoded (``recode``) and built serially, with one `dvc repro`: what
    the backfills of the integration tier and of the rehearsal must match, byte for byte.
    What `dvc repro` said is in ``repro.log`` beside it."""

    def build(repo: Path) -> None:
        copy_of(weather_project, repo)
        recode(repo)
        done = run(repo, "dvc", "repro")
        (repo.parent / "repro.log").write_text(done.stdout + done.stderr)

    return built_once(tmp_path_factory, "recoded", build)
