import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from driftline.core.io import to_json, write_json
from driftline.monitoring.quality import (
    SCORE_METRICS,
    _pr_curve,
    _roc_curve,
    confusion,
    pr_points,
    quality,
    roc_points,
)


def test_quality_by_hand():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.6, 0.4, 0.9])
    q = quality(y, s, 0.5)
    assert q["roc_auc"] == pytest.approx(0.75)
    assert q["accuracy"] == pytest.approx(0.5)  # predictions 0,1,0,1
    assert q["f1"] == pytest.approx(0.5)
    assert q["positive_rate"] == 0.5 and q["predicted_positive_rate"] == 0.5
    assert q["log_loss"] == pytest.approx(skm.log_loss(y, s))
    assert confusion(y, s, 0.5) == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}


def test_single_class_batch_has_no_auc_but_other_metrics():
    q = quality(np.zeros(5), np.linspace(0.1, 0.5, 5), 0.3)
    assert q["roc_auc"] is None and q["pr_auc"] is None and q["accuracy"] == pytest.approx(0.4)


def test_curves_are_thinned_and_keep_the_ends():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    s = rng.random(5000)
    roc = roc_points(y, s)
    assert len(roc) <= 101
    assert roc[0] == {"fpr": 0.0, "tpr": 0.0} and roc[-1] == {"fpr": 1.0, "tpr": 1.0}
    assert len(pr_points(y, s)) <= 101


def sklearn_quality(y, s, threshold):
    """What quality() computed with scikit-learn's metrics before it did without them."""
    pred = (s >= threshold).astype("int64")
    both = np.unique(y).size == 2
    return {
        "rows": int(y.size),
        "roc_auc": float(skm.roc_auc_score(y, s)) if both else None,
        "pr_auc": float(skm.average_precision_score(y, s)) if both else None,
        "log_loss": float(skm.log_loss(y, s, labels=[0, 1])),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "positive_rate": float(y.mean()),
        "predicted_positive_rate": float(pred.mean()),
    }


CASES = [
    ("random", lambda r: (r.integers(0, 2, 20_000), r.random(20_000))),
    ("ties", lambda r: (r.integers(0, 2, 5_000), r.integers(0, 20, 5_000) / 20)),
    ("certain", lambda r: (r.integers(0, 2, 500), r.integers(0, 2, 500).astype("float64"))),
    ("rare", lambda r: ((r.random(3_000) < 0.01).astype("int64"), r.random(3_000) ** 3)),
    ("one class", lambda r: (np.zeros(300, dtype="int64"), r.random(300))),
    ("none predicted", lambda r: (r.integers(0, 2, 300), r.random(300) * 0.4)),
]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[name for name, _ in CASES])
def test_quality_and_curves_equal_scikit_learns_bit_for_bit(name, make):
    y, s = make(np.random.default_rng(len(name)))
    row = quality(y, s, 0.5)
    # scikit-learn has no expected calibration error (tests/unit/monitoring/test_quality.py).
    del row["calibration_error"]
    assert row == sklearn_quality(y, s, 0.5)
    pred = (s >= 0.5).astype("int64")
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    assert confusion(y, s, 0.5) == {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
    if np.unique(y).size == 2:
        fpr, tpr, _ = skm.roc_curve(y, s)
        assert all(map(np.array_equal, _roc_curve(y, s), (fpr, tpr)))
        precision, recall, _ = skm.precision_recall_curve(y, s)
        assert all(map(np.array_equal, _pr_curve(y, s), (precision, recall)))


def test_json_is_sorted_rounded_and_stable(tmp_path):
    data = {"b": 1 / 3, "a": [math.nan, 2.0, np.float64(0.1234567891)], "c": -0.0000001}
    text = to_json(data)
    assert text == to_json(json.loads(text))  # stable under a round trip
    assert list(json.loads(text)) == ["a", "b", "c"]
    assert json.loads(text) == {"a": [None, 2.0, 0.123457], "b": 0.333333, "c": 0.0}
    write_json(tmp_path / "m.json", data)
    assert (tmp_path / "m.json").read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temp file left behind


def test_a_temp_file_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    from driftline.core.io import write_text

    target = tmp_path / "plots" / "drift.png"
    target.parent.mkdir()
    stale = target.parent / ".drift.png.abc123.tmp"  # what SIGKILL mid-write leaves behind
    stale.write_bytes(b"half")
    other = target.parent / ".history.png.abc123.tmp"  # another output's: not ours to touch
    other.write_bytes(b"half")
    write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == [
        ".history.png.abc123.tmp",
        "drift.png",
    ]


@pytest.mark.parametrize(("name", "make"), CASES[:-2], ids=[name for name, _ in CASES[:-2]])
def test_score_metrics_equal_scikit_learns_bit_for_bit(name, make):
    y, s = make(np.random.default_rng(len(name)))
    assert SCORE_METRICS["roc_auc"](y, s) == float(skm.roc_auc_score(y, s))
    assert SCORE_METRICS["pr_auc"](y, s) == float(skm.average_precision_score(y, s))
    assert SCORE_METRICS["log_loss"](y, s) == float(skm.log_loss(y, s, labels=[0, 1]))
    assert SCORE_METRICS["brier"](y, s) == float(skm.brier_score_loss(y, s))
