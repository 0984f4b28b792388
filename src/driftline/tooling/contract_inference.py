"""A starter data contract inferred from a sample file, for ``driftline init``: each column's
type, nullability, a range around the values seen, and the categories of a text column with
few distinct values. The user reviews it; nothing here is final."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from driftline.core.errors import DriftlineError

MAX_CATEGORIES = 50
INTEGER = re.compile(r"[+-]?\d+")
DATE_PARTS = ("year", "month", "day")


def column_spec(values: pd.Series) -> dict[str, Any]:
    """The contract entry of one text-valued column (missing values as NA).

    Numbers get a range the span of the values seen wider on each side (never below 0 for a
    column with no negative value), so that a later batch, in another season, is not refused
    for a value past the sample's; text with at most 50 distinct values lists them as categories.
    """
    present = values.dropna().astype("str")
    spec: dict[str, Any] = {"type": "str", "nullable": bool(values.isna().any())}
    if present.empty:
        return spec
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all() and np.isfinite(numbers).all():
        integer = bool(present.str.fullmatch(INTEGER).all())
        low, high = float(numbers.min()), float(numbers.max())
        margin = (high - low) or max(abs(high), 1.0)
        wide_low = max(low - margin, 0.0) if low >= 0 else low - margin
        wide_high = high + margin
        if integer:
            bounds: list[Any] = [math.floor(wide_low), math.ceil(wide_high)]
        else:
            bounds = [_round(wide_low, math.floor), _round(wide_high, math.ceil)]
        spec.update(type="int" if integer else "float", range=bounds, seen=[low, high])
        return spec
    distinct = sorted(present.unique())
    if len(distinct) <= MAX_CATEGORIES and len(distinct) < max(len(present) / 2, 2):
        spec["categories"] = distinct
    return spec


def find_time(frame: pd.DataFrame, specs: dict[str, dict[str, Any]]) -> str | list[str]:
    """The contract's ``time``: the first text column whose every value is an ISO 8601 date
    or datetime, else the year, month and day columns by name."""
    for name, spec in specs.items():
        if spec["type"] == "str" and not spec["nullable"] and is_iso_time(frame[name]):
            return name
    by_name = {name.lower(): name for name, spec in specs.items() if spec["type"] == "int"}
    if all(part in by_name for part in DATE_PARTS):
        return [by_name[part] for part in DATE_PARTS]
    raise DriftlineError(
        "no time column found: name one with --time COLUMN (ISO 8601 dates or datetimes) or "
        "--time YEAR,MONTH,DAY (integer columns)"
    )


def is_iso_time(values: pd.Series) -> bool:
    present = values.dropna()
    parsed = pd.to_datetime(present, format="ISO8601", errors="coerce", utc=True)
    return bool(len(present)) and bool(parsed.notna().all())


def contract_text(
    specs: dict[str, dict[str, Any]], time: str | list[str], period: str, source: str
) -> str:
    """``contract.yaml`` as text: one flow mapping per column, with what the sample held."""
    lines = [
        f"# The data contract, inferred by `driftline init` from {source}: review every line.",
        "# Types, nullability and categories are what the sample held; each range is wider",
        "# than the values seen (in the comment), so that the next batch is not refused for a",
        "# value just past them. `driftline ingest` refuses a batch that breaks this file.",
        "",
        f"period: {period}               # one batch holds one {period} of rows",
        f"time: {json.dumps(time)}        # the column(s) that date a row",
        "extra_columns: refuse         # refuse | drop: columns this file does not list",
        "",
        "columns:",
    ]
    for name, spec in specs.items():
        fields = [f"type: {spec['type']}", f"nullable: {json.dumps(spec['nullable'])}"]
        if "range" in spec:
            fields.append(f"range: {json.dumps(spec['range'])}")
        if "categories" in spec:
            fields.append(f"categories: {json.dumps(spec['categories'], ensure_ascii=False)}")
        comment = ""
        if "seen" in spec:
            comment = f"   # seen: {_plain(spec['seen'][0])} to {_plain(spec['seen'][1])}"
        lines.append(f"  {json.dumps(name)}: {{{', '.join(fields)}}}{comment}")
    return "\n".join(lines) + "\n"


def infer_period(times: pd.Series) -> str:
    """``day`` when every row falls on one day, else ``month``."""
    days = times.dropna().dt.normalize().unique()
    return "day" if len(days) == 1 else "month"


def _round(value: float, direction) -> float:
    """``value`` rounded outwards to two significant digits of its magnitude."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    return float(round(direction(value / step) * step, 12))


def _plain(value: float) -> str:
    return f"{value:g}"
