"""From a typed raw batch to the prepared frame: the target and the features known at
scheduled departure. Columns that are only known after the flight (``dep_time``,
``dep_delay``, ``arr_time``, ``air_time``, ``arr_delay`` itself) never become features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftline.core.errors import DriftlineError

TARGET = "late"
TIME = "sched_dep"
WEATHER = [
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
]
CATEGORICAL = ["carrier", "origin", "dest"]
NUMERIC = ["distance", "sched_hour", "day_of_week", "day_of_month", "month", *WEATHER]
CANDIDATES = CATEGORICAL + NUMERIC
# The histogram grids of derived features, fixed by their definitions. Features copied from
# a raw column use that column's range in the data contract.
DERIVED_RANGES = {
    "sched_hour": (0.0, 24.0),
    "day_of_week": (0.0, 7.0),
    "day_of_month": (1.0, 32.0),
    "month": (1.0, 13.0),
}
LEAKY = {"dep_time", "dep_delay", "arr_time", "air_time", "arr_delay", "sched_arr_time"}


def feature_lists(params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The model's categorical and numeric features from ``params['features']``, checked."""
    categorical = [str(c) for c in params["features"]["categorical"]]
    numeric = [str(c) for c in params["features"]["numeric"]]
    for kind, chosen, available in (
        ("categorical", categorical, CATEGORICAL),
        ("numeric", numeric, NUMERIC),
    ):
        unknown = [c for c in chosen if c not in available]
        if unknown:
            raise DriftlineError(
                f"params.yaml: features.{kind} {unknown} are not available; choose from {available}"
            )
    return categorical, numeric


def profile_ranges(numeric: list[str], contract: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """The ``[low, high]`` grid of each numeric feature's drift histogram."""
    ranges = {}
    for name in numeric:
        if name in DERIVED_RANGES:
            ranges[name] = DERIVED_RANGES[name]
            continue
        bounds = contract["columns"].get(name, {}).get("range")
        if bounds is None:
            raise DriftlineError(f"contract.yaml: numeric feature '{name}' needs a range")
        ranges[name] = (float(bounds[0]), float(bounds[1]))
    return ranges


def prepare_frame(
    raw: pd.DataFrame, late_minutes: float, cancelled: str
) -> tuple[pd.DataFrame, int]:
    """Build the target and the candidate features from a typed raw batch.

    Parameters
    ----------
    raw : pandas.DataFrame
        A batch typed by the data contract.
    late_minutes : float
        A flight is late (target 1) when it arrives more than this many minutes late.
    cancelled : {"drop", "late"}
        What to do with flights that have no arrival delay (cancelled or diverted): drop them,
        or count them as late.

    Returns
    -------
    prepared : pandas.DataFrame
        ``sched_dep``, the target ``late`` and every column in ``CANDIDATES``, in raw order.
    n_cancelled : int
        How many flights had no arrival delay.
    """
    no_arrival = raw["arr_delay"].isna().to_numpy()
    if cancelled == "drop":
        raw = raw.loc[~no_arrival].reset_index(drop=True)
        delay = raw["arr_delay"].to_numpy(dtype="float64")
        late = delay > late_minutes
    else:
        delay = raw["arr_delay"].to_numpy(dtype="float64", na_value=np.nan)
        late = np.isnan(delay) | (delay > late_minutes)
    sched = pd.to_datetime(
        {
            "year": raw["year"].astype("int64"),
            "month": raw["month"].astype("int64"),
            "day": raw["day"].astype("int64"),
            "hour": raw["hour"].astype("int64"),
            "minute": raw["minute"].astype("int64"),
        }
    )
    prepared = pd.DataFrame(
        {
            TIME: sched,
            TARGET: late.astype("int8"),
            "carrier": raw["carrier"].astype("str"),
            "origin": raw["origin"].astype("str"),
            "dest": raw["dest"].astype("str"),
            "distance": raw["distance"].astype("float64"),
            "sched_hour": raw["hour"].astype("float64") + raw["minute"].astype("float64") / 60,
            "day_of_week": sched.dt.day_of_week.astype("float64"),
            "day_of_month": raw["day"].astype("float64"),
            "month": raw["month"].astype("float64"),
        }
    )
    for column in WEATHER:
        prepared[column] = raw[column].astype("float64")
    return prepared, int(no_arrival.sum())
