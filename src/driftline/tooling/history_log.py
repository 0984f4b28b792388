"""Read one metric's values, oldest first, from a metric log a user already keeps.

Two layouts are accepted:

- wide: one column per metric (as ``metrics/history.csv``), one row per batch;
- long: one row per batch and metric, with a column naming the metric and one holding its
  value, as course notebooks log them (e.g. ``batch,metric,score``).

Rows stay in file order, which is taken as time order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from driftline.core.errors import DriftlineError

VALUE_COLUMNS = ("score", "value", "metric_value")


def read_metric(
    path: str | Path,
    metric: str,
    batch_col: str | None = None,
    name_col: str | None = None,
    value_col: str | None = None,
) -> tuple[list[str], list[float | None]]:
    """The batch labels and values of ``metric`` in a wide or long CSV metric log.

    Raises
    ------
    DriftlineError
        If the file cannot be read, the metric or a named column is absent, or the values
        are not numbers.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise DriftlineError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DriftlineError(f"{path}: not a readable CSV ({exc})") from exc
    for option, column in (
        ("--batch-col", batch_col),
        ("--name-col", name_col),
        ("--value-col", value_col),
    ):
        if column is not None and column not in frame.columns:
            raise DriftlineError(f"{path}: {option} {column!r} is not a column of the file")
    if name_col is None and metric in frame.columns:
        values = frame[metric]
    else:
        name_col = name_col or _name_column(frame, metric, path)
        frame = frame[frame[name_col].astype("str") == metric]
        if frame.empty:
            raise DriftlineError(f"{path}: no row has {metric!r} in column {name_col!r}")
        values = frame[value_col or _value_column(frame, name_col, batch_col, path)]
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise DriftlineError(
            f"{path}: {metric} value {values.iloc[row]!r} (data row {row + 1}) is not a number"
        )
    labels = (
        frame[batch_col].astype("str").tolist()
        if batch_col
        else [str(i) for i in range(1, len(frame) + 1)]
    )
    return labels, [None if pd.isna(v) else float(v) for v in numbers]


def _name_column(frame: pd.DataFrame, metric: str, path: Path) -> str:
    holders = [
        c
        for c in frame.columns
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
        if (frame[c].astype("str") == metric).any()
    ]
    if len(holders) != 1:
        raise DriftlineError(
            f"{path}: metric {metric!r} is neither a column (wide format) nor found in exactly "
            "one column of metric names (long format); columns: "
            + ", ".join(map(str, frame.columns))
        )
    return holders[0]


def _value_column(frame: pd.DataFrame, name_col: str, batch_col: str | None, path: Path) -> str:
    numeric = [
        c
        for c in frame.columns
        if c not in (name_col, batch_col) and pd.api.types.is_numeric_dtype(frame[c])
    ]
    named = [c for c in numeric if str(c).lower() in VALUE_COLUMNS]
    if len(numeric) == 1 or len(named) == 1:
        return numeric[0] if len(numeric) == 1 else named[0]
    raise DriftlineError(
        f"{path}: cannot tell which column holds the values ({', '.join(map(str, numeric))}); "
        "name it with --value-col"
    )
