"""Helpers shared by the benchmarks: timed commands, stage figures, and the tests' way of
copying the repository into a throwaway git repo."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from helpers import ENV as TEST_ENV  # noqa: E402
from helpers import SHARED_CORES, copy_repo  # noqa: E402,F401  (one way to copy the repository)

# The tests' environment, but OpenMP's wait policy: a benchmark runs as a user's command does.
ENV = {k: v for k, v in TEST_ENV.items() if k not in SHARED_CORES}

# A stage's closing log line: "done prepare@2013-01 in 0.41 s, peak 190 MiB".
STAGE_LINE = re.compile(r"done (\S+) in ([\d.]+) s, peak (\d+) MiB")


def run(cwd: Path, *args: str) -> tuple[float, str]:
    """Run a command; return its wall time and its combined output. Fail loudly."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout + done.stderr


def stage_figures(output: str) -> list[dict]:
    """Per-stage wall time and peak memory, from the stages' own closing log lines."""
    return [
        {"stage": m[1], "seconds": float(m[2]), "peak_mib": int(m[3])}
        for m in STAGE_LINE.finditer(output)
    ]
