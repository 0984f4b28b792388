from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftline.config import load_contract, load_params

ROOT = Path(__file__).resolve().parents[1]

# DVC in tests (also for the in-process calls): no analytics.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


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
