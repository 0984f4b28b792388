"""Quality estimated from the model's own probabilities, without the labels: what a batch's
ROC AUC, accuracy and F1 should be if the model's calibrated probabilities are right.

The probabilities come from the scores through the calibration map that ``train`` fits on
the holdout (isotonic, on the scores of the model fit without the holdout: rows that model
never saw; models/meta.json, ``calibration``). Each row is then a coin with its probability:
``DRAWS`` label sets are drawn from those coins (a fixed seed), and each draw's ROC AUC,
accuracy and F1 are computed with the model's own ranking and decision threshold. The
estimate is their mean; the band, the 2.5th to 97.5th percentiles (95%); the wide band, the
0.5th to 99.5th (99%).

What it assumes, and so cannot see: that P(label | score) is what it was on the holdout. A
change in the features' distribution (covariate shift) moves the scores, and the estimate
follows it. A change in the relation between features and label (concept drift) does not
move the scores: the estimate stays confident and is wrong. The labels, when they land, show
it: a realised value outside the 99% band is the estimate's own alarm (``estimate_missed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

DRAWS = 200
CHUNK = 20  # draws at a time: memory is CHUNK x rows booleans, whatever DRAWS is
BAND = (2.5, 97.5)
WIDE_BAND = (0.5, 99.5)


def calibration_map(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """An isotonic map from score to probability, fit on out-of-sample scores and their
    labels, as the breakpoints ``x`` (scores) and ``y`` (probabilities) of a piecewise-linear
    function (applied with :func:`calibrated`)."""
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    fitted.fit(np.asarray(scores, dtype="float64"), np.asarray(labels, dtype="float64"))
    return {
        "method": "isotonic, on the holdout's scores by the model fit without it",
        "x": [float(v) for v in fitted.X_thresholds_],
        "y": [float(v) for v in fitted.y_thresholds_],
    }


def calibrated(scores: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    """The probabilities the calibration map gives ``scores`` (clipped at its ends)."""
    return np.interp(np.asarray(scores, dtype="float64"), calibration["x"], calibration["y"])


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks of the scores, ties given their average rank (as ROC AUC counts them)."""
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    ends = np.r_[starts[1:], ordered.size]
    average = (starts + ends + 1) / 2.0  # the mean of ranks start+1 .. end
    ranks = np.empty(scores.size, dtype="float64")
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def estimate(
    probabilities: np.ndarray, scores: np.ndarray, threshold: float, seed: int
) -> dict[str, Any]:
    """ROC AUC, accuracy and F1 estimated from ``probabilities`` (calibrated, one per row),
    with the model's ``scores`` ranking the rows and deciding at ``threshold``: the mean over
    the draws, the 95% band (``_low``, ``_high``) and the 99% band (``_low99``, ``_high99``).
    ROC AUC is None when no draw holds both classes."""
    p = np.asarray(probabilities, dtype="float64")
    scores = np.asarray(scores, dtype="float64")
    predicted = scores >= threshold
    ranks = _ranks(scores)
    rng = np.random.default_rng(seed)
    aucs, accuracies, f1s = [], [], []
    for start in range(0, DRAWS, CHUNK):
        labels = rng.random((min(CHUNK, DRAWS - start), p.size)) < p  # draws x rows
        positives = labels.sum(axis=1).astype("float64")
        negatives = p.size - positives
        rank_sums = labels @ ranks
        both = (positives > 0) & (negatives > 0)
        aucs += list(
            (rank_sums[both] - positives[both] * (positives[both] + 1) / 2)
            / (positives[both] * negatives[both])
        )
        tp = (labels & predicted).sum(axis=1)
        fp = predicted.sum() - tp
        fn = positives - tp
        accuracies += list((tp + (p.size - predicted.sum() - fn)) / max(p.size, 1))
        f1s += list(np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0))
    found = {}
    for name, values in (("roc_auc", aucs), ("accuracy", accuracies), ("f1", f1s)):
        if not values:
            found.update({f"est_{name}": None, f"est_{name}_low": None, f"est_{name}_high": None})
            found.update({f"est_{name}_low99": None, f"est_{name}_high99": None})
            continue
        low, high, low99, high99 = np.percentile(values, [*BAND, *WIDE_BAND])
        found.update(
            {
                f"est_{name}": float(np.mean(values)),
                f"est_{name}_low": float(low),
                f"est_{name}_high": float(high),
                f"est_{name}_low99": float(low99),
                f"est_{name}_high99": float(high99),
            }
        )
    return found


def missed(realised: float | None, estimated: dict[str, Any], metric: str = "roc_auc") -> bool:
    """Whether the realised value falls outside the estimate's 99% band: the relation
    between features and label is not what the calibration saw (concept drift)."""
    low, high = estimated.get(f"est_{metric}_low99"), estimated.get(f"est_{metric}_high99")
    if realised is None or low is None or high is None:
        return False
    return not low <= realised <= high
