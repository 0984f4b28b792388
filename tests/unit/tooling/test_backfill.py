"""The backfill's plan, in process (docs/backfill.md): the group stages to run, split into
contiguous shards, and the matrix GitHub Actions reads. tests/integration/test_backfill.py
runs the plan with real DVC clones that share one remote."""

from __future__ import annotations

import json

import pytest

from driftline.core.errors import DriftlineError
from driftline.tooling.backfill import address, make_plan, per_group, split
from helpers import group_stages, pipeline_stages

BATCHES = [f"2013-{m:02d}" for m in range(1, 7)]
WINDOW = BATCHES[:3]


# --- the plan (unit) ----------------------------------------------------------------------


def test_a_stage_address_names_its_kind_and_group():
    assert address("score", "2013-04") == "score@2013-04"
    assert per_group("score@2013-04") == ("score", "2013-04")
    assert per_group("promote@2013-04") is None
    assert per_group("train") is None


def test_daily_batches_are_planned_a_quarter_stage_at_a_time():
    days = [f"2013-{m:02d}-{d:02d}" for m in (1, 4, 7) for d in (1, 2, 3)]
    stale = {address("prepare", "2013-Q3"), address("score", "2013-Q2")}
    plan = make_plan(stale, days, days[:3], shards=4, first="2013-04-02")
    assert plan.model == []
    assert plan.shards == [
        [address("score", "2013-Q2")],
        [address("prepare", "2013-Q3"), address("score", "2013-Q3")],
    ]
    retrain = make_plan({address("prepare", "2013-Q1")}, days, days[:3], shards=1)
    assert retrain.model == [address("prepare", "2013-Q1"), "window", "train"]


def test_new_batches_need_no_model_chain_and_keep_prepare_with_score():
    stale = group_stages(BATCHES[3:]) | {"window", "evaluate", "drift"}
    plan = make_plan(stale, BATCHES, WINDOW, shards=2)
    assert plan.model == []
    assert plan.shards == [
        [*sorted(group_stages(["2013-04"])), *sorted(group_stages(["2013-05"]))],
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
    matrix = make_plan(group_stages(BATCHES), BATCHES, WINDOW, shards=4).as_json()
    assert matrix["shards"] == 4 and matrix["stages"] == 12
    assert json.loads(json.dumps(matrix["matrix"]))["include"][0] == {
        "shard": 1,
        "groups": "2013-01 2013-02",
        "stages": " ".join(sorted(group_stages(["2013-01"])))
        + " "
        + " ".join(sorted(group_stages(["2013-02"]))),
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
        make_plan(group_stages(BATCHES), BATCHES, WINDOW, 0)


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
