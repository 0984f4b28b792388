"""The paired bootstrap: seeded, centred on the difference, equal to the metrics of the drawn
rows themselves, and its interval covers the true difference about as often as it says."""

import numpy as np
import pytest

from driftline.model.paired_bootstrap import METRICS, metric_values, paired_bootstrap
from driftline.monitoring.quality import SCORE_METRICS


def two_models(n, seed=0, gap=0.1):
    """Labels and two models' scores: the challenger separates the classes ``gap`` better."""
    r = np.random.default_rng(seed)
    y = r.integers(0, 2, n)
    noise = r.random(n)
    champion = np.clip(0.3 * y + 0.7 * noise, 0, 1)
    challenger = np.clip((0.3 + gap) * y + (0.7 - gap) * noise, 0, 1)
    return y, champion, challenger


def test_seeded_output_is_identical_and_another_seed_differs():
    y, a, b = two_models(2_000)
    first = paired_bootstrap(y, a, b, resamples=200, seed=7)
    assert paired_bootstrap(y, a, b, resamples=200, seed=7) == first
    other = paired_bootstrap(y, a, b, resamples=200, seed=8)
    assert other["roc_auc"]["low"] != first["roc_auc"]["low"]
    assert other["roc_auc"]["difference"] == first["roc_auc"]["difference"]


def test_point_values_are_the_quality_metrics_on_all_rows():
    y, a, b = two_models(3_000)
    out = paired_bootstrap(y, a, b, resamples=50)
    assert set(out) == set(METRICS)
    for name in METRICS:
        assert out[name]["champion"] == SCORE_METRICS[name](y, a)
        assert out[name]["challenger"] == SCORE_METRICS[name](y, b)
        assert out[name]["difference"] == out[name]["challenger"] - out[name]["champion"]
        assert out[name]["low"] < out[name]["difference"] < out[name]["high"]
    assert metric_values(y, b) == {name: out[name]["challenger"] for name in METRICS}


def test_each_resample_equals_the_metric_of_the_drawn_rows():
    """The count-weighted computation gives what quality's functions give on the resample."""
    from driftline.model import paired_bootstrap as module

    y, a, b = two_models(700, seed=3)
    b = np.round(b, 2)  # ties, which the AUCs group
    resamples, seed = 30, 11
    rows = np.random.default_rng(seed).integers(0, y.size, size=(resamples, y.size))
    diffs = module._resampled_differences(y, [a, b], METRICS, resamples, seed)
    for m, name in enumerate(METRICS):
        metric = SCORE_METRICS[name]
        expected = [metric(y[r], b[r]) - metric(y[r], a[r]) for r in rows]
        assert diffs[m] == pytest.approx(expected, abs=1e-12)


def test_the_interval_covers_the_true_difference_at_about_its_confidence():
    """Many small samples from one population: the true difference (measured on a huge
    sample) falls inside the 90% interval in roughly 90% of them."""
    y, a, b = two_models(400_000, seed=99, gap=0.03)
    truth = SCORE_METRICS["roc_auc"](y, b) - SCORE_METRICS["roc_auc"](y, a)
    covered = 0
    trials = 60
    for t in range(trials):
        rows = slice(t * 1_000, (t + 1) * 1_000)
        out = paired_bootstrap(
            y[rows], a[rows], b[rows], metrics=["roc_auc"], resamples=300, confidence=0.9, seed=t
        )["roc_auc"]
        covered += out["low"] <= truth <= out["high"]
    assert 0.75 <= covered / trials <= 1.0


def test_the_same_model_twice_differs_by_exactly_zero():
    y, a, _ = two_models(1_000)
    out = paired_bootstrap(y, a, a, resamples=100)
    assert all(out[m]["low"] == out[m]["high"] == out[m]["difference"] == 0 for m in METRICS)


def test_a_single_class_leaves_the_aucs_undefined():
    y = np.zeros(500, dtype="int64")
    out = paired_bootstrap(y, np.linspace(0, 1, 500), np.linspace(0, 0.5, 500), resamples=20)
    assert out["roc_auc"] == {
        "champion": None,
        "challenger": None,
        "difference": None,
        "low": None,
        "high": None,
    }
    assert out["log_loss"]["difference"] < 0  # lower scores on all-negative rows: better


def test_bad_input_is_refused():
    y, a, b = two_models(100)
    with pytest.raises(ValueError, match="one length"):
        paired_bootstrap(y, a, b[:-1])
    with pytest.raises(ValueError, match="confidence"):
        paired_bootstrap(y, a, b, confidence=1.5)
