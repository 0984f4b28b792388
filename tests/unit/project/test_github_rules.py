"""GitHub's event rules (tests/rehearsal/github_rules.py) applied to our workflows: which
workflows each event starts. The rehearsal runs exactly these; here they are checked alone."""

import pytest
import yaml

from rehearsal.github_rules import (
    APP,
    GITHUB_TOKEN,
    PIPELINE_BOT,
    SKIP_MARKERS,
    Event,
    event_inputs,
    push_actor,
    workflows_for,
)


def push(ref: str, *changed: str, actor: str = "user", message: str = "Edit") -> Event:
    return Event("push", ref=ref, actor=actor, message=message, changed=changed)


def test_a_branch_push_that_changes_the_pipeline_runs_it_and_the_tests(repo_root):
    for path in (
        "params.yaml",
        "data/batches.yaml",
        "data/raw/2013-07.dvc",
        "dvc.lock",
        "dvc.yaml",
        "src/driftline/monitoring/plots.py",
        "src/driftline/stages/train.py",
    ):
        event = push("refs/heads/tune", path)
        assert workflows_for(repo_root, event) == ["pipeline.yml", "tests.yml"], path


def test_a_push_that_only_touches_docs_or_tooling_runs_only_the_tests(repo_root):
    assert workflows_for(repo_root, push("refs/heads/tune", "README.md")) == ["tests.yml"]
    tooling = push("refs/heads/tune", "src/driftline/tooling/cli.py")
    assert workflows_for(repo_root, tooling) == ["tests.yml"]
    assert workflows_for(repo_root, push("refs/heads/feature/x", "docs/ci.md")) == ["tests.yml"]


def test_a_tag_push_runs_nothing(repo_root):
    # Path filters are not evaluated for tags: only the branch filter keeps the pipeline off.
    assert workflows_for(repo_root, push("refs/tags/model@v1.0.0", "params.yaml")) == []


def test_a_push_with_github_token_or_skip_ci_starts_nothing(repo_root):
    assert workflows_for(repo_root, push("refs/heads/tune", "dvc.lock", actor=GITHUB_TOKEN)) == []
    for marker in SKIP_MARKERS:
        event = push("refs/heads/main", "params.yaml", message=f"Squashed {marker.upper()}")
        assert workflows_for(repo_root, event) == [], marker


def test_the_pipelines_own_commit_counts_as_an_app_push_and_reruns_the_checks(repo_root):
    assert push_actor(PIPELINE_BOT) == APP
    assert push_actor("someone else") == GITHUB_TOKEN
    event = push("refs/heads/tune", "dvc.lock", "metrics/train.json", actor=APP)
    assert workflows_for(repo_root, event) == ["pipeline.yml", "tests.yml"]


def test_a_pull_request_runs_the_report_and_the_tests(repo_root):
    event = Event("pull_request", ref="main", changed=("params.yaml",))
    assert workflows_for(repo_root, event) == ["report.yml", "tests.yml"]
    opened_by_token = Event("pull_request", ref="main", actor=GITHUB_TOKEN, changed=("x",))
    assert workflows_for(repo_root, opened_by_token) == []


@pytest.mark.parametrize("name", ["schedule", "workflow_dispatch"])
def test_only_the_retrain_workflow_is_scheduled_or_dispatched_with_its_inputs(repo_root, name):
    dispatched = ["backfill.yml", "pipeline.yml", "retrain.yml"]
    expected = ["retrain.yml"] if name == "schedule" else dispatched
    assert workflows_for(repo_root, Event(name)) == expected
    retrain = yaml.safe_load((repo_root / ".github/workflows/retrain.yml").read_text())
    if name == "schedule":
        assert event_inputs(retrain, Event(name)) == {}
    else:
        assert event_inputs(retrain, Event(name, inputs={"landing": "s3://x/"})) == {
            "landing": "s3://x/",
            "retrain": True,
        }


def test_no_workflow_relies_on_or_writes_a_skip_marker(repo_root):
    # A squash merge's default message lists the branch's commit messages: a marker written
    # by a workflow would skip the checks of main's new commit.
    files = [*(repo_root / ".github").rglob("*.yml"), *(repo_root / "src").rglob("*.py")]
    assert len(files) > 10
    for path in files:
        text = path.read_text().lower()
        for marker in SKIP_MARKERS:
            assert marker not in text, f"{path.name} mentions {marker}"
