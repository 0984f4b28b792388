"""Benchmark: a full `dvc repro` on the six demo months, per-stage peak memory, and a no-op
`dvc repro` against a bare `dvc status` in the same repository, measured side by side.

    python bench/bench_repro.py [--rounds 5]

Writes bench/results/repro.json and prints a Markdown summary for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, copy_repo, run, stage_figures  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="no-op comparisons (median taken)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="driftline-bench-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        materialize, _ = run(repo, "driftline", "demo", "materialize")
        for folder in ("metrics", "plots", "reports"):  # git-tracked outputs: make all run
            shutil.rmtree(repo / folder)
        full, output = run(repo, "dvc", "repro")
        stages = stage_figures(output)
        noop, status = [], []
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            noop.append(run(repo, "dvc", "repro")[0])
            status.append(run(repo, "dvc", "status")[0])
    result = {
        "cores": os.cpu_count(),
        "materialize_s": round(materialize, 2),
        "full_repro_s": round(full, 2),
        "stage_compute_s": round(sum(s["seconds"] for s in stages), 2),
        "noop_repro_median_s": round(statistics.median(noop), 3),
        "status_median_s": round(statistics.median(status), 3),
        "noop_over_status": round(statistics.median(noop) / statistics.median(status), 2),
        "stages": stages,
    }
    out = ROOT / "bench" / "results" / "repro.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))


def markdown(r: dict) -> str:
    peak = max(r["stages"], key=lambda s: s["peak_mib"])
    lines = [
        f"| measure ({r['cores']} cores) | value |",
        "|---|---|",
        f"| `driftline demo materialize` (6 months) | {r['materialize_s']:.1f} s |",
        f"| full `dvc repro`, 16 stages | {r['full_repro_s']:.1f} s |",
        f"| of which inside the stages' own code | {r['stage_compute_s']:.1f} s |",
        f"| no-op `dvc repro` (median) | {r['noop_repro_median_s']:.2f} s |",
        f"| bare `dvc status` (median) | {r['status_median_s']:.2f} s |",
        f"| no-op repro / status | {r['noop_over_status']:.2f}x |",
        f"| highest stage peak memory | {peak['peak_mib']} MiB ({peak['stage']}) |",
        "",
        "| stage | seconds | peak MiB |",
        "|---|---|---|",
    ]
    lines += [f"| {s['stage']} | {s['seconds']:.2f} | {s['peak_mib']} |" for s in r["stages"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
