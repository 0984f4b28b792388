from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftline.config import load_contract, load_params

ROOT = Path(__file__).resolve().parents[1]

# DVC in tests: no analytics, no update checks, and git identities for the temp repos.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
for key, value in {
    "GIT_AUTHOR_NAME": "Driftline Test",
    "GIT_AUTHOR_EMAIL": "test@driftline.invalid",
    "GIT_COMMITTER_NAME": "Driftline Test",
    "GIT_COMMITTER_EMAIL": "test@driftline.invalid",
}.items():
    os.environ.setdefault(key, value)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def params() -> dict:
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def demo_months(params) -> dict:
    from driftline.demo import load_months

    return load_months(params["demo"]["year"])


@pytest.fixture(scope="session")
def contract() -> dict:
    return load_contract(ROOT / "contract.yaml")
