"""score@<batch>: the current model's scores on one batch, and that batch's monitoring row:
its quality, and its data, label and prediction drift against the training reference."""

from __future__ import annotations

import pandas as pd

from driftline.core import paths
from driftline.core.config import batch_list, load_params
from driftline.core.dataset import TARGET
from driftline.core.io import read_json, write_json, write_parquet
from driftline.core.model_store import load_model
from driftline.core.monitoring import monitor_batch
from driftline.core.quality import quality
from driftline.core.stages import one_batch, run


def position(batch: str, batches: list[str], window: list[str]) -> str:
    """Where a batch sits relative to the training window: before, in or after it."""
    if batch in window:
        return "in_window"
    return "after_window" if batches.index(batch) > batches.index(window[-1]) else "before_window"


def score(argv: list[str]) -> None:
    batch = one_batch(argv)
    params = load_params()
    meta = read_json(paths.MODEL_META)
    model = load_model()
    features = meta["features"]["categorical"] + meta["features"]["numeric"]
    frame = pd.read_parquet(paths.prepared(batch))
    scores = model.predict_proba(frame[features])[:, 1]
    row = quality(frame[TARGET].to_numpy(), scores, params["evaluate"]["threshold"])
    row.update(batch=batch, position=position(batch, batch_list(params), meta["window"]))
    row.update(drift_summary(params, batch, scores))
    write_parquet(paths.scores(batch), pd.DataFrame({TARGET: frame[TARGET], "score": scores}))
    write_json(paths.batch_metrics(batch), row)


def drift_summary(params: dict, batch: str, scores) -> dict:
    """The batch's drift in four numbers, for the history: the share of drifted features,
    the dataset verdict, and the label and prediction drift scores (higher is more drift,
    1 is the threshold, whatever the test: :func:`driftline.core.drift.drift_score`)."""
    reference, current = read_json(paths.REFERENCE), read_json(paths.profile(batch))
    result = monitor_batch(params, reference, current, scores)
    return {
        "share_drifted": result["share_drifted"],
        "dataset_drift": result["dataset_drift"],
        "label_drift_score": result["target"]["drift_score"],
        "prediction_drift_score": result["prediction"]["drift_score"],
    }


if __name__ == "__main__":
    run("score", score)
