"""Champion against challenger on the same rows: a paired bootstrap of each metric's difference.

Both models score the same comparison rows. Each resample draws rows with replacement once
and computes every metric for both models on those rows, so the difference
challenger − champion is measured on the same rows each time: the row-to-row noise the two
models share cancels out, and the interval is that of the difference, not of each model on its
own. The metric functions are ``driftline.monitoring.quality``'s (numpy alone, equal to
scikit-learn's bit for bit).

Public API (the gate in ``driftline.model.promotion`` and the policy replay build on it):

- ``METRICS``: the headline metrics compared, ``("roc_auc", "pr_auc", "log_loss", "brier")``.
- ``metric_values(y_true, y_score, metrics=METRICS) -> dict[str, float | None]``: each metric
  on one model's scores; ``None`` where it is undefined (an AUC on a single class).
- ``paired_bootstrap(y_true, champion, challenger, *, metrics=METRICS, resamples=1000,
  confidence=0.95, seed=42) -> dict[str, dict[str, float | None]]``: for each metric,
  ``champion``, ``challenger``, ``difference`` (challenger − champion, on all rows), and
  ``low`` / ``high``, the percentile interval of the difference over the resamples at
  ``confidence``. Seeded with ``numpy.random.default_rng(seed)``: the same inputs give the same
  output, bit for bit.

The difference's sign is the raw one: for ``roc_auc`` and ``pr_auc`` a positive difference is a
gain, for ``log_loss`` and ``brier`` a negative one is (``quality.HIGHER_IS_BETTER``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from driftline.monitoring.quality import SCORE_METRICS, row_log_losses, row_squared_errors

METRICS = ("roc_auc", "pr_auc", "log_loss", "brier")
# Resamples computed at once: (CHUNK, rows) matrices, about 4 MB each at 20,000 rows.
CHUNK = 25


def metric_values(
    y_true: np.ndarray, y_score: np.ndarray, metrics: Sequence[str] = METRICS
) -> dict[str, float | None]:
    """Each metric of one model's scores on all rows; ``None`` where it is undefined."""
    y_true, y_score = _labels(y_true), np.asarray(y_score, dtype="float64")
    return {name: _defined(SCORE_METRICS[name](y_true, y_score)) for name in metrics}


def paired_bootstrap(
    y_true: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    *,
    metrics: Sequence[str] = METRICS,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 42,
) -> dict[str, dict[str, float | None]]:
    """The two models' metrics on the same rows and the bootstrap interval of each difference.

    Parameters
    ----------
    y_true : array of 0/1
        The labels of the comparison rows.
    champion, challenger : arrays of probabilities
        Each model's score of the positive class on those rows, in the same row order.
    metrics : names in ``quality.SCORE_METRICS``
    resamples : int
        Bootstrap resamples (rows drawn with replacement, as many as there are rows).
    confidence : float
        The interval's coverage, between 0 and 1: the interval runs from the
        ``(1 - confidence) / 2`` to the ``(1 + confidence) / 2`` quantile of the differences.
    seed : int
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    dict
        ``{metric: {"champion", "challenger", "difference", "low", "high"}}``; a value is
        ``None`` where the metric is undefined on all rows (a single class), and the interval
        leaves out the resamples where it is undefined.
    """
    y_true = _labels(y_true)
    scores = [np.asarray(champion, dtype="float64"), np.asarray(challenger, dtype="float64")]
    if not (y_true.ndim == 1 and all(s.shape == y_true.shape for s in scores)):
        raise ValueError("labels, champion and challenger scores must be 1-d and of one length")
    if y_true.size == 0:
        raise ValueError("no rows to compare")
    if resamples < 1 or not 0.0 < confidence < 1.0:
        raise ValueError("resamples must be at least 1 and confidence between 0 and 1")
    differences = _resampled_differences(y_true, scores, metrics, resamples, seed)
    tail = (1.0 - confidence) / 2.0
    out: dict[str, dict[str, float | None]] = {}
    for name, diffs in zip(metrics, differences, strict=True):
        old, new = (_defined(SCORE_METRICS[name](y_true, s)) for s in scores)
        diffs = diffs[np.isfinite(diffs)]
        low, high = np.quantile(diffs, [tail, 1.0 - tail]) if diffs.size else (None, None)
        out[name] = {
            "champion": old,
            "challenger": new,
            "difference": None if old is None or new is None else new - old,
            "low": None if low is None else float(low),
            "high": None if high is None else float(high),
        }
    return out


def _resampled_differences(
    y_true: np.ndarray,
    scores: list[np.ndarray],
    metrics: Sequence[str],
    resamples: int,
    seed: int,
) -> list[np.ndarray]:
    """challenger − champion of each metric on each resample (NaN where undefined).

    A resample is the count of times each row was drawn. Every metric here is a function of
    those counts, so a chunk of resamples is computed at once as a matrix of counts: the
    per-row losses weighted by the counts, and the AUCs from the count-weighted positives and
    negatives at each distinct score (the rows sorted by score once per model). That equals
    the metric of ``quality`` on the drawn rows themselves
    (``tests/unit/model/test_paired_bootstrap.py`` checks it) at a fraction of the cost.
    """
    rng = np.random.default_rng(seed)
    n = y_true.size
    per_model = [_Model(y_true, s) for s in scores]
    out = np.empty((len(metrics), resamples))
    for done in range(0, resamples, CHUNK):
        take = min(CHUNK, resamples - done)
        rows = rng.integers(0, n, size=(take, n))
        offsets = (np.arange(take) * n)[:, None]
        counts = np.bincount((rows + offsets).ravel(), minlength=take * n).reshape(take, n)
        counts = counts.astype("float64")
        old, new = (model.resampled(metrics, counts) for model in per_model)
        for m, name in enumerate(metrics):
            out[m, done : done + take] = new[name] - old[name]
    return list(out)


class _Model:
    """One model's scores, arranged once for the metrics of many resamples."""

    def __init__(self, y_true: np.ndarray, y_score: np.ndarray):
        self.losses = {
            "log_loss": row_log_losses(y_true, y_score),
            "brier": row_squared_errors(y_true, y_score),
        }
        # Highest score first; ``ends`` is the last row of each distinct score.
        self.order = np.argsort(y_score, kind="stable")[::-1]
        ranked = y_score[self.order]
        self.ends = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
        self.positive = (y_true[self.order] == 1).astype("float64")

    def resampled(self, metrics: Sequence[str], counts: np.ndarray) -> dict[str, np.ndarray]:
        """Each metric on each resample of a chunk, from its (resamples, rows) counts."""
        out = {
            name: counts @ self.losses[name] / counts.shape[1]
            for name in metrics
            if name in self.losses
        }
        if not {"roc_auc", "pr_auc"} & set(metrics):
            return out
        weights = counts[:, self.order]
        tps = np.cumsum(weights * self.positive, axis=1)[:, self.ends]
        fps = np.cumsum(weights, axis=1)[:, self.ends] - tps
        zeros = np.zeros((len(tps), 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.hstack([zeros, tps / tps[:, -1:]])
            fpr = np.hstack([zeros, fps / fps[:, -1:]])
            predicted = tps + fps
            precision = np.where(predicted > 0, tps / np.where(predicted > 0, predicted, 1), 0)
        out["roc_auc"] = np.trapezoid(recall, fpr, axis=1)
        out["pr_auc"] = np.maximum(0.0, np.sum(np.diff(recall, axis=1) * precision, axis=1))
        return out


def _labels(y_true: np.ndarray) -> np.ndarray:
    return np.asarray(y_true).astype("int64")


def _defined(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
