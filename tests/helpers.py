"""Helpers for tests that drive the real tools: run a command, copy the repository."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from driftline.core.config import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
# The libraries that make a stage's start-up slow (a second or so each, on 2 cores).
HEAVY_LIBRARIES = ("pandas", "pyarrow", "pandera", "scipy", "sklearn", "matplotlib")


def foreign(name: str) -> bool:
    """Whether an environment variable of the caller would change what driftline, DVC, git
    or boto3 do, so the tests must not see it: a CI runner's (``GITHUB_SHA`` and
    ``GITHUB_REPOSITORY`` turn the report's plot paths into links), DVC's, AWS's (credentials,
    profiles, endpoints), driftline's own (failpoints), git's (``GIT_DIR`` from a hook points
    git elsewhere), proxies (moto listens on 127.0.0.1) and forced colours."""
    return (
        name.startswith(("GITHUB_", "RUNNER_", "ACTIONS_", "DVC_", "AWS_", "DRIFTLINE_", "GIT_"))
        or name in ("CI", "FORCE_COLOR", "CLICOLOR_FORCE")
        or name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    )


# The suite keeps both cores busy (two pytest-xdist workers), so the stages' OpenMP threads
# (HistGradientBoosting's, train.threads of them) sleep while they wait instead of spinning
# on the core their partner needs: the demo's training took 41 s of wall and 45 s of CPU
# beside one busy core by default, 26 s and 22 s so, with the same model bytes. On idle cores
# spinning is faster, so only the tests set it (bench/bench_wait_policy.py, which the other
# benchmarks leave out: they run as a user's `dvc repro` does).
SHARED_CORES = {"OMP_WAIT_POLICY": "passive"}

# Subprocesses see the caller's environment without the foreign variables, find this
# environment's dvc, driftline and python first; DVC sends no analytics; the throwaway git
# repos get an identity; OpenMP waits as on shared cores.
ENV = {
    **{name: value for name, value in os.environ.items() if not foreign(name)},
    "GIT_AUTHOR_NAME": "Driftline Test",
    "GIT_AUTHOR_EMAIL": "test@driftline.invalid",
    "GIT_COMMITTER_NAME": "Driftline Test",
    "GIT_COMMITTER_EMAIL": "test@driftline.invalid",
    "DVC_NO_ANALYTICS": "1",
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    **SHARED_CORES,
}


# Dummy credentials for moto's S3 server: nothing real is ever used or needed.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def s3_client(endpoint: str):
    """A boto3 S3 client for moto's server at ``endpoint``, with the dummy credentials."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_ENV["AWS_DEFAULT_REGION"],
    )


# True while a unit test runs (conftest): it may run no command and build no repository.
IN_UNIT_TEST = False
NOT_IN_UNIT_TESTS = "a unit test runs no command and builds no repository: see tests/README.md"


def run(cwd: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run a command as a user would; with ``check``, fail the test with its output."""
    assert not IN_UNIT_TEST, NOT_IN_UNIT_TESTS
    done = subprocess.run(args, cwd=cwd, env={**ENV, **env}, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def copy_repo(target: Path) -> Path:
    """The repository's files (committed or not, never ignored ones) in a new git repo."""
    assert not IN_UNIT_TEST, NOT_IN_UNIT_TESTS
    listed = run(ROOT, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    run(target, "git", "init", "-q", "-b", "main")
    run(target, "git", "add", "-A")
    run(target, "git", "commit", "-qm", "fresh clone")
    return target


def built_in(shared: Path, name: str, build: Callable[[Path], None]) -> Path:
    """``shared``/``name``/driftline, made by ``build`` by the first process that asks; the
    others wait for it under a lock, then read it. A build that failed part-way is made again."""
    shared.mkdir(parents=True, exist_ok=True)
    target, done = shared / name / "driftline", shared / name / "built"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(target.parent, ignore_errors=True)
            target.parent.mkdir()
            build(target)
            done.touch()
    return target


def copy_of(repo: Path, target: Path) -> Path:
    """A copy of a test repository (git, DVC's cache, data, outputs), to change freely.

    DVC's cache here is ``reflink,copy``: the workspace holds copies (or reflinks), never
    links into the cache, so the copy shares nothing with ``repo``. `cp -a` (links kept as
    links) takes a fifth of the CPU time of ``shutil.copytree`` on the weather project's
    800 files (0.05 s against 0.23 s), once for each test that changes a project."""
    assert not target.exists(), f"{target} exists: copy_of makes a new folder"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(repo), str(target)], check=True)
    return target


def stages_run(output: str) -> set[str]:
    """The names of the stages DVC ran, from what `dvc repro` printed."""
    return set(re.findall(r"Running stage '([^']+)'", output))


def recode(repo: Path) -> None:
    """A comment added to a module every stage runs, committed: every stage reruns (the
    backfill's case, docs/backfill.md)."""
    module = repo / "src/driftline/core/paths.py"
    module.write_text(module.read_text() + "# Every path the stages read or write.\n")
    run(repo, "git", "commit", "-qam", "A comment in stage code: every stage reruns")


# The committed locks were made with Python 3.11 and are promised byte for byte there only:
# models/meta.json records the Python version (README, "Byte for byte, with Python 3.11").
SAME_PYTHON_AS_THE_LOCKS = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11),
    reason="compares with the committed locks, which are byte for byte on Python 3.11 only",
)


def pipeline_stages(root: Path = ROOT) -> dict[str, dict]:
    """Every stage definition of dvc.yaml by name (a group stage's body is under ``do``)."""
    return parse_yaml((root / "dvc.yaml").read_text())["stages"]


REGISTRY = "data/batches.yaml"


def registered(repo: Path) -> list[str]:
    """The batch names a project's registry lists, oldest first, as the file holds them."""
    return parse_yaml((repo / REGISTRY).read_text())["batches"] or []


def unregister_all(repo: Path) -> None:
    """A project with no batch: its registry emptied, its raw folders and their .dvc gone."""
    (repo / REGISTRY).write_text("groups: []\nbatches: []\n")
    for record in (repo / "data/raw").glob("*.dvc"):
        shutil.rmtree(record.with_suffix(""), ignore_errors=True)
        record.unlink()


def stage_code(root: Path = ROOT) -> dict[str, tuple[str, list[Path]]]:
    """Each stage's module (its command is ``python -m MODULE ...``) and its deps under src/."""
    found = {}
    for name, stage in pipeline_stages(root).items():
        body = stage.get("do", stage)
        words = body["cmd"].split()
        assert words[:2] == ["python", "-m"], f"{name}: its command does not run a module"
        found[name] = (words[2], [root / dep for dep in body["deps"] if dep.startswith("src/")])
    return found


def group_stages(groups: list[str], kinds=("prepare", "score")) -> set[str]:
    """The names of the group stages of ``groups``: ``prepare@2013-01``, ..."""
    from driftline.tooling.backfill import address

    return {address(k, g) for g in groups for k in kinds}


def compare_frame(rows: int, seed: int, shift: float = 0.0, weights=(0.5, 0.3, 0.2)):
    """A small frame for `driftline compare`: ``load`` drifts with ``shift``, ``steady`` never,
    ``carrier`` with ``weights``; a numeric flag and a label beside them."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "load": rng.normal(10 + shift, 2, rows),
            "steady": rng.normal(0, 1, rows),
            "carrier": rng.choice(["AA", "B6", "UA"], rows, p=weights),
            "flag": rng.integers(0, 2, rows),
            "label": rng.random(rows) < 0.2 + shift / 5,
        }
    )
