"""Benchmark: the train stage under OpenMP's two wait policies, on idle cores and beside one
busy core, as in the test suite (two pytest-xdist workers on two cores).

HistGradientBoosting runs `train.threads` OpenMP threads. By default (`OMP_WAIT_POLICY`
unset) a thread that waits for its partner spins for a while before it sleeps; when the other
core is busy with another process, the spinning burns the time its partner needs. The tests
set `OMP_WAIT_POLICY=passive` for every command they run (tests/helpers.py: ENV); this
measures why, and checks that the model bytes are the same either way.

    python bench/bench_wait_policy.py [--rounds 2]

It copies the repository, writes the demo batches and runs `dvc repro` once, then times
`python -m driftline.stages.train` in that copy per policy and condition. Writes
bench/results/wait_policy.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ENV, ROOT, copy_repo, run  # noqa: E402

POLICIES = {"default": {}, "passive": {"OMP_WAIT_POLICY": "passive"}}


def timed_train(repo: Path, policy: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one train stage, and the md5 of the model it wrote."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "driftline.stages.train"],
        cwd=repo,
        env={**ENV, **policy},
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    model = hashlib.md5((repo / "models/model.pkl").read_bytes()).hexdigest()
    return wall, cpu, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-wait-") as tmp:
        repo = copy_repo(Path(tmp) / "driftline")
        run(repo, "driftline", "demo", "materialize")
        run(repo, "dvc", "repro")
        for condition in ("idle", "one busy core"):
            hog = None
            if condition != "idle":
                hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                for name, policy in POLICIES.items():
                    runs = [timed_train(repo, policy) for _ in range(args.rounds)]
                    results.append(
                        {
                            "condition": condition,
                            "policy": name,
                            "wall_s": statistics.median(r[0] for r in runs),
                            "cpu_s": statistics.median(r[1] for r in runs),
                            "models": sorted({r[2] for r in runs}),
                        }
                    )
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
    models = {m for r in results for m in r["models"]}
    out = ROOT / "bench/results/wait_policy.json"
    out.write_text(json.dumps({"cores": os.cpu_count(), "results": results}, indent=2) + "\n")
    print("| condition | OMP_WAIT_POLICY | train wall (s) | train CPU (s) |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['condition']} | {r['policy']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} |")
    print(f"\nmodel bytes: {'the same' if len(models) == 1 else 'DIFFERENT'} ({len(models)} md5)")
    if len(models) != 1:
        raise SystemExit("the wait policy changed the model bytes")


if __name__ == "__main__":
    main()
