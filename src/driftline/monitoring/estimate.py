"""Quality estimated from the model's own probabilities, without the labels: what a batch's
ROC AUC, PR AUC, log loss, accuracy, precision, recall, F1 and positive rate should be if the
model's calibrated probabilities are right.

The probabilities come from the scores through the calibration map that ``train`` fits on
the holdout (isotonic, on the scores of the model fit without the holdout: rows that model
never saw; models/meta.json, ``calibration``), and through ``BOOTSTRAP`` more maps fit on
resamples of the holdout, so that the bands hold the map's own uncertainty (a holdout of
15,000 rows moves a month's ROC AUC estimate by about 0.005, more than the label draw does).
Each row is then a coin with its probability: ``DRAWS`` label sets are drawn (a fixed seed),
draw d through map d mod ``BOOTSTRAP``, and each draw's metrics are computed with the model's
own scores, ranking and decision threshold. The estimate is their mean; the bands, the mean
-/+ 1.96 (95%) and 2.576 (99%) of their standard deviation (steadier than the outer
percentiles of 200 draws, which cover about 98% for a stated 99%).

What it assumes, and so cannot see: that P(label | score) is what it was on the holdout. A
change in the features' distribution (covariate shift) moves the scores, and the estimate
follows it. A change in the relation between features and label (concept drift) does not
move the scores: the estimate stays confident and is wrong. The labels, when they land, show
it: a realised ROC AUC or positive rate outside its 99% band is the estimate's own alarm
(``estimate_missed``): the ROC AUC catches a changed ranking, the positive rate a changed
base rate at the same scores.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DRAWS = 200
CHUNK = 20  # draws at a time: memory is CHUNK x rows floats, whatever DRAWS is
BOOTSTRAP = 10  # calibration maps on holdout resamples
Z95, Z99 = 1.959964, 2.575829
METRICS = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "positive_rate",
)
# What the alarm checks: a changed ranking, a changed base rate.
WATCHED = ("roc_auc", "positive_rate")
NAMES = {"roc_auc": "ROC AUC", "positive_rate": "positive rate"}


def _isotonic(scores: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    fitted.fit(np.asarray(scores, dtype="float64"), np.asarray(labels, dtype="float64"))
    return {
        "x": [float(v) for v in fitted.X_thresholds_],
        "y": [float(v) for v in fitted.y_thresholds_],
    }


def calibration_map(scores: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """An isotonic map from score to probability, fit on out-of-sample scores and their
    labels, as the breakpoints ``x`` (scores) and ``y`` (probabilities) of a piecewise-linear
    function (applied with :func:`calibrated`), and ``BOOTSTRAP`` maps fit the same way on
    resamples of the rows (``bootstrap``, drawn with ``seed``)."""
    scores, labels = np.asarray(scores, dtype="float64"), np.asarray(labels, dtype="float64")
    rng = np.random.default_rng(seed)
    resamples = [rng.integers(0, scores.size, scores.size) for _ in range(BOOTSTRAP)]
    return {
        "method": "isotonic, on the holdout's scores by the model fit without it",
        **_isotonic(scores, labels),
        "bootstrap": [_isotonic(scores[i], labels[i]) for i in resamples],
    }


def calibrated(scores: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    """The probabilities the calibration map gives ``scores`` (clipped at its ends)."""
    return np.interp(np.asarray(scores, dtype="float64"), calibration["x"], calibration["y"])


def calibrated_draws(scores: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    """The probabilities of ``scores`` under each bootstrap map, one row per map (float32);
    the one map's alone where the map has no bootstrap (models before it)."""
    maps = calibration.get("bootstrap") or [calibration]
    return np.vstack([calibrated(scores, m) for m in maps]).astype("float32")


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
    """Each of ``METRICS`` estimated from ``probabilities`` (calibrated: one per row, or one
    row per calibration map, :func:`calibrated_draws`), with the model's ``scores`` ranking
    the rows and deciding at ``threshold``: the mean over the draws (``est_<name>``), the 95%
    band (``_low``, ``_high``) and the 99% band (``_low99``, ``_high99``). The AUCs are None
    when no draw holds both classes."""
    # Every row from the highest score down, so that each draw's labels come in the order
    # the ROC and precision-recall curves read them; ``ends``, the last position of each run
    # of tied scores (the curves' thresholds).
    order, ends = _thresholds(np.asarray(scores, dtype="float64"))
    p = np.atleast_2d(np.asarray(probabilities, dtype="float32"))[:, order]
    scores = np.asarray(scores, dtype="float64")[order]
    rows = scores.size
    predicted = scores >= threshold
    sizes = np.diff(ends, prepend=-1).astype("float32")  # rows per run of ties
    clipped = np.clip(scores, np.finfo("float64").eps, 1 - np.finfo("float64").eps)
    loss_if_1, loss_if_0 = -np.log(clipped), -np.log(1 - clipped)
    extra_loss = (loss_if_1 - loss_if_0).astype("float32")
    rng = np.random.default_rng(seed)
    drawn: dict[str, list[float]] = {name: [] for name in METRICS}
    for start in range(0, DRAWS, CHUNK):
        draws = range(start, min(start + CHUNK, DRAWS))
        uniform = rng.random((len(draws), rows), dtype="float32")
        labels = uniform < p[[d % len(p) for d in draws]]  # draws x rows
        del uniform
        positives = labels.sum(axis=1).astype("float64")
        negatives = rows - positives
        both = (positives > 0) & (negatives > 0)
        # Positives at or above each threshold, and within each run of tied scores (float32
        # holds these counts exactly up to 16 million rows).
        hits = np.cumsum(labels, axis=1, dtype="int32")[:, ends].astype("float32")
        gained = hits.copy()
        gained[:, 1:] -= hits[:, :-1]
        # ROC AUC: each negative counts the positives above it, and half of those tied.
        middle = gained * np.float32(-0.5)
        middle += hits
        pairs = np.sum((sizes - gained) * middle, axis=1, dtype="float64")
        drawn["roc_auc"] += list(pairs[both] / (positives[both] * negatives[both]))
        # Average precision: the precision at each threshold, weighted by the recall it adds.
        np.divide(hits, ends + np.float32(1.0), out=middle)
        precision_sum = np.sum(gained * middle, axis=1, dtype="float64")
        drawn["pr_auc"] += list((precision_sum / np.maximum(positives, 1))[both])
        del hits, gained, middle
        chosen = (labels * extra_loss).sum(axis=1, dtype="float64")
        drawn["log_loss"] += list((chosen + loss_if_0.sum()) / rows)
        tp = (labels & predicted).sum(axis=1)
        fp = predicted.sum() - tp
        fn = positives - tp
        drawn["accuracy"] += list((tp + (rows - predicted.sum() - fn)) / max(rows, 1))
        drawn["precision"] += list(_ratio(tp, tp + fp))
        drawn["recall"] += list(_ratio(tp, positives))
        drawn["f1"] += list(_ratio(2 * tp, 2 * tp + fp + fn))
        drawn["positive_rate"] += list(positives / max(rows, 1))
    found = {}
    for name, values in drawn.items():
        if not values:
            found.update(dict.fromkeys(_keys(name)))
            continue
        mean = float(np.mean(values))
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        top = math.inf if name == "log_loss" else 1.0
        found.update(
            zip(
                _keys(name),
                (
                    mean,
                    max(0.0, mean - Z95 * spread),
                    min(top, mean + Z95 * spread),
                    max(0.0, mean - Z99 * spread),
                    min(top, mean + Z99 * spread),
                ),
                strict=True,
            )
        )
    return found


def _keys(name: str) -> tuple[str, ...]:
    return tuple(f"est_{name}{end}" for end in ("", "_low", "_high", "_low99", "_high99"))


def missed(realised: float | None, estimated: dict[str, Any], metric: str = "roc_auc") -> bool:
    """Whether the realised value falls outside the estimate's 99% band: the relation
    between features and label is not what the calibration saw (concept drift)."""
    low, high = estimated.get(f"est_{metric}_low99"), estimated.get(f"est_{metric}_high99")
    if realised is None or low is None or high is None:
        return False
    return not low <= realised <= high


def missed_by(realised: dict[str, Any], estimated: dict[str, Any]) -> list[str]:
    """The ``WATCHED`` metrics whose realised value falls outside its 99% band."""
    return [name for name in WATCHED if missed(realised.get(name), estimated, name)]


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
        said = [
            f"{newest['batch']}'s realised {NAMES[name]} {newest[name]:.4f} is outside the 99% "
            f"band of its estimate from the scores [{newest[f'est_{name}_low99']:.4f}, "
            f"{newest[f'est_{name}_high99']:.4f}]"
            for name in missed_by(newest, newest) or ["roc_auc"]
        ]
        found["reason"] = "concept drift: " + "; ".join(said)
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
