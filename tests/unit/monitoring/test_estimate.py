"""Quality estimated from calibrated scores without labels: the band's coverage when the
calibration holds, and the miss when the relation between scores and labels changes."""

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from driftline.monitoring import estimate as module
from driftline.monitoring.estimate import (
    binomial_tail,
    calibrated,
    calibrated_draws,
    calibration_map,
    concept_drift,
    estimate,
    missed,
    missed_by,
)
from driftline.monitoring.quality import quality


def test_the_calibration_map_undoes_a_distortion_of_the_scores():
    rng = np.random.default_rng(1)
    truth = rng.uniform(0, 1, 50_000)
    labels = (rng.uniform(0, 1, truth.size) < truth).astype(int)
    scores = truth**2  # ranks right, probabilities too low
    mapping = calibration_map(scores, labels)
    assert np.all(np.diff(mapping["y"]) >= 0)  # monotone
    assert np.abs(calibrated(scores, mapping) - truth).mean() < 0.03


def batch(seed: int, rows: int = 2000, flipped: bool = False):
    """Calibrated scores, and labels drawn from them (or from the opposite relation)."""
    rng = np.random.default_rng(seed)
    scores = rng.beta(2, 5, rows)
    truth = 1 - scores if flipped else scores
    return scores, (rng.uniform(0, 1, rows) < truth).astype(int)


def test_when_the_calibration_holds_the_95_percent_band_covers_the_realised_value():
    inside = dict.fromkeys(["roc_auc", "pr_auc", "log_loss", "accuracy", "f1"], 0)
    trials = 40
    for seed in range(trials):
        scores, labels = batch(seed)
        found = estimate(scores, scores, 0.3, seed=1000 + seed)
        realised = quality(labels, scores, 0.3)
        for name in inside:
            inside[name] += found[f"est_{name}_low"] <= realised[name] <= found[f"est_{name}_high"]
        assert not missed(realised["roc_auc"], found)
    for name, count in inside.items():
        assert count / trials >= 0.85, (name, count)  # 95% stated, 40 trials


def test_concept_drift_leaves_the_estimate_confident_and_wrong_and_the_labels_say_so():
    scores, labels = batch(7, flipped=True)  # the same scores, the opposite relation
    found = estimate(scores, scores, 0.3, seed=7)
    realised = quality(labels, scores, 0.3)["roc_auc"]
    assert found["est_roc_auc_high"] - found["est_roc_auc_low"] < 0.05  # confident
    assert realised < 0.4 < found["est_roc_auc_low99"]  # and wrong
    assert missed(realised, found)
    assert not missed(None, found)  # no labels, no verdict


def test_the_same_seed_gives_the_same_estimate_and_one_class_has_no_auc():
    scores, _ = batch(3, rows=500)
    assert estimate(scores, scores, 0.3, seed=5) == estimate(scores, scores, 0.3, seed=5)
    none = estimate(np.zeros(100), np.linspace(0, 1, 100), 0.3, seed=5)
    # Every label 0, 70 of 100 rows at or above the threshold: accuracy 0.3 in every draw.
    assert none["est_roc_auc"] is None and none["est_accuracy"] == pytest.approx(0.3)


def test_each_draw_computes_what_scikit_learn_computes_on_its_labels(monkeypatch):
    """One draw: the estimate is that draw's metrics, so each must equal scikit-learn's on
    the same labels (ties among the scores included)."""
    monkeypatch.setattr(module, "DRAWS", 1)
    monkeypatch.setattr(module, "CHUNK", 1)
    rng = np.random.default_rng(11)
    scores = np.round(rng.beta(2, 5, 3000), 2)  # many ties
    found = estimate(scores, scores, 0.3, seed=4)
    # The labels are drawn with the rows in descending score order (ties kept in row order).
    order = np.argsort(-scores, kind="stable")
    uniform = np.random.default_rng(4).random((1, scores.size), dtype="float32")[0]
    labels = np.empty(scores.size, dtype=bool)
    labels[order] = uniform < scores.astype("float32")[order]
    predicted = scores >= 0.3
    assert found["est_roc_auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert found["est_pr_auc"] == pytest.approx(average_precision_score(labels, scores))
    assert found["est_log_loss"] == pytest.approx(log_loss(labels, scores))
    assert found["est_precision"] == pytest.approx(precision_score(labels, predicted))
    assert found["est_recall"] == pytest.approx(recall_score(labels, predicted))


def reconciled(batch: str, realised: float | None, low: float = 0.70, high: float = 0.74):
    """A batch's row after the window: realised ROC AUC beside its estimate's bands."""
    return {
        "batch": batch,
        "pending": realised is None,
        "roc_auc": realised,
        "est_roc_auc_low": low,
        "est_roc_auc_high": high,
        "est_roc_auc_low99": low - 0.01,
        "est_roc_auc_high99": high + 0.01,
        "estimate_missed": None if realised is None else not low - 0.01 <= realised <= high + 0.01,
    }


def test_concept_drift_fires_on_a_wide_miss_and_flags_the_pending_batches_after_it():
    rows = [reconciled("a", 0.72), reconciled("b", 0.60), reconciled("c", None)]
    found = concept_drift(rows)
    assert found["fired"] and found["batch"] == "b" and found["untrustworthy"] == ["c"]
    assert "b's realised ROC AUC 0.6000" in found["reason"]
    # The newest reconciled batch inside its band: no alarm, nothing untrustworthy.
    calm = concept_drift([reconciled("a", 0.60), reconciled("b", 0.72), reconciled("c", None)])
    assert not calm["fired"] and calm["untrustworthy"] == [] and calm["misses"] == 1
    # Nothing reconciled yet: nothing to judge.
    assert concept_drift([reconciled("a", None)]) == {
        "fired": False,
        "batch": None,
        "reason": None,
        "misses": 0,
        "of": 0,
        "untrustworthy": [],
    }


def test_concept_drift_fires_when_the_95_band_misses_more_often_than_5_percent_allows():
    # Each miss is inside the 99% band (0.745) but outside the 95% one (0.74).
    near = [reconciled(f"m{i}", 0.745) for i in range(3)]
    fine = [reconciled(f"f{i}", 0.72) for i in range(7)]
    assert binomial_tail(3, 10, 0.05) < 0.02 < binomial_tail(2, 10, 0.05)
    found = concept_drift([*fine, *near, reconciled("p", None)])
    assert found["fired"] and found["misses"] == 3 and found["untrustworthy"] == ["p"]
    assert not concept_drift([*fine, *near[:2]])["fired"]  # 2 of 9: within chance


def test_the_bands_hold_the_maps_own_uncertainty_and_the_alarm_sees_a_new_base_rate():
    rng = np.random.default_rng(3)
    truth = rng.beta(2, 5, 3000)
    mapping = calibration_map(truth, rng.random(truth.size) < truth, seed=1)
    assert len(mapping["bootstrap"]) == module.BOOTSTRAP
    scores = rng.beta(2, 5, 20_000)
    one = estimate(calibrated(scores, mapping), scores, 0.3, seed=1)
    many = estimate(calibrated_draws(scores, mapping), scores, 0.3, seed=1)

    def width(found: dict, name: str) -> float:
        return found[f"est_{name}_high99"] - found[f"est_{name}_low99"]

    for name in ("roc_auc", "accuracy", "positive_rate"):
        assert width(many, name) > 1.2 * width(one, name), name  # a holdout of 3,000 rows
    # The same scores, a higher base rate (the intercept moved): the ranking holds, the
    # positive rate does not.
    realised = quality(rng.random(scores.size) < np.clip(scores + 0.2, 0, 1), scores, 0.3)
    assert "positive_rate" in missed_by(realised, many)
    calm = quality(rng.random(scores.size) < scores, scores, 0.3)
    assert missed_by(calm, many) == []
