"""Helpers shared by the benchmarks: a throwaway copy of the repository, and timed commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "DVC_NO_ANALYTICS": "1",
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
}
STAGE_LINE = re.compile(r"done (\S+)(?: (\S+))? in ([\d.]+) s, peak (\d+) MiB")


def copy_repo(target: Path) -> Path:
    """Copy the repository's files (tracked or new, never ignored) into a fresh git repo."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench"]):
        run(target, "git", *args)
    return target


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
        {"stage": f"{m[1]}@{m[2]}" if m[2] else m[1], "seconds": float(m[3]), "peak_mib": int(m[4])}
        for m in STAGE_LINE.finditer(output)
    ]
