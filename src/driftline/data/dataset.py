"""From a typed raw batch to the prepared frame: each row's time, the label and the candidate
features, all named in config (``params.yaml``'s ``target`` and ``features``, the contract's
``time``). The candidates are every contract column but the target, the time columns and
``features.exclude``, plus what the optional hook in ``features.py`` derives. The model uses
``features.categorical`` and ``features.numeric`` among them, by default all of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftline.core.config import TARGET, TIME
from driftline.core.errors import DriftlineError
from driftline.data.target import label

HOOK = "src/driftline/data/features.py"
TIME_PARTS = ("year", "month", "day", "hour", "minute")


def row_times(frame: pd.DataFrame, contract: dict[str, Any]) -> pd.Series:
    """When each row happened, from the contract's ``time``: one column of ISO 8601 dates or
    datetimes (an offset is converted to UTC), or the columns of year, month, day and
    optionally hour and minute. NaT where they form no valid time."""
    time = contract["time"]
    if isinstance(time, str):
        parsed = pd.to_datetime(frame[time], format="ISO8601", errors="coerce", utc=True)
        return parsed.dt.tz_localize(None)
    units = TIME_PARTS[: len(time)]
    parts = {unit: frame[name].astype("int64") for unit, name in zip(units, time, strict=True)}
    return pd.to_datetime(parts, errors="coerce")


def raw_candidates(params: dict[str, Any], contract: dict[str, Any]) -> list[str]:
    """The contract's columns that are candidate features, in contract order."""
    time = contract["time"]
    taken = {params["target"]["column"], *([time] if isinstance(time, str) else time)}
    taken.update(params["features"].get("exclude") or [])
    return [name for name in contract["columns"] if name not in taken]


def input_columns(params: dict[str, Any], contract: dict[str, Any]) -> list[str]:
    """The raw columns that :func:`feature_frame` reads: the time columns and the candidates,
    in contract order. A file to score needs these; the target and the excluded columns may
    be absent."""
    time = contract["time"]
    needed = {*([time] if isinstance(time, str) else time), *raw_candidates(params, contract)}
    return [name for name in contract["columns"] if name in needed]


def feature_frame(
    raw: pd.DataFrame, params: dict[str, Any], contract: dict[str, Any]
) -> pd.DataFrame:
    """Each row's ``time``, the raw candidates (text as ``str``, numbers as float64) and the
    derived ones, in raw row order: the one way features are built, for training
    (:func:`prepare_frame`) and for scoring a file (``driftline predict``). ``raw`` holds at
    least :func:`input_columns`, typed by the data contract."""
    time = row_times(raw, contract)
    columns: dict[str, Any] = {TIME: time}
    for name in raw_candidates(params, contract):
        text = contract["columns"][name]["type"] == "str"
        columns[name] = raw[name].astype("str") if text else raw[name].astype("float64")
    if params["features"]["derive"]:
        # Imported only when asked for: a fork without derived features never runs it.
        from driftline.data import features as hook

        derived = hook.derive(raw, time)
        if len(derived) != len(raw):
            raise DriftlineError(
                f"{HOOK}: derive() returned {len(derived)} rows for a batch of {len(raw)}"
            )
        clash = [name for name in derived.columns if name in columns or name == TARGET]
        if clash:
            raise DriftlineError(
                f"{HOOK}: derive() returns {clash}, which are already columns of the prepared "
                "frame: rename them, or list the raw ones in features.exclude"
            )
        for name in derived.columns:
            columns[name] = derived[name].to_numpy()
    return pd.DataFrame(columns)


def prepare_frame(
    raw: pd.DataFrame, params: dict[str, Any], contract: dict[str, Any]
) -> tuple[pd.DataFrame, int]:
    """Build the time, the label and the candidate features of a typed raw batch.

    Returns
    -------
    prepared : pandas.DataFrame
        ``time``, ``target`` (int8), then :func:`feature_frame`'s candidates, in raw row
        order, without the rows ``target.missing`` drops.
    unlabelled : int
        How many rows had an empty target column (dropped or labelled as ``missing`` says).
    """
    settings = params["target"]
    labels, keep = label(raw[settings["column"]], settings["positive"], settings["missing"])
    prepared = feature_frame(raw, params, contract)
    prepared.insert(1, TARGET, labels)
    prepared = prepared.loc[keep].reset_index(drop=True)
    return prepared, int(np.count_nonzero(raw[settings["column"]].isna().to_numpy()))


def profile_spec(
    prepared: pd.DataFrame, params: dict[str, Any], contract: dict[str, Any]
) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """The candidates of a prepared frame to profile: categorical names, and numeric names
    with the ``(low, high)`` grid of each one's histogram (the contract's ``range``, or the
    hook's ``RANGES`` for a derived column)."""
    derived = {}
    if params["features"]["derive"]:
        from driftline.data import features as hook

        derived = hook.RANGES
    categorical, numeric = [], {}
    for name in prepared.columns:
        if name in (TIME, TARGET):
            continue
        if not pd.api.types.is_numeric_dtype(prepared[name]):
            categorical.append(name)
            continue
        # A derived column may share a time or excluded column's name (the demo's month).
        bounds = derived.get(name) or contract["columns"].get(name, {}).get("range")
        if bounds is None:
            where = f"{HOOK} (RANGES)" if name not in contract["columns"] else "contract.yaml"
            raise DriftlineError(
                f"{where}: numeric feature '{name}' needs a range [low, high] for its drift "
                "histogram"
            )
        numeric[name] = (float(bounds[0]), float(bounds[1]))
    return categorical, numeric
