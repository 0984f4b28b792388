"""evaluate: the quality history of the current model over every batch after its training
window (metrics/history.csv; a batch pending labels has its estimates only), the timeline of
every model that served (metrics/timeline.csv: the rows `driftline retrain` kept in
models/served.csv, then the current model's; drawn in plots/history.png with each promotion
marked and the pending batches shaded), the metrics of the newest batch with labels, and
its ROC, precision-recall and confusion plots, and a reliability diagram of it beside the
training holdout's (models/validation.parquet). metrics/evaluate.json holds that batch's
quality under train's names; when no labelled batch lies after the window (right after a
retrain), it holds the newest labelled timeline row: the outgoing model's quality on the
newest batch it served. reports/evaluate.json names the batch and the model, the batches
pending labels, the decision threshold and the predicted positive rate at it.

It reads one small JSON per batch, the newest labelled batch's scores and the holdout's,
never older batches' rows.
"""

from __future__ import annotations

import pandas as pd

from driftline.core import paths
from driftline.core.config import TARGET, batch_list, load_params, window_batches
from driftline.core.io import read_json, write_csv, write_json
from driftline.core.log import get_logger
from driftline.core.runner import run
from driftline.monitoring import plots
from driftline.monitoring.quality import (
    calibration_error,
    confusion,
    pr_points,
    quality,
    reliability,
    reviewed,
    roc_points,
)
from driftline.monitoring.timeline import (
    HISTORY_COLUMNS,
    TIMELINE_COLUMNS,
    model_label,
    promotions,
    read_rows,
    timeline,
)


def evaluate(argv: list[str]) -> None:
    params = load_params()
    threshold = params["evaluate"]["threshold"]
    negative, positive = (str(c) for c in params["target"]["classes"])
    batches = batch_list(params)
    rows = [read_json(paths.batch_metrics(b)) for b in batches]
    history = [r for r in rows if r["position"] == "after_window"]
    write_csv(paths.HISTORY, pd.DataFrame(history, columns=HISTORY_COLUMNS))
    model = model_label(window_batches(params))
    served = read_rows(paths.SERVED)
    line = timeline(served, [{k: r[k] for k in HISTORY_COLUMNS} for r in history], model, batches)
    write_csv(paths.TIMELINE, pd.DataFrame(line, columns=TIMELINE_COLUMNS))
    plots.history_png(line, paths.HISTORY_PNG, promotions(line))
    # The curves and the metrics of the newest batch with labels; a pending one has none.
    labelled = [r for r in history if not r.get("pending")]
    pending = [r["batch"] for r in history if r.get("pending")]
    if pending:
        get_logger().info(
            "pending labels: %s (quality estimated in metrics/history.csv)", ", ".join(pending)
        )
    # Calibration at training (the holdout, scored by the model fit without it) and now.
    scored = {"holdout, at training": paths.VALIDATION}
    if labelled:
        scored[f"{labelled[-1]['batch']}, newest labelled"] = paths.scores(labelled[-1]["batch"])
    tables = {}
    for name, path in scored.items():
        frame = pd.read_parquet(path, columns=[TARGET, "score"])
        table = reliability(frame[TARGET], frame["score"])
        tables[name] = (table, calibration_error(table))
    plots.reliability_png(tables, paths.RELIABILITY_PNG)
    if not labelled:
        last = next((r for r in reversed(line) if not r.get("pending")), None)
        get_logger().warning(
            "no labelled batch after the training window yet: nothing to evaluate for model %s%s",
            model,
            f"; metrics/evaluate.json keeps {last['batch']} as model {last['model']} scored it"
            if last
            else "",
        )
        write_json(paths.EVALUATE_METRICS, reviewed(last)[0] if last else {})
        kept = {"batch": last["batch"], "model": last["model"]} if last else {}
        write_json(
            paths.EVALUATE_REPORT,
            {**kept, "scored_batches": 0, "pending_batches": pending, "threshold": threshold},
        )
        for target in (paths.ROC, paths.PRC, paths.CONFUSION):
            write_json(target, [])
        plots.curves_png([], [], "no batch after the window", paths.CURVES_PNG)
        plots.confusion_png(
            {"tn": 0, "fp": 0, "fn": 0, "tp": 0},
            threshold,
            (negative, positive),
            "no batch after the window",
            paths.CONFUSION_PNG,
        )
        return
    newest = labelled[-1]["batch"]
    frame = pd.read_parquet(paths.scores(newest))
    y_true, y_score = frame[TARGET].to_numpy(), frame["score"].to_numpy()
    latest = quality(y_true, y_score, threshold)
    metrics, rest = reviewed(latest)
    write_json(paths.EVALUATE_METRICS, metrics)
    write_json(
        paths.EVALUATE_REPORT,
        {
            **rest,
            "batch": newest,
            "model": model,
            "scored_batches": len(history),
            "pending_batches": pending,
            "threshold": threshold,
        },
    )
    roc, pr, counts = (
        roc_points(y_true, y_score),
        pr_points(y_true, y_score),
        confusion(y_true, y_score, threshold),
    )
    write_json(paths.ROC, roc)
    write_json(paths.PRC, pr)
    write_json(
        paths.CONFUSION,
        [
            {"actual": actual, "predicted": predicted, "count": counts[key]}
            for key, actual, predicted in (
                ("tn", negative, negative),
                ("fp", negative, positive),
                ("fn", positive, negative),
                ("tp", positive, positive),
            )
        ],
    )
    plots.curves_png(roc, pr, newest, paths.CURVES_PNG)
    plots.confusion_png(counts, threshold, (negative, positive), newest, paths.CONFUSION_PNG)
    get_logger().info(
        "%s: ROC AUC %.4f over %d rows; history of %d batches",
        newest,
        latest["roc_auc"] or float("nan"),
        latest["rows"],
        len(history),
    )


if __name__ == "__main__":
    run("evaluate", evaluate)
