"""The retrain verdict, and retraining as a params change.

``verdict`` combines the drift signals and the history rules under the ``retrain.when``
policy in params. ``moved_window`` and ``set_window`` move ``train.window`` to end at the
newest batch; ``driftline retrain`` applies them to ``params.yaml``, and ``dvc repro`` then
trains the new model.
"""

from __future__ import annotations

import re
from typing import Any

from driftline.errors import DriftlineError
from driftline.rules import RULES

WINDOW_MODES = ("sliding", "expanding")


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

    ``monitor`` is :func:`driftline.drift.monitor`'s result for the newest batch and
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
            reasons.append(
                f"{key.replace('_', ' ')}: {signal['test']} {signal['score']:.4f} "
                f"(threshold {signal['threshold']:g})"
            )
    for metric, rule in sorted(chosen_rules(when.get("rules"), list(history))):
        result = history[metric][rule]
        if result["alarm"]:
            reasons.append(
                f"{metric} {result['value']:.4f} breaks the {rule} rule "
                f"(bound {result['bound']:.4f})"
            )
    return bool(reasons), reasons


def moved_window(batches: list[str], start: str, end: str, mode: str) -> tuple[str, str]:
    """The window ending at the newest batch: same length (sliding) or same start (expanding)."""
    if mode not in WINDOW_MODES:
        raise DriftlineError(
            f"params.yaml: key 'retrain.window' is {mode!r}; choose {' or '.join(WINDOW_MODES)}"
        )
    first, last = batches.index(start), batches.index(end)
    newest = len(batches) - 1
    if mode == "expanding":
        return start, batches[newest]
    return batches[max(newest - (last - first), 0)], batches[newest]


def set_window(text: str, start: str, end: str) -> str:
    """``params.yaml`` text with ``train.window.start`` and ``end`` replaced, comments and
    layout kept. The caller re-reads the result to check it."""
    lines = text.splitlines(keepends=True)
    section = _block(lines, 0, len(lines), "train")
    window = _block(lines, section[0] + 1, section[1], "window")
    found = set()
    for i in range(window[0] + 1, window[1]):
        match = re.match(r"^(\s+)(start|end)(\s*:\s*)([^#\n]*?)(\s*(#.*)?\n?)$", lines[i])
        if match:
            key = match.group(2)
            value = start if key == "start" else end
            lines[i] = f'{match.group(1)}{key}{match.group(3)}"{value}"{match.group(5)}'
            found.add(key)
    if found != {"start", "end"}:
        raise DriftlineError("params.yaml: train.window needs 'start:' and 'end:' lines")
    return "".join(lines)


def _block(lines: list[str], begin: int, stop: int, key: str) -> tuple[int, int]:
    """The line span [header, end) of the mapping ``key:`` between ``begin`` and ``stop``."""
    for i in range(begin, stop):
        match = re.match(rf"^(\s*){key}\s*:\s*(#.*)?$", lines[i])
        if match:
            indent = len(match.group(1))
            end = i + 1
            while end < stop and (
                not lines[end].strip()
                or lines[end].lstrip().startswith("#")
                or len(lines[end]) - len(lines[end].lstrip()) > indent
            ):
                end += 1
            return i, end
    raise DriftlineError(f"params.yaml: no '{key}:' block found to edit")
