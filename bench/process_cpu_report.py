"""Where the CPU of a test run went, from the log of bench/process_cpu/sitecustomize.py.

    PROCESS_CPU_LOG=/tmp/cpu.jsonl PYTHONPATH=bench/process_cpu CI=true bash .ci/run
    python bench/process_cpu_report.py /tmp/cpu.jsonl

Prints the Python CPU by kind of process (`dvc repro`, each stage, each `driftline`
command, the pytest mains and workers) and by the folder it ran in: the temp folder of the
test or fixture that started it (pytest names them after the test), the rehearsal's act
runners together. Go programs (act, actionlint), git and killed processes are not in it:
compare its total with the run's `/usr/bin/time`."""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path


def kind(argv: list[str], worker: str) -> str:
    """What a process was: `dvc repro`, `stage score`, `driftline ingest`, `pytest`, ..."""
    if not argv:
        return "python"
    first = Path(argv[0])
    command = argv[1] if len(argv) > 1 else ""
    if first.name == "dvc" or first.parent.name == "dvc":  # the script or `python -m dvc`
        return f"dvc {command}".strip()
    if first.name in ("driftline", "cli.py"):
        return f"driftline {command}".strip()
    if first.parent.name == "stages":
        return f"stage {first.stem}"
    if first.parent.name == "pytest":
        return "pytest"
    if argv[0] == "-c":
        return "pytest-xdist worker" if worker else "python -c"
    return first.name


def place(cwd: str) -> str:
    """The test (or fixture) folder a process ran in, or the rehearsal's runners."""
    if "/hostexecutor" in cwd or "/runner-" in cwd:
        return "rehearsal: act jobs"
    parts = cwd.split("/")
    roots = [
        i for i, part in enumerate(parts) if re.fullmatch(r"popen-gw\d+|shared|pytest-\d+", part)
    ]
    if not roots or roots[-1] + 1 == len(parts):
        return cwd
    return re.sub(r"\d+$", "", parts[roots[-1] + 1])  # pytest numbers its temp folders


def table(totals: dict[str, list[float]], top: int) -> str:
    rows = sorted(totals.items(), key=lambda item: -item[1][1])[:top]
    lines = ["| CPU (s) | processes | s each | what |", "|---:|---:|---:|---|"]
    for name, (count, cpu) in rows:
        lines.append(f"| {cpu:.0f} | {count:.0f} | {cpu / count:.2f} | {name} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    records = [json.loads(line) for line in args.log.read_text().splitlines() if line]
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    by_place: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for record in records:
        for totals, key in (
            (by_kind, kind(record["argv"], record["xdist_worker"])),
            (by_place, place(record["cwd"])),
        ):
            totals[key][0] += 1
            totals[key][1] += record["cpu"]
    total = sum(record["cpu"] for record in records)
    print(f"{total:.0f} s of Python CPU in {len(records)} processes\n")
    print("By kind of process:\n")
    print(table(by_kind, args.top))
    print("\nBy folder:\n")
    print(table(by_place, args.top))


if __name__ == "__main__":
    main()
