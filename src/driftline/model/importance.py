"""How much the model relies on each feature, for drift weighted by importance.

What is measured: permutation importance on rows the measuring model was not fit on. train
takes the model fit without the holdout (the one metrics/train.json validates), and on the
holdout rows (at most ``rows`` of them, drawn with the seed, per repeat) shuffles one
feature's values at a time, ``repeats`` times; a feature's importance is the mean fall in
ROC AUC. Each shuffle is a prediction of those rows, so the cost is features x repeats
predictions: on the demo, 15 x 3 of 5,000 rows, a few seconds. The shipped model is refit
on the whole window, so these are the importances of its sibling fit on 80% of the same
rows, the nearest measure that rows unseen in fitting allow.

The weights are those falls clipped at zero (a feature whose shuffling helps is not relied
on) and scaled to sum to 1. Uniform weights stand in when nothing can be measured (a holdout
of one class has no ROC AUC) or no feature matters: the weighted share of drifted features
is then the plain share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

SCORING = "roc_auc"
# When params.yaml sets no train.importance_repeats / train.importance_rows.
REPEATS = 3
ROWS = 5000


def permutation_drops(
    model: Any, rows: pd.DataFrame, target: np.ndarray, repeats: int, seed: int, most: int
) -> dict[str, float] | None:
    """Each column of ``rows``: the mean fall in ROC AUC when its values are shuffled, on at
    most ``most`` rows per repeat (None when ``target`` holds one class, where ROC AUC is
    undefined)."""
    if len(np.unique(target)) < 2:
        return None
    measured = permutation_importance(
        model,
        rows,
        target,
        scoring=SCORING,
        n_repeats=repeats,
        random_state=seed,
        max_samples=min(most, len(rows)),
    )
    return {str(c): float(m) for c, m in zip(rows.columns, measured.importances_mean, strict=True)}


def weights(drops: dict[str, float] | None, features: list[str]) -> dict[str, float]:
    """Importance weights summing to 1: the falls clipped at zero, scaled; uniform when there
    are none or none is positive."""
    clipped = {f: max((drops or {}).get(f, 0.0), 0.0) for f in features}
    total = sum(clipped.values())
    if total <= 0:
        return {f: 1.0 / len(features) for f in features} if features else {}
    return {f: v / total for f, v in clipped.items()}


def measure(
    model: Any,
    rows: pd.DataFrame,
    target: np.ndarray,
    repeats: int = REPEATS,
    seed: int = 0,
    most: int = ROWS,
) -> dict[str, Any]:
    """models/meta.json's ``importance``: how it was measured, the falls and the weights."""
    drops = permutation_drops(model, rows, target, repeats, seed, most)
    used = min(most, len(rows))
    return {
        "method": (
            f"permutation on {used} of the {len(rows)} holdout rows, model fit without "
            f"them: mean fall in {SCORING} over {repeats} shuffles"
            if drops is not None
            else "uniform: the holdout holds one class, so ROC AUC cannot be measured"
        ),
        "drop": drops or {},
        "weights": weights(drops, list(rows.columns)),
    }
