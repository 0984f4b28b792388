"""`driftline report`: the pull-request comment. Its sections on their own, then the command
in real git + DVC repositories against what `dvc metrics diff` and `dvc params diff` print.

On the session's weather project (tests/weather.py): small, and no demo test, so the report
is tested in every fork. The tests of the repository as committed (no data) take a plain
`git clone` of it: they read only what its commits hold (metrics, params, dvc.lock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftline.tooling.pr_comment import MARKER
from helpers import copy_of, run
from weather import month_file

# --- the command in real repositories --------------------------------------------------------


def driftline_report(repo: Path, *args: str, check: bool = True, **env: str):
    return run(repo, "driftline", "report", *args, check=check, **env)


def refused(repo: Path, *args: str) -> str:
    done = driftline_report(repo, *args, check=False)
    assert done.returncode != 0 and done.stdout == ""
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.fixture
def repo(weather_project, tmp_path) -> Path:
    """The weather project as committed: metrics and plots in git, no data and no DVC cache
    (a fresh clone, like a CI checkout)."""
    repo = tmp_path / "repo"
    run(tmp_path, "git", "clone", "-q", str(weather_project), str(repo))
    assert not (repo / ".dvc/cache").exists() and not (repo / "models/model.pkl").exists()
    return repo


@pytest.fixture(scope="module")
def new_batch(weather_project, tmp_path_factory) -> Path:
    """A branch `may` on top of `main` that adds a batch and reruns the pipeline."""
    tmp = tmp_path_factory.mktemp("report")
    repo = copy_of(weather_project, tmp / "may")
    run(repo, "git", "checkout", "-q", "-b", "may")
    run(repo, "driftline", "ingest", str(month_file(tmp / "incoming", "2024-05")))
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "batch 2024-05")
    return repo


def metric_at(repo: Path, rev: str, path: str, key: str):
    return json.loads(run(repo, "git", "show", f"{rev}:{path}").stdout)[key]


def test_report_on_a_new_batch_against_main(new_batch):
    sha = run(new_batch, "git", "rev-parse", "HEAD").stdout.strip()
    env = {"GITHUB_REPOSITORY": "me/driftline", "GITHUB_SERVER_URL": "https://github.com"}
    body = driftline_report(new_batch, "--base", "main", "--sha", sha, **env).stdout
    assert body.startswith(MARKER)
    old, new = (
        metric_at(new_batch, rev, "metrics/evaluate.json", "roc_auc") for rev in ("main", "HEAD")
    )
    assert old != new
    row = f"| metrics/evaluate.json | roc_auc | {old:.5g} | {new:.5g} | {new - old:+.5g} |"
    assert row in body
    assert ("better" if new > old else "worse") in body.split(row)[1].splitlines()[0]
    # Headline first; every other change folded away after them.
    assert body.index("| roc_auc |") < body.index("| pr_auc |") < body.index("other changed")
    assert "Batch `2024-05` against the training reference `2024-01..2024-02`." in body
    assert f"https://github.com/me/driftline/blob/{sha}/plots/history.png" in body


def test_unchanged_workspace_says_so_in_one_line(new_batch):
    body = driftline_report(new_batch, "--base", "HEAD").stdout
    assert "\nNo metric changed against `HEAD`.\n" in body
    assert "\nNo param changed against `HEAD`.\n" in body
    assert "`plots/history.png`" in body  # no repository or commit: plain paths


# What a GitHub runner sets for a pull request's job.
CI_RUNNER = {
    "GITHUB_ACTIONS": "true",
    "CI": "true",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    "GITHUB_REPOSITORY": "acme/driftline",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REF": "refs/pull/7/merge",
    "GITHUB_EVENT_NAME": "pull_request",
}


def test_a_ci_runners_variables_never_reach_the_commands_under_test(
    new_batch, monkeypatch, tmp_path
):
    """On a runner the suite starts with GITHUB_SHA and GITHUB_REPOSITORY set. The commands a
    test runs must not see them, or `driftline report` writes links where the tests above
    expect plain paths."""
    for name, value in {**CI_RUNNER, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}.items():
        monkeypatch.setenv(name, value)
    # helpers takes its environment when it is imported: import it in a process that starts
    # with the runner's variables, as pytest on a runner does.
    script = "import sys, helpers; print(helpers.run(sys.argv[1], *sys.argv[2:]).stdout)"
    done = subprocess.run(
        [sys.executable, "-c", script, str(new_batch), "driftline", "report", "--base", "HEAD"],
        cwd=Path(__file__).parents[1],  # tests/, where helpers.py is
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "`plots/history.png`" in done.stdout  # plain paths
    assert "acme/driftline" not in done.stdout and CI_RUNNER["GITHUB_SHA"][:7] not in done.stdout
    # Given to the command, the same variables do turn the paths into links.
    linked = driftline_report(new_batch, "--base", "HEAD", **CI_RUNNER).stdout
    sha = CI_RUNNER["GITHUB_SHA"]
    assert f"https://github.com/acme/driftline/blob/{sha}/plots/history.png" in linked


def test_a_base_without_metrics(repo):
    run(repo, "git", "rm", "-rq", "metrics")
    run(repo, "git", "commit", "-qm", "no metrics yet")
    run(repo, "git", "tag", "before-metrics")
    run(repo, "git", "checkout", "-q", "HEAD~1", "--", "metrics")
    run(repo, "git", "commit", "-qm", "metrics")
    body = driftline_report(repo, "--base", "before-metrics").stdout
    assert "`before-metrics` has no metrics yet: every metric is new." in body
    roc_auc = metric_at(repo, "HEAD", "metrics/evaluate.json", "roc_auc")
    assert f"| metrics/evaluate.json | roc_auc | - | {roc_auc:.5g} |  | new |" in body


def test_a_stale_lock_fails_naming_the_stage_and_the_change(repo):
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("max_iter: 100", "max_iter: 50"))
    message = refused(repo, "--base", "HEAD")
    assert "dvc.lock is stale" in message
    assert "params.yaml (train modified): train" in message
    assert "Run `dvc repro` and commit dvc.lock" in message


def test_an_unknown_base_is_a_clear_error(repo):
    message = refused(repo, "--base", "no-such-branch")
    assert "base 'no-such-branch' is not a commit in this clone" in message


def test_a_shallow_clone_without_the_base_says_how_to_fetch_it(repo, tmp_path):
    run(repo, "git", "checkout", "-q", "-b", "feature")
    shallow = tmp_path / "shallow"
    run(
        tmp_path,
        "git",
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        f"file://{repo}",
        str(shallow),
    )
    message = refused(shallow, "--base", "origin/main")
    assert "this clone is shallow" in message and "fetch-depth: 0" in message
