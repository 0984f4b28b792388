"""score@<group>: the current model's scores on each batch of the group, and each batch's
monitoring row: its quality, and its data, label and prediction drift against the training
reference. Batches whose outputs are known already are restored, not recomputed
(driftline.pipeline.reuse)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd

from driftline.core import paths
from driftline.core.batches import one_group
from driftline.core.config import TARGET, batch_list, load_params
from driftline.core.io import read_json, write_json, write_parquet
from driftline.core.runner import run
from driftline.model.store import load_model
from driftline.monitoring.drift import monitor_batch
from driftline.monitoring.estimate import calibrated_draws, estimate, missed_by
from driftline.monitoring.quality import quality, unlabelled_quality
from driftline.pipeline.dvc_cache import file_md5
from driftline.pipeline.reuse import (
    GroupStage,
    batch_key,
    build,
    code_fingerprint,
    declared,
)
from driftline.pipeline.stage_inputs import declared_inputs

# The inputs every batch's outputs depend on, besides its own prepared file and profile.
SHARED_INPUTS = {
    "reference": paths.REFERENCE,
    "model": paths.MODEL,
    "meta": paths.MODEL_META,
    "score_profile": paths.SCORE_PROFILE,
}


def position(batch: str, batches: list[str], window: list[str]) -> str:
    """Where a batch sits relative to the training window: before, in or after it."""
    if batch in window:
        return "in_window"
    return "after_window" if batches.index(batch) > batches.index(window[-1]) else "before_window"


def score(argv: list[str]) -> None:
    params = load_params()
    group, batches = one_group(argv, batch_list(params))
    meta = read_json(paths.MODEL_META)
    registry = batch_list(params)
    inputs = declared_inputs("score")
    common = {
        "stage": "score",
        "params": declared(params, inputs.params),
        "code": code_fingerprint(inputs.code),
        **{name: file_md5(path) for name, path in SHARED_INPUTS.items()},
    }
    keys = {
        batch: batch_key(
            {
                **common,
                "batch": batch,
                "prepared": file_md5(paths.prepared(batch)),
                "profile": file_md5(paths.profile(batch)),
                "position": position(batch, registry, meta["window"]),
            }
        )
        for batch in batches
    }
    model = cache(load_model)  # loaded once, and only if a batch is computed
    stage = GroupStage(
        "score",
        group,
        {
            paths.scores_dir(group): paths.scores,
            paths.batch_metrics_dir(group): paths.batch_metrics,
        },
        lambda batch: score_batch(batch, params, meta, registry, model()),
    )
    build(stage, keys)


def score_batch(
    batch: str, params: dict[str, Any], meta: dict[str, Any], registry: list[str], model
) -> None:
    features = meta["features"]["categorical"] + meta["features"]["numeric"]
    frame = pd.read_parquet(paths.prepared(batch))
    scores = model.predict_proba(frame[features])[:, 1]
    threshold = params["evaluate"]["threshold"]
    pending = TARGET not in frame.columns  # no labels yet: the quality is estimated only
    if pending:
        row = unlabelled_quality(scores, threshold)
    else:
        row = quality(frame[TARGET].to_numpy(), scores, threshold)
    row.update(batch=batch, position=position(batch, registry, meta["window"]), pending=pending)
    # What the labels would be expected to give, from the calibrated scores alone, and whether
    # the realised ROC AUC or positive rate fell outside its 99% band (unknown while pending).
    probabilities = calibrated_draws(scores, meta["calibration"])
    estimated = estimate(probabilities, scores, threshold, params["train"]["seed"])
    row.update(estimated, estimate_missed=None if pending else bool(missed_by(row, estimated)))
    row.update(drift_summary(params, meta, features, batch, scores))
    labels = {} if pending else {TARGET: frame[TARGET]}
    write_parquet(paths.scores(batch), pd.DataFrame({**labels, "score": scores}))
    write_json(paths.batch_metrics(batch), row)


def drift_summary(params: dict, meta: dict, features: list[str], batch: str, scores) -> dict:
    """The batch's drift for the history: the share of drifted features (the model's, as
    models/meta.json records them), the dataset verdict, the share of the model's importance
    the drifted features carry and its verdict, the label and prediction drift scores (higher
    is more drift, 1 is the threshold, whatever the test:
    :func:`driftline.monitoring.drift.drift_score`), and each feature's drift score, which
    the drift stage draws over time."""
    reference, current = read_json(paths.REFERENCE), read_json(paths.profile(batch))
    profile = read_json(paths.SCORE_PROFILE)
    weights = meta["importance"]["weights"]
    result = monitor_batch(params, features, reference, current, scores, profile, weights)
    return {
        "share_drifted": result["share_drifted"],
        "dataset_drift": result["dataset_drift"],
        "drifted_importance": result["drifted_importance"],
        "importance_drift": result["importance_drift"],
        # None while the batch is pending labels: unavailable, not zero.
        "label_drift_score": result["target"] and result["target"]["drift_score"],
        "prediction_drift_score": result["prediction"]["drift_score"],
        "feature_drift": {name: r["drift_score"] for name, r in result["columns"].items()},
    }


if __name__ == "__main__":
    run("score", score)
