"""drift: the newest batch against the training reference, from profiles alone.

Writes the drift metrics, the per-feature scores for DVC plots, a PNG and a Markdown report.
"""

from __future__ import annotations

from typing import Any

from driftline import paths, plots
from driftline.config import batch_list, load_params
from driftline.drift import column_drift, dataset_drift, severity
from driftline.features import TARGET, feature_lists
from driftline.io import read_json, write_json, write_text
from driftline.log import get_logger
from driftline.stages import run


def drift(argv: list[str]) -> None:
    params = load_params()
    settings = params["drift"]
    newest = batch_list(params)[-1]
    reference = read_json(paths.REFERENCE)
    current = read_json(paths.profile(newest))
    categorical, numeric = feature_lists(params)
    overrides = settings.get("columns") or {}
    result = dataset_drift(reference, current, categorical + numeric, settings["share"], overrides)
    target = column_drift(
        reference["columns"][TARGET],
        current["columns"][TARGET],
        reference["rows"],
        overrides.get(TARGET),
    )
    ranked = sorted(result["columns"].items(), key=lambda kv: -severity(kv[1]))
    top = ranked[: settings["top"]]
    write_json(
        paths.DRIFT_METRICS,
        {
            "batch": newest,
            "reference": f"{reference['batches'][0]}..{reference['batches'][-1]}",
            "dataset_drift": result["dataset_drift"],
            "share_drifted": result["share_drifted"],
            "drifted_features": len(result["drifted_columns"]),
            "features_tested": len(result["columns"]),
            "target_drift": {
                "test": target["test"],
                "score": target["score"],
                "drifted": target["drifted"],
            },
            "top_features": {
                name: {
                    "rank": rank,
                    "test": r["test"],
                    "score": r["score"],
                    "drifted": r["drifted"],
                }
                for rank, (name, r) in enumerate(top, start=1)
            },
        },
    )
    write_json(
        paths.DRIFT_SCORES,
        [
            {
                "feature": name,
                "test": r["test"],
                "score": r["score"],
                "threshold": r["threshold"],
                "drifted": r["drifted"],
            }
            for name, r in sorted(result["columns"].items())
        ],
    )
    plots.drift_png(result["columns"], newest, paths.DRIFT_PNG)
    write_text(
        paths.DRIFT_REPORT, report(newest, reference, result, ranked, target, settings["share"])
    )
    get_logger().info(
        "%s: %d of %d features drifted (share %.2f), dataset drift %s",
        newest,
        len(result["drifted_columns"]),
        len(result["columns"]),
        result["share_drifted"],
        result["dataset_drift"],
    )


def report(
    batch: str,
    reference: dict[str, Any],
    result: dict[str, Any],
    ranked: list[tuple[str, dict[str, Any]]],
    target: dict[str, Any],
    share: float,
) -> str:
    """The drift report in Markdown, readable on its own; ``ranked`` lists the columns'
    results most drifted first."""
    window = f"{reference['batches'][0]}..{reference['batches'][-1]}"
    verdict = "**drift detected**" if result["dataset_drift"] else "no dataset drift"
    lines = [
        f"# Drift report: {batch}",
        "",
        f"Batch `{batch}` against the training reference `{window}` "
        f"({reference['rows']:,} rows): {verdict}.",
        f"{len(result['drifted_columns'])} of {len(result['columns'])} features drifted "
        f"(share {result['share_drifted']:.2f}; dataset drift at >= {share:g}).",
        f"Target (`{TARGET}`) drift: {'yes' if target['drifted'] else 'no'} "
        f"({target['test']} {target['score']:.4f}).",
        "",
        "| feature | test | score | threshold | drifted | missing ref | missing cur |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in ranked:
        lines.append(
            f"| {name} | {r['test']} | {r['score']:.4f} | {r['threshold']:g} | "
            f"{'yes' if r['drifted'] else 'no'} | {r['missing_rate_reference']:.1%} | "
            f"{r['missing_rate_current']:.1%} |"
        )
    lines += ["", f"![feature drift](../{paths.DRIFT_PNG.as_posix()})", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    run("drift", drift)
