"""The unit tier: in-process, on small inputs. A test here runs no command and builds no
repository: helpers.run and helpers.copy_repo refuse to, and the session repositories and
the S3 server are integration fixtures (tests/integration/conftest.py), not found here."""

from __future__ import annotations

import pytest

import helpers


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _no_commands(monkeypatch):
    monkeypatch.setattr(helpers, "IN_UNIT_TEST", True)
