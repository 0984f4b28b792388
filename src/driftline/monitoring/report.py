"""The drift report in Markdown: readable on its own in reports/drift.md, and the core of the
pull-request comment. ``driftline compare --md`` uses its tables."""

from __future__ import annotations

from typing import Any

from driftline.core import paths
from driftline.core.config import TARGET
from driftline.monitoring.drift import measured

RULE_LABELS = {
    "threshold": "hard threshold",
    "comparative": "worse than all earlier",
    "parametric": "mean ± k·std",
    "iqr": "IQR fences",
}


def _yes(flag: bool) -> str:
    return "**yes**" if flag else "no"


def _number(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.4f}"


def feature_table(ranked: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One row per column, most drifted first: test, what it measured, threshold, drift
    score, verdict, the model's importance of it (where known), missing-value rates and rows
    with a category the reference never saw."""
    weighed = any("importance" in r for _, r in ranked)
    lines = [
        "| feature | test | measured | threshold | drift score | drifted | "
        + ("importance | " if weighed else "")
        + "missing ref | missing cur | unseen |",
        "|---|---|---|---|---|---|" + ("---|" if weighed else "") + "---|---|---|",
    ]
    for name, r in ranked:
        unseen = r.get("unseen_rows")
        importance = f"{r['importance']:.2f} | " if weighed else ""
        lines.append(
            f"| {name} | {r['test']} | {_measured(r)} | {r['threshold']:g} | "
            f"{r['drift_score']:.2f} | {_yes(r['drifted'])} | {importance}"
            f"{r['missing_rate_reference']:.1%} | "
            f"{r['missing_rate_current']:.1%} | {'' if unseen is None else f'{unseen:,}'} |"
        )
    return lines


def _measured(r: dict[str, Any]) -> str:
    kind, value = measured(r)
    return f"{kind.replace('_', '-')} {_number(value)}"


def signal_line(label: str, r: dict[str, Any] | None) -> str:
    if r is None:
        return f"- {label}: not available"
    return (
        f"- {label}: {_yes(r['drifted'])} ({r['test']} {_measured(r)}, "
        f"threshold {r['threshold']:g}; drift score {r['drift_score']:.2f})"
    )


def importance_sentence(result: dict[str, Any]) -> str:
    """Drift weighted by the model's importance of each feature, in one sentence ('' when the
    model records no importance)."""
    carried = result.get("drifted_importance")
    if carried is None:
        return ""
    verdict = "**importance drift**" if result["importance_drift"] else "no importance drift"
    return (
        f" Weighted by the model's importance of each feature, the drifted features carry "
        f"{carried:.2f} of it: {verdict} (at >= {result['importance_share']:g})."
    )


def estimate_line(row: dict[str, Any] | None, concept: dict[str, Any] | None = None) -> list[str]:
    """The batch's quality estimated from its scores alone beside the realised one (pending
    labels: the estimate only), and whether the estimates still hold (``concept``:
    :func:`driftline.monitoring.estimate.concept_drift`)."""
    if not row or row.get("est_roc_auc") is None:
        return []
    realised = row.get("roc_auc")
    where = "**outside** its 99% band: concept drift" if row.get("estimate_missed") else "inside"
    said = (
        f"realised {_number(realised)}, {where}"
        if realised is not None
        else "**pending labels**: these are estimates, the realised values come with the labels"
    )
    lines = [
        f"- ROC AUC estimated from the scores alone: {row['est_roc_auc']:.4f} (95% band "
        f"{row['est_roc_auc_low']:.4f} to {row['est_roc_auc_high']:.4f}); {said}"
    ]
    if row.get("pending"):
        lines.append(
            f"- Estimated at the threshold: accuracy {_number(row.get('est_accuracy'))}, "
            f"precision {_number(row.get('est_precision'))}, recall "
            f"{_number(row.get('est_recall'))}, F1 {_number(row.get('est_f1'))}; PR AUC "
            f"{_number(row.get('est_pr_auc'))}, log loss {_number(row.get('est_log_loss'))}"
        )
    if concept and concept["fired"]:
        untrusted = ", ".join(concept["untrustworthy"]) or "none pending"
        why = concept["reason"].removeprefix("concept drift: ")
        lines.append(
            f"- **The estimates are untrustworthy**: the relation between features and label "
            f"changed, which an estimate from the scores cannot see ({why}). "
            f"Batches pending after {concept['batch']}, their estimates untrustworthy: {untrusted}"
        )
    return lines


def early_warning_lines(early: dict[str, dict[str, bool]] | None) -> list[str]:
    """The history rules on the pending batch's estimates (not in the verdict)."""
    if early is None:
        return []
    fired = [f"{m} {rule}" for m, rules in early.items() for rule, on in rules.items() if on]
    return [
        "",
        "Early warning, on the newest batch's estimates (the verdict waits for its labels): "
        + (", ".join(f"**{f}**" for f in fired) if fired else "no rule fires"),
    ]


def rules_table(rules: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """Each history rule's result per metric: ok, ALARM, or why it could not judge."""
    lines = [
        "| metric | newest | " + " | ".join(RULE_LABELS.values()) + " |",
        "|---|---|" + "---|" * len(RULE_LABELS),
    ]
    for metric, results in rules.items():
        cells = []
        for rule in RULE_LABELS:
            r = results[rule]
            if r["status"] in ("ok", "alarm"):
                mark = "**ALARM**" if r["alarm"] else "ok"
                cells.append(f"{mark} (bound {r['bound']:.4f})")
            else:
                cells.append(r["status"])
        newest = next((r.get("value") for r in results.values() if "value" in r), None)
        lines.append(f"| {metric} | {_number(newest)} | " + " | ".join(cells) + " |")
    return lines


def drift_report(
    batch: str,
    reference: dict[str, Any],
    result: dict[str, Any],
    ranked: list[tuple[str, dict[str, Any]]],
    rules: dict[str, dict[str, dict[str, Any]]],
    decision: tuple[bool, list[str]],
    in_window: bool,
    early: dict[str, dict[str, bool]] | None = None,
) -> str:
    """The whole report; ``ranked`` lists the columns' results most drifted first."""
    window = f"{reference['batches'][0]}..{reference['batches'][-1]}"
    retrain, reasons = decision
    verdict = "**dataset drift detected**" if result["dataset_drift"] else "no dataset drift"
    lines = [f"# Drift report: {batch}", ""]
    if in_window:
        lines += [
            f"> Batch `{batch}` is inside the training window `{window}`: the model was "
            "trained on it, so no retraining is advised and the quality history is empty.",
            "",
        ]
    lines += [
        f"Batch `{batch}` against the training reference `{window}` "
        f"({reference['rows']:,} rows): {verdict}. "
        f"{len(result['drifted_columns'])} of {len(result['columns'])} features drifted "
        f"(share {result['share_drifted']:.2f}; dataset drift at >= {result['share']:g})."
        + importance_sentence(result),
        "",
        f"## Retrain: {'**yes**' if retrain else 'no'}",
        "",
    ]
    lines += [f"- {reason}" for reason in reasons] or ["- no retraining signal fired"]
    lines += [
        "",
        "## Target and predictions",
        "",
        signal_line(f"Label drift (`{TARGET}`)", result["target"])
        + (" (pending labels)" if result["target"] is None else ""),
        signal_line("Prediction drift (model scores)", result["prediction"]),
        *estimate_line(result.get("estimate"), result.get("concept")),
        "",
        "## Quality history rules",
        "",
        *rules_table(rules),
        *early_warning_lines(early),
        "",
        f"![quality history with rule bands](../{paths.RULES_PNG.as_posix()})",
        "",
        "## Features",
        "",
        *feature_table(ranked),
        "",
        f"![feature drift](../{paths.DRIFT_PNG.as_posix()})",
        "",
        f"![each feature's drift over the batches](../{paths.DRIFT_TIMELINE_PNG.as_posix()})",
        "",
        f"![distributions of the most drifted features](../{paths.DISTRIBUTIONS_PNG.as_posix()})",
        "",
    ]
    return "\n".join(lines)
