"""The data contract of a raw batch: required columns, their types, nullability and ranges.

The contract lives in ``contract.yaml`` (loaded by ``config.load_contract``). ``read_batch``
parses a raw CSV against it and refuses, naming the file, column and row, anything the
contract forbids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.errors import DriftlineError

MISSING_TOKENS = ["", "NA"]


def read_batch(path: str | Path, contract: dict[str, Any]) -> pd.DataFrame:
    """Read a raw batch CSV and return it typed by the contract.

    Parameters
    ----------
    path : str or Path
        The raw batch file.
    contract : dict
        The loaded ``contract.yaml``: ``columns`` maps each required column to ``type`` (int, float
        or str), ``nullable`` and an optional inclusive ``range`` of allowed values.

    Returns
    -------
    pandas.DataFrame
        The contract's columns in contract order: nullable ints as ``Int64``, floats as
        ``float64``, text as ``str``. Columns outside the contract are dropped.

    Raises
    ------
    DriftlineError
        On an unreadable or empty file, a missing column, an unparsable value, a null in a
        non-nullable column, or a value out of range.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError as exc:
        raise DriftlineError(f"{path}: file not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DriftlineError(f"{path}: not a readable UTF-8 CSV file: {exc}") from exc
    if raw.empty:
        raise DriftlineError(f"{path}: the batch has no rows")
    columns = contract["columns"]
    missing = [name for name in columns if name not in raw.columns]
    if missing:
        raise DriftlineError(f"{path}: missing required column(s) {', '.join(missing)}")
    return pd.DataFrame(
        {name: _typed(raw[name], name, spec, path) for name, spec in columns.items()}
    )


def _typed(text: pd.Series, name: str, spec: dict[str, Any], path: Path) -> pd.Series:
    kind = spec["type"]
    null = text.isin(MISSING_TOKENS)
    if null.any() and not spec.get("nullable", False):
        raise DriftlineError(
            f"{path}: column '{name}' is not nullable but row {_row(null)} is empty"
        )
    if kind == "str":
        return text.mask(null, None).astype("str")
    numbers = pd.to_numeric(text.mask(null, None), errors="coerce")
    bad = numbers.isna() & ~null
    if bad.any():
        row = _row(bad)
        raise DriftlineError(
            f"{path}: column '{name}' must be {kind} but row {row} holds {text[bad].iloc[0]!r}"
        )
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(values[~null.to_numpy()]).all():
        row = _row(pd.Series(~np.isfinite(values) & ~null.to_numpy()))
        raise DriftlineError(f"{path}: column '{name}' has a non-finite value at row {row}")
    if "range" in spec:
        low, high = spec["range"]
        outside = (values < low) | (values > high)
        if outside.any():
            row = _row(pd.Series(outside))
            raise DriftlineError(
                f"{path}: column '{name}' must lie in [{low}, {high}] but row {row} holds "
                f"{values[outside][0]:g}"
            )
    if kind == "int":
        if not np.all(np.mod(values[~np.isnan(values)], 1) == 0):
            row = _row(pd.Series(np.mod(np.nan_to_num(values), 1) != 0))
            raise DriftlineError(
                f"{path}: column '{name}' must be int but row {row} has a fraction"
            )
        return pd.Series(values, name=name).astype("Int64")
    return pd.Series(values, name=name)


def _row(mask: pd.Series) -> int:
    """The file line of the first flagged row (line 1 is the header)."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2
