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

Run it with `make rehearse` (`.ci/run` runs it beside `make test`). This module is the world the
plays happen in; the `world` fixture (conftest.py) builds one for each test module:
test_story.py plays a branch push through to a release, test_scenes.py the scenes that
branch off main on their own, each on its own pytest-xdist worker.
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

import weather
from driftline.core.config import parse_yaml
from helpers import ENV, ROOT, S3_ENV, run
from rehearsal.github_rules import (
    APP,
    USER,
    Event,
    crons,
    event_inputs,
    push_actor,
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
    GITHUB_* variables, no git identity (the tests' GIT_AUTHOR_* would override the one a
    workflow configures) and not the folder of .ci/run's shared test builds."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in ENV["PATH"].split(os.pathsep) if p != venv_bin)
    dropped = ("GITHUB_", "RUNNER_", "ACT", "GIT_AUTHOR_", "GIT_COMMITTER_", "TESTS_SHARED_DIR")
    kept = {k: v for k, v in ENV.items() if not k.startswith(dropped)}
    return {**kept, "PATH": path}


def only(runs: list[Run], workflow: str, event: str | None = None) -> Run:
    (found,) = [r for r in runs if r.workflow == workflow and event in (None, r.event.name)]
    return found


def names(runs: list[Run]) -> list[tuple[str, str]]:
    return [(r.event.name, r.workflow) for r in runs]


def s3_object(md5: str) -> str:
    return f"driftline/files/md5/{md5[:2]}/{md5[2:]}"


def lock_out(lock_text: str, stage: str, path: str) -> str:
    (out,) = [o for o in parse_yaml(lock_text)["stages"][stage]["outs"] if o["path"] == path]
    return out["md5"]


def job_output(log: str, job: str, workflow: str = "backfill") -> str:
    """What one job's steps printed, without act's `[workflow/job]   | ` prefix."""
    # act pads a job's name to the longest one's: `[backfill/final    ]`.
    prefix = re.compile(rf"^\[{workflow}/{re.escape(job)}\s*\]\s+\| ?(.*)$", re.MULTILINE)
    return "\n".join(prefix.findall(log))


def job_lines(log: str, job: str, workflow: str = "tests") -> list[str]:
    """Every line act logged for one job (by its name), its steps' output and act's own."""
    prefix = re.compile(rf"^\[{workflow}/{re.escape(job)}\s*\].*$", re.MULTILINE)
    return prefix.findall(log)
