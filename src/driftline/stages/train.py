"""train: fit the model on the training window; report validation metrics on a time-ordered
holdout (the window's last rows), then refit on the whole window. The model fit without the
holdout also measures each feature's permutation importance on it (model/importance.py), which
drift weighted by importance uses.

Writes the validation metrics to metrics/train.json, under evaluate's names; the window and
the holdout's predicted positive rate go into models/meta.json with the model. (No
``cache: false`` report here: DVC keeps no run-cache entry for a stage with one, and a backfill
restores train from the run-cache.)

The refit model, trained on every row of the window, is the one that ships (models/model.pkl).
The holdout rows, with the scores of the model fit without them, are written to
models/validation.parquet: the ``promote`` stage compares the champion with the challenger on
those rows, so the challenger's figures there are those of a model that never saw them."""

from __future__ import annotations

import platform

import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits

from driftline.core import paths
from driftline.core.config import TARGET, TIME, feature_lists, load_params, window_batches
from driftline.core.io import read_json, write_bytes, write_json, write_parquet
from driftline.core.log import get_logger
from driftline.core.runner import run
from driftline.model import importance
from driftline.model.build import build_model
from driftline.model.store import model_bytes
from driftline.monitoring.estimate import calibration_map
from driftline.monitoring.profile import score_profile
from driftline.monitoring.quality import quality, reviewed


def train(argv: list[str]) -> None:
    params = load_params()
    settings = params["train"]
    categorical, numeric = feature_lists(params, read_json(paths.REFERENCE))
    features = categorical + numeric
    frame = pd.read_parquet(paths.WINDOW)
    frame = frame.iloc[np.argsort(frame[TIME].to_numpy(), kind="stable")].reset_index(drop=True)
    cut = int(round(len(frame) * (1 - settings["holdout_fraction"])))
    fit, holdout = frame.iloc[:cut], frame.iloc[cut:]
    model_name = settings["model"]

    def fitted(rows: pd.DataFrame):
        model = build_model(
            model_name, settings[model_name], categorical, numeric, settings["seed"]
        )
        return model.fit(rows[features], rows[TARGET])

    # A fixed thread count keeps float summation order, and so the model bytes, the same.
    with threadpool_limits(limits=settings["threads"]):
        without_holdout = fitted(fit)
        holdout_scores = without_holdout.predict_proba(holdout[features])[:, 1]
        relied_on = importance.measure(
            without_holdout,
            holdout[features],
            holdout[TARGET].to_numpy(),
            repeats=settings.get("importance_repeats", importance.REPEATS),
            seed=settings["seed"],
            most=settings.get("importance_rows", importance.ROWS),
        )
        validation = quality(
            holdout[TARGET].to_numpy(), holdout_scores, params["evaluate"]["threshold"]
        )
        model = fitted(frame)
        # The reference for prediction drift: the final model's scores on its own window.
        window_scores = model.predict_proba(frame[features])[:, 1]
    get_logger().info(
        "validation on the last %d rows of the window: ROC AUC %.4f",
        len(holdout),
        validation["roc_auc"],
    )
    batches = window_batches(params)
    metrics, rest = reviewed(validation)
    meta = {
        "model": model_name,
        "hyperparameters": settings[model_name],
        "features": {"categorical": categorical, "numeric": numeric},
        # What drift weighted by importance weighs each feature by (model/importance.py).
        "importance": relied_on,
        # Score to probability, for quality estimated without labels (monitoring/estimate.py):
        # fit on the holdout's scores by the model fit without it. The shipped model is refit
        # on every row, so its scores may be a little sharper than this map assumes; the
        # reliability diagram (evaluate) shows how well it holds on each new batch.
        "calibration": calibration_map(
            holdout_scores, holdout[TARGET].to_numpy(), params["train"]["seed"]
        ),
        "target": {"column": params["target"]["column"], "positive": params["target"]["positive"]},
        "window": batches,
        "rows": {"window": len(frame), "fit": len(fit), "holdout": len(holdout)},
        "holdout_from": str(holdout[TIME].iloc[0]),
        # The times of the window's first and last rows: a later comparison drops the rows
        # this model was trained on (those up to ``last``).
        "time_range": {"first": str(frame[TIME].iloc[0]), "last": str(frame[TIME].iloc[-1])},
        "positive_rate": float(frame[TARGET].mean()),
        # What the holdout says beyond metrics/train.json, at the threshold it was cut at.
        "validation": {**rest, "threshold": params["evaluate"]["threshold"]},
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
    }
    write_parquet(paths.VALIDATION, holdout.assign(score=holdout_scores).reset_index(drop=True))
    write_bytes(paths.MODEL, model_bytes(model))
    write_json(paths.MODEL_META, meta)
    write_json(paths.SCORE_PROFILE, score_profile(window_scores, params["profile"]["bins"]))
    write_json(paths.TRAIN_METRICS, metrics)


if __name__ == "__main__":
    run("train", train)
