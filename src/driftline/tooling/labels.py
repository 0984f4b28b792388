"""Labels that arrive later: a pending batch (one without the target's column) gets them by
key from a labels file. Pure functions on text-valued frames (every value a string, missing
as NA, as :func:`driftline.data.contract.text_chunks` reads a file); ``driftline ingest
--labels`` (driftline.tooling.amend) reads and writes the files.

A labels file holds the key columns of contract.yaml's ``labels.key`` and the target's
column, and may hold the other ``labels.later`` columns; it labels one pending batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from driftline.core.errors import DriftlineError

MISSING = ["", "NA"]


def read_text(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A canonical CSV (a raw batch as ingest wrote it) as text, missing values as NA."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=MISSING, usecols=columns)


def _said(row: pd.Series, key: list[str]) -> str:
    return ", ".join(f"{name}={row[name]}" for name in key)


def check_unique_keys(path: str | Path, key: list[str], source: str | Path) -> None:
    """Refuse a batch whose key names two rows (their labels could not be told apart)."""
    frame = read_text(path, key)
    repeated = frame.duplicated(key, keep="first").to_numpy()
    if repeated.any():
        second = int(repeated.nonzero()[0][0])
        row = frame.iloc[second]
        first = int((frame[key] == row[key]).all(axis=1).to_numpy().nonzero()[0][0])
        raise DriftlineError(
            f"{source}: row {second + 2}: key ({_said(row, key)}) repeats row {first + 2}; "
            "contract.yaml's labels.key must name one row, so that its labels can be attached"
        )


def check_columns(
    columns: list[str], key: list[str], later: list[str], target: str, source: str | Path
) -> list[str]:
    """The later columns a labels file brings; refused without a key column or the target's,
    or with a column that is neither."""
    missing = [name for name in [*key, target] if name not in columns]
    if missing:
        raise DriftlineError(
            f"{source}: missing column(s) {', '.join(missing)}: a labels file holds the key "
            f"({', '.join(key)}) and the target's column '{target}'"
        )
    other = [name for name in columns if name not in key and name not in later]
    if other:
        raise DriftlineError(
            f"{source}: unexpected column(s) {', '.join(other)}: a labels file holds the key "
            f"and the columns of contract.yaml's labels.later ({', '.join(later)}) only"
        )
    return [name for name in later if name in columns]


def typed_key(frame: pd.DataFrame, key: list[str], columns: dict[str, Any]) -> pd.DataFrame:
    """The key columns as the contract types them, so that ``7`` and ``7.0`` or ``007`` name
    the same row (the labels file and the batch may spell a number differently)."""
    typed = {}
    for name in key:
        kind = columns[name]["type"]
        if kind == "str":
            typed[name] = frame[name].astype("str")
        else:
            typed[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return pd.DataFrame(typed, index=frame.index)


def matched(pending: pd.DataFrame, labels: pd.DataFrame) -> int:
    """How many of the labels' keys (typed: :func:`typed_key`) name a row of ``pending``."""
    return int(labels.merge(pending, on=list(labels.columns), how="inner").shape[0])


def attach(
    batch: pd.DataFrame,
    labels: pd.DataFrame,
    key: list[str],
    later: list[str],
    columns: dict[str, Any],
    source: str | Path,
) -> tuple[pd.DataFrame, int]:
    """The pending ``batch`` with the ``labels``' later columns joined by ``key``, its
    contract ``columns`` in order (a later column the file does not bring stays empty).

    Returns the labelled batch and how many of its rows got no label. Refused: a key that
    repeats in the labels, or that names no row of the batch.
    """
    mine, theirs = typed_key(batch, key, columns), typed_key(labels, key, columns)
    repeated = theirs.duplicated(key, keep="first").to_numpy()
    if repeated.any():
        line = int(repeated.nonzero()[0][0])
        raise DriftlineError(
            f"{source}: row {line + 2}: key ({_said(labels.iloc[line], key)}) is labelled "
            "twice; a row gets one label"
        )
    known = theirs.merge(mine.drop_duplicates(), on=key, how="left", indicator=True)["_merge"]
    unknown = (known == "left_only").to_numpy()
    if unknown.any():
        line = int(unknown.nonzero()[0][0])
        raise DriftlineError(
            f"{source}: row {line + 2}: key ({_said(labels.iloc[line], key)}) names no row of "
            f"the batch ({int(unknown.sum())} such row(s))"
        )
    brought = pd.concat(
        [theirs.reset_index(drop=True), labels[later].reset_index(drop=True)], axis=1
    )
    joined = mine.merge(brought, on=key, how="left", indicator=True)
    unlabelled = int((joined["_merge"] == "left_only").sum())
    result = batch.reset_index(drop=True).copy()
    for name in columns:
        if name in later:
            result[name] = joined[name].to_numpy()
        elif name not in result.columns:
            result[name] = pd.NA
    return result[list(columns)], unlabelled


def coverage_refusal(unlabelled: int, rows: int, batch: str, source: str | Path) -> str:
    """Why a labels file that leaves rows of the batch without a label is refused."""
    return (
        f"{source}: labels {rows - unlabelled} of batch {batch}'s {rows} rows; {unlabelled} "
        "would stay unlabelled. Give every row its label, or accept a partial labelling with "
        "--partial REASON (the rows left are then empty targets, which params.yaml's "
        "target.missing governs)"
    )


def labels_meta(source: str | Path, rows: int, unlabelled: int, reason: str | None) -> Any:
    """What the batch's .dvc meta records of its labels."""
    return {
        "source": Path(source).name,
        "labelled_rows": rows - unlabelled,
        **({"partial": reason, "unlabelled_rows": unlabelled} if unlabelled else {}),
    }
