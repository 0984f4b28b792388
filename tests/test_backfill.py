"""The backfill (docs/backfill.md): the plan, split into shards, and the same steps the
workflow runs, done by real DVC clones that share one remote.

Each simulated runner is a fresh `git clone` (no data, no DVC cache, as on GitHub): the
planning job runs the model chain, each shard its stages, and the final job's `dvc repro
--pull` must restore every group stage (prepare@ and score@ of a month) from the run-cache
and write the same locks, byte for byte, as `dvc repro` on one machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from driftline.core.errors import DriftlineError
from driftline.tooling.backfill import address, make_plan, per_group, read_final_log, split
from helpers import copy_of, pipeline_stages, run

BATCHES = [f"2013-{m:02d}" for m in range(1, 7)]
WINDOW = BATCHES[:3]
LOCKS = ("dvc.lock",)


def stages_of(batches: list[str], kinds=("prepare", "score")) -> set[str]:
    return {address(k, b) for b in batches for k in kinds}


# --- the plan (unit) ----------------------------------------------------------------------


def test_a_stage_address_names_its_kind_and_group():
    assert address("score", "2013-04") == "score@2013-04"
    assert per_group("score@2013-04") == ("score", "2013-04")
    assert per_group("promote@2013-04") is None
    assert per_group("train") is None


def test_daily_batches_are_planned_a_month_stage_at_a_time():
    days = [f"2013-0{m}-{d:02d}" for m in (1, 2, 3) for d in (1, 2, 3)]
    stale = {address("prepare", "2013-03"), address("score", "2013-02")}
    plan = make_plan(stale, days, days[:3], shards=4, first="2013-02-02")
    assert plan.model == []
    assert plan.shards == [
        [address("score", "2013-02")],
        [address("prepare", "2013-03"), address("score", "2013-03")],
    ]
    retrain = make_plan({address("prepare", "2013-01")}, days, days[:3], shards=1)
    assert retrain.model == [address("prepare", "2013-01"), "window", "train"]


def test_new_batches_need_no_model_chain_and_keep_prepare_with_score():
    stale = stages_of(BATCHES[3:]) | {"window", "evaluate", "drift"}
    plan = make_plan(stale, BATCHES, WINDOW, shards=2)
    assert plan.model == []
    assert plan.shards == [
        [*sorted(stages_of(["2013-04"])), *sorted(stages_of(["2013-05"]))],
        [address("prepare", "2013-06"), address("score", "2013-06")],
    ]


def test_a_stale_model_reruns_every_score_after_the_window_chain():
    plan = make_plan({"train"}, BATCHES, WINDOW, shards=3)
    assert plan.model == [*(address("prepare", b) for b in WINDOW), "window", "train"]
    assert [s for shard in plan.shards for s in shard] == [address("score", b) for b in BATCHES]
    assert [len(s) for s in plan.shards] == [2, 2, 2]


def test_a_prepared_window_batch_that_changes_retrains():
    plan = make_plan({address("prepare", "2013-02")}, BATCHES, WINDOW, shards=1)
    assert plan.model[-1] == "train"
    assert plan.shards[0][:3] == [
        address("score", "2013-01"),
        address("prepare", "2013-02"),
        address("score", "2013-02"),
    ]


def test_the_matrix_reads_as_github_actions_expects():
    matrix = make_plan(stages_of(BATCHES), BATCHES, WINDOW, shards=4).as_json()
    assert matrix["shards"] == 4 and matrix["stages"] == 12
    assert json.loads(json.dumps(matrix["matrix"]))["include"][0] == {
        "shard": 1,
        "groups": "2013-01 2013-02",
        "stages": " ".join(sorted(stages_of(["2013-01"])))
        + " "
        + " ".join(sorted(stages_of(["2013-02"]))),
    }


def test_shards_are_contiguous_balanced_and_never_empty():
    batches = [[f"p{i}", f"s{i}"] for i in range(7)]
    for k in range(1, 10):
        shards = split(batches, k)
        assert len(shards) == min(k, 7) and all(shards)
        assert [s for shard in shards for s in shard] == [s for b in batches for s in b]
        assert max(map(len, shards)) - min(map(len, shards)) <= 2


def test_a_stale_stage_outside_the_range_is_refused():
    with pytest.raises(DriftlineError, match=r"1 group stages outside 2013-04\.\.2013-06"):
        make_plan({address("score", "2013-02")}, BATCHES, WINDOW, 2, "2013-04", "2013-06")
    with pytest.raises(DriftlineError, match="--to 2014-01: not a registered batch"):
        make_plan(set(), BATCHES, WINDOW, 2, None, "2014-01")
    with pytest.raises(DriftlineError, match="at least 1"):
        make_plan(stages_of(BATCHES), BATCHES, WINDOW, 0)


def test_every_restored_stage_can_be_restored_from_the_run_cache(repo_root):
    """DVC saves no run-cache entry for a stage with a `cache: false` output that is not a
    metric or a plot (https://github.com/treeverse/dvc/pull/8738): the final job would then
    run that stage again. In the group stages and the model chain, nothing but metrics and
    plots may opt out of the cache."""
    for kind in ("prepare", "score", "window", "train"):
        body = pipeline_stages(repo_root)[kind]
        body = body.get("do", body)
        uncached = [
            out
            for out in body["outs"]
            if isinstance(out, dict) and next(iter(out.values())).get("cache") is False
        ]
        assert uncached == [], f"{kind}: {uncached}"
        assert not body.get("persist") and not body.get("always_changed")


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
def backfill(reproduced, tmp_path_factory) -> dict:
    """main's data on the shared remote; then a stage-code edit that reruns every stage,
    built once serially and once as a k = 3 backfill."""
    tmp = tmp_path_factory.mktemp("backfill")
    remote = tmp / "remote"
    base = copy_of(reproduced, tmp / "base")
    run(base, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
    run(base, "dvc", "push", "-q")
    paths_py = base / "src/driftline/core/paths.py"
    paths_py.write_text(paths_py.read_text() + "# Every path the stages read or write.\n")
    run(base, "git", "commit", "-qam", "A comment in stage code: every stage reruns")

    serial = copy_of(base, tmp / "serial")
    serial_log = repro(serial)

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
    (tmp / "serial.log").write_text(serial_log)
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
    assert planned == stages_of(BATCHES)
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
    assert set(final.restored) == stages_of(BATCHES)
    assert "train" not in final.others  # restored too: the planning job pushed it
    assert {"window", "evaluate", "drift"} <= set(final.others)
    assert backfill["check"].returncode == 0, backfill["check"].stderr


def test_the_final_locks_and_metrics_are_byte_identical_to_a_serial_build(backfill):
    final, serial = backfill["final"], backfill["serial"]
    for name in (*LOCKS, "metrics/evaluate.json", "metrics/drift.json", "metrics/history.csv"):
        assert (final / name).read_bytes() == (serial / name).read_bytes(), name


def test_the_check_fails_on_a_build_that_ran_the_group_stages(backfill):
    log = backfill["tmp"] / "serial.log"
    done = run(backfill["serial"], "driftline", "backfill", "check", str(log), check=False)
    assert done.returncode == 2
    assert "ran 12 group stages instead of restoring them" in done.stderr
