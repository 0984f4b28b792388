"""Rules on a quality metric's history, from the course this project grew from: does the
newest value look like the model is decaying?

Each rule judges the newest value against a bound; the bound of all but the first comes from
the earlier values only. A metric is either higher-is-better (ROC AUC) or lower-is-better
(log loss), and only a move to the worse side raises an alarm.

============= =============================================================================
rule          alarm when the newest value is worse than
============= =============================================================================
threshold     a fixed value from params (needs no history)
comparative   every earlier value
parametric    mean -/+ k * std of the earlier values (population std, ddof=0; k = 2)
iqr           Q1 - 1.5 * IQR (or Q3 + 1.5 * IQR) of the earlier values (linear quantiles)
============= =============================================================================

With fewer than ``min_history`` values in all (the newest included), the three history rules
report "insufficient history" and never alarm.

The earlier values are all of them, or with a ``baseline`` of N, the first N only (the
batches right after training, params.yaml ``drift.baseline``): fixed bounds, so a slow
decline cannot widen its own bounds as it goes. Until N earlier values exist, all count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from driftline.core.errors import DriftlineError

RULES = ("threshold", "comparative", "parametric", "iqr")
IQR_FACTOR = 1.5


def _worse(value: float, bound: float, higher_is_better: bool) -> bool:
    return value < bound if higher_is_better else value > bound


def threshold_rule(latest: float, threshold: float | None, higher_is_better: bool):
    """The newest value against a fixed threshold; ``None`` turns the rule off."""
    if threshold is None:
        return {"status": "off", "alarm": False}
    return _verdict(latest, float(threshold), higher_is_better)


def comparative_rule(latest: float, earlier: np.ndarray, higher_is_better: bool):
    """Alarm when the newest value is worse than every earlier one."""
    bound = float(earlier.min() if higher_is_better else earlier.max())
    return _verdict(latest, bound, higher_is_better)


def parametric_rule(latest: float, earlier: np.ndarray, higher_is_better: bool, k: float):
    """Alarm when the newest value is beyond mean -/+ k * std (ddof=0) of the earlier ones."""
    mean, std = float(earlier.mean()), float(earlier.std(ddof=0))
    result = _verdict(
        latest, mean - k * std if higher_is_better else mean + k * std, higher_is_better
    )
    result["band"] = [mean - k * std, mean + k * std]
    return result


def iqr_rule(latest: float, earlier: np.ndarray, higher_is_better: bool):
    """Alarm when the newest value is outside the Tukey fences of the earlier values, on the
    worse side."""
    q1, q3 = (float(q) for q in np.percentile(earlier, [25, 75]))
    low, high = q1 - IQR_FACTOR * (q3 - q1), q3 + IQR_FACTOR * (q3 - q1)
    result = _verdict(latest, low if higher_is_better else high, higher_is_better)
    result["band"] = [low, high]
    return result


def check_metric(
    values: Sequence[float | None],
    higher_is_better: bool,
    threshold: float | None = None,
    k: float = 2.0,
    min_history: int = 3,
    baseline: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every rule on one metric's history, oldest first; the last value is judged
    against the earlier ones, or the first ``baseline`` of them.

    Missing values (None or NaN, e.g. an AUC on a one-class batch) are skipped. Returns
    ``{rule: {"status": "ok" | "alarm" | "insufficient history" | "off" | "no value",
    "alarm": bool, ...}}`` with the value and bound where they exist.
    """
    present = np.array(
        [float(v) for v in values if v is not None and not math.isnan(float(v))], dtype="float64"
    )
    if present.size == 0:
        return {rule: {"status": "no value", "alarm": False} for rule in RULES}
    latest, earlier = float(present[-1]), present[:-1]
    if baseline is not None:
        if baseline < 1:
            raise DriftlineError(
                f"a baseline of {baseline} batches leaves nothing to compare with: use at "
                "least 1, or none for every earlier batch"
            )
        earlier = earlier[:baseline]
    results = {"threshold": threshold_rule(latest, threshold, higher_is_better)}
    if present.size < max(min_history, 2):
        short = {
            "status": "insufficient history",
            "alarm": False,
            "value": latest,
            "points": int(present.size),
            "needed": max(min_history, 2),
        }
        results.update({rule: dict(short) for rule in RULES[1:]})
        return results
    results["comparative"] = comparative_rule(latest, earlier, higher_is_better)
    results["parametric"] = parametric_rule(latest, earlier, higher_is_better, k)
    results["iqr"] = iqr_rule(latest, earlier, higher_is_better)
    return results


def _verdict(latest: float, bound: float, higher_is_better: bool) -> dict[str, Any]:
    alarm = _worse(latest, bound, higher_is_better)
    return {"status": "alarm" if alarm else "ok", "alarm": alarm, "value": latest, "bound": bound}
