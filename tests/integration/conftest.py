"""The integration tier: commands (`driftline ...`, `dvc ...`), git + DVC in temporary
repositories, the pipeline, S3 on a loopback moto server, faults and fuzz."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import ENV, copy_of, copy_repo, run


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1, started and stopped (by PID) by this fixture."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = shutil.which("moto_server", path=ENV["PATH"])
    assert server, "moto_server is missing: it installs from requirements.lock"
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
