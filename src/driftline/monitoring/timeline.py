"""The quality timeline across model versions: every batch once, as scored by the model that
was serving when it arrived. A model goes by its training window (``2013-01..2013-03``).

``driftline retrain`` keeps the outgoing model's rows in models/served.csv (``served``);
the evaluate stage joins them with the current model's rows (metrics/history.csv) into
metrics/timeline.csv. Pure functions on rows (dicts), and the one reader of those CSVs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

# metrics/history.csv's columns; the timeline's (and models/served.csv's) add the model.
HISTORY_COLUMNS = [
    "batch",
    "rows",
    "pending",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "accuracy",
    "f1",
    "positive_rate",
    "predicted_positive_rate",
    "calibration_error",
    "est_roc_auc",
    "est_roc_auc_low",
    "est_roc_auc_high",
    "est_accuracy",
    "est_f1",
    "est_pr_auc",
    "est_log_loss",
    "est_precision",
    "est_recall",
    "est_positive_rate",
    "estimate_missed",
    "share_drifted",
    "dataset_drift",
    "drifted_importance",
    "importance_drift",
    "label_drift_score",
    "prediction_drift_score",
]
TIMELINE_COLUMNS = ["batch", "model", *HISTORY_COLUMNS[1:]]


def model_label(window: list[str]) -> str:
    """A model's name in the timeline: its training window, first and last batch."""
    return f"{window[0]}..{window[-1]}"


def timeline(
    served: list[dict[str, Any]], current: list[dict[str, Any]], model: str, batches: list[str]
) -> list[dict[str, Any]]:
    """The timeline, in registry order: a batch's row from ``served`` where an earlier model
    served it, else the current ``model``'s row; batches neither scored are left out (the
    ones inside the first model's window), and so are rows of batches no longer registered."""
    rows = {row["batch"]: row for row in current}
    rows.update({row["batch"]: row for row in served})  # the model serving on arrival wins
    earlier = {row["batch"] for row in served}
    return [
        {"model": model, **rows[b]} if b not in earlier else rows[b] for b in batches if b in rows
    ]


def archived(
    served: list[dict[str, Any]], history: list[dict[str, Any]], model: str
) -> list[dict[str, Any]]:
    """``served`` plus the outgoing ``model``'s rows of batches no earlier model served:
    what ``driftline retrain`` writes before the window moves."""
    kept = {row["batch"] for row in served}
    return served + [{"model": model, **row} for row in history if row["batch"] not in kept]


def promotions(rows: list[dict[str, Any]]) -> list[int]:
    """Positions in the timeline where a new model takes over from the one before."""
    return [i for i in range(1, len(rows)) if rows[i]["model"] != rows[i - 1]["model"]]


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """A timeline CSV's rows (metrics/history.csv or models/served.csv), batch names as text."""
    return records(pd.read_csv(path, dtype={"batch": "str", "model": "str"}))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A CSV's rows as dicts, an empty cell as None (a batch of one class has no ROC AUC)."""
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
