"""A dataset that is not the demo, for the tests and for `.ci/run`'s run of the suite on a
project of its own: daily weather at three stations (will it rain tomorrow?), four months
with a seasonal drift, switched in with `driftline init` as a user would.

    python tests/weather.py DIR   # prints DIR/weather/driftline, built there if not yet

That is the tests' build (the `weather_project` fixture's): this checkout's files, committed or
not, in a new git repo, switched. `.ci/run` names the folder its runs share (TESTS_SHARED_DIR),
so its own-data pass copies the build its tests made, or makes the one they copy. A DIR that
holds a build keeps it, whatever the checkout holds now: give a new one after an edit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from driftline.core.config import parse_yaml
from driftline.tooling.params_text import set_window
from helpers import built_in, copy_repo, run

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]
STATIONS = ["north", "south", "coast"]


def weather_month(month: str, seed: int, warm: float) -> pd.DataFrame:
    """One month of daily readings at three stations; rain tomorrow follows humidity and
    falling pressure. ``warm`` shifts temperature and humidity: the seasonal drift."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(f"{month}-01", periods=pd.Period(month).days_in_month, freq="D")
    rows = []
    for station_index, station in enumerate(STATIONS):
        for _ in range(4):  # four readings a day at each station
            humidity = np.clip(rng.normal(60 + 8 * warm, 15, len(days)), 5, 100)
            pressure = rng.normal(1013 - 2 * station_index, 8, len(days))
            logit = 0.08 * (humidity - 65) - 0.1 * (pressure - 1010)
            rain = rng.random(len(days)) < 1 / (1 + np.exp(-logit))
            rows.append(
                pd.DataFrame(
                    {
                        "date": days.strftime("%Y-%m-%d"),
                        "station": station,
                        "temp_c": np.round(rng.normal(5 + 6 * warm, 4, len(days)), 1),
                        "humidity": np.round(humidity, 1),
                        "pressure_hpa": np.round(pressure, 1),
                        "reading_id": rng.integers(1, 10**6, len(days)),
                        "rain_tomorrow": np.where(rain, "Yes", "No"),
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True).sort_values("date", kind="stable")
    # A few readings with no label yet: dropped by target.missing.
    frame.loc[frame.index[:3], "rain_tomorrow"] = ""
    return frame


# The gate's promote.min_rows is 500 (set for the demo's ~28k rows a month); a challenger here
# is compared on the last 20% of a two-month window, about 145 rows. A team with a few hundred
# rows a month lowers it (docs/promotion.md), as this one does before its first `dvc repro`.
MIN_ROWS = 100


def tune(repo: Path) -> None:
    """What a user does in an editor: train.window on the first two months (the edit
    `driftline retrain` makes, comments kept) and promote.min_rows for the project's size."""
    params = repo / "params.yaml"
    text = set_window(params.read_text(), *WINDOW)
    (line,) = [x for x in text.splitlines() if x.startswith("  min_rows: ")]
    params.write_text(text.replace(line, f"  min_rows: {MIN_ROWS}", 1))


INIT_OPTIONS = (
    "--target", "rain_tomorrow", "--positive", "Yes", "--classes", "dry,rain",
    "--exclude", "reading_id",
)  # fmt: skip
WINDOW = ("2024-01", "2024-02")


def month_file(folder: Path, month: str) -> Path:
    """``month`` as ``folder``/<month>.csv. The four warm up month by month; the months after
    them repeat the first three's seasons (warmer ones would leave the contract's ranges)."""
    index = pd.Period(month, "M").ordinal - pd.Period(MONTHS[0], "M").ordinal
    warm = index if index < len(MONTHS) else index % 3
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{month}.csv"
    weather_month(month, seed=index, warm=warm).to_csv(path, index=False)
    return path


def write_months(folder: Path) -> list[Path]:
    """The four months as CSV files in ``folder``, oldest first."""
    return [month_file(folder, month) for month in MONTHS]


def switch(repo: Path) -> str:
    """Make ``repo``, a git clone of this project, the weather project: `driftline init` on
    the first month (after emptying the registry of a project that holds its own data), the
    four months ingested, the window on the first two, the gate's min_rows for its size,
    `dvc repro`, all committed. Returns what `driftline init` and the ingests said."""
    incoming = write_months(repo.parent / "incoming")
    again = []
    if "demo" not in (parse_yaml((repo / "params.yaml").read_text()) or {}):
        registry = repo / "data/batches.yaml"
        registry.write_text("groups: []\nbatches: []\n")
        for record in (repo / "data/raw").glob("*.dvc"):
            record.unlink()
        again = ["--force"]  # a project initialised already: infer contract.yaml again
    said = run(repo, "driftline", "init", str(incoming[0]), *INIT_OPTIONS, *again).stdout
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "driftline init")
    for path in incoming:
        said += run(repo, "driftline", "ingest", str(path)).stderr
    tune(repo)
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "four months of weather")
    return said


def build(repo: Path) -> None:
    """The tests' weather project: this repository's files in a new git repo at ``repo``,
    switched; what `driftline init` and the ingests said in ``init.log`` beside it."""
    copy_repo(repo)
    (repo.parent / "init.log").write_text(switch(repo))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/weather.py DIR  (prints DIR/weather/driftline)")
    print(built_in(Path(sys.argv[1]).resolve(), "weather", build))
