"""promote: the challenger (the model ``train`` just fit) against the champion (the model it
replaces, in models/champion/), on the same rows, and the gate's verdict.

The rows are the challenger's validation rows (models/validation.parquet: the window's last
``train.holdout_fraction``, scored by the model fit without them), less those at or before the
champion's own last training row, which it saw. The champion is scored on them through the
verified loader. Without a champion (no retrain yet), the challenger's floors alone decide.
Writes each model's metrics on those rows (metrics/challenger.json, with the verdict
``promote``, and metrics/champion.json, empty without a champion), and the gate's whole
result (reports/promotion.json: reasons, windows, differences and their intervals), which
``driftline gate`` and the pull-request comment read.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftline.core import paths
from driftline.core.config import TARGET, TIME, load_params
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json, write_json
from driftline.core.log import get_logger
from driftline.core.runner import run
from driftline.model.paired_bootstrap import METRICS, metric_values, paired_bootstrap
from driftline.model.promotion import decide
from driftline.model.store import load_champion


def promote(argv: list[str]) -> None:
    params = load_params()
    settings = params["promote"]
    bootstrap = settings["bootstrap"]
    log = get_logger()
    meta = read_json(paths.MODEL_META)
    rows = pd.read_parquet(paths.VALIDATION)
    champion_model = paths.champion(paths.MODEL)
    champion_meta = None
    dropped = 0
    if champion_model.with_name(champion_model.name + ".dvc").is_file():
        champion_meta = read_json(paths.champion(paths.MODEL_META))
        unseen = rows[TIME] > pd.Timestamp(_time_range(champion_meta)["last"])
        dropped = int((~unseen).sum())
        rows = rows[unseen]
    labels = rows[TARGET].to_numpy()
    comparison = None
    if champion_meta is None:
        log.info("no champion: the challenger's %d validation rows against the floors", len(rows))
        challenger = metric_values(labels, rows["score"].to_numpy())
    else:
        log.info(
            "champion (window %s..%s) against challenger on %d rows (%d the champion saw left out)",
            champion_meta["window"][0],
            champion_meta["window"][-1],
            len(rows),
            dropped,
        )
        comparison = _compare(champion_meta, rows, labels, bootstrap)
        challenger = {name: result["challenger"] for name, result in comparison.items()}
    verdict = decide(
        challenger,
        comparison,
        len(rows),
        floors=settings["floors"],
        decide_by=settings["decide_by"],
        margin=settings["margin"],
        min_rows=settings["min_rows"],
        confidence=bootstrap["confidence"],
    )
    log.info("promote: %s", str(verdict["promote"]).lower())
    for reason in verdict["reasons"]:
        log.info("  %s", reason)
    metrics = comparison or {name: {"challenger": v} for name, v in challenger.items()}
    write_json(
        paths.PROMOTION_REPORT,
        {
            **verdict,
            "decide_by": settings["decide_by"],
            "champion": None if champion_meta is None else _window(champion_meta),
            "challenger": _window(meta),
            "rows": {"validation": len(rows) + dropped, "compared": len(rows), "seen": dropped},
            "metrics": metrics,
            "bootstrap": bootstrap,
        },
    )
    write_json(
        paths.CHALLENGER_METRICS,
        {**side(metrics, "challenger", len(rows)), "promote": verdict["promote"]},
    )
    write_json(
        paths.CHAMPION_METRICS, {} if comparison is None else side(metrics, "champion", len(rows))
    )


def side(metrics: dict[str, dict[str, Any]], model: str, rows: int) -> dict[str, Any]:
    """One model's metrics on the compared rows, by the names train and evaluate use."""
    return {"rows": rows, **{name: result[model] for name, result in metrics.items()}}


def _compare(
    champion_meta: dict[str, Any], rows: pd.DataFrame, labels, bootstrap: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Both models' metrics on the rows and the paired bootstrap interval of each difference."""
    features = champion_meta["features"]["categorical"] + champion_meta["features"]["numeric"]
    missing = [name for name in features if name not in rows.columns]
    if missing:
        raise DriftlineError(
            f"{paths.champion(paths.MODEL)} needs the columns {missing}, which "
            f"{paths.VALIDATION} lacks: the champion cannot be scored on these rows"
        )
    if len(rows) < 2:
        undefined = dict.fromkeys(("champion", "challenger", "difference", "low", "high"))
        return {name: dict(undefined) for name in METRICS}
    champion = load_champion().predict_proba(rows[features])[:, 1]
    return paired_bootstrap(
        labels,
        champion,
        rows["score"].to_numpy(),
        resamples=bootstrap["resamples"],
        confidence=bootstrap["confidence"],
        seed=bootstrap["seed"],
    )


def _time_range(meta: dict[str, Any]) -> dict[str, str]:
    if "time_range" not in meta:
        raise DriftlineError(
            f"{paths.champion(paths.MODEL_META)} has no 'time_range': the champion was trained "
            "before models recorded it, so the rows it saw are unknown; retrain it once more"
        )
    return meta["time_range"]


def _window(meta: dict[str, Any]) -> dict[str, Any]:
    """A model's training window: its batches and the times of its first and last rows."""
    return {
        "first": meta["window"][0],
        "last": meta["window"][-1],
        "time_range": meta.get("time_range"),
    }


if __name__ == "__main__":
    run("promote", promote)
