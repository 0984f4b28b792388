"""Benchmark: the start-up cost of each stage, the part of `dvc repro` that runs before a
stage's own code (which the stage times and logs itself), and what it adds up to when one
batch is added.

1. For every stage command in dvc.yaml (`python -m MODULE ...`), it
   imports MODULE in fresh Python processes and reports the median import time, the median
   wall time of the whole process (interpreter start-up included) and which heavy libraries
   the import loaded.
2. With ``--add-batch``, in a copy of the repository reproduced on the six demo months, it
   ingests the next month and times `dvc repro` against the sum of the stages' own times
   (each stage's closing log line): the rest is start-up and DVC's own work.

    python bench/bench_startup.py [--rounds 7] [--root DIR] [--add-batch]

``--root`` measures the imports of another checkout of the repository (its dvc.yaml and its
src/), e.g. an older commit unpacked with ``git archive``. Writes bench/results/startup.json
(for the default root) and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, copy_repo, run, stage_figures  # noqa: E402
from helpers import HEAVY_LIBRARIES, pipeline_stages  # noqa: E402

PROBE = """
import json, sys, time
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
heavy = [name for name in {heavy!r} if name in sys.modules]
print(json.dumps({{"import_s": elapsed, "heavy": heavy}}))
"""


def stage_modules(root: Path) -> dict[str, str]:
    """Stage name to the module its command (``python -m MODULE ...``) runs."""
    found = {}
    for stage, body in pipeline_stages(root).items():
        words = body.get("do", body)["cmd"].split()
        assert words[:2] == ["python", "-m"], f"{stage} does not run a module"
        found[stage] = words[2]
    return found


def probe(root: Path, module: str) -> dict:
    """Import ``module`` from ``root``'s src/ in a new process; its import and wall time."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY_LIBRARIES)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    return {**json.loads(done.stdout), "wall_s": wall}


def imports(root: Path, rounds: int) -> dict:
    bare = statistics.median(probe(root, "sys")["wall_s"] for _ in range(rounds))
    found = {}
    for stage, module in stage_modules(root).items():
        runs = [probe(root, module) for _ in range(rounds)]  # each a fresh process
        found[stage] = {
            "module": module,
            "import_s": round(statistics.median(r["import_s"] for r in runs), 3),
            "wall_s": round(statistics.median(r["wall_s"] for r in runs), 3),
            "heavy": runs[0]["heavy"],
        }
    return {"python_start_s": round(bare, 3), "stages": found}


def add_batch() -> dict:
    """Ingest the next demo month into a reproduced copy and time the `dvc repro` after it."""
    with tempfile.TemporaryDirectory(prefix="driftline-bench-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        run(repo, "driftline", "demo", "materialize")
        run(repo, "dvc", "repro")
        incoming = run(repo, "driftline", "demo", "next")[1].split()[0]
        run(repo, "driftline", "ingest", incoming)
        repro, output = run(repo, "dvc", "repro")
    stages = stage_figures(output)
    code = sum(s["seconds"] for s in stages)
    return {
        "batch": Path(incoming).stem,
        "repro_s": round(repro, 2),
        "stage_code_s": round(code, 2),
        "repro_over_code": round(repro / code, 2),
        "stages": stages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="processes per stage (median)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--add-batch", action="store_true", help="also time adding one batch")
    args = parser.parse_args()
    root = args.root.resolve()
    result = {"cores": os.cpu_count(), **imports(root, args.rounds)}
    if args.add_batch:
        result["add_batch"] = add_batch()
    if root == ROOT:
        out = ROOT / "bench" / "results" / "startup.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))


def markdown(r: dict) -> str:
    lines = [
        f"Python start-up alone: {r['python_start_s']:.2f} s ({r['cores']} cores)",
        "",
        "| stage | module | import (s) | process (s) | heavy libraries loaded |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {stage} | `{s['module']}` | {s['import_s']:.2f} | {s['wall_s']:.2f} | "
        f"{', '.join(s['heavy']) or 'none'} |"
        for stage, s in r["stages"].items()
    ]
    if "add_batch" in r:
        a = r["add_batch"]
        lines += [
            "",
            f"Adding {a['batch']} to 6 batches: `dvc repro` {a['repro_s']:.2f} s, the stages' "
            f"own code {a['stage_code_s']:.2f} s ({a['repro_over_code']:.2f}x)",
            "",
            "| stage | seconds | peak MiB |",
            "|---|---|---|",
            *(f"| {s['stage']} | {s['seconds']:.2f} | {s['peak_mib']} |" for s in a["stages"]),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
