"""Calibration: the reliability table and the expected calibration error, by hand and on
scores that are calibrated by construction."""

import numpy as np
import pytest

from driftline.monitoring import plots
from driftline.monitoring.quality import calibration_error, quality, reliability


def test_the_reliability_table_by_hand():
    labels = np.array([0, 0, 1, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    table = reliability(labels, scores, bins=2)
    assert table == [
        {"rows": 3, "mean_score": pytest.approx(0.2), "positive_rate": pytest.approx(1 / 3)},
        {"rows": 3, "mean_score": pytest.approx(2.2 / 3), "positive_rate": pytest.approx(2 / 3)},
    ]
    # Each bin's gap, weighted by its rows: (|0.2 - 1/3| + |0.7333 - 0.6667|) / 2
    assert calibration_error(table) == pytest.approx((2 / 15 + 1 / 15) / 2)
    assert reliability([], []) == [] and calibration_error([]) is None


def test_calibrated_scores_have_a_small_error_and_distorted_ones_a_large_one():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 200_000)
    labels = (rng.uniform(0, 1, scores.size) < scores).astype(int)  # P(1 | score) = score
    assert calibration_error(reliability(labels, scores)) < 0.01
    overconfident = np.clip(scores * 1.5 - 0.25, 0, 1)
    assert calibration_error(reliability(labels, overconfident)) > 0.05
    assert quality(labels, scores, 0.5)["calibration_error"] == pytest.approx(
        calibration_error(reliability(labels, scores))
    )


def test_the_reliability_diagram_is_drawn_the_same_each_time(tmp_path):
    table = reliability(np.array([0, 1] * 50), np.linspace(0, 1, 100))
    target = tmp_path / "reliability.png"
    plots.reliability_png({"holdout": (table, calibration_error(table))}, target)
    first = target.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    plots.reliability_png({"holdout": (table, calibration_error(table))}, target)
    assert target.read_bytes() == first
