"""Quality estimated from calibrated scores without labels: the band's coverage when the
calibration holds, and the miss when the relation between scores and labels changes."""

import numpy as np
import pytest
from scipy.stats import rankdata

from driftline.monitoring.estimate import _ranks, calibrated, calibration_map, estimate, missed
from driftline.monitoring.quality import quality


def test_ranks_average_ties_as_scipy_does():
    scores = np.array([0.3, 0.1, 0.3, 0.9, 0.1, 0.3])
    assert _ranks(scores).tolist() == rankdata(scores).tolist()


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
    inside = {"roc_auc": 0, "accuracy": 0, "f1": 0}
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
