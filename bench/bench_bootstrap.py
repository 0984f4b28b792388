"""Benchmark: the paired bootstrap of the promote stage on the demo's comparison rows.

It reads models/validation.parquet (run `make repro` first), takes the challenger's scores
and, as a stand-in champion, the same scores with noise, and times
``paired_bootstrap`` with the params' resamples, five rounds, reporting the median.

    python bench/bench_bootstrap.py [--resamples 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from driftline.core import paths
from driftline.core.config import TARGET
from driftline.model.paired_bootstrap import paired_bootstrap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = pd.read_parquet(paths.VALIDATION)
    labels, challenger = rows[TARGET].to_numpy(), rows["score"].to_numpy()
    noise = np.random.default_rng(0).normal(0, 0.05, challenger.size)
    champion = np.clip(challenger + noise, 0.001, 0.999)
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        paired_bootstrap(labels, champion, challenger, resamples=args.resamples)
        times.append(time.perf_counter() - start)
    print(
        f"paired bootstrap, {args.resamples} resamples of {labels.size} rows, 4 metrics: "
        f"median {statistics.median(times):.2f} s over {args.rounds} rounds "
        f"(min {min(times):.2f} s)"
    )


if __name__ == "__main__":
    main()
