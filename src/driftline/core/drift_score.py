"""The drift score: every test's result on one scale, where higher always means more drift.

A p-value test and a distance read in opposite directions (a smaller p-value, a larger
distance, is more drift), so neither raw number can be marked better or worse by itself. The
drift score can: 1 is the test's threshold, above it the column drifted.
"""

from __future__ import annotations

from typing import Any

P_VALUE_CAP = 10.0


def drift_score(kind: str, value: float, threshold: float) -> float:
    """``distance / threshold`` for a distance, ``threshold / p_value`` for a p-value
    (capped at 10, which a p-value of a tenth of the threshold already reaches)."""
    if kind == "p_value":
        return min(threshold / max(value, 1e-12), P_VALUE_CAP)
    return value / threshold


def measured(result: dict[str, Any]) -> tuple[str, float]:
    """What a column's test measured, by its name: ``("p_value", p)`` or ``("distance", d)``."""
    kind = "p_value" if "p_value" in result else "distance"
    return kind, result[kind]
