"""The model's importance of each feature: permutation importance on rows the model was not
fit on, turned into weights that drift weighted by importance uses."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from driftline.model import importance


def rows(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The label follows `signal`; `noise` is unrelated to it."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n)})
    label = (frame["signal"] + rng.normal(scale=0.5, size=n) > 0).astype(int).to_numpy()
    return frame, label


def test_the_feature_the_model_relies_on_carries_nearly_all_the_weight():
    fit_rows, fit_label = rows(2000, 1)
    model = LogisticRegression().fit(fit_rows, fit_label)
    holdout, label = rows(1000, 2)  # rows the model was not fit on
    measured = importance.measure(model, holdout, label, repeats=3, seed=0)
    assert measured["drop"]["signal"] > 0.2  # shuffling it costs much of the ROC AUC
    assert abs(measured["drop"]["noise"]) < 0.01
    assert measured["weights"]["signal"] > 0.95
    assert sum(measured["weights"].values()) == pytest.approx(1)
    assert measured["method"].startswith("permutation on 1000 of the 1000 holdout rows")
    # The same seed, the same figures: the weights are part of models/meta.json.
    assert importance.measure(model, holdout, label, repeats=3, seed=0) == measured
    # On a sample of the rows per repeat: the same order, a noisier measure.
    sampled = importance.measure(model, holdout, label, repeats=3, seed=0, most=400)
    assert sampled["method"].startswith("permutation on 400 of the 1000 holdout rows")
    assert sampled["weights"]["signal"] > 0.9


def test_weights_clip_negative_falls_and_fall_back_to_uniform():
    assert importance.weights({"a": 0.3, "b": 0.1, "c": -0.2}, ["a", "b", "c"]) == {
        "a": pytest.approx(0.75),
        "b": pytest.approx(0.25),
        "c": 0.0,
    }
    assert importance.weights({"a": -0.1, "b": 0.0}, ["a", "b"]) == {"a": 0.5, "b": 0.5}
    assert importance.weights(None, ["a", "b", "c", "d"]) == dict.fromkeys("abcd", 0.25)


def test_a_holdout_of_one_class_gets_uniform_weights_and_says_why():
    fit_rows, fit_label = rows(500, 3)
    model = LogisticRegression().fit(fit_rows, fit_label)
    holdout, _ = rows(100, 4)
    measured = importance.measure(model, holdout, np.zeros(100, dtype=int), repeats=2, seed=0)
    assert measured["drop"] == {}
    assert measured["weights"] == {"signal": 0.5, "noise": 0.5}
    assert "one class" in measured["method"]
