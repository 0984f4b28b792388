"""The stand-in stage commands of bench_layout.py: the same files as the real stages, a few
bytes each, so that a run costs DVC's bookkeeping and almost nothing else. Each run adds its
own wall and CPU time to stub-times.log, which the benchmark takes out of `dvc repro`'s.

    python layout_stub.py prepare DAY | prepare-group GROUP | prepare-all | prepare-groups
    python layout_stub.py score DAY | score-group GROUP | score-all | score-groups
    python layout_stub.py window | train | evaluate | drift
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

START = time.perf_counter()


def put(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def registry() -> list[str]:
    for source in (Path("data/batches.yaml"), Path("pipeline/batches.yaml"), Path("params.yaml")):
        if source.exists():
            return yaml.safe_load(source.read_text())["batches"]
    raise SystemExit("no batch list")


def prepare(day: str, folder: str = "") -> None:
    raw = Path("data/raw", folder, f"{day}.csv").read_text()
    put(Path("data/prepared", folder, f"{day}.parquet"), raw.upper())
    put(Path("data/profiles", folder, f"{day}.json"), json.dumps({"rows": raw.count("\n")}))


def score(day: str, folder: str = "") -> None:
    rows = Path("data/prepared", folder, f"{day}.parquet").read_text().count("\n")
    put(Path("data/scores", folder, f"{day}.parquet"), f"{day} {rows}\n")
    put(Path("metrics/batches", folder, f"{day}.json"), json.dumps({"batch": day, "rows": rows}))


def group_days(group: str) -> list[str]:
    return sorted(p.stem for p in Path("data/raw", group).glob("*.csv"))


def main(command: str, *args: str) -> None:
    step = {"prepare": prepare, "score": score}
    name = command.split("-")[0]
    if command in ("prepare", "score"):
        step[name](args[0])
    elif command.endswith("-group"):
        for day in group_days(args[0]):
            step[name](day, args[0])
    elif command.endswith("-all"):
        for day in registry():
            step[name](day)
    elif command.endswith("-groups"):
        for group in sorted(p.name for p in Path("data/raw").iterdir() if p.is_dir()):
            for day in group_days(group):
                step[name](day, group)
    elif command == "window":
        put("data/window/train.parquet", "window\n")
        put("data/window/reference.json", "{}")
    elif command == "train":
        for path in ("models/model.pkl", "models/meta.json", "models/score_profile.json"):
            put(path, path)
        put("models/validation.parquet", "validation\n")
        put("metrics/train.json", "{}")
    elif command == "evaluate":
        count = sum(1 for _ in Path("metrics/batches").rglob("*.json"))
        for i in range(6):
            put(f"plots/e{i}.json", json.dumps({"batches": count}))
        put("metrics/history.csv", "batch\n" + "\n".join(registry()) + "\n")
        put("metrics/evaluate.json", json.dumps({"batches": count}))
    elif command == "drift":
        newest = registry()[-1]
        for i in range(5):
            put(f"plots/d{i}.png", newest)
        put("metrics/drift.json", json.dumps({"newest": newest}))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
    with open("stub-times.log", "a") as log:
        log.write(f"{time.perf_counter() - START:.4f} {time.process_time():.4f}\n")
