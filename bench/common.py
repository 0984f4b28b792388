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


def bench_venv(name: str, requirements: Path, python: str = sys.executable) -> Path:
    """The python of a benchmark's own venv (``$XDG_CACHE_HOME/driftline-bench/<name>``, by
    default under ~/.cache, outside the repository) for a tool whose pins clash with the
    project's; (re)built from ``requirements`` only if missing or re-pinned."""
    import os

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "driftline-bench" / name
    interpreter, stamp = venv / "bin" / "python", venv / ".installed"
    pins = requirements.read_text()
    if interpreter.is_file() and stamp.is_file() and stamp.read_text() == pins:
        return interpreter
    print(f"creating {venv} from {requirements.relative_to(ROOT)} ...", file=sys.stderr)
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(interpreter), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    stamp.write_text(pins)
    return interpreter
