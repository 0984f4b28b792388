"""Correcting and removing a batch (`driftline ingest --replace`, `driftline remove`) in a real
DVC repository: refusals name the problem and change nothing; a replace or a remove reruns only
what depends on that batch; a kill half-way is undone by the next run. On the session's
weather project (2024-01..2024-04, trained on 2024-01..2024-02), so it runs in every fork."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from helpers import ENV, copy_of, registered, run, stages_run
from weather import month_file

from .test_ingest import STAGING, snapshot


def repro(repo: Path) -> str:
    done = run(repo, "dvc", "repro")
    return done.stdout + done.stderr


def corrected(repo: Path, month: str, folder: Path) -> Path:
    """The registered month's raw file with a few readings corrected."""
    frame = pd.read_csv(repo / f"data/raw/{month}/{month}.csv", dtype=str, keep_default_na=False)
    frame.loc[:20, "humidity"] = "55.5"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{month}-corrected.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def untouched(weather_project, tmp_path_factory) -> Path:
    """One copy for the refusals: each checks it changed nothing, so the next finds it as
    it was."""
    return copy_of(weather_project, tmp_path_factory.mktemp("amend") / "repo")


@pytest.fixture
def repo(weather_project, tmp_path) -> Path:
    return copy_of(weather_project, tmp_path / "repo")


def bad_target(repo: Path, folder: Path) -> Path:
    path = corrected(repo, "2024-03", folder)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[3, "rain_tomorrow"] = "yes"  # neither class: Yes / No
    frame.to_csv(path, index=False)
    return path


REFUSALS = {
    "replace an unknown batch": (
        lambda repo, tmp: ["ingest", "--replace", "2024-09", str(corrected(repo, "2024-03", tmp))],
        "no batch named '2024-09' is registered",
    ),
    "replace with rows of another period": (
        lambda repo, tmp: ["ingest", "--replace", "2024-04", str(corrected(repo, "2024-03", tmp))],
        "its rows fall in 2024-03, but batch 2024-04 covers 2024-04",
    ),
    "replace with the same content": (
        lambda repo, tmp: ["ingest", "--replace", "2024-03", "data/raw/2024-03/2024-03.csv"],
        "same content as the registered batch 2024-03: nothing to replace",
    ),
    "replace with a target value that is neither class": (
        lambda repo, tmp: ["ingest", "--replace", "2024-03", str(bad_target(repo, tmp))],
        "'yes'",
    ),
    "replace a batch in the training window": (
        lambda repo, tmp: ["ingest", "--replace", "2024-02", str(corrected(repo, "2024-02", tmp))],
        "batch 2024-02 is in the training window (2024-01..2024-02): replacing it changes the "
        "model. Add --force",
    ),
    "remove an unknown batch": (
        lambda repo, tmp: ["remove", "2023-12"],
        "no batch named '2023-12' is registered",
    ),
    "remove the batch where the window ends": (
        lambda repo, tmp: ["remove", "2024-02", "--force"],
        "batch 2024-02 is where train.window ends (2024-01..2024-02): move the window first",
    ),
    "remove the batch where the window starts": (
        lambda repo, tmp: ["remove", "2024-01", "--force"],
        "batch 2024-01 is where train.window starts",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_replace_or_remove_names_the_problem_and_changes_nothing(
    untouched, tmp_path, case
):
    command, said = REFUSALS[case]
    before = snapshot(untouched)
    done = run(untouched, "driftline", *command(untouched, tmp_path), check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr and "nothing was changed" in done.stderr
    assert snapshot(untouched) == before


def test_a_replace_reruns_that_batchs_stages_and_the_summaries_only(repo, tmp_path):
    old = pd.read_csv(repo / "metrics/history.csv", dtype={"batch": str}).set_index("batch")
    done = run(
        repo,
        "driftline",
        "ingest",
        "--replace",
        "2024-03",
        str(corrected(repo, "2024-03", tmp_path)),
    )
    assert "Replaced batch 2024-03 (2024-03)" in done.stdout
    assert "reruns prepare@2024-03 and score@2024-03, then the summaries" in done.stdout
    assert registered(repo) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    stages = stages_run(repro(repo))
    assert {"prepare@2024-03", "score@2024-03", "evaluate", "drift"} <= stages
    assert not stages & {"train", "prepare@2024-04", "score@2024-04", "prepare@2024-01"}
    new = pd.read_csv(repo / "metrics/history.csv", dtype={"batch": str}).set_index("batch")
    assert new.loc["2024-04"].equals(old.loc["2024-04"])  # another batch's row: as it was
    assert not new.loc["2024-03"].equals(old.loc["2024-03"])  # its own: from the new data
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_a_remove_drops_the_batch_its_group_stages_and_its_lock_entries(repo):
    done = run(repo, "driftline", "remove", "2024-03")
    assert "Removed batch 2024-03 (2024-03), and its group 2024-03" in done.stdout
    assert registered(repo) == ["2024-01", "2024-02", "2024-04"]
    assert not (repo / "data/raw/2024-03.dvc").exists()
    assert not (repo / "data/raw/2024-03").exists()
    stages = stages_run(repro(repo))
    assert not {s for s in stages if "@" in s}  # no group stage runs
    assert "@2024-03" not in (repo / "dvc.lock").read_text()  # as a fresh build writes it
    history = pd.read_csv(repo / "metrics/history.csv", dtype={"batch": str})
    assert history["batch"].tolist() == ["2024-04"]
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_a_window_batch_replaced_with_force_is_a_retrain_the_gate_judges(repo, tmp_path):
    fixed = corrected(repo, "2024-02", tmp_path)
    done = run(repo, "driftline", "ingest", "--replace", "2024-02", str(fixed), "--force")
    assert "champion: the model of 2024-01..2024-02 is kept in models/champion/" in done.stdout
    assert (repo / "models/champion/model.pkl").read_bytes() == (
        repo / "models/model.pkl"
    ).read_bytes()
    stages = stages_run(repro(repo))
    assert {"prepare@2024-02", "window", "train", "promote"} <= stages
    assert "prepare@2024-01" not in stages
    report = (repo / "reports/promotion.json").read_text()
    assert '"champion"' in report


def test_a_remove_killed_half_way_is_undone_by_the_next_run(repo):
    before = snapshot(repo)
    env = {**ENV, "DRIFTLINE_FAILPOINT": "amend-moved"}
    done = subprocess.run(
        ["driftline", "remove", "2024-03"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert not (repo / "data/raw/2024-03/2024-03.csv").exists()  # set aside, half-done
    # Any later ingest, replace or remove undoes it first: here a dry run of a new month.
    later = run(
        repo, "driftline", "ingest", "--dry-run", str(month_file(repo.parent / "in", "2024-05"))
    )
    assert "undid an interrupted remove of 2024-03" in later.stderr
    assert not any((repo / STAGING).glob("batch-*"))
    assert snapshot(repo) == before
