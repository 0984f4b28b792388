"""Your own data without writing Python, end to end: a fresh clone of the demo, `driftline
init` on a sample of a different dataset (daily weather: will it rain tomorrow?), its batches
ingested, the pipeline reproduced, a retrain, and the pull-request report. Only commands and
config edits, as a user makes them. Real DVC, real git."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import copy_of, registered, run

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]
STATIONS = ["north", "south", "coast"]


def weather_month(month: str, seed: int, warm: float) -> pd.DataFrame:
    """One month of daily readings at three stations; rain tomorrow follows humidity and
    falling pressure. ``warm`` shifts temperature and humidity: the seasonal drift."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(f"{month}-01", periods=pd.Period(month).days_in_month, freq="D")
    rows = []
    for station_index, station in enumerate(STATIONS):
        for _ in range(4):  # four readings a day at each station
            humidity = np.clip(rng.normal(60 + 8 * warm, 15, len(days)), 5, 100)
            pressure = rng.normal(1013 - 2 * station_index, 8, len(days))
            logit = 0.08 * (humidity - 65) - 0.1 * (pressure - 1010)
            rain = rng.random(len(days)) < 1 / (1 + np.exp(-logit))
            rows.append(
                pd.DataFrame(
                    {
                        "date": days.strftime("%Y-%m-%d"),
                        "station": station,
                        "temp_c": np.round(rng.normal(5 + 6 * warm, 4, len(days)), 1),
                        "humidity": np.round(humidity, 1),
                        "pressure_hpa": np.round(pressure, 1),
                        "reading_id": rng.integers(1, 10**6, len(days)),
                        "rain_tomorrow": np.where(rain, "Yes", "No"),
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True).sort_values("date", kind="stable")
    # A few readings with no label yet: dropped by target.missing.
    frame.loc[frame.index[:3], "rain_tomorrow"] = ""
    return frame


def md5s(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def set_window(repo: Path, start: str, end: str) -> None:
    """What a user does in an editor: set train.window in params.yaml."""
    params = repo / "params.yaml"
    text = params.read_text()
    window = text.index("  window:", text.index("\ntrain:"))
    head, tail = text[:window], text[window:]
    tail = tail.replace(tail.split("\n")[1], f'    start: "{start}"', 1)
    tail = tail.replace(tail.split("\n")[2], f'    end: "{end}"', 1)
    params.write_text(head + tail)


@pytest.fixture(scope="module")
def project(committed, tmp_path_factory) -> Path:
    """The demo clone after `driftline init` and four months of weather ingested, reproduced."""
    repo = copy_of(committed, tmp_path_factory.mktemp("own") / "weather")
    incoming = repo.parent / "incoming"
    incoming.mkdir()
    for i, month in enumerate(MONTHS):
        weather_month(month, seed=i, warm=i).to_csv(incoming / f"{month}.csv", index=False)
    said = run(
        repo,
        "driftline",
        "init",
        str(incoming / "2024-01.csv"),
        "--target",
        "rain_tomorrow",
        "--positive",
        "Yes",
        "--classes",
        "dry,rain",
        "--exclude",
        "reading_id",
    ).stdout
    assert "Review, in this order" in said and "contract.yaml" in said
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "driftline init")
    for month in MONTHS:
        ingested = run(repo, "driftline", "ingest", str(incoming / f"{month}.csv"))
        # The inferred categories hold every station and label; dates are no categories.
        assert "unseen categories" not in ingested.stderr, ingested.stderr
    set_window(repo, "2024-01", "2024-02")
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "data", "params.yaml", "dvc.lock", "metrics", "plots")
    run(repo, "git", "add", "reports")
    run(repo, "git", "commit", "-qm", "four months of weather")
    return repo


def test_init_removes_the_demo_and_infers_the_contract(project):
    assert not list((project / "data" / "raw").glob("2013-*"))
    assert not list((project / "metrics" / "batches").glob("2013-*"))
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert "demo" not in params
    assert "batches" not in params
    assert registered(project) == MONTHS
    assert params["target"] == {
        "column": "rain_tomorrow",
        "positive": {"equals": "Yes"},
        "missing": "drop",
        "classes": ["dry", "rain"],
    }
    contract = yaml.safe_load((project / "contract.yaml").read_text())
    assert contract["time"] == "date" and contract["period"] == "month"
    assert contract["columns"]["date"] == {"type": "str", "nullable": False}
    assert contract["columns"]["station"]["categories"] == sorted(STATIONS)
    assert contract["columns"]["rain_tomorrow"] == {
        "type": "str",
        "nullable": True,
        "categories": ["No", "Yes"],
    }
    low, high = contract["columns"]["humidity"]["range"]
    assert low <= 5 and high >= 100  # wider than what the sample held


def test_the_pipeline_runs_on_config_alone(project):
    evaluate = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert evaluate["roc_auc"] > 0.7
    assert json.loads((project / "reports" / "evaluate.json").read_text())["batch"] == "2024-04"
    confusion = json.loads((project / "plots" / "confusion.json").read_text())
    assert {c["actual"] for c in confusion} == {"dry", "rain"}
    meta = json.loads((project / "models" / "meta.json").read_text())
    # Every candidate but the target, the time column and the excluded id, by name.
    assert meta["features"] == {
        "categorical": ["station"],
        "numeric": ["humidity", "pressure_hpa", "temp_c"],
    }
    drift = json.loads((project / "reports" / "drift.json").read_text())
    # 744 reference rows: the statistical tests, whose p-value is named as such.
    assert drift["top_features"]["temp_c"]["test"] == "ks"
    assert "p_value" in drift["top_features"]["temp_c"]
    assert drift["top_features"]["temp_c"]["drifted"]
    header = (project / "metrics" / "history.csv").read_text().splitlines()[0]
    assert "label_drift_score" in header and "prediction_drift_score" in header


def test_make_data_leaves_your_batches_alone(project):
    before = md5s(project / "data" / "raw")
    done = run(project, "driftline", "demo", "materialize")
    assert "no 'demo' block" in done.stdout
    assert md5s(project / "data" / "raw") == before
    assert run(project, "git", "status", "--porcelain").stdout == ""


def test_a_second_init_refuses_and_changes_nothing(project):
    sample = project.parent / "incoming" / "2024-01.csv"
    done = run(
        project, "driftline", "init", str(sample), "--target", "rain_tomorrow",
        "--positive", "Yes", check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "already holds batches of its own (2024-01, 2024-02, 2024-03, 2024-04)" in done.stderr
    assert run(project, "git", "status", "--porcelain").stdout == ""


def test_a_retrain_reaches_a_report_that_reads_drift_the_right_way_round(project, tmp_path):
    repo = copy_of(project, tmp_path / "weather")
    said = run(repo, "driftline", "retrain", "--force").stdout
    assert "train.window: 2024-01..2024-02 -> 2024-03..2024-04" in said
    run(repo, "dvc", "repro")
    report = run(repo, "driftline", "report", "--base", "HEAD").stdout
    assert "train.window.start" in report and "2024-03" in report
    rows = [line for line in report.splitlines() if "| label_drift_score |" in line]
    assert rows, report
    # The metrics hold the drift score, which reads the same way whatever the test; a raw
    # p-value or distance (the two read in opposite directions) stays in the report's data.
    raw = [line for line in report.splitlines() if ".p_value |" in line or ".distance |" in line]
    assert not raw, raw
    assert run(repo, "dvc", "status").stdout.strip().endswith("up to date.")


def test_init_refuses_bad_options_and_changes_nothing(committed, tmp_path):
    repo = copy_of(committed, tmp_path / "demo")
    sample = tmp_path / "sample.csv"
    weather_month("2024-01", seed=0, warm=0).to_csv(sample, index=False)
    for options, message in (
        (["--target", "rain", "--positive", "Yes"], "has no column 'rain' for the target"),
        (["--target", "rain_tomorrow", "--positive", "above: 1"], "compares numbers"),
        (["--target", "rain_tomorrow", "--positive", "Yes", "--time", "when"], "'when'"),
    ):
        done = run(repo, "driftline", "init", str(sample), *options, check=False)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert run(repo, "git", "status", "--porcelain").stdout == ""
