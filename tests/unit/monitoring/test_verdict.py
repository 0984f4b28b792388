"""The retrain verdict and `driftline retrain`, the params change that applies it."""

import pytest

from driftline.core.config import parse_yaml
from driftline.core.errors import DriftlineError
from driftline.monitoring.estimate import concept_drift
from driftline.monitoring.history_rules import check_metric
from driftline.monitoring.verdict import chosen_rules, verdict
from driftline.tooling.params_text import set_window
from driftline.tooling.retrain import moved_window

BATCHES = [f"2013-{m:02d}" for m in range(1, 9)]


def signal(drifted: bool, distance: float = 0.2) -> dict:
    return {"test": "jensenshannon", "distance": distance, "threshold": 0.1, "drifted": drifted}


def monitor(dataset: bool, target: bool = False, prediction: bool = False) -> dict:
    return {
        "dataset_drift": dataset,
        "drifted_columns": ["temp", "dewp"] if dataset else [],
        "columns": {c: {} for c in ("temp", "dewp", "carrier")},
        "share_drifted": 2 / 3 if dataset else 0.0,
        "share": 0.5,
        "target": signal(target),
        "prediction": signal(prediction),
    }


HEALTHY = {"roc_auc": check_metric([0.80, 0.82, 0.81, 0.80], True, threshold=0.7)}
DECAYED = {"roc_auc": check_metric([0.80, 0.82, 0.81, 0.60], True, threshold=0.7)}
EVERYTHING = {"dataset_drift": True, "label_drift": True, "prediction_drift": True, "rules": "any"}


def test_no_signal_no_retrain():
    assert verdict(monitor(False), HEALTHY, EVERYTHING, False) == (False, [])


def test_every_fired_signal_gives_a_readable_reason():
    retrain, reasons = verdict(monitor(True, True, True), DECAYED, EVERYTHING, False)
    assert retrain
    assert reasons[0] == "dataset drift: 2 of 3 features drifted (share 0.67 >= 0.5)"
    assert reasons[1] == "label drift: jensenshannon distance 0.2000 (threshold 0.1)"
    assert reasons[2] == "prediction drift: jensenshannon distance 0.2000 (threshold 0.1)"
    assert "roc_auc 0.6000 breaks the threshold rule (bound 0.7000)" in reasons
    assert len(reasons) == 3 + 4  # every rule fired on the collapse


def test_the_policy_chooses_which_signals_count():
    quiet = {"dataset_drift": False, "label_drift": False, "prediction_drift": False}
    assert verdict(monitor(True, True, True), DECAYED, {**quiet, "rules": "none"}, False) == (
        False,
        [],
    )
    # Q1 0.805 and Q3 0.815 of 0.80, 0.82, 0.81: the lower fence is 0.805 - 1.5 * 0.01
    retrain, reasons = verdict(monitor(True), DECAYED, {**quiet, "rules": ["roc_auc.iqr"]}, False)
    assert retrain and reasons == ["roc_auc 0.6000 breaks the iqr rule (bound 0.7900)"]


def test_a_batch_inside_the_training_window_never_asks_for_retraining():
    assert verdict(monitor(True, True, True), DECAYED, EVERYTHING, True) == (False, [])


def test_rule_selection_names_rules_or_metric_rules():
    metrics = ["roc_auc", "log_loss"]
    assert len(chosen_rules("any", metrics)) == 8
    assert chosen_rules("none", metrics) == set()
    assert chosen_rules(["iqr", "log_loss.threshold"], metrics) == {
        ("roc_auc", "iqr"),
        ("log_loss", "iqr"),
        ("log_loss", "threshold"),
    }
    with pytest.raises(DriftlineError, match="'pr_auc.iqr'"):
        chosen_rules(["pr_auc.iqr"], metrics)
    with pytest.raises(DriftlineError, match="'median'"):
        chosen_rules(["median"], metrics)


def test_sliding_keeps_the_length_and_expanding_keeps_the_start():
    assert moved_window(BATCHES, "2013-01", "2013-03", "sliding") == ("2013-06", "2013-08")
    assert moved_window(BATCHES, "2013-01", "2013-03", "expanding") == ("2013-01", "2013-08")
    assert moved_window(BATCHES[:2], "2013-01", "2013-01", "sliding") == ("2013-02", "2013-02")
    with pytest.raises(DriftlineError, match="'retrain.window' is 'tumbling'"):
        moved_window(BATCHES, "2013-01", "2013-03", "tumbling")


def test_set_window_changes_two_values_and_keeps_every_comment(repo_root):
    text = (repo_root / "params.yaml").read_text()
    edited = set_window(text, "2013-04", "2013-06")
    params = parse_yaml(edited)
    assert params["train"]["window"] == {"start": "2013-04", "end": "2013-06"}
    assert len(text.splitlines()) == len(edited.splitlines())
    changed = [
        (a, b) for a, b in zip(text.splitlines(), edited.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 2
    for before, after in changed:  # the trailing comment stays
        assert before.split("#", 1)[1:] == after.split("#", 1)[1:]
    assert params == {**parse_yaml(text), "train": params["train"]}


def weighted(carried: float, share: float = 0.5) -> dict:
    """A calm batch's monitor result, but for drift weighted by importance."""
    return {
        **monitor(False),
        "drifted_importance": carried,
        "importance_drift": carried >= share,
        "importance_share": share,
    }


def test_importance_drift_is_a_signal_of_its_own_with_persistence():
    when = {"importance_drift": True, "rules": "none"}
    assert verdict(weighted(0.3), HEALTHY, when, False) == (False, [])
    retrain, reasons = verdict(weighted(0.62), HEALTHY, when, False)
    assert retrain and reasons == [
        "importance drift: the drifted features carry 0.62 of the model's importance (>= 0.5)"
    ]
    assert verdict(weighted(0.62), HEALTHY, {**when, "importance_drift": False}, False) == (
        False,
        [],
    )
    # An earlier batch's row records the verdict: the newest calm, the two before drifted.
    persistent = {**when, "persistence": {"k": 2, "n": 3}}
    earlier = [{**past(False), "importance_drift": True}] * 2
    assert verdict(weighted(0.1), HEALTHY, persistent, False, earlier[:1]) == (False, [])
    retrain, reasons = verdict(weighted(0.1), HEALTHY, persistent, False, earlier)
    assert retrain and reasons == [
        "importance drift: not on the newest batch; on 2 of the last 3 batches (persistence 2 of 3)"
    ]
    # A model without importance (drifted_importance None) gives no such signal.
    assert verdict(monitor(True), HEALTHY, when, False) == (False, [])


def test_concept_drift_is_the_realised_auc_outside_the_estimates_band():
    row = {
        "batch": "b3",
        "roc_auc": 0.61,
        "est_roc_auc_low": 0.71,
        "est_roc_auc_high": 0.73,
        "est_roc_auc_low99": 0.70,
        "est_roc_auc_high99": 0.74,
        "estimate_missed": True,
    }
    when = {"concept_drift": True, "rules": "none"}
    concept = concept_drift([row])
    retrain, reasons = verdict({**monitor(False), "concept": concept}, HEALTHY, when, False)
    assert retrain and reasons == [
        "concept drift: b3's realised ROC AUC 0.6100 is outside the 99% band of its estimate "
        "from the scores [0.7000, 0.7400]"
    ]
    calm = concept_drift([{**row, "roc_auc": 0.72, "estimate_missed": False}])
    assert verdict({**monitor(False), "concept": calm}, HEALTHY, when, False) == (False, [])
    off = {"rules": "none"}
    assert verdict({**monitor(False), "concept": concept}, HEALTHY, off, False)[0] is False


def past(dataset: bool, label: float = 0.5, prediction: float = 0.5) -> dict:
    """An earlier batch's metrics/history.csv row: its drift signals."""
    return {
        "dataset_drift": dataset,
        "label_drift_score": label,
        "prediction_drift_score": prediction,
    }


def test_a_persistence_of_k_of_n_needs_the_signal_on_k_of_the_newest_n_batches():
    when = {**EVERYTHING, "rules": "none", "persistence": {"k": 2, "n": 3}}
    # One drifted batch is not enough, whether it is the newest or an earlier one.
    assert verdict(monitor(True), HEALTHY, when, False, [past(False), past(False)]) == (False, [])
    assert verdict(monitor(False), HEALTHY, when, False, [past(True), past(False)]) == (False, [])
    # Two of the last three: the newest and the one before.
    retrain, reasons = verdict(monitor(True), HEALTHY, when, False, [past(False), past(True)])
    assert retrain and reasons == [
        "dataset drift: 2 of 3 features drifted (share 0.67 >= 0.5); on 2 of the last 3 "
        "batches (persistence 2 of 3)"
    ]
    # Two earlier batches, the newest calm: still persistent, and the reason says so.
    retrain, reasons = verdict(monitor(False), HEALTHY, when, False, [past(True), past(True)])
    assert retrain and reasons == [
        "dataset drift: not on the newest batch; on 2 of the last 3 batches (persistence 2 of 3)"
    ]
    # Only the newest n count: a drifted batch four back is forgotten.
    assert verdict(monitor(True), HEALTHY, when, False, [past(True), past(False), past(False)]) == (
        False,
        [],
    )
    # Fewer earlier batches than n - 1: every one of them counts.
    long = {**when, "persistence": {"k": 4, "n": 5}}
    retrain, reasons = verdict(monitor(True), HEALTHY, long, False, [past(True)] * 3)
    assert retrain and reasons[0].endswith("on 4 of the last 4 batches (persistence 4 of 5)")
    # Label and prediction drift read an earlier batch's drift score: 1 or more is drift.
    retrain, reasons = verdict(
        monitor(False, target=True), HEALTHY, when, False, [past(False, 1.2)]
    )
    assert retrain and reasons == [
        "label drift: jensenshannon distance 0.2000 (threshold 0.1); on 2 of the last 2 "
        "batches (persistence 2 of 3)"
    ]


def test_without_a_persistence_setting_the_newest_batch_alone_decides():
    when = {**EVERYTHING, "rules": "none"}
    many = [past(True, 5.0, 5.0)] * 4
    assert verdict(monitor(False), HEALTHY, when, False, many) == (False, [])
    one = {**when, "persistence": {"k": 1, "n": 1}}
    assert verdict(monitor(True), HEALTHY, one, False, many) == verdict(
        monitor(True), HEALTHY, when, False
    )
