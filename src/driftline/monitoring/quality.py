"""Quality of a binary classifier's scores on one batch: pure functions of labels and scores.

They compute what scikit-learn's metrics compute (``roc_auc_score``,
``average_precision_score``, ``log_loss``, ``brier_score_loss``, ``accuracy_score``,
``f1_score``, ``roc_curve``, ``precision_recall_curve``, ``confusion_matrix``), in the same
order of floating-point operations, with numpy alone: importing scikit-learn costs a stage a
second or more, and ``evaluate`` loads no model.
``tests/unit/core/test_io.py`` checks each against scikit-learn, bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from driftline.core.config import SCORE_METRIC_NAMES

CURVE_POINTS = 101
# Reliability: the scores cut into this many bins of (nearly) equal row counts.
CALIBRATION_BINS = 10
# What the metric files (train, evaluate) keep of a quality row, under the same names in
# each, so that `dvc metrics show` lines them up in one column each and fits a terminal. The
# rest (the predicted positive rate, which follows the decision threshold) goes to the
# reports beside them.
REVIEWED = (
    "rows",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "accuracy",
    "f1",
    "positive_rate",
    "calibration_error",
)


def quality(y_true: np.ndarray, y_score: np.ndarray, threshold: float) -> dict[str, Any]:
    """The per-batch quality row: ROC AUC, PR AUC (average precision), log loss, accuracy,
    F1 and positive rates at the decision ``threshold``, and the calibration error.

    AUCs are ``None`` when the batch holds a single class, where they are undefined.
    """
    y_true = np.asarray(y_true).astype("int64")
    y_score = np.asarray(y_score, dtype="float64")
    y_pred = (y_score >= threshold).astype("int64")
    both = np.unique(y_true).size == 2
    counts = _confusion_counts(y_true, y_pred)
    return {
        "rows": int(y_true.size),
        "roc_auc": _roc_auc(y_true, y_score) if both else None,
        "pr_auc": _average_precision(y_true, y_score) if both else None,
        "log_loss": _log_loss(y_true, y_score),
        "accuracy": float(np.mean(y_true == y_pred)),
        "f1": _f1(counts),
        "positive_rate": float(y_true.mean()),
        "predicted_positive_rate": float(y_pred.mean()),
        "calibration_error": calibration_error(reliability(y_true, y_score)),
    }


def unlabelled_quality(y_score: np.ndarray, threshold: float) -> dict[str, Any]:
    """The quality row of a batch pending labels: its rows and predicted positive rate, every
    metric that needs the labels None (the estimate stands in: driftline.monitoring.estimate)."""
    row = dict.fromkeys(quality(np.array([0, 1]), np.array([0.0, 1.0]), threshold))
    y_score = np.asarray(y_score, dtype="float64")
    row.update(rows=int(y_score.size), predicted_positive_rate=float(np.mean(y_score >= threshold)))
    return row


def reviewed(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A :func:`quality` row split in two: the numbers a reviewer diffs, and the rest."""
    return (
        {k: v for k, v in row.items() if k in REVIEWED},
        {k: v for k, v in row.items() if k not in REVIEWED},
    )


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """ROC AUC (NaN when a class is absent)."""
    return _roc_auc(np.asarray(y_true), np.asarray(y_score, dtype="float64"))


def pr_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """PR AUC: the average precision."""
    return _average_precision(np.asarray(y_true), np.asarray(y_score, dtype="float64"))


def log_loss(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels."""
    return _log_loss(np.asarray(y_true), np.asarray(y_score, dtype="float64"))


def brier(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Brier score: the mean squared difference between label and probability."""
    return float(np.average(row_squared_errors(y_true, y_score)))


# The score metrics by name, and whether a higher value is better.
SCORE_METRICS = dict(zip(SCORE_METRIC_NAMES, (roc_auc, pr_auc, log_loss, brier), strict=True))
HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "log_loss": False, "brier": False}


def roc_points(y_true: np.ndarray, y_score: np.ndarray) -> list[dict[str, float]]:
    """The ROC curve thinned to about ``CURVE_POINTS`` points, for a small plot file."""
    fpr, tpr = _roc_curve(np.asarray(y_true), np.asarray(y_score, dtype="float64"))
    keep = _thin(fpr.size)
    return [{"fpr": float(fpr[i]), "tpr": float(tpr[i])} for i in keep]


def pr_points(y_true: np.ndarray, y_score: np.ndarray) -> list[dict[str, float]]:
    """The precision-recall curve thinned to about ``CURVE_POINTS`` points."""
    precision, recall = _pr_curve(np.asarray(y_true), np.asarray(y_score, dtype="float64"))
    keep = _thin(recall.size)
    return [{"recall": float(recall[i]), "precision": float(precision[i])} for i in keep]


def reliability(
    y_true: np.ndarray, y_score: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """The reliability table: the rows ordered by score and cut into ``bins`` bins of nearly
    equal counts; per bin, its count, mean score and share of positives. A calibrated model's
    mean score matches the share of positives in every bin."""
    y_true = np.asarray(y_true).astype("float64")
    y_score = np.asarray(y_score, dtype="float64")
    if y_true.size == 0:
        return []
    order = np.argsort(y_score, kind="stable")
    return [
        {
            "rows": int(part.size),
            "mean_score": float(y_score[part].mean()),
            "positive_rate": float(y_true[part].mean()),
        }
        for part in np.array_split(order, min(bins, y_true.size))
        if part.size
    ]


def calibration_error(table: list[dict[str, float]]) -> float | None:
    """The expected calibration error: the row-weighted mean gap between mean score and share
    of positives over the reliability table's bins (0 is calibrated; None without rows)."""
    total = sum(b["rows"] for b in table)
    if not total:
        return None
    return float(sum(b["rows"] * abs(b["mean_score"] - b["positive_rate"]) for b in table) / total)


def confusion(y_true: np.ndarray, y_score: np.ndarray, threshold: float) -> dict[str, int]:
    """Counts of true/false positives/negatives at ``threshold``."""
    y_pred = (np.asarray(y_score) >= threshold).astype("int64")
    return _confusion_counts(np.asarray(y_true).astype("int64"), y_pred)


def _confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, int]:
    tn, fp, fn, tp = np.bincount(2 * y_true + y_pred, minlength=4)
    return {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}


def _f1(counts: dict[str, int]) -> float:
    """F1 of the positive class; 0 when there is no positive, true or predicted."""
    actual = float(counts["tp"] + counts["fn"])
    predicted = float(counts["tp"] + counts["fp"])
    return 2.0 * counts["tp"] / (actual + predicted) if actual + predicted else 0.0


def _log_loss(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean negative log-likelihood, probabilities clipped to [eps, 1 - eps]."""
    return float(np.mean(row_log_losses(y_true, y_score)))


def row_log_losses(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """Each row's negative log-likelihood, its probability clipped to [eps, 1 - eps]: the log
    loss is their mean."""
    eps = np.finfo(y_score.dtype).eps
    likelihood = np.where(y_true == 1, y_score, 1 - y_score)
    return -np.log(np.clip(likelihood, eps, 1 - eps))


def row_squared_errors(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """Each row's squared difference between label and probability: the Brier score is their
    mean."""
    return (np.asarray(y_true).astype("float64") - np.asarray(y_score, dtype="float64")) ** 2


def _counts_at_thresholds(y_true: np.ndarray, y_score: np.ndarray):
    """False and true positives with each distinct score, highest first, as the threshold."""
    order = np.argsort(y_score, kind="stable")[::-1]
    y_score, y_true = y_score[order], (y_true[order] == 1).astype("float64")
    last_of_each_score = np.r_[np.flatnonzero(np.diff(y_score)), y_true.size - 1]
    tps = np.cumsum(y_true)[last_of_each_score]
    fps = 1 + last_of_each_score.astype("float64") - tps
    return fps, tps


def _roc_curve(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates from (0, 0) up, without the points inside a straight
    segment (they add no area); NaN rates when a class is absent."""
    fps, tps = _counts_at_thresholds(y_true, y_score)
    if fps.size > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps = fps[keep], tps[keep]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr


def _pr_curve(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall with each distinct score as the threshold, lowest score first,
    ending at precision 1 and recall 0."""
    fps, tps = _counts_at_thresholds(y_true, y_score)
    predicted = tps + fps
    precision = np.where(predicted != 0, np.divide(tps, predicted), 0.0)
    recall = tps / tps[-1] if tps[-1] != 0 else np.full(tps.shape, 1.0)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0]


def _roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    fpr, tpr = _roc_curve(y_true, y_score)
    return float(np.trapezoid(tpr, fpr))


def _average_precision(y_true: np.ndarray, y_score: np.ndarray) -> float:
    precision, recall = _pr_curve(y_true, y_score)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _thin(size: int) -> np.ndarray:
    return np.unique(np.linspace(0, size - 1, min(size, CURVE_POINTS)).round().astype("int64"))
