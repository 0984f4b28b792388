"""Quality estimated from the model's own probabilities, without the labels: what a batch's
ROC AUC, PR AUC, log loss, accuracy, precision, recall and F1 should be if the model's
calibrated probabilities are right.

The probabilities come from the scores through the calibration map that ``train`` fits on
the holdout (isotonic, on the scores of the model fit without the holdout: rows that model
never saw; models/meta.json, ``calibration``). Each row is then a coin with its probability:
``DRAWS`` label sets are drawn from those coins (a fixed seed), and each draw's metrics are
computed with the model's own scores, ranking and decision threshold. The
estimate is their mean; the band, the 2.5th to 97.5th percentiles (95%); the wide band, the
0.5th to 99.5th (99%).

What it assumes, and so cannot see: that P(label | score) is what it was on the holdout. A
change in the features' distribution (covariate shift) moves the scores, and the estimate
follows it. A change in the relation between features and label (concept drift) does not
move the scores: the estimate stays confident and is wrong. The labels, when they land, show
it: a realised value outside the 99% band is the estimate's own alarm (``estimate_missed``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DRAWS = 200
CHUNK = 20  # draws at a time: memory is CHUNK x rows booleans, whatever DRAWS is
BAND = (2.5, 97.5)
METRICS = ("roc_auc", "pr_auc", "log_loss", "accuracy", "precision", "recall", "f1")
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


def _thresholds(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows in descending score order, and the position of the last row of each run of
    equal scores in it: the thresholds of the precision-recall curve."""
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    ends = np.r_[np.flatnonzero(np.diff(ordered)), ordered.size - 1]
    return order, ends


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.where(bottom > 0, top / np.maximum(bottom, 1), 0.0)


def estimate(
    probabilities: np.ndarray, scores: np.ndarray, threshold: float, seed: int
) -> dict[str, Any]:
    """ROC AUC, PR AUC (average precision), log loss, accuracy, precision, recall and F1
    estimated from ``probabilities`` (calibrated, one per row), with the model's ``scores``
    ranking the rows and deciding at ``threshold``: the mean over the draws (``est_<name>``),
    the 95% band (``_low``, ``_high``) and the 99% band (``_low99``, ``_high99``). The AUCs
    are None when no draw holds both classes."""
    p = np.asarray(probabilities, dtype="float64")
    scores = np.asarray(scores, dtype="float64")
    predicted = scores >= threshold
    ranks = _ranks(scores)
    order, ends = _thresholds(scores)
    clipped = np.clip(scores, np.finfo("float64").eps, 1 - np.finfo("float64").eps)
    loss_if_1, loss_if_0 = -np.log(clipped), -np.log(1 - clipped)
    rng = np.random.default_rng(seed)
    drawn: dict[str, list[float]] = {name: [] for name in METRICS}
    for start in range(0, DRAWS, CHUNK):
        labels = rng.random((min(CHUNK, DRAWS - start), p.size)) < p  # draws x rows
        positives = labels.sum(axis=1).astype("float64")
        negatives = p.size - positives
        rank_sums = labels @ ranks
        both = (positives > 0) & (negatives > 0)
        drawn["roc_auc"] += list(
            (rank_sums[both] - positives[both] * (positives[both] + 1) / 2)
            / (positives[both] * negatives[both])
        )
        # Average precision: precision at each threshold, weighted by the recall it adds.
        hits = np.cumsum(labels[:, order], axis=1, dtype="int32")[:, ends].astype("float64")
        precision_at = hits / (ends + 1)
        recall_at = hits / np.maximum(positives, 1)[:, None]
        gained = np.diff(recall_at, axis=1, prepend=0.0)
        drawn["pr_auc"] += list((gained * precision_at).sum(axis=1)[both])
        drawn["log_loss"] += list((labels @ (loss_if_1 - loss_if_0) + loss_if_0.sum()) / p.size)
        tp = (labels & predicted).sum(axis=1)
        fp = predicted.sum() - tp
        fn = positives - tp
        drawn["accuracy"] += list((tp + (p.size - predicted.sum() - fn)) / max(p.size, 1))
        drawn["precision"] += list(_ratio(tp, tp + fp))
        drawn["recall"] += list(_ratio(tp, positives))
        drawn["f1"] += list(_ratio(2 * tp, 2 * tp + fp + fn))
    found = {}
    for name, values in drawn.items():
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


# The estimate's own alarm over the reconciled batches: the newest outside its 99% band, or
# the recent ones outside their 95% band more often than 5% allows (a binomial tail).
RECENT = 10
TAIL = 0.02


def binomial_tail(misses: int, trials: int, rate: float) -> float:
    """P(at least ``misses`` of ``trials`` miss) when each misses with probability ``rate``."""
    return sum(
        math.comb(trials, k) * rate**k * (1 - rate) ** (trials - k)
        for k in range(misses, trials + 1)
    )


def concept_drift(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the estimates stopped being trustworthy, from the batches' rows after the
    window (oldest first, as score@ writes them: realised and estimated side by side).

    It fires when the newest reconciled batch (labels in) has its realised ROC AUC outside
    its estimate's 99% band, or when, of the last ``RECENT`` reconciled batches, so many fall
    outside their 95% band that a 5% miss rate would give at most twice in a hundred
    (``TAIL``). Then the estimates of the batches still pending after it are untrustworthy.
    """
    known = [
        r
        for r in rows
        if not r.get("pending")
        and r.get("roc_auc") is not None
        and r.get("est_roc_auc_low") is not None
    ]
    found: dict[str, Any] = {
        "fired": False,
        "batch": known[-1]["batch"] if known else None,
        "reason": None,
        "misses": 0,
        "of": 0,
        "untrustworthy": [],
    }
    if not known:
        return found
    recent = known[-RECENT:]
    misses = sum(not r["est_roc_auc_low"] <= r["roc_auc"] <= r["est_roc_auc_high"] for r in recent)
    found.update(misses=misses, of=len(recent))
    newest = known[-1]
    if newest.get("estimate_missed"):
        found["reason"] = (
            f"concept drift: {newest['batch']}'s realised ROC AUC {newest['roc_auc']:.4f} is "
            f"outside the 99% band of its estimate from the scores "
            f"[{newest['est_roc_auc_low99']:.4f}, {newest['est_roc_auc_high99']:.4f}]"
        )
    elif misses and binomial_tail(misses, len(recent), 0.05) < TAIL:
        found["reason"] = (
            f"concept drift: {misses} of the last {len(recent)} reconciled batches have their "
            "realised ROC AUC outside the 95% band of the estimate (a 5% miss rate gives that "
            f"{binomial_tail(misses, len(recent), 0.05):.1%} of the time)"
        )
    if found["reason"] is not None:
        after = rows.index(newest) + 1
        found["fired"] = True
        found["untrustworthy"] = [r["batch"] for r in rows[after:] if r.get("pending")]
    return found
