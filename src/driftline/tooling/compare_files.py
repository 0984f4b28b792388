"""Ad-hoc drift comparison of any two tables, with the pipeline's engine and params.

``driftline compare REFERENCE CURRENT`` profiles both files on shared grids and runs the
same column tests, thresholds, overrides and dataset-drift share as the drift stage. Numeric
columns get a histogram on a grid spanning both files' values; every other column is
categorical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.core.errors import DriftlineError
from driftline.monitoring.drift import column_drift, dataset_drift
from driftline.monitoring.profile import categorical_profile, numeric_profile
from driftline.monitoring.report import feature_table, signal_line


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or parquet file whole; a missing or unreadable file is a DriftlineError."""
    path = Path(path)
    if not path.is_file():
        raise DriftlineError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, low_memory=False)
    except Exception as exc:  # pandas raises many types; the user needs the file and cause
        raise DriftlineError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from exc
    raise DriftlineError(f"{path}: expected a .csv or .parquet file")


def is_numeric(reference: pd.Series, current: pd.Series) -> bool:
    """A column is numeric when both sides hold numbers (booleans count as categories)."""
    return all(
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        for s in (reference, current)
    )


def profile_pair(
    reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], bins: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Profiles of ``columns`` in both frames; each numeric column on one shared grid."""
    ref_cols: dict[str, Any] = {}
    cur_cols: dict[str, Any] = {}
    for name in columns:
        ref, cur = reference[name], current[name]
        if is_numeric(ref, cur):
            ref_values = ref.to_numpy("float64", na_value=np.nan)
            cur_values = cur.to_numpy("float64", na_value=np.nan)
            low, high = _span(ref_values, cur_values)
            ref_cols[name] = numeric_profile(ref_values, low, high, bins)
            cur_cols[name] = numeric_profile(cur_values, low, high, bins)
        else:
            ref_cols[name] = categorical_profile(ref)
            cur_cols[name] = categorical_profile(cur)
    return (
        {"rows": len(reference), "columns": ref_cols},
        {"rows": len(current), "columns": cur_cols},
    )


def compare_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    settings: dict[str, Any],
    bins: int,
    target: str | None = None,
) -> dict[str, Any]:
    """Drift of every column the two frames share, as the drift stage tests it.

    Parameters
    ----------
    reference, current : pandas.DataFrame
        The tables to compare.
    settings : dict
        The ``drift`` params: ``share`` and per-column overrides in ``columns``.
    bins : int
        Histogram bins per numeric column (``profile.bins``).
    target : str, optional
        A column reported as target drift, apart from the features.

    Returns
    -------
    dict
        ``dataset_drift``, ``share_drifted``, ``drifted_columns``, per-column ``columns``
        results, ``target`` (or None) and the columns found on one side only.
    """
    shared = [c for c in reference.columns if c in set(current.columns)]
    if target is not None and target not in shared:
        raise DriftlineError(f"--target {target!r} is not a column of both files")
    features = [c for c in shared if c != target]
    if not features:
        raise DriftlineError("the two files share no column to compare")
    overrides = settings.get("columns") or {}
    ref_profile, cur_profile = profile_pair(reference, current, shared, bins)
    result = dataset_drift(ref_profile, cur_profile, features, settings["share"], overrides)
    result["target"] = (
        None
        if target is None
        else column_drift(
            ref_profile["columns"][target],
            cur_profile["columns"][target],
            len(reference),
            overrides.get(target),
        )
    )
    result["share"] = settings["share"]
    result["rows"] = {"reference": len(reference), "current": len(current)}
    result["only_in_reference"] = [c for c in reference.columns if c not in set(shared)]
    result["only_in_current"] = [c for c in current.columns if c not in set(shared)]
    return result


def _span(*arrays: np.ndarray) -> tuple[float, float]:
    """The grid: from the smallest to the largest value of either side (never empty)."""
    present = [a[~np.isnan(a)] for a in arrays]
    present = [a for a in present if a.size]
    if not present:
        return 0.0, 1.0
    low = min(float(a.min()) for a in present)
    high = max(float(a.max()) for a in present)
    return (low, high) if high > low else (low, low + 1.0)


def compare_report(result: dict[str, Any], names: tuple[str, str]) -> str:
    """``driftline compare --md``: the verdict and the per-column table."""
    ranked = sorted(result["columns"].items(), key=lambda kv: (not kv[1]["drifted"], kv[0]))
    verdict = "**dataset drift detected**" if result["dataset_drift"] else "no dataset drift"
    lines = [
        f"# Drift: `{names[1]}` against `{names[0]}`",
        "",
        f"{result['rows']['current']:,} rows against {result['rows']['reference']:,}: "
        f"{verdict}. {len(result['drifted_columns'])} of {len(result['columns'])} columns "
        f"drifted (share {result['share_drifted']:.2f}; dataset drift at >= {result['share']:g}).",
        "",
    ]
    if result["target"] is not None:
        lines += [signal_line("Target drift", result["target"]), ""]
    for side in ("reference", "current"):
        if result[f"only_in_{side}"]:
            lines += [f"Only in the {side}: {', '.join(result[f'only_in_{side}'])}.", ""]
    return "\n".join([*lines, *feature_table(ranked), ""])
