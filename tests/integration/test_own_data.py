"""Your own data without writing Python, end to end: a fresh clone of the demo, `driftline
init` on a sample of a different dataset (daily weather: will it rain tomorrow?), its batches
ingested, the pipeline reproduced, a retrain, and the pull-request report. Only commands and
config edits, as a user makes them. Real DVC, real git."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from driftline.core.config import parse_yaml
from helpers import copy_of, registered, run
from weather import MONTHS, STATIONS, weather_month


def md5s(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


@pytest.fixture
def project(weather_project, tmp_path) -> Path:
    """The demo clone after `driftline init` and four months of weather ingested, reproduced
    (the session's weather project), a copy to change freely."""
    return copy_of(weather_project.parent, tmp_path / "own") / "driftline"


def test_init_says_what_to_review(weather_project):
    said = (weather_project.parent / "init.log").read_text()
    assert "Review, in this order" in said and "contract.yaml" in said
    # The inferred categories hold every station and label; dates are no categories.
    assert "unseen categories" not in said


def test_init_removes_the_demo_and_infers_the_contract(project):
    assert not list((project / "data" / "raw").glob("2013-*"))
    assert not list((project / "metrics" / "batches").glob("2013-*"))
    params = parse_yaml((project / "params.yaml").read_text())
    assert "demo" not in params
    assert "batches" not in params
    assert registered(project) == MONTHS
    assert params["target"] == {
        "column": "rain_tomorrow",
        "positive": {"equals": "Yes"},
        "negative": ["No"],  # inferred: the sample's other value
        "missing": "drop",
        "classes": ["dry", "rain"],
    }
    contract = parse_yaml((project / "contract.yaml").read_text())
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
    # Drift weighted by importance: the model's permutation importance on its holdout, and
    # the share of it the drifted features carry (all four features are in the top five).
    importance = meta["importance"]
    assert importance["method"].startswith("permutation on ")
    weights = importance["weights"]
    assert set(weights) == {"station", "humidity", "pressure_hpa", "temp_c"}
    assert sum(weights.values()) == pytest.approx(1, abs=1e-5)
    assert max(weights, key=weights.get) in ("humidity", "pressure_hpa")  # what rain follows
    top = drift["top_features"]
    carried = sum(weights[name] for name, r in top.items() if r["drifted"])
    assert drift["drifted_importance"] == pytest.approx(carried, abs=1e-5)
    assert all(top[name]["importance"] == weights[name] for name in top)
    assert "drifted_importance" in header and "importance_drift" in header
    assert (project / "plots" / "drift_timeline.png").read_bytes()[:4] == b"\x89PNG"
    # Calibration: the holdout's in the train metrics, the newest batch's, and the diagram.
    train = json.loads((project / "metrics" / "train.json").read_text())
    assert 0 <= train["calibration_error"] < 0.5 and 0 <= evaluate["calibration_error"] < 0.5
    assert (project / "plots" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    # The estimate without labels beside the realised value, in every row of the history.
    history = pd.read_csv(project / "metrics" / "history.csv")
    assert (history["est_roc_auc_low"] <= history["est_roc_auc"]).all()
    assert (history["est_roc_auc"] <= history["est_roc_auc_high"]).all()
    assert history["estimate_missed"].isin([True, False]).all()
    assert "of the model's importance" in (project / "reports" / "drift.md").read_text()


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
    repo = project
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
