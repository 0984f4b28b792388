"""Labels that arrive later, in a real DVC repository: a batch ingested without its target is
prepared, scored and checked for drift at once, its quality estimated and marked pending;
`driftline ingest --labels FILE` attaches the labels by key, refusing (with nothing changed)
what cannot be right; `dvc repro` then reruns that batch's group stages and the summaries
only, and the history holds the realised metrics beside the estimate. On the session's
weather project with a labels block in its contract, so it runs in every fork."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from driftline.core.config import parse_yaml
from driftline.tooling.params_text import set_window
from helpers import ENV, copy_of, run, stages_run
from weather import month_file

from .test_ingest import snapshot

KEY = ["date", "station", "reading_id"]
TARGET = "rain_tomorrow"
MONTH = "2024-05"


def split(whole: Path, folder: Path) -> tuple[Path, Path]:
    """A month as it arrives (no target column) and its labels as they land later."""
    frame = pd.read_csv(whole, dtype=str, keep_default_na=False)
    folder.mkdir(parents=True, exist_ok=True)
    arrived, labels = folder / f"{MONTH}.csv", folder / f"{MONTH}-labels.csv"
    frame.drop(columns=[TARGET]).to_csv(arrived, index=False)
    frame[[*KEY, TARGET]].to_csv(labels, index=False)
    return arrived, labels


@pytest.fixture(scope="module")
def pending_project(weather_project, tmp_path_factory) -> Path:
    """The weather project whose contract allows pending batches, with 2024-05 ingested
    without its labels, reproduced and committed; its labels file beside it."""
    repo = copy_of(weather_project, tmp_path_factory.mktemp("labels") / "repo")
    contract = parse_yaml((repo / "contract.yaml").read_text())
    contract["labels"] = {"pending": "allow", "key": KEY, "later": [TARGET]}
    (repo / "contract.yaml").write_text(yaml.safe_dump(contract, sort_keys=False))
    # data/incoming is ignored by git: the files travel with each copy, untracked.
    arrived, _ = split(month_file(repo.parent / "whole", MONTH), repo / "data/incoming")
    said = run(repo, "driftline", "ingest", str(arrived))
    assert f"{MONTH} pending labels" in said.stdout, said.stdout
    assert "pending labels (driftline ingest --labels FILE attaches them)" in said.stderr
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "a month pending labels")
    return repo


@pytest.fixture(scope="module")
def untouched(pending_project, tmp_path_factory) -> Path:
    """One copy for the refusals: each checks it changed nothing."""
    return copy_of(pending_project, tmp_path_factory.mktemp("refusals") / "repo")


@pytest.fixture
def repo(pending_project, tmp_path) -> Path:
    return copy_of(pending_project, tmp_path / "repo")


def labels_of(repo: Path) -> Path:
    return repo / "data/incoming" / f"{MONTH}-labels.csv"


def history(repo: Path) -> pd.DataFrame:
    return pd.read_csv(repo / "metrics/history.csv", dtype={"batch": str}).set_index("batch")


def test_a_pending_batch_is_scored_estimated_and_its_label_drift_unavailable(pending_project):
    row = history(pending_project).loc[MONTH]
    assert bool(row["pending"]) and pd.isna(row["roc_auc"]) and pd.isna(row["f1"])
    for name in ("roc_auc", "pr_auc", "log_loss", "accuracy", "precision", "recall", "f1"):
        assert 0 <= row[f"est_{name}"] <= (10 if name == "log_loss" else 1), name
    assert row["est_roc_auc_low"] <= row["est_roc_auc"] <= row["est_roc_auc_high"]
    assert 0 <= row["share_drifted"] <= 1 and pd.isna(row["label_drift_score"])
    drift = json.loads((pending_project / "reports/drift.json").read_text())
    assert drift["batch"] == MONTH and drift["newest_pending"] and drift["target_drift"] is None
    assert drift["rules_on"] == "realised" and set(drift["early_warning"]) == set(
        drift["history_rules"]
    )
    metrics = json.loads((pending_project / "metrics/drift.json").read_text())
    assert metrics["label_drift_score"] is None  # unavailable, not zero
    report = (pending_project / "reports/drift.md").read_text()
    assert "Label drift (`target`): not available (pending labels)" in report
    assert "**pending labels**: these are estimates" in report
    assert "Early warning, on the newest batch's estimates" in report
    # The newest batch with labels is what evaluate's metrics and curves describe.
    evaluated = json.loads((pending_project / "reports/evaluate.json").read_text())
    assert evaluated["batch"] == "2024-04" and evaluated["pending_batches"] == [MONTH]
    assert "up to date" in run(pending_project, "dvc", "status").stdout


def relabelled(repo: Path, tmp: Path, change) -> Path:
    frame = pd.read_csv(labels_of(repo), dtype=str, keep_default_na=False)
    path = tmp / "labels.csv"
    change(frame).to_csv(path, index=False)
    return path


def with_value(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    frame.loc[5, column] = value
    return frame


REFUSALS = {
    "a label for an unknown row": (
        lambda f: with_value(f, "reading_id", "1000001"),
        "names no row of the batch (1 such row(s))",
    ),
    "a key labelled twice": (
        lambda f: pd.concat([f, f.iloc[[7]]], ignore_index=True),
        "is labelled twice; a row gets one label",
    ),
    "a value that is neither class": (
        lambda f: with_value(f, TARGET, "yes"),
        "column 'rain_tomorrow', row 7: must be a class of params.yaml's target",
    ),
    "a file that labels part of the batch": (
        lambda f: f.iloc[:-10],
        "10 would stay unlabelled. Give every row its label, or accept a partial labelling",
    ),
    "a file without the target's column": (
        lambda f: f.drop(columns=[TARGET]),
        "missing column(s) rain_tomorrow: a labels file holds the key",
    ),
    "a column that is neither key nor label": (
        lambda f: f.assign(humidity="50"),
        "unexpected column(s) humidity",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_labels_name_the_problem_and_change_nothing(untouched, tmp_path, case):
    change, said = REFUSALS[case]
    before = snapshot(untouched)
    path = relabelled(untouched, tmp_path, change)
    done = run(untouched, "driftline", "ingest", "--labels", str(path), check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr and "nothing was changed" in done.stderr, done.stderr
    assert snapshot(untouched) == before


def test_labels_of_a_batch_that_is_not_pending_are_refused(untouched, tmp_path):
    before = snapshot(untouched)
    labelled = pd.read_csv(untouched / "data/raw/2024-04/2024-04.csv", dtype=str)
    path = tmp_path / "april.csv"
    labelled[[*KEY, TARGET]].to_csv(path, index=False)
    done = run(untouched, "driftline", "ingest", "--labels", str(path), check=False)
    assert done.returncode == 2
    assert "its rows are batch 2024-04's, which is not pending labels" in done.stderr
    named = run(
        untouched, "driftline", "ingest", "--labels", str(path), "--name", "2024-04", check=False
    )
    assert "batch 2024-04 is not pending labels" in named.stderr
    assert snapshot(untouched) == before


def test_labels_rerun_that_batch_and_the_summaries_and_the_history_holds_both(repo, tmp_path):
    estimated = history(repo).loc[MONTH]
    done = run(repo, "driftline", "ingest", "--labels", str(labels_of(repo)))
    assert f"Labelled batch {MONTH}: " in done.stdout
    assert f"reruns prepare@{MONTH} and score@{MONTH}, then the summaries" in done.stdout
    # The raw file is now the whole month, as ingesting it labelled would have written it.
    whole = month_file(tmp_path / "whole", MONTH)
    expected = pd.read_csv(whole, dtype=str)  # empty and NA both missing
    got = pd.read_csv(repo / f"data/raw/{MONTH}/{MONTH}.csv", dtype=str)
    assert got.equals(expected[got.columns]) and list(got.columns) == list(expected.columns)
    record = parse_yaml((repo / f"data/raw/{MONTH}.dvc").read_text())
    assert record["meta"]["batches"][MONTH]["labels"]["labelled_rows"] == len(expected)
    out = run(repo, "dvc", "repro")
    stages = stages_run(out.stdout + out.stderr)
    assert {f"prepare@{MONTH}", f"score@{MONTH}", "evaluate", "drift"} <= stages
    assert not stages & {"train", "prepare@2024-04", "score@2024-04", "prepare@2024-03"}
    row = history(repo).loc[MONTH]
    assert not bool(row["pending"]) and 0 < row["roc_auc"] <= 1
    # The estimate is the scores' alone: the labels change only the rows target.missing drops.
    assert abs(row["est_roc_auc"] - estimated["est_roc_auc"]) < 0.05
    assert json.loads((repo / "reports/evaluate.json").read_text())["batch"] == MONTH
    drift = json.loads((repo / "reports/drift.json").read_text())
    assert drift["target_drift"] is not None and drift["concept_drift"]["batch"] == MONTH
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_a_partial_labelling_is_accepted_with_its_reason(repo, tmp_path):
    path = relabelled(repo, tmp_path, lambda f: f.iloc[:-10])
    done = run(repo, "driftline", "ingest", "--labels", str(path), "--partial", "lost in transit")
    assert "10 left without one (lost in transit)" in done.stdout
    meta = parse_yaml((repo / f"data/raw/{MONTH}.dvc").read_text())["meta"]["batches"]
    assert meta[MONTH]["labels"]["partial"] == "lost in transit"
    assert meta[MONTH]["labels"]["unlabelled_rows"] == 10
    run(repo, "dvc", "repro")
    row = history(repo).loc[MONTH]
    labelled = pd.read_csv(labels_of(repo), dtype=str, keep_default_na=False).iloc[:-10]
    assert row["rows"] == (labelled[TARGET] != "").sum()  # empty targets dropped


def test_a_retrain_ends_the_window_before_the_pending_batch(repo):
    done = run(repo, "driftline", "retrain", "--force")
    assert "the window ends at 2024-04, the newest labelled batch: 2024-05 pending" in done.stdout
    window = parse_yaml((repo / "params.yaml").read_text())["train"]["window"]
    assert window["end"] == "2024-04"


def test_a_window_over_a_pending_batch_is_refused_by_the_window_stage(repo):
    params = repo / "params.yaml"
    params.write_text(set_window(params.read_text(), "2024-01", MONTH))
    done = run(repo, "dvc", "repro", check=False)
    assert done.returncode != 0
    assert f"train.window holds {MONTH}, pending labels" in done.stdout + done.stderr


def test_labels_killed_half_way_are_undone_by_the_next_run(repo):
    before = snapshot(repo)
    done = subprocess.run(
        ["driftline", "ingest", "--labels", str(labels_of(repo))],
        cwd=repo,
        env={**ENV, "DRIFTLINE_FAILPOINT": "amend-moved"},
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    later = run(
        repo,
        "driftline",
        "ingest",
        "--labels",
        str(labels_of(repo)),
        "--name",
        "2024-04",
        check=False,
    )
    assert f"undid an interrupted labels of {MONTH}" in later.stderr
    assert snapshot(repo) == before


def test_labels_after_a_retrain_give_the_outgoing_model_its_realised_row(repo):
    """The model serving on arrival keeps the batch in the timeline: when a retrain came
    before the labels, its archived row gets the realised quality beside its estimate."""
    run(repo, "driftline", "retrain", "--force")
    run(repo, "dvc", "repro")
    served = pd.read_csv(repo / "models/served.csv", dtype={"batch": str}).set_index("batch")
    assert bool(served.loc[MONTH, "pending"]) and pd.isna(served.loc[MONTH, "roc_auc"])
    done = run(repo, "driftline", "ingest", "--labels", str(labels_of(repo)))
    assert f"timeline: model 2024-01..2024-02, which served {MONTH} on arrival" in done.stdout
    run(repo, "dvc", "repro")
    line = pd.read_csv(repo / "metrics/timeline.csv", dtype={"batch": str}).set_index("batch")
    row = line.loc[MONTH]
    assert row["model"] == "2024-01..2024-02" and not bool(row["pending"])
    assert 0 < row["roc_auc"] <= 1 and 0 < row["est_roc_auc"] <= 1
    current = history(repo).loc[MONTH]  # the new model's own row, realised too
    assert not bool(current["pending"]) and 0 < current["roc_auc"] <= 1
