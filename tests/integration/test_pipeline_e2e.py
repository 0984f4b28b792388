"""End to end, as a newcomer runs it: a fresh copy of the repository, the demo data
materialized, `dvc repro`, then the DVC commands users rely on. Real DVC, real git."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from helpers import SAME_PYTHON_AS_THE_LOCKS, copy_of, run, stages_run

# `dvc exp show` made readable: the columns that changed, less the deps and the metrics
# that go by a file's name (train's, evaluate's and the challenger's share their names), but
# for the two ROC AUCs.
EXP_SHOW = (
    "--only-changed",
    "--drop",
    "Created|.*/",
    "--keep",
    "metrics/(train|evaluate).json:roc_auc",
)


def out(cwd: Path, *args: str) -> str:
    done = run(cwd, *args)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def clone(reproduced, tmp_path_factory) -> Path:
    """A fresh copy where every stage ran and rewrote its outputs (see `reproduced`)."""
    return copy_of(reproduced, tmp_path_factory.mktemp("e2e") / "driftline")


@SAME_PYTHON_AS_THE_LOCKS
def test_fresh_clone_reproduces_the_committed_lock_byte_for_byte(clone, repo_root):
    assert (clone / "dvc.lock").read_bytes() == (repo_root / "dvc.lock").read_bytes()
    # Metrics, plots (PNGs too) and the report were rewritten identically.
    assert out(clone, "git", "status", "--porcelain") == ""
    assert "up to date" in out(clone, "dvc", "status")


def test_every_stage_output_is_present(clone):
    for name in (
        "models/model.pkl",
        "models/meta.json",
        "data/window/train.parquet",
        "data/window/reference.json",
        "data/prepared/2013-06/2013-06.parquet",
        "data/profiles/2013-06/2013-06.json",
        "data/scores/2013-06/2013-06.parquet",
        "metrics/batches/2013-06/2013-06.json",
        "metrics/evaluate.json",
        "metrics/drift.json",
        "metrics/history.csv",
        "metrics/timeline.csv",
        "models/score_profile.json",
        "models/validation.parquet",
        "metrics/challenger.json",
        "reports/promotion.json",
        "reports/evaluate.json",
        "reports/drift.json",
        "plots/history.png",
        "plots/drift_distributions.png",
        "plots/drift_timeline.png",
        "plots/history_rules.png",
        "plots/reliability.png",
        "reports/drift.md",
    ):
        assert (clone / name).stat().st_size > 0, name


def test_a_second_repro_runs_nothing(clone):
    assert stages_run(out(clone, "dvc", "repro")) == set()


def test_metrics_plots_and_dag_are_meaningful(clone):
    shown = json.loads(out(clone, "dvc", "metrics", "show", "--json"))
    metrics = shown[""]["data"]
    evaluate = metrics["metrics/evaluate.json"]["data"]
    assert 0.6 < evaluate["roc_auc"] < 1
    assert json.loads((clone / "reports/evaluate.json").read_text())["batch"] == "2013-06"
    assert json.loads((clone / "reports/drift.json").read_text())["features_tested"] == 15
    assert 0.6 < metrics["metrics/train.json"]["data"]["roc_auc"] < 1
    # What a reviewer diffs: numbers and booleans only, in a table a terminal holds.
    for path, entry in metrics.items():
        values = entry["data"].values()
        assert all(v is None or isinstance(v, bool | int | float) for v in values), path
    table = out(clone, "dvc", "metrics", "show").splitlines()
    assert max(map(len, table)) <= 270, "\n".join(table)  # 268 with concept_drift
    run(clone, "dvc", "plots", "show")
    page = (clone / "dvc_plots" / "index.html").read_text()
    assert "Model quality per batch" in page and "history.png" in page
    assert "Share of drifted features per batch" in page and "history_rules.png" in page
    dag = out(clone, "dvc", "dag", "--md")
    for stage in ("prepare@2013-01", "window", "train", "score@2013-06", "evaluate", "drift"):
        assert stage in dag


def test_push_to_the_default_local_remote(clone):
    run(clone, "dvc", "push")
    remote = clone.parent / "driftline-remote"
    assert any(remote.rglob("*")), "the local remote is empty after dvc push"
    assert "in sync" in out(clone, "dvc", "status", "--cloud")


def test_adding_a_batch_reruns_only_the_new_batch_and_the_summaries(clone):
    incoming = out(clone, "driftline", "demo", "next").split()[0]
    printed = out(clone, "driftline", "ingest", incoming)
    # The indented lines after "Next:" (the log lines go to the same captured output).
    steps = [
        shlex.split(line.split("#")[0]) for line in printed.splitlines() if line.startswith("  ")
    ]
    assert [step[:2] for step in steps] == [
        ["dvc", "repro"],
        ["git", "add"],
        ["git", "commit"],
        ["dvc", "push"],
    ]
    ran = stages_run(out(clone, *steps[0]))
    # Per-batch work for the new batch only; window rewrites identical bytes, so no train.
    assert ran == {"prepare@2013-07", "window", "score@2013-07", "evaluate", "drift"}
    evaluate = json.loads((clone / "reports/evaluate.json").read_text())
    assert evaluate["batch"] == "2013-07" and evaluate["scored_batches"] == 4
    assert json.loads((clone / "reports/drift.json").read_text())["batch"] == "2013-07"
    # Following the printed steps leaves nothing behind: DVC's new .gitignore entries and
    # the per-batch locks are in the printed `git add`.
    run(clone, *steps[1])
    run(clone, *steps[2])
    assert out(clone, "git", "log", "-1", "--format=%s") == "Batch 2013-07\n"
    assert out(clone, "git", "status", "--porcelain") == ""


def test_experiment_reruns_only_what_depends_on_the_changed_param(clone):
    output = out(clone, "dvc", "exp", "run", "-S", "train.hgb.max_iter=30")
    scores = {f"score@2013-0{m}" for m in range(1, 8)}
    # drift reruns too: the prediction-drift reference is the new model's scores.
    assert stages_run(output) == {"train", "evaluate", "drift", "promote"} | scores
    params = out(clone, "dvc", "params", "diff", "--md")
    assert re.search(r"train\.hgb\.max_iter\s*\|\s*100\s*\|\s*30", params), params
    diff = json.loads(out(clone, "dvc", "metrics", "diff", "--json"))
    assert "roc_auc" in diff["metrics/evaluate.json"]
    assert (
        diff["metrics/evaluate.json"]["roc_auc"]["old"]
        != diff["metrics/evaluate.json"]["roc_auc"]["new"]
    )
    assert "max_iter" in out(clone, "dvc", "exp", "show", "--md")
    # The command docs/monitoring.md gives: the changed params and metrics, with the ROC AUCs
    # of validation and the newest batch, as wide as a terminal.
    shown = out(clone, "dvc", "exp", "show", "--md", *EXP_SHOW).splitlines()
    assert "max_iter" in shown[0] and "metrics/evaluate.json:roc_auc" in shown[0]
    assert max(map(len, shown)) <= 250, "\n".join(shown)


def test_retrain_is_a_params_change_that_dvc_repro_promotes(clone):
    # Back to the committed state (the experiment above changed the workspace).
    run(clone, "git", "checkout", "--", ".")
    run(clone, "dvc", "checkout")
    drift = json.loads((clone / "reports/drift.json").read_text())
    assert drift["batch"] == "2013-07" and drift["retrain"] and drift["retrain_reasons"]
    done = out(clone, "driftline", "retrain")
    assert "train.window: 2013-01..2013-03 -> 2013-05..2013-07 (sliding)" in done
    ran = stages_run(out(clone, "dvc", "repro"))
    assert {
        "window",
        "train",
        "evaluate",
        "drift",
        "promote",
        "score@2013-01",
        "score@2013-07",
    } <= ran
    # The model replaced is the champion, compared with the new one on the same rows.
    promotion = json.loads((clone / "reports/promotion.json").read_text())
    assert (promotion["champion"]["last"], promotion["challenger"]["last"]) == (
        "2013-03",
        "2013-07",
    )
    params = out(clone, "dvc", "params", "diff", "--md")
    assert re.search(r"train\.window\.start\s*\|\s*2013-01\s*\|\s*2013-05", params), params
    assert re.search(r"train\.window\.end\s*\|\s*2013-03\s*\|\s*2013-07", params), params
    metrics = json.loads(out(clone, "dvc", "metrics", "diff", "--json"))
    assert "roc_auc" in metrics["metrics/train.json"]
    assert "roc_auc" in metrics["metrics/champion.json"]
    retrain = metrics["metrics/drift.json"]["retrain"]
    assert (retrain["old"], retrain["new"]) == (True, False)
    promoted = json.loads((clone / "reports/drift.json").read_text())
    assert promoted["newest_in_window"] and promoted["retrain_reasons"] == []
    assert "No retraining advised" in out(clone, "driftline", "retrain")
