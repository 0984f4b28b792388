"""Benchmark under load: one year of flights replicated to about 10 million rows in 120
monthly batches, ingested in one `driftline ingest --from` and built by one `dvc repro`.

    python bench/bench_load.py [--years 1 10] [--copies 3]

Each batch is one 2013 month with every row repeated ``--copies`` times (about 84,000 rows),
moved to a later year as in bench_ingest.py: 2013-01 to 2022-12 for ten years. The same
batches are run twice, in separate repositories: the first ``--years[0]`` years, then the
first ``--years[1]``. The batches and the training window (the last three batches) are the
same size in both, so a pipeline whose memory follows the batch, not the total, shows the same
peaks in both runs. The committed demo batches are dropped from the copies first.

For each run it records the wall time of the ingest and of the repro, the peak RSS of every
process involved (the largest single process, from getrusage), and each stage's own time and
peak from its log. Writes bench/results/load.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import DEMO_YEAR, measured, month_names, shifted  # noqa: E402
from common import ROOT, copy_repo, stage_figures  # noqa: E402
from driftline.core.config import REGISTRY_FILE  # noqa: E402
from driftline.tooling.demo import batch_csv_bytes, load_months  # noqa: E402
from driftline.tooling.params_text import set_window  # noqa: E402

WINDOW = 3  # batches in the training window


def land(months: dict, years: int, copies: int, landing: Path) -> dict:
    """Write the replicated batches into ``landing``; return their row counts by name."""
    landing.mkdir()
    rows = {}
    for year, month in month_names(12 * years):
        frame = shifted(months, year, month)
        frame = pd.concat([frame] * copies, ignore_index=True)
        name = f"{year}-{month:02d}"
        (landing / f"{name}.csv").write_bytes(batch_csv_bytes(frame))
        rows[name] = len(frame)
    return rows


def empty_project(repo: Path, names: list[str]) -> None:
    """Unregister the committed demo batches and set the window to the last batches."""
    (repo / REGISTRY_FILE).write_text("groups: []\nbatches: []\n")
    for dvc_file in (repo / "data" / "raw").glob("*.dvc"):
        shutil.rmtree(dvc_file.with_suffix(""), ignore_errors=True)
        dvc_file.unlink()
    params = repo / "params.yaml"
    params.write_text(set_window(params.read_text(), names[-WINDOW], names[-1]))


def one_run(years: int, copies: int, months: dict, workdir: Path) -> dict:
    workdir.mkdir()
    repo = copy_repo(workdir / "repo")
    landing = workdir / "landing"
    rows = land(months, years, copies, landing)
    empty_project(repo, list(rows))
    print(f"{years} year(s): {len(rows)} batches, {sum(rows.values()):,} rows", flush=True)
    ingest_s, ingest_peak, _ = measured(repo, "driftline", "ingest", "--from", str(landing))
    print(f"  ingest {ingest_s:.0f} s, peak {ingest_peak} MiB", flush=True)
    repro_s, repro_peak, output = measured(repo, "dvc", "repro")
    print(f"  repro {repro_s:.0f} s, peak {repro_peak} MiB", flush=True)
    stages = stage_figures(output)
    kinds: dict[str, dict] = {}
    for stage in stages:
        kind = kinds.setdefault(stage["stage"].split("@")[0], {"runs": 0, "seconds": 0.0})
        kind["runs"] += 1
        kind["seconds"] = round(kind["seconds"] + stage["seconds"], 1)
        kind["peak_mib"] = max(kind.get("peak_mib", 0), stage["peak_mib"])
    raw = sum(f.stat().st_size for f in (repo / "data" / "raw").glob("*.csv"))
    return {
        "years": years,
        "batches": len(rows),
        "rows": sum(rows.values()),
        "largest_batch_rows": max(rows.values()),
        "raw_mib": round(raw / 2**20),
        "ingest_s": round(ingest_s, 1),
        "ingest_peak_mib": ingest_peak,
        "repro_s": round(repro_s, 1),
        "repro_peak_mib": repro_peak,
        "stages": kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, nargs=2, default=[1, 10])
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args()
    months = load_months(DEMO_YEAR)
    with tempfile.TemporaryDirectory(prefix="driftline-load-") as tmp:
        results = [
            one_run(years, args.copies, months, Path(tmp) / f"run-{i}")
            for i, years in enumerate(args.years)
        ]
    summary = {"cores": os.cpu_count(), "copies": args.copies, "results": results}
    out = ROOT / "bench" / "results" / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown(results))


def markdown(results: list[dict]) -> str:
    small, large = results
    rows = [
        ("batches", small["batches"], large["batches"]),
        ("rows", f"{small['rows']:,}", f"{large['rows']:,}"),
        (
            "largest batch (rows)",
            f"{small['largest_batch_rows']:,}",
            f"{large['largest_batch_rows']:,}",
        ),
        ("raw CSV (MiB)", small["raw_mib"], large["raw_mib"]),
        ("`driftline ingest --from` (s)", small["ingest_s"], large["ingest_s"]),
        ("`dvc repro` (s)", small["repro_s"], large["repro_s"]),
        ("peak memory, ingest (MiB)", small["ingest_peak_mib"], large["ingest_peak_mib"]),
        ("peak memory, repro (MiB)", small["repro_peak_mib"], large["repro_peak_mib"]),
    ]
    for kind in large["stages"]:
        a, b = small["stages"].get(kind, {}), large["stages"][kind]
        rows.append(
            (
                f"`{kind}`: runs, total s, peak MiB",
                f"{a.get('runs')}, {a.get('seconds')}, {a.get('peak_mib')}",
                f"{b['runs']}, {b['seconds']}, {b['peak_mib']}",
            )
        )
    lines = [f"| | {small['years']} year(s) | {large['years']} years |", "|---|---|---|"]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
