"""The backfill (docs/backfill.md): the plan, split into shards, and the same steps the
workflow runs, done by real DVC clones that share one remote.

Each simulated runner is a fresh `git clone` (no data, no DVC cache, as on GitHub): the
planning job runs the model chain, each shard its stages, and the final job's `dvc repro
--pull` must restore every group stage (prepare@ and score@ of a month) from the run-cache
and write the same locks, byte for byte, as `dvc repro` on one machine.

On the session's weather project (tests/weather.py): four monthly groups, the window on the
first two, so k = 3 shards hold the window's two groups (whose prepare the planning job ran:
restored) and one group each. Small, and no demo test: the backfill is tested in every fork.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from driftline.core.config import parse_yaml
from driftline.tooling.backfill import read_final_log
from helpers import REGISTRY, copy_of, group_stages, recode, run
from weather import MONTHS

GROUPS = MONTHS  # the weather project's groups: a batch a month, each its own group
LOCKS = ("dvc.lock",)


# --- the fan-out, with DVC (integration) --------------------------------------------------


def runner(base: Path, remote: Path, name: str) -> Path:
    """A fresh CI checkout of ``base``'s commit, with the shared remote as its default."""
    clone = base.parent / name
    run(base.parent, "git", "clone", "-q", str(base), str(clone))
    run(clone, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
    return clone


def repro(repo: Path, *args: str) -> str:
    done = run(repo, "dvc", "repro", *args)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def backfill(weather_project, recoded, tmp_path_factory) -> dict:
    """main's data on the shared remote; then a stage-code edit that reruns every stage,
    built as a k = 3 backfill (and serially: the session's `recoded`)."""
    tmp = tmp_path_factory.mktemp("backfill")
    remote = tmp / "remote"
    base = copy_of(weather_project, tmp / "base")
    assert parse_yaml((base / REGISTRY).read_text())["groups"] == GROUPS
    run(base, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
    run(base, "dvc", "push", "-q")
    recode(base)
    serial, serial_log = recoded, (recoded.parent / "repro.log").read_text()

    planner = runner(base, remote, "plan")
    plan = json.loads(run(planner, "driftline", "backfill", "plan", "--shards", "3").stdout)
    model_log = repro(planner, "--single-item", "--pull", *plan["model"].split())
    run(planner, "driftline", "backfill", "push")
    shard_logs = []
    for shard in plan["matrix"]["include"]:
        clone = runner(base, remote, f"shard-{shard['shard']}")
        targets = [*plan["model"].split(), *shard["stages"].split()]
        shard_logs.append(repro(clone, "--single-item", "--pull", *targets))
        run(clone, "driftline", "backfill", "push")
    final = runner(base, remote, "final")
    final_log = repro(final, "--pull")
    (tmp / "final.log").write_text(final_log)
    check = run(final, "driftline", "backfill", "check", str(tmp / "final.log"), check=False)
    return {
        "plan": plan,
        "serial": serial,
        "serial_log": serial_log,
        "model_log": model_log,
        "shard_logs": shard_logs,
        "final": final,
        "final_log": final_log,
        "check": check,
        "tmp": tmp,
    }


def test_the_plan_from_a_fresh_checkout_holds_every_group_stage(backfill):
    plan = backfill["plan"]
    assert plan["shards"] == 3
    planned = {s for shard in plan["matrix"]["include"] for s in shard["stages"].split()}
    assert planned == group_stages(GROUPS)
    ran_serially = set(read_final_log(backfill["serial_log"]).ran)
    assert planned == ran_serially  # what one machine's dvc repro ran


def test_the_planning_job_trains_once_and_each_shard_restores_the_model(backfill):
    assert "Running stage 'train'" in backfill["model_log"]
    for log in backfill["shard_logs"]:
        assert "Stage 'train' is cached - skipping run" in log
        assert "Running stage 'train'" not in log
        assert re.search(r"Running stage 'score@", log)


def test_the_final_job_restores_every_group_stage_and_runs_none(backfill):
    final = read_final_log(backfill["final_log"])
    assert final.ran == []
    assert set(final.restored) == group_stages(GROUPS)
    assert "train" not in final.others  # restored too: the planning job pushed it
    assert {"window", "evaluate", "drift"} <= set(final.others)
    assert backfill["check"].returncode == 0, backfill["check"].stderr


def test_the_final_locks_and_metrics_are_byte_identical_to_a_serial_build(backfill):
    final, serial = backfill["final"], backfill["serial"]
    for name in (*LOCKS, "metrics/evaluate.json", "metrics/drift.json", "metrics/history.csv"):
        assert (final / name).read_bytes() == (serial / name).read_bytes(), name


def test_the_check_fails_on_a_build_that_ran_the_group_stages(backfill):
    log = backfill["serial"].parent / "repro.log"
    done = run(backfill["serial"], "driftline", "backfill", "check", str(log), check=False)
    assert done.returncode == 2
    assert "ran 8 group stages instead of restoring them" in done.stderr  # 4 groups, 2 each
