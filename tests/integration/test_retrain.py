"""The retrain verdict and `driftline retrain`, the params change that applies it. The command
runs on the session's weather project (tests/weather.py): small, and no demo test, so it runs
in every fork."""

import json
import shutil

import pytest
import yaml

from helpers import REGISTRY, copy_of, registered, run


@pytest.fixture
def project(tmp_path, repo_root):
    """A folder with the repo's params.yaml and a drift verdict for its newest batch."""
    shutil.copy(repo_root / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / REGISTRY).parent.mkdir()
    shutil.copy(repo_root / REGISTRY, tmp_path / REGISTRY)
    (tmp_path / "reports").mkdir()
    newest = registered(repo_root)[-1]
    write_verdict(tmp_path, newest, True)
    return tmp_path


def write_verdict(folder, batch: str, retrain: bool) -> None:
    reasons = ["dataset drift: 8 of 15 features drifted"] if retrain else []
    (folder / "reports" / "drift.json").write_text(
        json.dumps({"batch": batch, "retrain": retrain, "retrain_reasons": reasons})
    )


@pytest.fixture
def weather(weather_project, tmp_path):
    """A copy of the weather project, reproduced: its model is the one dvc.lock records, and
    its drift verdict on the newest month (2024-04) advises retraining."""
    return copy_of(weather_project, tmp_path / "repo")


def test_retrain_command_moves_the_window_and_says_why(weather):
    project = weather
    before = yaml.safe_load((project / "params.yaml").read_text())
    done = run(project, "driftline", "retrain")
    after = yaml.safe_load((project / "params.yaml").read_text())
    batches = registered(project)
    newest = batches[-1]
    window = before["train"]["window"]
    length = batches.index(window["end"]) - batches.index(window["start"])
    assert after["train"]["window"]["end"] == newest
    assert batches.index(newest) - batches.index(after["train"]["window"]["start"]) == length
    assert "reason: dataset drift" in done.stdout and "(sliding)" in done.stdout
    assert (project / "models/champion/model.pkl.dvc").is_file()
    again = run(project, "driftline", "retrain")  # now already at the newest batch
    assert "already ends at the newest batch" in again.stdout


def test_retrain_command_dry_run_and_not_advised_change_nothing(weather):
    project = weather
    original = (project / "params.yaml").read_bytes()
    dry = run(project, "driftline", "retrain", "--dry-run").stdout
    assert "Dry run: params.yaml and models/champion are unchanged." in dry
    assert not (project / "models/champion/model.pkl").exists()
    newest = registered(project)[-1]
    write_verdict(project, newest, False)
    assert "No retraining advised" in run(project, "driftline", "retrain").stdout
    assert (project / "params.yaml").read_bytes() == original


def test_retrain_refuses_a_model_other_than_the_recorded_one(weather):
    model = weather / "models/model.pkl"
    model.write_bytes(model.read_bytes() + b"\0")
    original = (weather / "params.yaml").read_bytes()
    done = run(weather, "driftline", "retrain", check=False)
    assert done.returncode == 2
    assert "models/model.pkl does not match dvc.lock, so it is not the model serving now" in (
        done.stderr
    )
    assert (weather / "params.yaml").read_bytes() == original
    assert not (weather / "models/champion/model.pkl").exists()


def test_retrain_command_refuses_a_stale_verdict(project):
    original = (project / "params.yaml").read_bytes()
    write_verdict(project, "2013-02", True)
    done = run(project, "driftline", "retrain", check=False)
    assert done.returncode == 2
    assert "is for batch '2013-02'" in done.stderr and "run 'dvc repro' first" in done.stderr
    (project / "reports" / "drift.json").unlink()
    done = run(project, "driftline", "retrain", check=False)
    assert done.returncode == 2 and "reports/drift.json is missing" in done.stderr
    assert (project / "params.yaml").read_bytes() == original
