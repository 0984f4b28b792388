"""Benchmark: daily batches for years. The cost of adding one daily batch to a project of 10,
365 and 1,000 registered batches, the no-op `dvc status` and `dvc repro`, the lock sizes and
the peak memory.

    python bench/bench_daily.py [--sizes 10 365 1000] [--keep DIR]

Each project holds real demo days: the 2013 flights cut into one batch per day (the contract's
``period: day``), and for more than 365, the same days moved to 2014 and 2015 as
bench_ingest.py moves months. The training window is the first 7 days in every project, so
train, evaluate's newest batch and drift cost the same in all.

Set-up (not timed): `driftline ingest --from` registers the days; then one Python process runs
every stage's own code in order, and `dvc commit --force` records the locks, as `dvc repro`
would have written them, without a process per stage (a `dvc repro` of 2,000 stages would take
more than an hour here). `dvc status` must then say the pipeline is up to date, which it
checks. Timed: the no-op `dvc status` and `dvc repro`, then `driftline ingest` of the next day
plus `dvc repro`, as a user adds a batch.

Writes bench/results/daily.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import DEMO_YEAR, measured, shifted  # noqa: E402
from bench_load import empty_project  # noqa: E402
from common import ROOT, copy_repo, run, stage_figures  # noqa: E402
from driftline.tooling.demo import batch_csv_bytes, load_months  # noqa: E402
from driftline.tooling.params_text import set_window  # noqa: E402

WINDOW = 7
# Every stage's own code, in pipeline order, in one process (the set-up shortcut), in two
# halves: score@ loads the model only as dvc.lock records it, so train is committed between.
BUILD_MODEL = """
from driftline.core.batches import grouped
from driftline.core.config import batch_list, load_params
from driftline.stages import prepare, train, window
for group in grouped(batch_list(load_params())):
    prepare.prepare([group])
window.window([])
train.train([])
"""
BUILD_REST = """
from driftline.core.batches import grouped
from driftline.core.config import batch_list, load_params
from driftline.stages import drift, evaluate, promote, score
for group in grouped(batch_list(load_params())):
    score.score([group])
evaluate.evaluate([])
drift.drift([])
promote.promote([])
"""


def group_stages(repo: Path, kind: str) -> list[str]:
    """The names of every group's ``kind`` stage (prepare or score)."""
    groups = yaml.safe_load((repo / "data/batches.yaml").read_text())["groups"]
    return [f"{kind}@{group}" for group in groups]


def days(months: dict, count: int) -> list[tuple[str, bytes]]:
    """The first ``count`` demo days (2013, then 2014 and 2015), as (name, CSV bytes)."""
    found = []
    year = DEMO_YEAR
    while len(found) < count:
        for month in range(1, 13):
            frame = shifted(months, year, month)
            for day, part in frame.groupby(frame["day"].astype(int), sort=True):
                found.append((f"{year}-{month:02d}-{day:02d}", batch_csv_bytes(part)))
                if len(found) == count:
                    return found
        year += 1
    return found


def day_project(repo: Path) -> None:
    contract = repo / "contract.yaml"
    contract.write_text(
        re.sub(r"(?m)^period: month\b", "period: day  ", contract.read_text(), count=1)
    )


def one_size(size: int, landed: list[tuple[str, bytes]], workdir: Path) -> dict:
    workdir.mkdir()
    repo = copy_repo(workdir / "repo")
    day_project(repo)
    names = [name for name, _ in landed[:size]]
    empty_project(repo, names)
    params = repo / "params.yaml"
    params.write_text(set_window(params.read_text(), names[0], names[WINDOW - 1]))
    landing = workdir / "landing"
    landing.mkdir()
    for name, data in landed[:size]:
        (landing / f"{name}.csv").write_bytes(data)
    extra_name, extra_data = landed[size]
    extra = workdir / f"{extra_name}.csv"
    extra.write_bytes(extra_data)
    print(f"{size} daily batches: set-up", flush=True)
    setup = time.perf_counter()
    run(repo, "driftline", "ingest", "--from", str(landing))
    run(repo, sys.executable, "-c", BUILD_MODEL)
    # In pipeline order, as dvc repro records them: committing an output writes DVC's
    # .gitignore beside it, which is part of the folder a later stage depends on.
    commit = ("dvc", "commit", "--force", "--quiet")
    run(repo, *commit, *group_stages(repo, "prepare"))
    run(repo, *commit, "window", "train")
    run(repo, sys.executable, "-c", BUILD_REST)
    run(repo, *commit, *group_stages(repo, "score"))
    run(repo, *commit, "evaluate", "drift", "promote")
    setup = time.perf_counter() - setup
    status_s, status_peak, said = measured(repo, "dvc", "status")
    if "up to date" not in said:
        raise SystemExit(f"set-up left stages to run:\n{said[:2000]}")
    noop_s, noop_peak, said = measured(repo, "dvc", "repro")
    if "Running stage" in said:
        raise SystemExit(f"the no-op repro ran stages:\n{said[:2000]}")
    ingest_s, ingest_peak, _ = measured(repo, "driftline", "ingest", str(extra))
    repro_s, repro_peak, output = measured(repo, "dvc", "repro")
    stages = stage_figures(output)
    result = {
        "batches_before": size,
        "added": extra_name,
        "setup_s": round(setup, 1),
        "noop_status_s": round(status_s, 2),
        "noop_repro_s": round(noop_s, 2),
        "ingest_s": round(ingest_s, 2),
        "repro_s": round(repro_s, 2),
        "add_one_s": round(ingest_s + repro_s, 2),
        "stage_code_s": round(sum(s["seconds"] for s in stages), 2),
        "stage_seconds": {s["stage"]: s["seconds"] for s in stages},
        "peak_mib": max(status_peak, noop_peak, ingest_peak, repro_peak),
        "lock_kib": round((repo / "dvc.lock").stat().st_size / 1024, 1),
    }
    print(f"  {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 365, 1000])
    parser.add_argument(
        "--keep", type=Path, help="build the projects in this new folder and keep them (to profile)"
    )
    args = parser.parse_args()
    landed = days(load_months(DEMO_YEAR), max(args.sizes) + 1)
    with tempfile.TemporaryDirectory(prefix="driftline-daily-") as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=args.keep is None)
        results = [one_size(n, landed, where / f"n{n}") for n in args.sizes]
    small = results[0]
    summary = {
        "cores": os.cpu_count(),
        "results": results,
        "add_one_ratio_largest_to_smallest": round(
            results[-1]["add_one_s"] / small["add_one_s"], 2
        ),
    }
    out = ROOT / "bench" / "results" / "daily.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown(summary))


def markdown(s: dict) -> str:
    results = s["results"]
    rows = [
        ("batch added", "added"),
        ("no-op `dvc status` (s)", "noop_status_s"),
        ("no-op `dvc repro` (s)", "noop_repro_s"),
        ("`driftline ingest` one day (s)", "ingest_s"),
        ("then `dvc repro` (s)", "repro_s"),
        ("ingest + repro (s)", "add_one_s"),
        ("of which the stages' own code (s)", "stage_code_s"),
        ("peak memory, any process (MiB)", "peak_mib"),
    ]
    head = " | ".join(f"{r['batches_before']} batches" for r in results)
    lines = [f"| adding one daily batch ({s['cores']} cores) | {head} |"]
    lines.append("|---|" + "---|" * len(results))
    lines += [
        f"| {label} | " + " | ".join(str(r[key]) for r in results) + " |" for label, key in rows
    ]
    cells = " | ".join(str(r["lock_kib"]) for r in results)
    lines.append(f"| `dvc.lock` (KiB) | {cells} |")
    ratio = s["add_one_ratio_largest_to_smallest"]
    lines.append(f"| **adding one, largest / smallest** | {ratio}x (goal at most 1.5x) |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
