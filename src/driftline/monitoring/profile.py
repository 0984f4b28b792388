"""Compact, mergeable column profiles: what the drift tests need, without the raw rows.

A numeric column becomes a histogram on a fixed grid plus its count, nulls, sum and sum of
squares. The grid is fine (``profile.bins``, 10,000 by default, as the best monitors use past
10k rows) and stored sparsely: only non-empty bins, as ``{bin index: count}``. A categorical
column becomes a frequency table. Profiles of the same columns on the same grid add up, so
the training reference is the sum of its batches' profiles and never needs their rows again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class NumericProfile:
    """A numeric column's profile built from chunks of its values, as they arrive: the
    histogram on ``bins`` equal bins over ``[low, high]``, the count, nulls, sum, sum of
    squares, min and max. Values outside the range are counted in ``out_of_range`` and placed
    in the edge bins, so the histogram always holds every non-null value. NaN counts as null.
    """

    def __init__(self, low: float, high: float, bins: int):
        self.low, self.high, self.bins = float(low), float(high), int(bins)
        self.hist = np.zeros(self.bins, dtype="int64")
        self.count = self.nulls = self.outside = 0
        self.sum = self.sumsq = 0.0
        self.min: float | None = None
        self.max: float | None = None

    def add(self, values: np.ndarray) -> NumericProfile:
        values = np.asarray(values, dtype="float64")
        present = values[~np.isnan(values)]
        index = np.floor((present - self.low) / (self.high - self.low) * self.bins)
        self.hist += np.bincount(
            np.clip(index.astype("int64"), 0, self.bins - 1), minlength=self.bins
        )
        self.outside += int(np.count_nonzero((present < self.low) | (present > self.high)))
        self.count += int(present.size)
        self.nulls += int(values.size - present.size)
        self.sum += float(present.sum())
        self.sumsq += float(np.square(present).sum())
        if present.size:
            low, high = float(present.min()), float(present.max())
            self.min = low if self.min is None else min(self.min, low)
            self.max = high if self.max is None else max(self.max, high)
        return self

    def result(self) -> dict[str, Any]:
        profile = {
            "kind": "numeric",
            "count": self.count,
            "nulls": self.nulls,
            "sum": self.sum,
            "sumsq": self.sumsq,
            "min": self.min,
            "max": self.max,
            "range": [self.low, self.high],
            "bins": self.bins,
            "hist": _sparse(self.hist),
            "out_of_range": self.outside,
        }
        profile["quantiles"] = histogram_quantiles(profile)
        return profile


class CategoricalProfile:
    """A categorical column's frequency table, built from chunks of its values."""

    def __init__(self) -> None:
        self.freq: dict[str, int] = {}
        self.size = 0

    def add(self, values: pd.Series) -> CategoricalProfile:
        # Count first, then name the values: one pass over the rows, whatever their dtype.
        for key, count in values.value_counts(dropna=True, sort=False).items():
            if count:
                self.freq[str(key)] = self.freq.get(str(key), 0) + int(count)
        self.size += int(values.size)
        return self

    def result(self) -> dict[str, Any]:
        present = sum(self.freq.values())
        return {
            "kind": "categorical",
            "count": present,
            "nulls": self.size - present,
            "freq": dict(sorted(self.freq.items())),
        }


class FrameProfile:
    """:func:`profile_frame` of rows that arrive in chunks: add each chunk, then read the
    profile of all of them, without holding more than one chunk."""

    def __init__(
        self, categorical: Iterable[str], numeric: Mapping[str, tuple[float, float]], bins: int
    ):
        self.rows = 0
        self.columns: dict[str, NumericProfile | CategoricalProfile] = {
            name: CategoricalProfile() for name in categorical
        }
        for name, (low, high) in numeric.items():
            self.columns[name] = NumericProfile(low, high, bins)

    def add(self, frame: pd.DataFrame) -> FrameProfile:
        self.rows += int(len(frame))
        for name, column in self.columns.items():
            if isinstance(column, NumericProfile):
                column.add(frame[name].to_numpy(dtype="float64"))
            else:
                column.add(frame[name])
        return self

    def result(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": {name: column.result() for name, column in self.columns.items()},
        }


def numeric_profile(values: np.ndarray, low: float, high: float, bins: int) -> dict[str, Any]:
    """Profile numeric values on ``bins`` equal bins over ``[low, high]`` (see
    :class:`NumericProfile`)."""
    return NumericProfile(low, high, bins).add(values).result()


def score_profile(scores: np.ndarray, bins: int) -> dict[str, Any]:
    """Profile a model's predicted probabilities, on the grid of [0, 1]: the one grid every
    score profile (training reference and batches) must share to be compared."""
    return numeric_profile(scores, 0.0, 1.0, bins)


def categorical_profile(values: pd.Series) -> dict[str, Any]:
    """Profile a categorical column as a frequency table, keys sorted for stable output."""
    return CategoricalProfile().add(values).result()


def profile_frame(
    frame: pd.DataFrame,
    categorical: Iterable[str],
    numeric: Mapping[str, tuple[float, float]],
    bins: int,
) -> dict[str, Any]:
    """Profile the named columns of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to profile.
    categorical : iterable of str
        Columns profiled as frequency tables.
    numeric : mapping of str to (low, high)
        Columns profiled as histograms, with the range of each one's grid.
    bins : int
        Bins per numeric histogram.

    Returns
    -------
    dict
        ``{"rows": n, "columns": {name: column profile}}``.
    """
    return FrameProfile(categorical, numeric, bins).add(frame).result()


def merge_profiles(profiles: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up profiles of the same columns (and grids) into one, as if of the concatenated rows."""
    if not profiles:
        raise ValueError("merge_profiles needs at least one profile")
    names = list(profiles[0]["columns"])
    merged: dict[str, Any] = {}
    for name in names:
        parts = [p["columns"][name] for p in profiles]
        if parts[0]["kind"] == "numeric":
            merged[name] = _merge_numeric(parts)
        else:
            freq: dict[str, int] = {}
            for part in parts:
                for key, count in part["freq"].items():
                    freq[key] = freq.get(key, 0) + count
            merged[name] = {
                "kind": "categorical",
                "count": sum(p["count"] for p in parts),
                "nulls": sum(p["nulls"] for p in parts),
                "freq": dict(sorted(freq.items())),
            }
    return {"rows": sum(p["rows"] for p in profiles), "columns": merged}


def _merge_numeric(parts: list[dict[str, Any]]) -> dict[str, Any]:
    grids = {(*p["range"], p["bins"]) for p in parts}
    if len(grids) != 1:
        raise ValueError("numeric profiles on different grids cannot be merged")
    mins = [p["min"] for p in parts if p["min"] is not None]
    maxs = [p["max"] for p in parts if p["max"] is not None]
    merged = {
        "kind": "numeric",
        "count": sum(p["count"] for p in parts),
        "nulls": sum(p["nulls"] for p in parts),
        "sum": float(sum(p["sum"] for p in parts)),
        "sumsq": float(sum(p["sumsq"] for p in parts)),
        "min": min(mins) if mins else None,
        "max": max(maxs) if maxs else None,
        "range": list(parts[0]["range"]),
        "bins": parts[0]["bins"],
        "hist": _sparse(np.sum([hist_array(p) for p in parts], axis=0)),
        "out_of_range": sum(p["out_of_range"] for p in parts),
    }
    merged["quantiles"] = histogram_quantiles(merged)
    return merged


def mean_std(column: dict[str, Any]) -> tuple[float, float]:
    """Mean and population standard deviation (ddof=0) of a numeric column profile."""
    n = column["count"]
    if n == 0:
        return float("nan"), float("nan")
    mean = column["sum"] / n
    variance = max(column["sumsq"] / n - mean * mean, 0.0)
    return mean, float(np.sqrt(variance))


def hist_array(column: dict[str, Any]) -> np.ndarray:
    """The dense histogram of a numeric column profile, as float64 counts per bin."""
    dense = np.zeros(column["bins"], dtype="float64")
    if column["hist"]:
        index = np.fromiter((int(k) for k in column["hist"]), dtype="int64")
        dense[index] = np.fromiter(column["hist"].values(), dtype="float64")
    return dense


def _sparse(dense: np.ndarray) -> dict[str, int]:
    return {str(i): int(dense[i]) for i in np.flatnonzero(dense)}


def bin_edges(column: dict[str, Any]) -> np.ndarray:
    low, high = column["range"]
    return np.linspace(low, high, column["bins"] + 1)


def histogram_quantiles(column: dict[str, Any], qs: Iterable[float] = QUANTILES) -> dict[str, Any]:
    """Quantiles read off the histogram by linear interpolation inside the bin they fall in.

    Accurate to one bin width; exact quantiles would need the rows.
    """
    hist = hist_array(column)
    total = hist.sum()
    if total == 0:
        return {f"{q:g}": None for q in qs}
    cdf = np.concatenate([[0.0], np.cumsum(hist) / total])
    edges = bin_edges(column)
    return {f"{q:g}": float(np.interp(q, cdf, edges)) for q in qs}


def nonempty_bins(column: dict[str, Any]) -> int:
    """Distinct values seen, as far as the profile can tell (exact for categories)."""
    if column["kind"] == "categorical":
        return len(column["freq"])
    return len(column["hist"])
