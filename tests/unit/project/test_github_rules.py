"""GitHub's event rules (tests/rehearsal/github_rules.py) applied to our workflows: which
workflows each event starts. The rehearsal runs exactly these; here they are checked alone."""

from driftline.core.config import parse_yaml
from rehearsal.github_rules import (
    APP,
    GITHUB_TOKEN,
    PIPELINE_BOT,
    SKIP_MARKERS,
    Event,
    crons,
    event_inputs,
    push_actor,
    skipped_after_failure,
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


def load(repo_root, name: str) -> dict:
    return parse_yaml((repo_root / ".github/workflows" / name).read_text())


def test_a_schedule_starts_only_the_workflows_whose_cron_fired(repo_root):
    (retrain_cron,) = crons(load(repo_root, "retrain.yml"))
    (tests_cron,) = crons(load(repo_root, "tests.yml"))
    assert retrain_cron == "17 6 * * 1" and tests_cron != retrain_cron
    assert workflows_for(repo_root, Event("schedule", cron=retrain_cron)) == ["retrain.yml"]
    assert workflows_for(repo_root, Event("schedule", cron=tests_cron)) == ["tests.yml"]
    assert workflows_for(repo_root, Event("schedule", cron="0 0 * * *")) == []
    assert workflows_for(repo_root, Event("schedule")) == []  # no cron fired
    assert crons(load(repo_root, "pipeline.yml")) == []


def test_a_schedule_has_no_inputs_and_a_manual_run_its_defaults(repo_root):
    dispatched = ["backfill.yml", "pipeline.yml", "retrain.yml"]
    assert workflows_for(repo_root, Event("workflow_dispatch")) == dispatched
    retrain = load(repo_root, "retrain.yml")
    assert event_inputs(retrain, Event("schedule", cron="17 6 * * 1")) == {}
    assert event_inputs(retrain, Event("workflow_dispatch", inputs={"landing": "s3://x/"})) == {
        "landing": "s3://x/",
        "retrain": True,
    }


def test_the_jobs_that_need_a_failed_job_are_skipped(repo_root):
    tests = load(repo_root, "tests.yml")
    assert skipped_after_failure(tests, "lint-unit") == {"integration", "other-pythons"}
    assert skipped_after_failure(tests, "integration") == set()
    workflow = {
        "jobs": {
            "a": {},
            "b": {"needs": "a"},
            "c": {"needs": ["b"]},  # skipped through b
            "d": {"needs": ["a"], "if": "${{ always() }}"},  # runs whatever a did
            "e": {"needs": ["a"], "if": "failure()"},
            "f": {"needs": ["a"], "if": "github.event_name == 'push'"},  # success() implied
            "g": {},
        }
    }
    assert skipped_after_failure(workflow, "a") == {"b", "c", "f"}
    assert skipped_after_failure(workflow, "g") == set()


def test_no_workflow_relies_on_or_writes_a_skip_marker(repo_root):
    # A squash merge's default message lists the branch's commit messages: a marker written
    # by a workflow would skip the checks of main's new commit.
    files = [*(repo_root / ".github").rglob("*.yml"), *(repo_root / "src").rglob("*.py")]
    assert len(files) > 10
    for path in files:
        text = path.read_text().lower()
        for marker in SKIP_MARKERS:
            assert marker not in text, f"{path.name} mentions {marker}"
