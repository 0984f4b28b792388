"""Helpers for tests that drive the real tools: run a command, copy the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The top-level pipeline and the per-batch ones.
PIPELINES = ("dvc.yaml", "pipeline/prepare/dvc.yaml", "pipeline/score/dvc.yaml")
# The libraries that make a stage's start-up slow (a second or so each, on 2 cores).
HEAVY_LIBRARIES = ("pandas", "pyarrow", "pandera", "scipy", "sklearn", "matplotlib")
# Subprocesses find this environment's dvc, driftline and python first; DVC sends no
# analytics; the throwaway git repos get an identity.
ENV = {
    "GIT_AUTHOR_NAME": "Driftline Test",
    "GIT_AUTHOR_EMAIL": "test@driftline.invalid",
    "GIT_COMMITTER_NAME": "Driftline Test",
    "GIT_COMMITTER_EMAIL": "test@driftline.invalid",
    **os.environ,
    "DVC_NO_ANALYTICS": "1",
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
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


def run(cwd: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run a command as a user would; with ``check``, fail the test with its output."""
    done = subprocess.run(args, cwd=cwd, env={**ENV, **env}, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def copy_repo(target: Path) -> Path:
    """The repository's files (committed or not, never ignored ones) in a new git repo."""
    listed = run(ROOT, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    run(target, "git", "init", "-q", "-b", "main")
    run(target, "git", "add", "-A")
    run(target, "git", "commit", "-qm", "fresh clone")
    return target


def pipeline_stages(root: Path = ROOT) -> dict[str, dict]:
    """Every stage definition by name, from the top-level dvc.yaml and the per-batch ones (a
    per-batch stage's body is under ``do``)."""
    found = {}
    for name in PIPELINES:
        found.update(yaml.safe_load((root / name).read_text())["stages"])
    return found
