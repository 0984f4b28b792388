"""Benchmark: a backfill on k simulated runners against the serial build (docs/backfill.md).

    python bench/bench_backfill.py [--batches 24] [--shards 4] [--project 4 16]

It registers N monthly batches (the demo months, then whole demo years shifted as the load
bench does), commits a comment in stage code so that every stage reruns, and builds that
commit twice:

- serially: `dvc repro` in a plain copy;
- as backfill.yml does, each runner a fresh `git clone` sharing one local DVC remote: the
  planning job (`driftline backfill plan`, then the model chain), k shards (restore the
  model chain, run its stages, `dvc push --run-cache`), and the final job (`dvc repro
  --pull`, every group stage restored; `driftline backfill check` fails otherwise).

This machine has 2 cores, so the shards run one after another and each is timed alone. The
critical path is plan + slowest shard + final. For other k (and for 120 batches) it is
projected from what was measured: a shard's fixed part (its clone, the model-chain restore
and the push) plus its stage count times the measured seconds per stage. Runner set-up on
GitHub (checkout, Python, `make setup`) is not in these figures: add it once per job.

Writes bench/results/backfill.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import month_names, shifted  # noqa: E402
from common import ROOT, copy_repo, run  # noqa: E402
from driftline.tooling.backfill import read_final_log, split  # noqa: E402
from driftline.tooling.demo import batch_csv_bytes, load_months  # noqa: E402

COMMITTED = 6  # the demo batches data/batches.yaml registers


def base_repo(batches: int, workdir: Path, remote: Path) -> Path:
    """N registered batches, their raw data on the shared remote, and a stage-code edit."""
    repo = copy_repo(workdir / "base")
    run(repo, "driftline", "demo", "materialize")
    months = load_months(2013)
    landing = workdir / "landing"
    landing.mkdir()
    for year, month in month_names(batches)[COMMITTED:]:
        frame = shifted(months, year, month)
        (landing / f"{year}-{month:02d}.csv").write_bytes(batch_csv_bytes(frame))
    if batches > COMMITTED:
        run(repo, "driftline", "ingest", "--from", str(landing))
    paths_py = repo / "src/driftline/core/paths.py"
    paths_py.write_text(paths_py.read_text() + "# Every path the stages read or write.\n")
    run(repo, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
    run(repo, "dvc", "push", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", f"{batches} batches and a stage-code edit")
    return repo


def runner(base: Path, remote: Path, name: str) -> tuple[Path, float]:
    """A fresh checkout (no data, no DVC cache) with the shared remote; and its time."""
    clone = base.parent / name
    seconds, _ = run(base.parent, "git", "clone", "-q", str(base), str(clone))
    more, _ = run(clone, "dvc", "remote", "add", "--local", "-d", "shared", str(remote))
    return clone, seconds + more


def counted(log: str) -> tuple[int, int]:
    """(stages run, stages restored from the run-cache) in a `dvc repro` log."""
    ran = len(re.findall(r"^Running stage '", log, re.MULTILINE))
    return ran, len(re.findall(r"is cached - skipping run", log))


def backfill(base: Path, remote: Path, shards: int) -> dict:
    planner, setup = runner(base, remote, "plan")
    seconds, out = run(planner, "driftline", "backfill", "plan", "--shards", str(shards))
    plan = json.loads(out.splitlines()[-1])
    model = plan["model"].split()
    chain, _ = run(planner, "dvc", "repro", "--single-item", "--pull", *model)
    push, _ = run(planner, "driftline", "backfill", "push")
    jobs = {"plan": {"seconds": setup + seconds + chain + push, "plan": seconds, "model": chain}}
    for shard in plan["matrix"]["include"]:
        clone, setup = runner(base, remote, f"shard-{shard['shard']}")
        restore, _ = run(clone, "dvc", "repro", "--single-item", "--pull", *model)
        stages = shard["stages"].split()
        own, log = run(clone, "dvc", "repro", "--single-item", "--pull", *stages)
        push, _ = run(clone, "driftline", "backfill", "push")
        jobs[f"shard {shard['shard']}"] = {
            "seconds": setup + restore + own + push,
            "fixed": setup + restore + push,
            "stages": len(stages),
            "ran": counted(log)[0],
            "push": push,
        }
    final, setup = runner(base, remote, "final")
    repro, log = run(final, "dvc", "repro", "--pull")
    (final.parent / "final.log").write_text(log)
    check, _ = run(final, "driftline", "backfill", "check", str(final.parent / "final.log"))
    jobs["final"] = {
        "seconds": setup + repro + check,
        "restored": len(read_final_log(log).restored),
        "ran": read_final_log(log).others,
    }
    return {"plan": plan, "jobs": jobs, "final": final}


def project(result: dict, k: int, batches: int) -> dict:
    """Wall time and runner time of a k-shard backfill of ``batches`` batches, from the
    measured per-stage and fixed costs (the plan and the final job scaled by stage count)."""
    jobs = result["jobs"]
    shards = [j for name, j in jobs.items() if name.startswith("shard")]
    per_stage = sum(j["seconds"] - j["fixed"] for j in shards) / sum(j["stages"] for j in shards)
    fixed = sum(j["fixed"] for j in shards) / len(shards)
    measured_stages = sum(j["stages"] for j in shards)
    stages = measured_stages * batches // result["batches"]
    sizes = [len(s) for s in split([["p", "s"]] * (stages // 2), k)]
    scale = stages / measured_stages
    final = jobs["final"]["seconds"] * scale
    plan = jobs["plan"]["seconds"]
    slowest = fixed + max(sizes) * per_stage
    runner_seconds = plan + sum(fixed + n * per_stage for n in sizes) + final
    return {
        "k": k,
        "batches": batches,
        "slowest_shard_s": round(slowest, 1),
        "wall_s": round(plan + slowest + final, 1),
        "runner_min": round(runner_seconds / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=24)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--project", type=int, nargs="+", default=[4, 16])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    try:
        remote = work / "remote"
        base = base_repo(args.batches, work, remote)
        serial = work / "serial"
        shutil.copytree(base, serial, symlinks=True)
        serial_s, serial_log = run(serial, "dvc", "repro")
        result = backfill(base, remote, args.shards)
        same = (result["final"] / "dvc.lock").read_bytes() == (serial / "dvc.lock").read_bytes()
        assert same, "dvc.lock: the backfill's differs from the serial build's"
        jobs = result.pop("jobs")
        result.pop("final")
        summary = {
            "batches": args.batches,
            "shards": args.shards,
            "serial_s": round(serial_s, 1),
            "serial_stages_run": counted(serial_log)[0],
            "jobs": {name: {k: v for k, v in j.items()} for name, j in jobs.items()},
            "locks_identical": True,
        }
        slowest = max(j["seconds"] for n, j in jobs.items() if n.startswith("shard"))
        summary["critical_path_s"] = round(
            jobs["plan"]["seconds"] + slowest + jobs["final"]["seconds"], 1
        )
        summary["runner_s"] = round(sum(j["seconds"] for j in jobs.values()), 1)
        summary["projections"] = [
            project({"jobs": jobs, "batches": args.batches}, k, n)
            for n in sorted({args.batches, 120})
            for k in args.project
        ]
        summary["serial_120_s_linear"] = round(serial_s * 120 / args.batches, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results" / "backfill.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown(summary))


def markdown(s: dict) -> str:
    lines = [
        f"{s['batches']} batches, every stage stale ({s['serial_stages_run']} stages); "
        f"k = {s['shards']} shards run one after another on this machine.",
        "",
        "| job | seconds | notes |",
        "|---|---|---|",
        f"| serial `dvc repro` | {s['serial_s']} | one machine |",
    ]
    for name, job in s["jobs"].items():
        if name == "plan":
            note = f"plan {job['plan']:.1f} s, model chain {job['model']:.1f} s"
        elif name == "final":
            note = f"{job['restored']} group stages restored, ran {', '.join(job['ran'])}"
        else:
            note = f"{job['stages']} stages ({job['ran']} run), push {job['push']:.1f} s"
        lines.append(f"| {name} | {job['seconds']:.1f} | {note} |")
    lines += [
        f"| **critical path** (plan + slowest shard + final) | {s['critical_path_s']} | |",
        f"| runner time, all jobs | {s['runner_s']} | |",
        "",
        "| batches | k | slowest shard (s) | wall (s) | runner minutes |",
        "|---|---|---|---|---|",
    ]
    lines += [
        "| {batches} | {k} | {slowest_shard_s} | {wall_s} | {runner_min} |".format(**p)
        for p in s["projections"]
    ]
    lines.append(f"\nSerial build at 120 batches, scaled linearly: {s['serial_120_s_linear']} s")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
