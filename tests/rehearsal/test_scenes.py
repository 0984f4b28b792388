"""The rehearsal's scenes that branch off main on their own (rehearsal/world.py), in a world of
their own beside the story's: a backfill over three shards, a crippled challenger that fails
the promotion gate, a failing unit tier, the container image."""

from __future__ import annotations

import json
import re

import pytest

import weather
from driftline.core.config import parse_yaml
from driftline.tooling.pr_comment import MARKER
from helpers import ROOT, S3_ENV, group_stages, recode, run
from rehearsal.github_rules import USER, Event, skipped_after_failure, starts, workflows_for
from rehearsal.world import (
    JOB_FAILED,
    JOB_SUCCEEDED,
    PROJECT_VERSION,
    REPOSITORY,
    TESTS_JOBS,
    TESTS_YML,
    WINDOW_END,
    Run,
    job_lines,
    job_output,
    only,
)

# --- a backfill: the group stages fanned out over a matrix of k = 3 shards ----------------


@pytest.fixture(scope="module")
def backfill(world, recoded) -> dict:
    """A stage-code edit on a branch reruns every stage. The backfill workflow is started by
    hand on that branch with 3 shards (the pipeline workflow that push would also start is
    rehearsed above; here only the dispatch is played). The same edit of the same project,
    built serially with one `dvc repro`, is the session's `recoded`."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "recode", "origin/main")
    recode(world.work)
    tree = "HEAD^{tree}"  # the very files `recoded` built
    assert world.git("rev-parse", tree) == run(recoded, "git", "rev-parse", tree).stdout.strip()
    world.git("push", "-q", "-f", "origin", "HEAD:refs/heads/recode")
    serial, serial_log = recoded, (recoded.parent / "repro.log").read_text()
    event = Event("workflow_dispatch", ref="refs/heads/recode", inputs={"shards": 3})
    before = world.recorded("pull-requests.json")
    result = world.act("backfill.yml", event)
    (pull,) = [p for p in world.recorded("pull-requests.json") if p not in before]
    return {"run": result, "serial": serial, "serial_log": serial_log, "pull": pull}


def test_the_backfill_plans_three_shards_and_each_runs_its_own_stages(backfill):
    from driftline.tooling.backfill import per_group, read_final_log

    log = backfill["run"].log
    plan = job_output(log, "plan")
    assert "Running stage 'train'" in plan  # the model chain, once
    ran = read_final_log(plan).ran  # the window groups' prepares, in the model chain
    for shard in (1, 2, 3):
        (name,) = set(re.findall(rf"^\[backfill/(shard {shard}\b[^\]]*?)\s*\]", log, re.MULTILINE))
        output = job_output(log, name)
        assert "Stage 'train' is cached - skipping run" in output
        assert "Running stage 'train'" not in output
        ran += read_final_log(output).ran
    serially = [s for s in read_final_log(backfill["serial_log"]).ran if per_group(s)]
    every = sorted(group_stages(weather.MONTHS))  # prepare and score of each of the 4 months
    assert sorted(ran) == sorted(serially) == every  # each stage run once


def test_the_backfill_final_job_restores_every_group_stage_from_the_run_cache(backfill):
    from driftline.tooling.backfill import read_final_log

    final = read_final_log(job_output(backfill["run"].log, "final"))
    assert final.ran == []
    assert len(final.restored) == len(group_stages(weather.MONTHS))
    assert "train" not in final.others and "evaluate" in final.others


def test_the_backfill_pull_request_holds_the_serial_builds_locks_byte_for_byte(world, backfill):
    pull = backfill["pull"]
    assert pull["branch"] == "driftline/backfill" and pull["base"] == "recode"
    assert pull["token"] == "app"
    lock = (backfill["serial"] / "dvc.lock").read_text()
    assert world.origin_show(pull["branch"], "dvc.lock") == lock
    for name in ("metrics/evaluate.json", "metrics/drift.json", "metrics/history.csv"):
        assert world.origin_show(pull["branch"], name) == (backfill["serial"] / name).read_text()


# --- the promotion gate: a crippled challenger fails the check, a sound one passes ----------


@pytest.fixture(scope="module")
def failing_gate(world) -> dict:
    """A developer retrains on a branch with a crippled model (one boosting iteration, with
    leaves too large to split on, so it scores every row with the base rate: one iteration that
    can split is a fair model of the weather), pushes the champion the retrain kept to the
    team's remote, and opens a pull request. The pipeline reproduces the branch (champion
    against challenger included) and commits back; the report posts its comment, and its gate
    job fails."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "sabotage", "origin/main")
    run(world.work, "driftline", "retrain", "--force")
    params = world.work / "params.yaml"
    crippled = {"    max_iter: 100\n": "    max_iter: 1\n"}
    crippled["    min_samples_leaf: 40\n"] = "    min_samples_leaf: 100000\n"
    text = params.read_text()
    for old, new in crippled.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    params.write_text(text)
    champion = ["models/champion/model.pkl.dvc", "models/champion/meta.json.dvc"]
    run(world.work, "dvc", "push", "-r", "s3", *champion, **S3_ENV)
    world.git("add", "params.yaml", "models/champion", "models/served.csv")  # as retrain says
    world.git("commit", "-qm", "Retrain with one boosting iteration that cannot split")
    before = world.branches()
    world.git("push", "-q", "origin", "sabotage")
    number = len(world.pulls) + 1
    world.pulls[number] = {"branch": "sabotage", "base": "main", "repo": REPOSITORY}
    events = [*world.pushed(before, USER), world.pull_request_event(number, "opened", USER)]
    runs = world.play(events, expect_ok=False)
    # Back to main, as the developer leaves it for the next scenes.
    world.git("checkout", "-q", "main")
    for name in ("model.pkl", "meta.json"):
        (world.work / "models/champion" / name).unlink()
    return {"number": number, "runs": runs, "head": world.origin_git("rev-parse", "sabotage")}


def test_a_failing_challenger_gets_a_failing_gate_check_and_the_comment(world, failing_gate):
    runs = failing_gate["runs"]
    pipeline = [r for r in runs if r.workflow == "pipeline.yml"][0]
    assert pipeline.ok and "Running stage 'promote'" in pipeline.log
    promotion = json.loads(world.origin_show("sabotage", "reports/promotion.json"))
    assert promotion["promote"] is False and promotion["champion"]["last"] == WINDOW_END
    report = only(runs, "report.yml")
    assert not report.ok  # the check fails...
    assert "promote: false: the challenger fails the promotion gate; do not merge" in report.log
    failed = [r for r in promotion["reasons"] if r.startswith("FAIL:")]
    assert failed and all(reason in report.log for reason in failed)
    assert not [r for r in failed if "min_rows" in r]  # the crippled model fails, not the rows
    assert report.log.count(JOB_SUCCEEDED) == 2  # ...the report and the comment jobs did not
    number = str(failing_gate["number"])
    (comment,) = [c for c in world.recorded("comments.json") if c["issue"] == number]
    body = comment["body"]
    assert body.startswith(MARKER)
    first = body.split("\n### ")[1]
    assert first.startswith("Champion vs challenger")
    assert "> [!CAUTION]\n> **Promotion gate: ❌ FAILED. Do not merge:**" in first
    del world.pulls[failing_gate["number"]]


# --- failing fast: a broken unit test stops tests.yml before the integration tier -----------


@pytest.fixture(scope="module")
def unit_failure(world) -> list[Run]:
    """A developer pushes a branch with a unit test that fails (named so that the quick tests'
    -k filter selects it). Only tests.yml starts: no other workflow reads tests/. act runs it
    with --verbose, whose debug log says why it skipped a job."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "broken", "origin/main")
    test = world.work / "tests/unit/project/test_workflows_broken.py"
    test.write_text("def test_a_broken_promise():\n    assert sum([1, 1]) == 3\n")
    world.git("add", str(test))
    world.git("commit", "-qm", "A unit test that fails")
    before = world.branches()
    world.git("push", "-q", "origin", "broken")
    runs = world.play(world.pushed(before, USER), expect_ok=False, verbose=True)
    world.git("checkout", "-q", "main")
    return runs


def test_a_failing_unit_tier_fails_the_first_job_and_skips_the_integration_tier(unit_failure):
    (tests,) = unit_failure
    assert (tests.event.name, tests.workflow) == ("push", "tests.yml")
    assert not tests.ok
    first, second = TESTS_JOBS["lint-unit"], TESTS_JOBS["integration"]
    unit = job_output(tests.log, first, "tests")
    assert "All checks passed!" in unit  # lint passed: the unit tier failed the job
    assert re.search(r"\b1 failed\b", unit) and "test_a_broken_promise" in unit, unit[-3000:]
    assert [line for line in job_lines(tests.log, first) if JOB_FAILED in line]
    # github_rules, rule 7: GitHub skips the jobs that need the failed one; act does too.
    assert skipped_after_failure(TESTS_YML, "lint-unit") == {"integration", "other-pythons"}
    assert f"Skipping job '{second}' due to 'success()'" in tests.log
    assert not [line for line in job_lines(tests.log, second) if "⭐ Run" in line]
    assert JOB_SUCCEEDED not in tests.log


# --- the container image: built on a pull request, pushed from the default branch ---------

IMAGE_YML = parse_yaml((ROOT / ".github/workflows/image.yml").read_text())
IMAGE_JOBS = {job: spec["name"] for job, spec in IMAGE_YML["jobs"].items()}  # id -> name


@pytest.fixture(scope="module")
def image_runs(world) -> dict:
    """A pull request that changes the Dockerfile, then its merge into main: image.yml builds
    on the first and pushes on the second, up to the push itself (the stand-ins build and push
    nothing: `make image-test` builds and tests the image for real, and the push can only run
    on GitHub). Only image.yml is run; the tests and report such events also start are
    rehearsed above. main and the pull requests are put back as they were afterwards."""
    world.git("fetch", "-q", "origin")
    main = world.origin_git("rev-parse", "refs/heads/main")
    world.git("checkout", "-q", "-B", "container", "origin/main")
    dockerfile = world.work / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# a comment\n")
    world.git("commit", "-qam", "Dockerfile: a comment")
    world.git("push", "-q", "-f", "origin", "HEAD:refs/heads/container")
    number = max(world.pulls, default=0) + 1
    world.pulls[number] = {"branch": "container", "base": "main", "repo": REPOSITORY}
    try:
        opened = world.pull_request_event(number, "opened", USER)
        started = workflows_for(world.work, opened)
        built = world.act("image.yml", opened)
        head = world.origin_git("rev-parse", "refs/heads/container")
        before = world.branches()
        world.git("push", "-q", "origin", "HEAD:refs/heads/main")
        (merged,) = [e for e in world.pushed(before, USER) if e.ref == "refs/heads/main"]
        pushed = world.act("image.yml", merged)
        records = world.recorded("image-builds.json")
        log = (world.state / "image.log").read_text()
    finally:
        del world.pulls[number]
        world.git("push", "-q", "-f", "origin", f"{main}:refs/heads/main", ":refs/heads/container")
        world.git("fetch", "-q", "--prune", "origin")
        world.git("checkout", "-q", "-B", "main", "origin/main")
    return {
        "started": started,
        "built": built,
        "head": head,
        "merged": merged,
        "pushed": pushed,
        "records": records,
        "log": log,
    }


def ran(run_: Run, job: str) -> bool:
    return any(JOB_SUCCEEDED in line for line in job_lines(run_.log, IMAGE_JOBS[job], "image"))


def test_a_pull_request_that_touches_the_image_builds_it_without_pushing(image_runs):
    assert "image.yml" in image_runs["started"]
    # A pull request that changes only params or docs builds no image.
    others = Event("pull_request", ref="main", changed=("params.yaml", "docs/ci.md"))
    assert not starts(IMAGE_YML, others)
    built = image_runs["built"]
    assert ran(built, "build") and not job_lines(built.log, IMAGE_JOBS["push"], "image")
    first = image_runs["records"][0]
    assert first["push"] is False and first["tags"] == []
    assert first["build_args"] == {
        "VERSION": PROJECT_VERSION,
        "REVISION": image_runs["head"],  # the pull request's head, not its merge commit
        "SOURCE": f"https://github.com/{REPOSITORY}",
    }


def test_a_push_to_main_pushes_the_image_tagged_with_its_commit_with_provenance(image_runs):
    merged, pushed = image_runs["merged"], image_runs["pushed"]
    assert starts(IMAGE_YML, merged)
    assert ran(pushed, "push") and not job_lines(pushed.log, IMAGE_JOBS["build"], "image")
    assert image_runs["records"][1:] == [
        {
            "push": True,
            "tags": [f"ghcr.io/{REPOSITORY}:{pushed.sha}"],
            "build_args": {
                "VERSION": PROJECT_VERSION,
                "REVISION": pushed.sha,
                "SOURCE": f"https://github.com/{REPOSITORY}",
            },
            "provenance": "mode=max",
            "sha": pushed.sha,
        }
    ]
    # Logged in to ghcr.io with the job's token before the push (the stand-in refuses a push
    # without it); the pull request's run logged in nowhere.
    assert [line.split()[:2] for line in image_runs["log"].splitlines() if "login" in line] == [
        ["login", "ghcr.io"]
    ]
