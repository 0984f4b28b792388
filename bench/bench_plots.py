"""Benchmark: the quality-history plots that evaluate and drift draw on every run, at 10, 365
and 1,000 batches of history (the rows are made up; the drawing is the real code).

    python bench/bench_plots.py [--sizes 10 365 1000]

Prints the median of three draws of each plot, in seconds, as a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402,F401  (puts the project on the path as the other benchmarks do)
from driftline.core import plots  # noqa: E402
from driftline.core.config import load_params  # noqa: E402
from driftline.stages.drift import history_rules  # noqa: E402


def history(size: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    first = pd.Timestamp("2013-01-01")
    frame = pd.DataFrame(
        {name: rng.uniform(0.3, 0.8, size) for name in (*plots.HISTORY_METRICS, "log_loss")}
    )
    frame.insert(
        0, "batch", [(first + pd.Timedelta(days=i)).strftime("%Y-%m-%d") for i in range(size)]
    )
    return frame


def median_seconds(draw, *args, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 365, 1000])
    args = parser.parse_args()
    settings = load_params(common.ROOT / "params.yaml")["drift"]
    print("| history rows | history.png (s) | history_rules.png (s) |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            frame = history(size)
            rules = history_rules(frame, settings)
            rows = frame.to_dict("records")
            a = median_seconds(plots.history_png, rows, Path(tmp) / "h.png")
            b = median_seconds(plots.rules_png, frame, settings, rules, Path(tmp) / "r.png")
            print(f"| {size} | {a:.2f} | {b:.2f} |", flush=True)


if __name__ == "__main__":
    main()
