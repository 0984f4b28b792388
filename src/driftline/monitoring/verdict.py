"""The retrain verdict: the drift signals and the history rules, combined under the
``retrain.when`` policy in params. The drift stage writes it into metrics/drift.json and,
with its reasons, into reports/drift.json; ``driftline retrain`` applies it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from driftline.core.errors import DriftlineError
from driftline.monitoring.drift import measured
from driftline.monitoring.history_rules import RULES


def chosen_rules(policy: Any, metrics: list[str]) -> set[tuple[str, str]]:
    """The (metric, rule) pairs a ``retrain.when.rules`` setting selects.

    ``any`` selects every rule of every metric, ``none`` (or an empty list) none; a list
    holds ``rule`` names (for every metric) or ``metric.rule`` pairs.
    """
    if policy in ("any", True):
        return {(m, r) for m in metrics for r in RULES}
    if policy in ("none", None, False):
        return set()
    if not isinstance(policy, list):
        raise DriftlineError("params.yaml: key 'retrain.when.rules' must be any, none or a list")
    chosen = set()
    for item in map(str, policy):
        metric, _, rule = item.rpartition(".")
        if rule not in RULES or (metric and metric not in metrics):
            raise DriftlineError(
                f"params.yaml: 'retrain.when.rules' names {item!r}; use a rule "
                f"({', '.join(RULES)}) or metric.rule with a metric of "
                f"drift.history ({', '.join(metrics)})"
            )
        chosen |= {(m, rule) for m in ([metric] if metric else metrics)}
    return chosen


def persistence(when: dict[str, Any]) -> tuple[int, int]:
    """``retrain.when.persistence``'s ``(k, n)``: a drift signal counts when it fired on at
    least k of the newest n batches after the window. Absent: 1 of 1, the newest alone."""
    setting = when.get("persistence") or {}
    return int(setting.get("k", 1)), int(setting.get("n", 1))


def fired_before(row: dict[str, Any], key: str) -> bool:
    """Whether drift signal ``key`` fired on an earlier batch, from its metrics/history.csv
    row: dataset and importance drift as recorded, concept drift as the realised ROC AUC outside
    the estimate's 99% band (``estimate_missed``), label and prediction drift as a drift score
    of 1 or more."""
    if key in ("dataset_drift", "importance_drift"):
        return bool(row.get(key))
    if key == "concept_drift":
        return bool(row.get("estimate_missed"))
    score = row[f"{key}_score"]
    return score is not None and score >= 1


def said_of(key: str, signal: dict[str, Any]) -> str:
    kind, value = measured(signal)
    return (
        f"{key.replace('_', ' ')}: {signal['test']} {kind.replace('_', '-')} "
        f"{value:.4f} (threshold {signal['threshold']:g})"
    )


def verdict(
    monitor: dict[str, Any],
    history: dict[str, dict[str, dict[str, Any]]],
    when: dict[str, Any],
    newest_in_window: bool,
    earlier: list[dict[str, Any]] | tuple = (),
) -> tuple[bool, list[str]]:
    """Whether to retrain, with a human-readable reason for each signal that fired.

    ``monitor`` is :func:`driftline.monitoring.drift.monitor`'s result for the newest batch,
    ``history`` the rule results per metric, and ``earlier`` the metrics/history.csv rows of
    the batches after the window before the newest, oldest first: with a persistence of k of
    n (``retrain.when.persistence``), a drift signal counts when it fired on k of the newest
    n batches, the newest included.
    """
    if newest_in_window:
        return False, []
    k, n = persistence(when)
    recent = list(earlier)[-(n - 1) :] if n > 1 else []
    reasons = []

    def persists(key: str, now: bool, said: Callable[[], str]) -> None:
        count = int(now) + sum(fired_before(row, key) for row in recent)
        if not when.get(key) or count < k:
            return
        if n == 1:
            reasons.append(said())
            return
        newest = said() if now else f"{key.replace('_', ' ')}: not on the newest batch"
        reasons.append(
            f"{newest}; on {count} of the last {1 + len(recent)} batches (persistence {k} of {n})"
        )

    persists(
        "dataset_drift",
        monitor["dataset_drift"],
        lambda: (
            f"dataset drift: {len(monitor['drifted_columns'])} of {len(monitor['columns'])} "
            f"features drifted (share {monitor['share_drifted']:.2f} >= {monitor['share']:g})"
        ),
    )
    if monitor.get("drifted_importance") is not None:
        persists(
            "importance_drift",
            monitor["importance_drift"],
            lambda: (
                f"importance drift: the drifted features carry "
                f"{monitor['drifted_importance']:.2f} of the model's importance "
                f"(>= {monitor['importance_share']:g})"
            ),
        )
    concept = monitor.get("concept")
    if concept is not None:  # driftline.monitoring.estimate.concept_drift
        persists("concept_drift", concept["fired"], lambda: concept["reason"])
    signals = {"label_drift": "target", "prediction_drift": "prediction"}
    for key, part in signals.items():
        signal = monitor[part]
        if signal is not None:
            persists(key, signal["drifted"], lambda key=key, signal=signal: said_of(key, signal))
    for metric, rule in sorted(chosen_rules(when.get("rules"), list(history))):
        result = history[metric][rule]
        if result["alarm"]:
            reasons.append(
                f"{metric} {result['value']:.4f} breaks the {rule} rule "
                f"(bound {result['bound']:.4f})"
            )
    return bool(reasons), reasons
