"""The rehearsal tier: the GitHub Actions workflows played with act (`make rehearse`)."""

from __future__ import annotations

import pytest


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(pytest.mark.rehearsal)
