"""The rehearsal tier: the GitHub Actions workflows played with act (`make rehearse`)."""

from __future__ import annotations

import pytest

# The rehearsal's world starts from the weather project (a project of its own, so the
# rehearsal runs in every fork) and talks to moto's S3: the integration tier's session
# fixtures, which its conftest.py keeps out of the unit tier's reach. Imported here, they are
# this folder's fixtures too (`pytest tests/rehearsal` alone does not load
# tests/integration/conftest.py).
from integration.conftest import s3_endpoint, weather_project

__all__ = ["s3_endpoint", "weather_project"]


# `make rehearse` runs two pytest-xdist workers (--dist loadgroup), each with a world of its
# own: one plays the story from the branch push through the schedule to the release, the other
# the scenes that branch off main on their own (the backfill, the failing gate, the failing
# unit tier, the image). Each keeps the order of the file.
SCENES = {"backfill", "failing_gate", "unit_failure", "image_runs"}


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(pytest.mark.rehearsal)
    scenes = SCENES & set(getattr(item, "fixturenames", ()))
    item.add_marker(pytest.mark.xdist_group("scenes" if scenes else "story"))
