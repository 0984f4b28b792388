"""The rehearsal's story (rehearsal/world.py): a developer's branch push, through the
pipeline's commit-back, to a pull request with a current report and green tests; the
schedule that lands a month and opens the retraining pull request; main moving under an
open pull request; the retraining merged and tagged. Each scene starts where the last ended."""

from __future__ import annotations

import json
import re

import pytest

import weather
from driftline.core.config import parse_yaml
from driftline.tooling.pr_comment import MARKER
from rehearsal.github_rules import APP, USER, Event
from rehearsal.world import (
    APP_CLIENT_ID,
    JOB_SUCCEEDED,
    LANDED,
    LANDING,
    NEWEST,
    REPOSITORY,
    RETRAIN_CRON,
    ROLE,
    TESTS_JOBS,
    WINDOW_END,
    Run,
    job_lines,
    job_output,
    lock_out,
    names,
    only,
    s3_object,
)

# --- a branch push, through the commit-back, to a pull request with a current report -------


@pytest.fixture(scope="module")
def branch_chain(world) -> dict:
    """A developer changes a param on a branch, pushes it and opens a pull request. GitHub
    starts the pipeline, which commits the new lock back with the App token; that push starts
    the pipeline (which now finds nothing to do), the tests and the report again."""
    main = world.git("rev-parse", "main")
    world.git("checkout", "-q", "-b", "tune")
    params = world.work / "params.yaml"
    params.write_text(params.read_text().replace("    max_iter: 100\n", "    max_iter: 50\n"))
    world.git("commit", "-qam", "Fewer boosting iterations")
    before = world.branches()
    world.git("push", "-q", "origin", "tune")
    world.pulls[1] = {"branch": "tune", "base": "main", "repo": REPOSITORY}
    events = [*world.pushed(before, USER), world.pull_request_event(1, "opened", USER)]
    runs = world.play(events)
    return {"main": main, "runs": runs, "head": world.origin_git("rev-parse", "tune")}


def test_the_branch_push_runs_the_pipeline_then_its_commit_reruns_every_check(branch_chain):
    runs = branch_chain["runs"]
    assert names(runs) == [
        ("push", "pipeline.yml"),  # the developer's push
        ("push", "pipeline.yml"),  # the pipeline's own commit, pushed with the App token
        ("pull_request", "report.yml"),  # newest pull_request event of group report-1
        ("pull_request", "tests.yml"),
        ("push", "tests.yml"),
    ]
    first, second = runs[0], runs[1]
    assert "Running stage 'train'" in first.log
    assert f"Running stage 'score@{NEWEST}'" in first.log
    assert "Running stage 'drift'" in first.log  # its prediction-drift reference moved
    assert f"Running stage 'prepare@{NEWEST}'" not in first.log
    assert second.event.actor == APP
    assert "Running stage" not in second.log  # nothing left to do: no loop
    assert "dvc repro changed" not in second.log
    # The report and the tests ran on the head a reviewer merges (via its merge commit).
    for check in runs[2:]:
        assert check.ok
    assert only(runs, "report.yml").event.inputs["action"] == "synchronize"


def test_the_commit_back_holds_the_new_lock_and_no_skip_marker(world, branch_chain):
    message = world.origin_git("log", "-1", "--format=%B", "tune")
    assert "Driftline-Pipeline: dvc repro" in message and "skip" not in message.lower()
    assert world.origin_git("log", "-1", "--format=%an", "tune") == "driftline-pipeline[bot]"
    lock = world.origin_show("tune", "dvc.lock")
    train = parse_yaml(lock)["stages"]["train"]["params"]["params.yaml"]["train"]
    assert train["hgb"]["max_iter"] == 50
    main_lock = world.origin_show("main", "dvc.lock")
    model = "models/model.pkl"
    assert lock_out(lock, "train", model) != lock_out(main_lock, "train", model)
    changed = set(world.origin_git("diff", "--name-only", "tune~1", "tune").split())
    assert {"dvc.lock", "metrics/evaluate.json", "metrics/train.json"} <= changed
    assert (world.state / "tokens.log").read_text().splitlines()[0] == f"app {APP_CLIENT_ID}"


def test_the_pipeline_pushes_the_new_model_to_s3_with_oidc_credentials(world, branch_chain):
    model = lock_out(world.origin_show("tune", "dvc.lock"), "train", "models/model.pkl")
    assert s3_object(model) in world.bucket()
    assert f"oidc {ROLE}" in (world.state / "aws-credentials.log").read_text()


def test_the_cache_is_saved_after_the_run_under_the_new_lock(world, branch_chain):
    log = (world.state / "cache.log").read_text().splitlines()
    assert log[0].startswith("restore miss dvc-cache-")
    saves = [line.split()[1] for line in log if line.startswith("save ")]
    assert len(saves) == 2 and saves[0] != log[0].split()[2]  # keyed on the lock after repro


def test_the_comment_shows_the_heads_metrics_against_main(world, branch_chain):
    (comment,) = world.recorded("comments.json")
    body = comment["body"]
    assert body.startswith(MARKER)
    head = branch_chain["head"]
    old, new = (
        json.loads(world.origin_show(rev, "metrics/evaluate.json"))["roc_auc"]
        for rev in ("main", head)
    )
    assert f"| metrics/evaluate.json | roc_auc | {old:.5g} | {new:.5g} |" in body
    assert re.search(r"train\.hgb\.max_iter\s*\|\s*100\s*\|\s*50\s*\|", body), body
    assert f"/{REPOSITORY}/blob/{head}/plots/history.png" in body
    assert "has 1 new commit" not in body  # main has not moved


def test_the_tests_workflow_lints_then_runs_both_tiers_on_the_merge_ref(branch_chain):
    tests = only(branch_chain["runs"], "tests.yml", "pull_request")
    first, second = TESTS_JOBS["lint-unit"], TESTS_JOBS["integration"]
    unit = job_output(tests.log, first, "tests")
    assert "All checks passed!" in unit  # ruff, in make lint
    assert re.search(r"\b[1-9]\d* passed", unit), unit[-3000:]
    integration = job_output(tests.log, second, "tests")
    assert re.search(r"\b[1-9]\d* passed", integration), integration[-3000:]
    assert "test_check_history.py" in integration  # the integration tier's quick tests
    # The integration job started after the first one succeeded (needs: lint-unit).
    lines = tests.log.splitlines()
    succeeded = [i for i, line in enumerate(lines) if line.endswith(JOB_SUCCEEDED)]
    assert len(succeeded) == 2
    assert job_lines(tests.log, first)[-1].endswith(JOB_SUCCEEDED)
    assert lines.index(job_lines(tests.log, second)[0]) > succeeded[0]
    assert job_lines(tests.log, second)[-1].endswith(JOB_SUCCEEDED)
    # The other Pythons' job: its `if:` holds (a pull request to main), but act's
    # --matrix python:3.11 leaves it no combination, so it neither runs nor fails the run.
    assert "Whole suite" not in tests.log
    assert tests.sha != branch_chain["head"]  # the merge commit GitHub would test


def test_a_forked_pull_request_gets_the_report_in_the_job_summary_only(world, branch_chain):
    before = world.recorded("comments.json")
    world.pulls[2] = {"branch": "tune", "base": "main", "repo": "someone/fork"}
    runs = world.play([world.pull_request_event(2, "opened", USER)])
    del world.pulls[2]  # before any assertion: the later scenes must not see it open
    report = only(runs, "report.yml")
    assert MARKER in report.log
    assert report.log.count(JOB_SUCCEEDED) == 2  # the report and the gate jobs...
    assert not re.search(r"\[report/comment\s*\].*Job succeeded", report.log)  # not comment
    assert world.recorded("comments.json") == before


# --- the schedule: new batches, retraining, one pull request with its checks -------------


@pytest.fixture(scope="module")
def scheduled(world, branch_chain, tmp_path_factory) -> list[Run]:
    """A new month lands in the landing bucket and the schedule fires. The drift verdict on
    it asks for retraining (the weather drifts with the seasons), so the run retrains."""
    month = weather.month_file(tmp_path_factory.mktemp("landing"), LANDED)
    world.s3.put_object(Bucket=LANDING, Key=f"incoming/{LANDED}.csv", Body=month.read_bytes())
    world.git("checkout", "-q", "main")
    return world.play([Event("schedule", cron=RETRAIN_CRON)])


def test_the_scheduled_run_retrains_with_empty_inputs(scheduled):
    retrain = only(scheduled, "retrain.yml")
    assert "inputs" not in retrain.payload  # a schedule event carries none
    assert f"Ingested {LANDED}" in retrain.log
    assert f"Running stage 'score@{LANDED}'" in retrain.log
    assert "The drift verdict does not ask for retraining." not in retrain.log
    assert "Running stage 'train'" in retrain.log  # after `driftline retrain`


def test_the_retraining_pull_request_gets_its_report_and_tests(world, scheduled):
    (pull,) = world.recorded("pull-requests.json")
    assert pull["branch"] == "driftline/retrain" and pull["base"] == "main"
    assert pull["token"] == "app"
    files = set(pull["files"])
    assert {f"data/raw/{LANDED}.dvc", "params.yaml", "dvc.lock", "metrics/drift.json"} <= files
    assert "data/batches.yaml" in files  # the registry, which driftline ingest appended to
    assert "data/raw/.gitignore" in files  # DVC's new ignore entries are committed too
    assert pull["body"].startswith(MARKER) and f"Batch `{LANDED}`" in pull["body"]
    assert names(scheduled)[1:] == [("pull_request", "report.yml"), ("pull_request", "tests.yml")]
    comments = [c for c in world.recorded("comments.json") if c["issue"] == str(pull["number"])]
    assert len(comments) == 1 and f"Batch `{LANDED}`" in comments[0]["body"]


def test_the_retraining_run_pushes_the_batch_to_s3_and_reads_it_from_a_custom_endpoint(
    world, scheduled
):
    # Ingest read the landing bucket from moto's endpoint, which only the workflow's
    # DVC_S3_ENDPOINT_URL names (the credentials stand-in, like the real action, sets none).
    (pull,) = world.recorded("pull-requests.json")
    record = parse_yaml(world.origin_show(pull["branch"], f"data/raw/{LANDED}.dvc"))
    assert s3_object(record["outs"][0]["md5"]) in world.bucket()


def test_without_an_app_or_the_setting_the_retrain_run_fails_before_changing_anything(world):
    objects = world.bucket()
    branches = world.branches()
    schedule = Event("schedule", cron=RETRAIN_CRON)
    failed = world.act("retrain.yml", schedule, expect_ok=False, app=False)
    assert not failed.ok
    assert "Cannot open the retraining pull request" in failed.log
    assert "Install a GitHub App" in failed.log
    assert "Ingested" not in failed.log and "Running stage" not in failed.log
    assert world.bucket() == objects and world.branches() == branches


# --- the merge ref: main moves on under an open pull request -------------------------------


@pytest.fixture(scope="module")
def main_moved(world, scheduled) -> list[Run]:
    """main gains a commit while the tuning pull request is open, then the branch gets a new
    push. Its report runs on a merge commit with main's newer tip, and must say what it
    compares."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "main", "origin/main")
    (world.work / "CONTRIBUTING.md").write_text("Open a pull request.\n")
    world.git("add", "CONTRIBUTING.md")
    world.git("commit", "-qm", "How to contribute")
    on_main = world.push("main")
    world.git("checkout", "-q", "tune")
    world.git("pull", "-q", "--ff-only", "origin", "tune")
    (world.work / "NOTES.md").write_text("Tuning notes.\n")
    world.git("add", "NOTES.md")
    world.git("commit", "-qm", "Notes")
    return on_main + world.push("tune")


def test_a_docs_push_to_main_runs_only_the_tests(main_moved):
    assert names(main_moved)[0] == ("push", "tests.yml")
    assert [r.workflow for r in main_moved].count("pipeline.yml") == 0


def test_the_report_on_the_merge_ref_compares_with_the_fork_point_and_says_main_moved(
    world, branch_chain, main_moved
):
    report = only(main_moved, "report.yml")
    (comment,) = [c for c in world.recorded("comments.json") if c["issue"] == "1"]
    assert comment["updates"] == 1  # the same comment, edited in place
    body = comment["body"]
    assert "`origin/main` has 1 new commit since this branch forked" in body
    fork = branch_chain["main"]
    assert f"against `{fork}`" in body
    old = json.loads(world.origin_show(fork, "metrics/evaluate.json"))["roc_auc"]
    assert f"| metrics/evaluate.json | roc_auc | {old:.5g} |" in body
    assert report.sha != world.origin_git("rev-parse", "tune")  # ran on the merge commit


def test_the_retraining_pull_request_passes_the_gate_and_says_so(world, scheduled):
    pulls = world.recorded("pull-requests.json")
    (pull,) = [p for p in pulls if p["branch"] == "driftline/retrain"]
    assert pull["title"].startswith("New batches and metrics, ")
    assert {"models/champion/model.pkl.dvc", "models/champion/meta.json.dvc"} <= set(pull["files"])
    promotion = json.loads(world.origin_show("driftline/retrain", "reports/promotion.json"))
    assert promotion["promote"] is True, promotion["reasons"]
    assert (promotion["champion"]["last"], promotion["challenger"]["last"]) == (
        WINDOW_END,
        LANDED,
    )
    report = only(scheduled, "report.yml")
    assert report.ok and "promote: true" in report.log
    assert "### Champion vs challenger" in pull["body"]
    assert "**Promotion gate: ✅ passed.**" in pull["body"]


# --- versions: merging a new model into main tags it ----------------------------------------


@pytest.fixture(scope="module")
def released(world, scheduled) -> list[Run]:
    """The retraining pull request is merged: main's dvc.lock records a new model."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "main", "origin/main")
    world.git("merge", "-q", "--no-ff", "-m", "Merge the retraining", "origin/driftline/retrain")
    return world.push("main")


def test_a_new_model_on_main_gets_its_version_tag(world, released):
    version = only(released, "version.yml")
    assert "tagged model@v1.0.0 (the first version)" in version.log
    main = world.origin_git("rev-parse", "main")
    assert world.origin_git("rev-list", "-n", "1", "model@v1.0.0") == main
    assert world.origin_git("cat-file", "-t", "model@v1.0.0") == "tag"  # annotated
    # The tag push, made with GITHUB_TOKEN, started nothing: no run after version.yml's.
    assert [r.workflow for r in released].count("version.yml") == 1
