"""The quality-history rules, against hand-computed bounds and numpy/statistics references."""

import statistics

import numpy as np
import pytest

from driftline.monitoring.history_rules import RULES, check_metric

AUC = [0.80, 0.82, 0.78, 0.81]  # earlier values; the newest is appended per test


def test_hand_computed_bounds_for_a_higher_is_better_metric():
    result = check_metric([*AUC, 0.79], higher_is_better=True, threshold=0.75, k=2)
    # mean 0.8025, population std sqrt(0.000219) = 0.0147902...; Q1 0.795, Q3 0.8125
    assert result["threshold"]["bound"] == 0.75
    assert result["comparative"]["bound"] == pytest.approx(0.78)
    assert result["parametric"]["bound"] == pytest.approx(0.8025 - 2 * 0.0147902, abs=1e-6)
    assert result["iqr"]["bound"] == pytest.approx(0.795 - 1.5 * 0.0175)
    assert result["iqr"]["band"] == pytest.approx([0.76875, 0.83875])
    assert all(r["status"] == "ok" and not r["alarm"] for r in result.values())


def test_parametric_uses_the_population_std_as_the_course_does():
    earlier = [0.61, 0.64, 0.66, 0.7, 0.69]
    result = check_metric([*earlier, 0.5], True, k=2)
    expected = statistics.fmean(earlier) - 2 * statistics.pstdev(earlier)
    assert result["parametric"]["bound"] == pytest.approx(expected)
    assert result["parametric"]["bound"] != pytest.approx(
        statistics.fmean(earlier) - 2 * statistics.stdev(earlier)
    )


def test_each_rule_fires_on_its_own():
    # Below every earlier value, but inside mean - 2 std and the IQR fences.
    only_comparative = check_metric([0.80, 0.70, 0.90, 0.69], True, threshold=0.5)
    assert {r for r, v in only_comparative.items() if v["alarm"]} == {"comparative"}
    # A collapse: below the threshold, every earlier value, the band and the fences.
    collapse = check_metric([*AUC, 0.60], True, threshold=0.7)
    assert all(collapse[rule]["alarm"] for rule in RULES)
    # Only the hard threshold: the history was always poor, the newest is ordinary.
    only_threshold = check_metric([0.60, 0.62, 0.58, 0.61, 0.60], True, threshold=0.65)
    assert {r for r, v in only_threshold.items() if v["alarm"]} == {"threshold"}


def test_iqr_alarm_matches_numpy_percentiles_on_random_histories():
    rng = np.random.default_rng(7)
    for _ in range(200):
        earlier = rng.normal(0.7, 0.05, size=rng.integers(3, 30))
        latest = float(rng.normal(0.7, 0.1))
        q1, q3 = np.percentile(earlier, [25, 75])
        expected = latest < q1 - 1.5 * (q3 - q1)
        assert check_metric([*earlier, latest], True)["iqr"]["alarm"] == expected


def test_only_the_worse_side_alarms():
    better = check_metric([*AUC, 0.99], True, threshold=0.75)
    assert not any(r["alarm"] for r in better.values())
    # For a loss, a jump up is worse, and a drop is better.
    losses = [0.50, 0.52, 0.49, 0.51]
    assert check_metric([*losses, 0.70], False, threshold=0.6)["parametric"]["alarm"]
    worse = check_metric([*losses, 0.70], False, threshold=0.6)
    assert all(worse[rule]["alarm"] for rule in RULES)
    improved = check_metric([*losses, 0.30], False, threshold=0.6)
    assert not any(r["alarm"] for r in improved.values())


def test_too_little_history_is_reported_not_alarmed():
    result = check_metric([0.9, 0.2], True, threshold=0.5, min_history=3)
    assert result["threshold"]["alarm"]  # the threshold needs no history
    for rule in ("comparative", "parametric", "iqr"):
        assert result[rule]["status"] == "insufficient history"
        assert not result[rule]["alarm"]
        assert (result[rule]["points"], result[rule]["needed"]) == (2, 3)


def test_missing_values_are_skipped_and_an_empty_history_has_no_value():
    with_gaps = check_metric([0.8, None, 0.82, float("nan"), 0.78, 0.5], True)
    assert with_gaps["comparative"]["alarm"] and with_gaps["comparative"]["bound"] == 0.78
    empty = check_metric([None, float("nan")], True, threshold=0.7)
    assert {r["status"] for r in empty.values()} == {"no value"}
    assert not any(r["alarm"] for r in empty.values())


def test_no_threshold_turns_that_rule_off():
    assert check_metric([*AUC, 0.1], True)["threshold"] == {"status": "off", "alarm": False}


def test_a_fixed_baseline_keeps_a_slow_decline_from_widening_its_own_bounds():
    # A slow slide from 0.80, 0.005 a batch: each value is barely below the one before.
    slide = [0.80, 0.81, 0.80, 0.795, 0.79, 0.785, 0.78, 0.775, 0.77, 0.765, 0.76]
    every = check_metric(slide, True, k=2.0, min_history=3)
    fixed = check_metric(slide, True, k=2.0, min_history=3, baseline=3)
    # Against every earlier value the band has widened with the slide and keeps up with it...
    assert not every["parametric"]["alarm"] and not every["iqr"]["alarm"]
    # ...against the first three batches after training it is the 0.8033 +- 2 * 0.0047 band.
    assert fixed["parametric"]["band"] == pytest.approx(
        [np.mean(slide[:3]) - 2 * np.std(slide[:3]), np.mean(slide[:3]) + 2 * np.std(slide[:3])]
    )
    assert fixed["parametric"]["alarm"] and fixed["iqr"]["alarm"]
    assert fixed["comparative"]["bound"] == 0.80  # the worst of the baseline, not of all
    # Until the baseline is complete, every earlier value counts.
    assert check_metric(slide[:3], True, baseline=5) == check_metric(slide[:3], True)


def test_a_baseline_of_no_batches_is_refused_not_a_crash():
    from driftline.core.errors import DriftlineError

    with pytest.raises(DriftlineError, match="a baseline of 0 batches leaves nothing"):
        check_metric([0.8, 0.7, 0.6, 0.5], True, baseline=0)
