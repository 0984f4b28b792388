"""Quality of a binary classifier's scores on one batch: pure functions of labels and scores."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

CURVE_POINTS = 101


def quality(y_true: np.ndarray, y_score: np.ndarray, threshold: float) -> dict[str, Any]:
    """The per-batch quality row: ROC AUC, PR AUC (average precision), log loss, accuracy,
    F1 and positive rates at the decision ``threshold``.

    AUCs are ``None`` when the batch holds a single class, where they are undefined.
    """
    y_true = np.asarray(y_true).astype("int64")
    y_score = np.asarray(y_score, dtype="float64")
    y_pred = (y_score >= threshold).astype("int64")
    both = np.unique(y_true).size == 2
    return {
        "rows": int(y_true.size),
        "roc_auc": float(skm.roc_auc_score(y_true, y_score)) if both else None,
        "pr_auc": float(skm.average_precision_score(y_true, y_score)) if both else None,
        "log_loss": float(skm.log_loss(y_true, y_score, labels=[0, 1])),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        "positive_rate": float(y_true.mean()),
        "predicted_positive_rate": float(y_pred.mean()),
    }


def roc_points(y_true: np.ndarray, y_score: np.ndarray) -> list[dict[str, float]]:
    """The ROC curve thinned to about ``CURVE_POINTS`` points, for a small plot file."""
    fpr, tpr, _ = skm.roc_curve(y_true, y_score)
    keep = _thin(fpr.size)
    return [{"fpr": float(fpr[i]), "tpr": float(tpr[i])} for i in keep]


def pr_points(y_true: np.ndarray, y_score: np.ndarray) -> list[dict[str, float]]:
    """The precision-recall curve thinned to about ``CURVE_POINTS`` points."""
    precision, recall, _ = skm.precision_recall_curve(y_true, y_score)
    keep = _thin(recall.size)
    return [{"recall": float(recall[i]), "precision": float(precision[i])} for i in keep]


def confusion(y_true: np.ndarray, y_score: np.ndarray, threshold: float) -> dict[str, int]:
    """Counts of true/false positives/negatives at ``threshold``."""
    y_pred = (np.asarray(y_score) >= threshold).astype("int64")
    tn, fp, fn, tp = skm.confusion_matrix(
        np.asarray(y_true).astype("int64"), y_pred, labels=[0, 1]
    ).ravel()
    return {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}


def _thin(size: int) -> np.ndarray:
    return np.unique(np.linspace(0, size - 1, min(size, CURVE_POINTS)).round().astype("int64"))
