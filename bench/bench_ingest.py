"""Benchmark: the cost of adding one batch to a history of 6 batches and to one of 48.

    python bench/bench_ingest.py [--sizes 6 48]

For each size it builds a repository with that many monthly batches and runs the whole
pipeline once (set-up, not timed). Then it times `driftline ingest` of one more month plus
`dvc repro`, and records the peak memory of every process involved. The goal: the 48/6 time
ratio at most 1.3, and memory that follows the batch, not the history.

Months after 2013-12 are synthesized from the real ones by shifting whole years: 2014-03 is
2013-03 with 1 added to `year` and to the year in `time_hour` (days of the week then differ
from a real 2014, which does not matter here).

Writes bench/results/ingest.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ENV, ROOT, copy_repo, run, stage_figures  # noqa: E402
from driftline.tooling.demo import batch_csv_bytes, load_months  # noqa: E402

DEMO_YEAR = 2013
COMMITTED = 6


def shifted(months: dict, year: int, month: int):
    """The demo month ``month`` moved to ``year`` (whole years only)."""
    frame = months[f"{DEMO_YEAR}-{month:02d}"].copy()
    frame["year"] = str(year)
    frame["time_hour"] = frame["time_hour"].str.replace(
        f"{DEMO_YEAR}-", f"{year}-", n=1, regex=False
    )
    return frame


def month_names(count: int) -> list[tuple[int, int]]:
    return [(DEMO_YEAR + i // 12, i % 12 + 1) for i in range(count)]


def measured(cwd: Path, *args: str) -> tuple[float, int, str]:
    """Wall time, peak RSS (MiB) of the command and all its children, and its output."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout + done.stderr)\n"
        "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(done.returncode)\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=cwd, env=ENV, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = int(done.stdout.rsplit("PEAK_KIB", 1)[1]) // 1024
    return elapsed, peak, done.stdout


def one_size(size: int, months: dict, workdir: Path) -> dict:
    repo = copy_repo(workdir / f"repo-{size}")
    run(repo, "driftline", "demo", "materialize")
    landing = workdir / f"landing-{size}"
    landing.mkdir()
    for year, month in month_names(size + 1)[COMMITTED:]:
        (landing / f"{year}-{month:02d}.csv").write_bytes(
            batch_csv_bytes(shifted(months, year, month))
        )
    newest = sorted(landing.iterdir())[-1]
    extra = landing.parent / f"next-{size}"
    extra.mkdir()
    newest.rename(extra / newest.name)
    setup = time.perf_counter()
    if size > COMMITTED:
        run(repo, "driftline", "ingest", "--from", str(landing))
    run(repo, "dvc", "repro")
    setup = time.perf_counter() - setup
    ingest_s, ingest_peak, _ = measured(repo, "driftline", "ingest", str(extra / newest.name))
    repro_s, repro_peak, output = measured(repo, "dvc", "repro")
    stages = stage_figures(output)
    return {
        "batches_before": size,
        "added": newest.stem,
        "setup_s": round(setup, 1),
        "ingest_s": round(ingest_s, 2),
        "repro_s": round(repro_s, 2),
        "total_s": round(ingest_s + repro_s, 2),
        "ingest_peak_mib": ingest_peak,
        "repro_peak_mib": repro_peak,
        "stages": stages,
        "dvc_lock_lines": len((repo / "dvc.lock").read_text().splitlines()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[6, 48])
    args = parser.parse_args()
    months = load_months(DEMO_YEAR)
    with tempfile.TemporaryDirectory(prefix="driftline-bench-") as tmp:
        results = [one_size(size, months, Path(tmp)) for size in args.sizes]
    small, large = results
    summary = {
        "cores": __import__("os").cpu_count(),
        "results": results,
        "time_ratio": round(large["total_s"] / small["total_s"], 2),
        "peak_ratio": round(
            max(large["ingest_peak_mib"], large["repro_peak_mib"])
            / max(small["ingest_peak_mib"], small["repro_peak_mib"]),
            2,
        ),
    }
    out = ROOT / "bench" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown(summary))


def markdown(s: dict) -> str:
    a, b = s["results"]
    rows = [
        ("batch added", a["added"], b["added"]),
        ("`driftline ingest` (s)", a["ingest_s"], b["ingest_s"]),
        ("`dvc repro` (s)", a["repro_s"], b["repro_s"]),
        ("ingest + repro (s)", a["total_s"], b["total_s"]),
        (
            "stages run",
            ", ".join(x["stage"] for x in a["stages"]),
            ", ".join(x["stage"] for x in b["stages"]),
        ),
        ("peak memory, ingest (MiB)", a["ingest_peak_mib"], b["ingest_peak_mib"]),
        ("peak memory, repro (MiB)", a["repro_peak_mib"], b["repro_peak_mib"]),
        ("top-level dvc.lock lines", a["dvc_lock_lines"], b["dvc_lock_lines"]),
    ]
    lines = [
        f"| adding one batch ({s['cores']} cores) | {a['batches_before']} batches "
        f"| {b['batches_before']} batches |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {x} | {y} |" for name, x, y in rows]
    ratio = f"{b['batches_before']}/{a['batches_before']} ratio"
    lines.append(f"| **{ratio}** | time {s['time_ratio']}x | peak memory {s['peak_ratio']}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
