"""The retrain verdict and `driftline retrain`, the params change that applies it. The command
runs on the session's weather project (tests/weather.py): small, and no demo test, so it runs
in every fork."""

import csv
import json
import shutil

import pytest

from driftline.core.config import parse_yaml
from helpers import REGISTRY, copy_of, registered, run
from weather import month_file


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
    before = parse_yaml((project / "params.yaml").read_text())
    done = run(project, "driftline", "retrain")
    after = parse_yaml((project / "params.yaml").read_text())
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
    served = (project / "models/served.csv").read_bytes()
    dry = run(project, "driftline", "retrain", "--dry-run").stdout
    assert "Dry run: params.yaml, models/champion and models/served.csv are unchanged." in dry
    assert not (project / "models/champion/model.pkl").exists()
    assert (project / "models/served.csv").read_bytes() == served
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


def rows(path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_retrain_keeps_every_batch_in_the_timeline_as_its_serving_model_scored_it(
    weather, tmp_path
):
    # The weather model of 2024-01..2024-02 served March and April.
    before = rows(weather / "metrics/history.csv")
    assert [r["batch"] for r in before] == ["2024-03", "2024-04"]
    evaluate_before = json.loads((weather / "metrics/evaluate.json").read_text())
    done = run(weather, "driftline", "retrain").stdout
    assert "timeline: model 2024-01..2024-02's quality on the 2 batches it served is kept" in done
    run(weather, "dvc", "repro")
    # The new model (2024-03..2024-04) has no batch after its window; nothing vanished.
    assert rows(weather / "metrics/history.csv") == []
    old = [{**r, "model": "2024-01..2024-02"} for r in before]
    assert rows(weather / "metrics/timeline.csv") == old
    # metrics/evaluate.json keeps the newest batch as the model that served it scored it, so
    # `dvc metrics diff` shows no evaluate metric removed.
    assert json.loads((weather / "metrics/evaluate.json").read_text()) == evaluate_before
    report = json.loads((weather / "reports/evaluate.json").read_text())
    assert (report["batch"], report["model"], report["scored_batches"]) == (
        "2024-04",
        "2024-01..2024-02",
        0,
    )
    diff = json.loads(run(weather, "dvc", "metrics", "diff", "--json").stdout)
    assert "metrics/evaluate.json" not in diff, diff
    # May arrives: the new model scores it; March and April stay as the old one scored them.
    run(weather, "driftline", "ingest", str(month_file(tmp_path / "in", "2024-05")))
    run(weather, "dvc", "repro")
    timeline = rows(weather / "metrics/timeline.csv")
    assert timeline[:2] == old
    assert [(r["batch"], r["model"]) for r in timeline[2:]] == [("2024-05", "2024-03..2024-04")]
    assert timeline[2] == {**rows(weather / "metrics/history.csv")[0], "model": "2024-03..2024-04"}
    report = json.loads((weather / "reports/evaluate.json").read_text())
    assert (report["batch"], report["model"]) == ("2024-05", "2024-03..2024-04")
