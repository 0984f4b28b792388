"""The drift tests against scipy's exact versions and hand-computed values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftline.core.errors import DriftlineError
from driftline.monitoring.drift import (
    chi_square_pvalue,
    column_drift,
    dataset_drift,
    default_test,
    jensen_shannon,
    ks_pvalue,
    psi,
    wasserstein_normed,
    z_test_pvalue,
)
from driftline.monitoring.profile import categorical_profile, numeric_profile, profile_frame

LOW, HIGH, BINS = -10.0, 20.0, 3000  # bin width 0.01
rng = np.random.default_rng(42)


def num(values):
    return numeric_profile(np.asarray(values, dtype="float64"), LOW, HIGH, BINS)


def cat(values):
    return categorical_profile(pd.Series(values, dtype="object"))


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.3, 1.0])
def test_wasserstein_from_histograms_matches_scipy_within_a_bin(shift):
    ref, cur = rng.normal(5, 2, 20000), rng.normal(5 + shift, 2, 20000)
    exact = stats.wasserstein_distance(ref, cur) / np.std(ref)
    # Binning moves each value by at most half a bin (0.005) -> at most 0.01 / std apart.
    assert wasserstein_normed(num(ref), num(cur)) == pytest.approx(exact, abs=0.01 / np.std(ref))


def test_wasserstein_verdicts_no_drift_and_drift():
    ref = rng.normal(5, 2, 20000)
    same = column_drift(num(ref), num(rng.normal(5, 2, 20000)), 20000)
    shifted = column_drift(num(ref), num(rng.normal(5.5, 2, 20000)), 20000)
    assert same["test"] == "wasserstein" and not same["drifted"]
    assert shifted["drifted"]  # W = 0.5 / 2 = 0.25 >= 0.1


def test_jensen_shannon_matches_scipy_and_is_zero_on_itself():
    ref = cat(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    cur = cat(["a"] * 20 + ["b"] * 30 + ["d"] * 50)
    p = np.array([50, 30, 20, 0]) / 100
    q = np.array([20, 30, 0, 50]) / 100
    assert jensen_shannon(ref, cur) == pytest.approx(jensenshannon(p, q), rel=1e-12)
    assert jensen_shannon(ref, ref) == 0.0


def test_ks_from_histograms_agrees_with_exact_scipy():
    ref, cur = rng.normal(0, 1, 800), rng.normal(0.4, 1, 600)
    exact = stats.ks_2samp(ref, cur, method="asymp").pvalue
    approx = ks_pvalue(num(ref), num(cur))
    # Both far below 0.05; the binned statistic can only be smaller by one bin's mass.
    assert approx < 0.05 and exact < 0.05
    assert np.log10(approx) == pytest.approx(np.log10(exact), abs=1.0)
    same = ks_pvalue(num(ref), num(rng.normal(0, 1, 600)))
    assert same > 0.05


def test_chi_square_matches_scipy_when_categories_are_shared():
    ref = cat(["x"] * 60 + ["y"] * 40)
    cur = cat(["x"] * 30 + ["y"] * 70)
    expected = np.array([0.6, 0.4]) * 100
    assert chi_square_pvalue(ref, cur) == pytest.approx(
        stats.chisquare([30, 70], expected).pvalue, rel=1e-9
    )


def test_z_test_by_hand():
    ref = cat(["1"] * 30 + ["0"] * 70)  # share of "0": 0.7
    cur = cat(["1"] * 50 + ["0"] * 50)  # share of "0": 0.5
    pooled = 120 / 200
    z = (0.7 - 0.5) / np.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert z_test_pvalue(ref, cur) == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)


def test_psi_by_hand_on_categories():
    ref = cat(["a"] * 50 + ["b"] * 50)
    cur = cat(["a"] * 80 + ["b"] * 20)
    by_hand = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert psi(ref, cur) == pytest.approx(by_hand, rel=1e-12)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)


def test_psi_on_numbers_flags_a_big_shift_only():
    ref = rng.normal(0, 1, 20000)
    assert psi(num(ref), num(rng.normal(0, 1, 20000))) < 0.1
    assert psi(num(ref), num(rng.normal(1, 1, 20000))) > 0.25


def test_default_test_follows_reference_size_type_and_distinct_values():
    many = num(rng.normal(0, 1, 2000))
    few = num([1, 2, 3, 1, 2] * 10)
    binary = cat(["a", "b"] * 10)
    three = cat(["a", "b", "c"])
    assert default_test(many, 2000) == "wasserstein"
    assert default_test(few, 2000) == "jensenshannon"
    assert default_test(binary, 2000) == "jensenshannon"
    assert default_test(many, 1000) == "ks"
    assert default_test(few, 1000) == "chisquare"
    assert default_test(binary, 1000) == "ztest"
    assert default_test(three, 1000) == "chisquare"


def test_override_sets_test_and_threshold_and_unseen_values_are_counted():
    ref, cur = cat(["a"] * 90 + ["b"] * 10), cat(["a"] * 80 + ["new"] * 20)
    result = column_drift(ref, cur, 5000, {"test": "psi", "threshold": 5.0})
    assert result["test"] == "psi" and result["threshold"] == 5.0 and not result["drifted"]
    assert result["unseen_rows"] == 20
    with pytest.raises(DriftlineError, match="unknown test .nope."):
        column_drift(ref, cur, 5000, {"test": "nope"})


def test_dataset_drift_uses_the_share_of_drifted_columns():
    n = 5000
    ref = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n), "c": ["x"] * n})
    cur = ref.assign(a=ref["a"] + 1.0)  # one of three columns moves
    ranges = {"a": (LOW, HIGH), "b": (LOW, HIGH)}
    p_ref, p_cur = (profile_frame(f, ["c"], ranges, BINS) for f in (ref, cur))
    third = dataset_drift(p_ref, p_cur, ["a", "b", "c"], share=0.5)
    assert third["drifted_columns"] == ["a"]
    assert third["share_drifted"] == pytest.approx(1 / 3)
    assert third["dataset_drift"] is False
    assert dataset_drift(p_ref, p_cur, ["a", "b", "c"], share=0.3)["dataset_drift"] is True
    assert dataset_drift(p_ref, p_ref, ["a", "b", "c"], share=0.3)["drifted_columns"] == []


def test_the_drift_score_puts_distances_and_p_values_on_one_scale():
    from driftline.monitoring.drift import drift_score

    assert drift_score("distance", 0.2, 0.1) == pytest.approx(2)
    assert drift_score("p_value", 0.01, 0.05) == pytest.approx(5)
    assert drift_score("p_value", 0.0, 0.05) == 10.0
    assert drift_score("p_value", 0.5, 0.05) == pytest.approx(0.1)


def test_on_a_small_reference_a_falling_p_value_is_a_rising_drift_score():
    """The trap of issue 15: below 1,000 reference rows the tests give p-values, where smaller
    means more drift. The result names the p-value as such, and its drift score rises."""
    grid = (0.0, 10.0)
    ref = numeric_profile(np.linspace(0, 10, 500), *grid, 100)
    near = numeric_profile(np.linspace(0.2, 10.2, 500), *grid, 100)
    far = numeric_profile(np.linspace(2, 12, 500), *grid, 100)
    mild, strong = column_drift(ref, near, 500), column_drift(ref, far, 500)
    assert mild["test"] == strong["test"] == "ks" and "distance" not in mild
    assert strong["p_value"] < mild["p_value"]
    assert strong["drift_score"] > mild["drift_score"]
    assert strong["drifted"] and not mild["drifted"]


def test_drift_weighted_by_importance_counts_what_the_model_relies_on():
    from driftline.monitoring.drift import importance_drift, monitor

    n = 5000
    ref = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n), "y": [0, 1] * (n // 2)})
    cur = ref.assign(a=ref["a"] + 1.0)  # only a moves
    ranges = {"a": (LOW, HIGH), "b": (LOW, HIGH)}
    p_ref, p_cur = (profile_frame(f, ["y"], ranges, BINS) for f in (ref, cur))
    settings = {"share": 0.5, "importance_share": 0.5}
    # a drifted: one feature of two is half the features, but a small share of importance.
    ignored = monitor(p_ref, p_cur, ["a", "b"], "y", settings, weights={"a": 0.1, "b": 0.9})
    assert ignored["dataset_drift"] is True
    assert ignored["drifted_importance"] == pytest.approx(0.1)
    assert ignored["importance_drift"] is False
    assert ignored["columns"]["a"]["importance"] == 0.1
    relied = monitor(p_ref, p_cur, ["a", "b"], "y", settings, weights={"a": 0.8, "b": 0.2})
    assert relied["importance_drift"] is True and relied["drifted_importance"] == 0.8
    # A model that records no importance: no weighted signal, never firing.
    plain = monitor(p_ref, p_cur, ["a", "b"], "y", settings)
    assert plain["drifted_importance"] is None and plain["importance_drift"] is False
    assert "importance" not in plain["columns"]["a"]
    # The share is inclusive, like drift.share.
    assert importance_drift(["a"], {"a": 0.5, "b": 0.5}, 0.5)["importance_drift"] is True
    assert importance_drift([], {}, 0.5)["importance_drift"] is False
