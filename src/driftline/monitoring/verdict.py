"""The retrain verdict: the drift signals and the history rules, combined under the
``retrain.when`` policy in params. The drift stage writes it into metrics/drift.json and,
with its reasons, into reports/drift.json; ``driftline retrain`` applies it."""

from __future__ import annotations

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


def verdict(
    monitor: dict[str, Any],
    history: dict[str, dict[str, dict[str, Any]]],
    when: dict[str, Any],
    newest_in_window: bool,
) -> tuple[bool, list[str]]:
    """Whether to retrain, with a human-readable reason for each signal that fired.

    ``monitor`` is :func:`driftline.monitoring.drift.monitor`'s result for the newest batch and
    ``history`` the rule results per metric.
    """
    if newest_in_window:
        return False, []
    reasons = []
    if when.get("dataset_drift") and monitor["dataset_drift"]:
        reasons.append(
            f"dataset drift: {len(monitor['drifted_columns'])} of {len(monitor['columns'])} "
            f"features drifted (share {monitor['share_drifted']:.2f} >= {monitor['share']:g})"
        )
    signals = {"label_drift": "target", "prediction_drift": "prediction"}
    for key, part in signals.items():
        signal = monitor[part]
        if when.get(key) and signal is not None and signal["drifted"]:
            kind, value = measured(signal)
            reasons.append(
                f"{key.replace('_', ' ')}: {signal['test']} {kind.replace('_', '-')} "
                f"{value:.4f} (threshold {signal['threshold']:g})"
            )
    for metric, rule in sorted(chosen_rules(when.get("rules"), list(history))):
        result = history[metric][rule]
        if result["alarm"]:
            reasons.append(
                f"{metric} {result['value']:.4f} breaks the {rule} rule "
                f"(bound {result['bound']:.4f})"
            )
    return bool(reasons), reasons
