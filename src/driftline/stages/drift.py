"""drift: the newest batch against the training reference, and the retrain verdict.

Reads the reference profile, the newest batch's profile and scores, the model's importance of
each feature (models/meta.json), the quality history (one row per batch) and, for the drift
timeline, each later batch's per-feature drift scores that score@ recorded (metrics/batches).
Writes the drift metrics with the verdict (metrics/drift.json), their detail with the reasons
and the most-drifted features (reports/drift.json), the per-feature scores for DVC plots,
four PNGs and the Markdown report.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftline.core import paths
from driftline.core.config import batch_list, feature_lists, load_params, window_batches
from driftline.core.io import read_json, write_json, write_text
from driftline.core.log import get_logger
from driftline.core.runner import run
from driftline.monitoring import plots
from driftline.monitoring.drift import measured, monitor_batch
from driftline.monitoring.estimate import concept_drift
from driftline.monitoring.history_rules import check_metric
from driftline.monitoring.report import drift_report
from driftline.monitoring.timeline import records
from driftline.monitoring.verdict import verdict


def with_estimates(history: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """The quality history with each pending batch's metrics (empty: no labels yet) taken
    from their estimates (``est_<metric>``), where there is one."""
    frame = history.copy()
    if "pending" not in frame.columns:
        return frame
    pending = frame["pending"].fillna(False).astype(bool)
    for metric in metrics:
        if f"est_{metric}" in frame.columns:
            frame.loc[pending, metric] = frame.loc[pending, f"est_{metric}"]
    return frame


def history_rules(history: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    """Every rule on every metric of ``drift.history``, over the quality history."""
    return {
        metric: check_metric(
            history[metric].tolist(),
            bool(rule["higher_is_better"]),
            rule.get("threshold"),
            float(settings["k"]),
            int(settings["min_history"]),
            settings.get("baseline"),
        )
        for metric, rule in settings["history"].items()
    }


def drift(argv: list[str]) -> None:
    params = load_params()
    settings = params["drift"]
    newest = batch_list(params)[-1]
    reference, current = read_json(paths.REFERENCE), read_json(paths.profile(newest))
    scores = pd.read_parquet(paths.scores(newest), columns=["score"])["score"].to_numpy()
    categorical, numeric = feature_lists(params, reference)
    features = categorical + numeric
    weights = read_json(paths.MODEL_META)["importance"]["weights"]
    result = monitor_batch(
        params, features, reference, current, scores, read_json(paths.SCORE_PROFILE), weights
    )
    history = pd.read_csv(paths.HISTORY, dtype={"batch": "str"})
    # The history rules judge realised values (a pending batch has none) or, with
    # drift.rules_on: estimates, a pending batch's estimates too; the other reading is an
    # early warning, reported apart from the verdict while the newest batch is pending.
    on_estimates = with_estimates(history, list(settings["history"]))
    rules_on = settings.get("rules_on", "realised")
    rules = history_rules(on_estimates if rules_on == "estimates" else history, settings)
    in_window = newest in window_batches(params)
    earlier = [row for row in records(history) if row["batch"] != newest]
    # Each batch's row after the window, as score@ wrote it: the drift timeline draws their
    # per-feature drift; the newest's (the last, unless it is in the window) holds its quality
    # estimated from the scores beside the realised one, and the reconciled ones say whether
    # the estimates still hold (concept drift).
    after = [read_json(paths.batch_metrics(batch)) for batch in history["batch"]]
    result["estimate"] = None if in_window else after[-1]
    result["concept"] = concept_drift(after)
    pending = bool(after and after[-1].get("pending")) and not in_window
    early = None
    if pending and rules_on == "realised":
        early = alarms(history_rules(on_estimates, settings))
    retrain, reasons = verdict(result, rules, params["retrain"]["when"], in_window, earlier)
    ranked = sorted(result["columns"].items(), key=lambda kv: -kv[1]["drift_score"])
    top = ranked[: settings["top"]]
    report = drift_details(newest, reference, result, top, rules, retrain, reasons, in_window)
    report.update(newest_pending=pending, rules_on=rules_on, early_warning=early)
    write_json(paths.DRIFT_METRICS, drift_metrics(report))
    write_json(paths.DRIFT_REPORT, report)
    write_json(
        paths.DRIFT_SCORES,
        [
            {
                "feature": name,
                "test": r["test"],
                "drift_score": r["drift_score"],
                "threshold": r["threshold"],
                "drifted": r["drifted"],
            }
            for name, r in sorted(result["columns"].items())
        ],
    )
    plots.drift_png(result["columns"], newest, paths.DRIFT_PNG)
    names = [name for name, _ in top]
    plots.distributions_png(reference, current, names, newest, paths.DISTRIBUTIONS_PNG)
    plots.rules_png(history, settings, rules, paths.RULES_PNG)
    plots.drift_timeline_png(after, weights, result["importance_share"], paths.DRIFT_TIMELINE_PNG)
    write_text(
        paths.DRIFT_MARKDOWN,
        drift_report(
            newest, reference, result, ranked, rules, (retrain, reasons), in_window, early
        ),
    )
    log = get_logger()
    log.info(
        "%s: %d of %d features drifted (share %.2f), dataset drift %s; retrain: %s",
        newest,
        len(result["drifted_columns"]),
        len(result["columns"]),
        result["share_drifted"],
        result["dataset_drift"],
        retrain,
    )
    for reason in reasons:
        log.info("retrain reason: %s", reason)


def drift_details(
    batch: str,
    reference: dict[str, Any],
    result: dict[str, Any],
    top: list[tuple[str, dict[str, Any]]],
    rules: dict[str, Any],
    retrain: bool,
    reasons: list[str],
    in_window: bool,
) -> dict[str, Any]:
    """reports/drift.json: the verdicts with what they rest on, for the pull-request comment."""

    def brief(r: dict[str, Any]) -> dict[str, Any]:
        kind, value = measured(r)
        return {
            "test": r["test"],
            kind: value,
            "drift_score": r["drift_score"],
            "drifted": r["drifted"],
            **({"importance": r["importance"]} if "importance" in r else {}),
        }

    return {
        "batch": batch,
        "reference": f"{reference['batches'][0]}..{reference['batches'][-1]}",
        "newest_in_window": in_window,
        "dataset_drift": result["dataset_drift"],
        "share_drifted": result["share_drifted"],
        "drifted_features": len(result["drifted_columns"]),
        "features_tested": len(result["columns"]),
        "drifted_importance": result["drifted_importance"],
        "importance_drift": result["importance_drift"],
        "target_drift": brief(result["target"]) if result["target"] else None,
        "prediction_drift": brief(result["prediction"]),
        "history_rules": alarms(rules),
        "concept_drift": result["concept"],
        "retrain": retrain,
        "retrain_reasons": reasons,
        "top_features": {
            name: {"rank": rank, **brief(r)} for rank, (name, r) in enumerate(top, start=1)
        },
    }


def alarms(rules: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """Each history rule's alarm, per metric."""
    return {
        metric: {rule: r["alarm"] for rule, r in results.items()}
        for metric, results in rules.items()
    }


def drift_metrics(report: dict[str, Any]) -> dict[str, Any]:
    """metrics/drift.json: the verdicts and the scores behind them, flat and few, so that
    ``dvc metrics show`` fits a terminal. The drift scores go by metrics/history.csv's names
    (1 is the test's threshold); the history rules count the alarms that reports/drift.json
    lists one by one."""
    return {
        "dataset_drift": report["dataset_drift"],
        "share_drifted": report["share_drifted"],
        "label_drift_score": (report["target_drift"] or {}).get("drift_score"),
        "prediction_drift_score": report["prediction_drift"]["drift_score"],
        "history_alarms": sum(
            alarm for results in report["history_rules"].values() for alarm in results.values()
        ),
        "concept_drift": report["concept_drift"]["fired"],
        "retrain": report["retrain"],
    }


if __name__ == "__main__":
    run("drift", drift)
