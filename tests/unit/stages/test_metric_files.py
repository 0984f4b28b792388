"""The metric files hold the numbers a reviewer diffs, flat and under one name per measure;
names, ranges, reasons and per-feature detail go to the report JSON beside them, which the
pull-request comment reads. Checked on what the stages' writers return, with no demo data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftline.core.io import rounded
from driftline.model.paired_bootstrap import METRICS
from driftline.monitoring.drift import importance_drift
from driftline.monitoring.estimate import concept_drift
from driftline.monitoring.quality import REVIEWED, quality, reviewed
from driftline.stages.drift import drift_details, drift_metrics, history_rules, with_estimates
from driftline.stages.promote import side
from driftline.tooling import pr_comment


def flat_numbers(metrics: dict[str, Any]) -> bool:
    """Every value a number, a boolean or None (undefined): no string, list or nesting."""
    return all(v is None or isinstance(v, bool | int | float) for v in rounded(metrics).values())


def column(test: str, distance: float, threshold: float = 0.1) -> dict[str, Any]:
    return {
        "test": test,
        "distance": distance,
        "threshold": threshold,
        "drift_score": distance / threshold,
        "drifted": distance >= threshold,
    }


def drift_result() -> tuple[dict[str, Any], dict[str, Any]]:
    """The monitor's result on three columns (two drifted, the model relying mostly on the
    third) and the history rules."""
    columns = {"a": column("wasserstein", 0.5), "b": column("psi", 0.3), "c": column("psi", 0.01)}
    weights = {"a": 0.1, "b": 0.2, "c": 0.7}
    for name, weight in weights.items():
        columns[name]["importance"] = weight
    result = {
        "columns": columns,
        "drifted_columns": ["a", "b"],
        "share_drifted": 2 / 3,
        "dataset_drift": True,
        "share": 0.5,
        "target": column("jensenshannon", 0.02),
        "prediction": column("wasserstein", 0.2),
        **importance_drift(["a", "b"], weights, 0.5),
        "concept": concept_drift([]),
    }
    alarm = {"alarm": True, "status": "alarm", "value": 0.6, "bound": 0.65}
    ok = {"alarm": False, "status": "ok", "value": 0.7, "bound": 0.65}
    rules = {"roc_auc": {"threshold": alarm, "iqr": ok}, "pr_auc": {"threshold": ok, "iqr": ok}}
    return result, rules


def details() -> dict[str, Any]:
    result, rules = drift_result()
    ranked = sorted(result["columns"].items(), key=lambda kv: -kv[1]["drift_score"])
    reasons = ["dataset drift: 2 of 3 features drifted (share 0.67 >= 0.5)"]
    reference = {"batches": ["b1", "b2", "b3"]}
    return drift_details("b5", reference, result, ranked[:2], rules, True, reasons, False)


def test_drift_metrics_are_flat_numbers_and_booleans():
    metrics = drift_metrics(details())
    assert flat_numbers(metrics), metrics
    assert rounded(metrics) == {
        "dataset_drift": True,
        "share_drifted": 0.666667,
        "label_drift_score": 0.2,
        "prediction_drift_score": 2.0,
        "history_alarms": 1,
        "concept_drift": False,
        "retrain": True,
    }


def test_the_drift_report_holds_the_names_reasons_and_per_feature_detail():
    report = details()
    assert (report["batch"], report["reference"]) == ("b5", "b1..b3")
    assert report["retrain_reasons"] == [
        "dataset drift: 2 of 3 features drifted (share 0.67 >= 0.5)"
    ]
    assert list(report["top_features"]) == ["a", "b"]
    assert report["top_features"]["a"] == {
        "rank": 1,
        "test": "wasserstein",
        "distance": 0.5,
        "drift_score": 5.0,
        "drifted": True,
        "importance": 0.1,
    }
    assert report["history_rules"]["roc_auc"] == {"threshold": True, "iqr": False}
    assert (report["drifted_features"], report["features_tested"]) == (2, 3)
    assert rounded(report["drifted_importance"]) == 0.3 and report["importance_drift"] is False


def test_the_comment_reads_the_reasons_and_top_features_from_the_report():
    report = details()
    drift = pr_comment.drift_section(report)
    assert "Batch `b5` against the training reference `b1..b3`." in drift
    assert "- Dataset drift: **yes, 2 of 3 features drifted (share 0.67)**" in drift
    assert "- Importance drift: **no**, the drifted features carry 0.30 of the model's" in drift
    assert "| 1 | a | wasserstein | 5 | yes | 0.100 |" in drift
    retrain = pr_comment.retrain_section(report)
    assert "Retraining: **advised**." in retrain and f"- {report['retrain_reasons'][0]}" in retrain
    assert "| roc_auc | 🔴 alarm | ok |" in pr_comment.history_rules_section(report)


def test_train_and_evaluate_keep_the_same_reviewed_numbers_of_a_quality_row():
    row = quality(np.array([0, 1, 1, 0, 1]), np.array([0.2, 0.7, 0.4, 0.6, 0.9]), 0.5)
    metrics, rest = reviewed(row)
    assert list(metrics) == [k for k in row if k in REVIEWED] and set(metrics) == set(REVIEWED)
    assert flat_numbers(metrics)
    assert rest == {"predicted_positive_rate": row["predicted_positive_rate"]}


def test_challenger_and_champion_go_by_the_names_train_and_evaluate_use():
    compared = {
        name: {"champion": 0.5, "challenger": 0.6, "difference": 0.1, "low": 0.05, "high": 0.15}
        for name in METRICS
    }
    for model, value in (("challenger", 0.6), ("champion", 0.5)):
        metrics = side(compared, model, 1000)
        assert metrics == {"rows": 1000, **dict.fromkeys(METRICS, value)}
        assert flat_numbers(metrics)
    # The measures both kinds of file hold share one column of `dvc metrics show`.
    assert {"roc_auc", "pr_auc", "log_loss", "rows"} <= set(METRICS) | {"rows"}
    assert {"roc_auc", "pr_auc", "log_loss", "rows"} <= set(REVIEWED)


def test_metric_changes_on_the_new_names_are_marked_the_right_way_round():
    for metric in ("label_drift_score", "prediction_drift_score", "history_alarms"):
        assert pr_comment.Change("metrics/drift.json", metric, 0, 1).verdict.endswith("worse")


def test_rules_on_estimates_take_a_pending_batchs_estimates_and_leave_the_rest():
    history = pd.DataFrame(
        {
            "batch": ["b1", "b2", "b3"],
            "pending": [False, False, True],
            "roc_auc": [0.70, 0.71, None],
            "est_roc_auc": [0.69, 0.70, 0.55],
            "log_loss": [0.5, 0.5, None],
        }
    )
    frame = with_estimates(history, ["roc_auc", "log_loss"])
    assert frame["roc_auc"].tolist() == [0.70, 0.71, 0.55]  # realised where there is one
    assert frame["log_loss"].isna().tolist() == [False, False, True]  # no estimate: stays empty
    assert history["roc_auc"].isna().tolist() == [False, False, True]  # the input untouched
    settings = {"k": 2, "min_history": 2, "history": {"roc_auc": {"higher_is_better": True}}}
    settings["history"]["roc_auc"]["threshold"] = 0.65
    assert history_rules(frame, settings)["roc_auc"]["threshold"]["alarm"]
    assert not history_rules(history, settings)["roc_auc"]["threshold"]["alarm"]
