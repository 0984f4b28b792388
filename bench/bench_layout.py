"""Benchmark: DVC's own bookkeeping for daily batches, per layout, at 10, 365 and 1,000
batches. It measures before the layout is chosen (issue 12, part 3).

    python bench/bench_layout.py [--sizes 10 365 1000] [--layouts LAYOUT ...] [--repeat N]
                                 [--keep DIR]

With ``--repeat N`` each project is built once and measured N times, the layouts interleaved
(their order alternating per round) so that they share the machine's load, and the table
gives the medians and the median of the rounds' add-one-day ratios to the first layout: single
runs vary by a quarter. Each round starts from the same state (the added day, its outputs and
DVC's run-cache entries removed). ``--keep DIR`` keeps the projects, to profile DVC in them.

Each repository is a real DVC project with the stage shapes of this one: the same deps,
params and outputs per stage, the real params.yaml settings, contract.yaml and the package,
src/driftline, as the code (one folder dep in the former layouts; each stage's own code deps,
as the repository's dvc.yaml lists them, in the root layouts). Only the commands are stand-ins
(bench/layout_stub.py: a few small files per batch, a few milliseconds), so the figures are
DVC's cost alone; the stages' own code costs the same in every layout (bench_daily.py
measures it). Layouts:

- ``per-batch``, the layout before the month groups: one prepare@ and one score@ stage per
  batch (foreach), the batch list in params.yaml, one ``data/raw/<day>.csv.dvc`` per batch;
- ``month-groups``, the layout of 0.1.0: one prepare and one score stage per month of days,
  each month in its own ``pipeline/<month>/dvc.yaml`` with its own lock, listing each day's
  raw file as a dep and writing one folder per output; the batch list apart from params.yaml
  (``pipeline/batches.yaml``); one tracked raw folder per month (``data/raw/<month>.dvc``);
- ``month-groups+params``: the same, but the batch list in params.yaml;
- ``month-groups+raw-dvc``: the same, but one ``.dvc`` file per raw day, and
- ``month-groups+params+raw-dvc``: the stages grouped, and nothing else changed (the layout
  of 2026-12-03, before the batch list and the raw tracking moved).
  The last three show what each choice is worth at 1,000 batches.
- ``root``, the layout of 0.2.0: the month groups defined in the root ``dvc.yaml`` as a
  ``foreach`` over the groups that ``data/batches.yaml`` lists (read through ``vars``), each
  month's raw folder one dep, the registry a file dep of the summary stages, and each
  stage's code deps its modules, as the repository's dvc.yaml lists them;
- ``root+params``: the same, with the registry's batch list declared as a param of the
  summary stages instead of a file dep;
- ``root+score-features``: the same, with ``score`` declaring the ``features.categorical``
  and ``features.numeric`` params again (0.2.0 until it took them from models/meta.json);
- ``root+monitoring-folder``: a what-if: the monitoring modules a stage runs as one folder dep
  (not a sound layout: the folder holds modules the stage does not run);
- ``root+months``: the root layout with groups of a month of days (``2013-01``), as 0.2.0
  grouped days before they went by quarter (``root`` groups them as the package does,
  ``driftline.core.batches.group_of``: a day's quarter, ``2013-Q1``).

Per layout and size: no-op ``dvc status`` and ``dvc repro``; then one day is added (its raw
file tracked, the registry and stage files updated, as ``driftline ingest`` would) and
``dvc status`` must name that day's raw file (in the root layouts, its month's folder, the
stage's dep); then ``dvc repro``, with the stand-in
commands' own time taken out. Also the lock files' total and largest size, and peak memory.

Writes bench/results/layout.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import measured  # noqa: E402
from common import ENV, ROOT  # noqa: E402
from driftline.core.batches import group_of  # noqa: E402

STUB = Path(__file__).with_name("layout_stub.py")
LAYOUTS = (
    "per-batch",
    "month-groups",
    "month-groups+params",
    "month-groups+raw-dvc",
    "month-groups+params+raw-dvc",
    "root",
    "root+params",
    "root+score-features",
    "root+monitoring-folder",
    "root+months",
)
PREPARE_PARAMS = ["target", "features.derive", "features.exclude", "profile.bins"]
SCORE_PARAMS = [
    "evaluate.threshold",
    "features.categorical",
    "features.numeric",
    "profile.bins",
    "drift.share",
    "drift.columns",
]
MODEL_FILES = ["models/model.pkl", "models/meta.json", "models/score_profile.json"]
SERVED = "models/served.csv"  # the timeline's archive (git-tracked input of evaluate)
CODE = "src/driftline"
REGISTRY = "data/batches.yaml"
REAL_STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def day_names(count: int) -> list[str]:
    first = dt.date(2013, 1, 1)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(count)]


def month(day: str) -> str:
    return day[:7]


class Layout:
    """Where a layout keeps raw files, the registry and the per-batch stages."""

    def __init__(self, name: str):
        self.name = name
        self.root = name.startswith("root")
        self.grouped = name.startswith("month-groups") or self.root
        self.registry_in_params = not self.grouped or ("+params" in name and not self.root)
        self.registry_as_param = self.root and "+params" in name
        self.raw_per_day = not self.grouped or "+raw-dvc" in name
        self.months = "+months" in name
        self.score_features = "+score-features" in name
        self.monitoring_folder = "+monitoring-folder" in name

    def group(self, day: str) -> str:
        return group_of(day) if self.root and not self.months else month(day)

    def params(self, stage: str, former: list[str]) -> list:
        """A group stage's params: as the repository's dvc.yaml lists them (root layouts),
        else ``former``, 0.1.0's."""
        if not self.root:
            return former
        body = REAL_STAGES[stage].get("do", REAL_STAGES[stage])
        params = list(body.get("params", []))
        if stage == "score" and self.score_features:  # 0.2.0's: the model's features again
            params[1:1] = ["features.categorical", "features.numeric"]
        return params

    def code(self, stage: str) -> list[str]:
        """A stage's code deps: its modules as the repository's dvc.yaml lists them (root
        layouts), else the whole stage package as one folder."""
        if not self.root:
            return [CODE]
        body = REAL_STAGES[stage].get("do", REAL_STAGES[stage])
        code = [dep for dep in body["deps"] if dep.startswith("src/")]
        if self.monitoring_folder:
            folder = "src/driftline/monitoring"
            kept = [dep for dep in code if not dep.startswith(folder + "/")]
            code = kept + [folder] if len(kept) < len(code) - 1 else code
        return code

    def raw(self, day: str) -> str:
        return f"data/raw/{self.group(day)}/{day}.csv" if self.grouped else f"data/raw/{day}.csv"

    def registry(self) -> tuple[str, list]:
        """The params entry the summary stages declare for the batch list."""
        if self.registry_in_params:
            return "params.yaml", ["batches"]
        if self.root:
            return REGISTRY, ["batches"]
        return "pipeline/batches.yaml", ["batches"]

    def raw_targets(self, days: list[str]) -> list[str]:
        """What ``dvc add`` tracks for these days."""
        if self.raw_per_day:
            return [self.raw(d) for d in days]
        return sorted({f"data/raw/{self.group(d)}" for d in days})


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def stub(*args: str) -> str:
    return "python layout_stub.py " + " ".join(args)


def summary_stages(layout: Layout) -> dict:
    registry_file, registry_keys = layout.registry()
    registry = [{registry_file: registry_keys}] if registry_file != "params.yaml" else ["batches"]
    file_dep = []
    if layout.root and not layout.registry_as_param:
        registry, file_dep = [], [REGISTRY]
    return {
        "window": {
            "cmd": stub("window"),
            "deps": [*file_dep, "data/prepared", "data/profiles", *layout.code("window")],
            "params": [*registry, "train.window"],
            "outs": ["data/window/train.parquet", "data/window/reference.json"],
        },
        "train": {
            "cmd": stub("train"),
            "deps": [
                "data/window/train.parquet",
                "data/window/reference.json",
                *layout.code("train"),
            ],
            "params": ["target", "features.categorical", "features.numeric", "train"],
            "outs": [*MODEL_FILES, "models/validation.parquet"],
            "metrics": [{"metrics/train.json": {"cache": False}}],
        },
        "evaluate": {
            "cmd": stub("evaluate"),
            "deps": [
                *file_dep,
                "metrics/batches",
                "data/scores",
                SERVED,
                *layout.code("evaluate"),
            ],
            "params": [*registry, "evaluate.threshold", "target.classes"],
            "outs": [{f"plots/e{i}.json": {"cache": False}} for i in range(6)]
            + [{"metrics/history.csv": {"cache": False}}],
            "metrics": [{"metrics/evaluate.json": {"cache": False}}],
        },
        "drift": {
            "cmd": stub("drift"),
            "deps": [
                *file_dep,
                "data/window/reference.json",
                "data/profiles",
                "data/scores",
                "metrics/batches",
                "models/meta.json",
                "models/score_profile.json",
                "metrics/history.csv",
                *layout.code("drift"),
            ],
            "params": [*registry, "train.window", "drift", "profile.bins"],
            "outs": [{f"plots/d{i}.png": {"cache": False}} for i in range(5)],
            "metrics": [{"metrics/drift.json": {"cache": False}}],
        },
    }


def per_batch_files() -> dict[str, dict]:
    """The former pipeline/prepare and pipeline/score dvc.yaml (foreach over the batch list)."""
    common = {"wdir": "../.."}
    prepare = {
        **common,
        "cmd": stub("prepare", "${item}"),
        "deps": ["data/raw/${item}.csv", "contract.yaml", CODE],
        "params": PREPARE_PARAMS,
        "outs": ["data/prepared/${item}.parquet", "data/profiles/${item}.json"],
    }
    score = {
        **common,
        "cmd": stub("score", "${item}"),
        "deps": [
            "data/prepared/${item}.parquet",
            "data/profiles/${item}.json",
            "data/window/reference.json",
            *MODEL_FILES,
            CODE,
        ],
        "params": SCORE_PARAMS,
        "outs": ["data/scores/${item}.parquet", "metrics/batches/${item}.json"],
    }
    head = {"vars": ["../../params.yaml:batches"]}
    return {
        "pipeline/prepare/dvc.yaml": {
            **head,
            "stages": {"prepare": {"foreach": "${batches}", "do": prepare}},
        },
        "pipeline/score/dvc.yaml": {
            **head,
            "stages": {"score": {"foreach": "${batches}", "do": score}},
        },
    }


def group_file(layout: Layout, group: str, days: list[str]) -> dict:
    """One month's stages: each day's raw file a dep of its own, one folder per output."""
    return {
        "stages": {
            "prepare": {
                "wdir": "../..",
                "cmd": stub("prepare-group", group),
                "deps": [layout.raw(d) for d in days] + ["contract.yaml", CODE],
                "params": PREPARE_PARAMS,
                "outs": [f"data/prepared/{group}", f"data/profiles/{group}"],
            },
            "score": {
                "wdir": "../..",
                "cmd": stub("score-group", group),
                "deps": [
                    f"data/prepared/{group}",
                    f"data/profiles/{group}",
                    "data/window/reference.json",
                    *MODEL_FILES,
                    CODE,
                ],
                "params": SCORE_PARAMS,
                "outs": [f"data/scores/{group}", f"metrics/batches/{group}"],
            },
        }
    }


def root_stages(layout: Layout) -> dict:
    """The group stages in the root dvc.yaml: a foreach over the registry's groups."""
    return {
        "prepare": {
            "foreach": "${groups}",
            "do": {
                "cmd": stub("prepare-group", "${item}"),
                "deps": ["data/raw/${item}", "contract.yaml", *layout.code("prepare")],
                "params": layout.params("prepare", PREPARE_PARAMS),
                "outs": ["data/prepared/${item}", "data/profiles/${item}"],
            },
        },
        "score": {
            "foreach": "${groups}",
            "do": {
                "cmd": stub("score-group", "${item}"),
                "deps": [
                    "data/prepared/${item}",
                    "data/profiles/${item}",
                    "data/window/reference.json",
                    *MODEL_FILES,
                    *layout.code("score"),
                ],
                "params": layout.params("score", SCORE_PARAMS),
                "outs": ["data/scores/${item}", "metrics/batches/${item}"],
            },
        },
    }


def pipeline_file(layout: Layout) -> dict:
    """The root dvc.yaml of a layout."""
    if not layout.root:
        return {"stages": summary_stages(layout)}
    return {"vars": [REGISTRY], "stages": {**root_stages(layout), **summary_stages(layout)}}


def register(repo: Path, layout: Layout, days: list[str]) -> None:
    """The batch list and the per-batch stage files for ``days``, as ingest would write them."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.pop("batches", None)
    if layout.registry_in_params:
        params = {"batches": days, **params}
    params["train"]["window"] = {"start": days[0], "end": days[6]}
    write(repo / "params.yaml", yaml.safe_dump(params, sort_keys=False))
    if layout.root:
        groups = sorted({layout.group(day) for day in days})
        write(repo / REGISTRY, yaml.safe_dump({"groups": groups, "batches": days}))
        return
    if not layout.registry_in_params:
        write(repo / "pipeline/batches.yaml", yaml.safe_dump({"batches": days}))
    if not layout.grouped:
        for path, body in per_batch_files().items():
            write(repo / path, yaml.safe_dump(body, sort_keys=False))
        return
    groups: dict[str, list[str]] = {}
    for day in days:
        groups.setdefault(month(day), []).append(day)
    for group, members in groups.items():
        body = group_file(layout, group, members)
        write(repo / f"pipeline/{group}/dvc.yaml", yaml.safe_dump(body, sort_keys=False))


def dvc(repo: Path, *args: str) -> str:
    done = subprocess.run(["dvc", *args], cwd=repo, env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def build(repo: Path, layout: Layout, days: list[str]) -> float:
    """A committed project of ``days``: every stage's outputs written by the stub in one
    process, and recorded with ``dvc commit`` in pipeline order, as ``dvc repro`` would."""
    start = time.perf_counter()
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.check_update", "false")
    shutil.copy(STUB, repo / "layout_stub.py")
    shutil.copy(ROOT / "contract.yaml", repo / "contract.yaml")
    write(repo / SERVED, "batch,model\n")
    shutil.copytree(ROOT / CODE, repo / CODE, ignore=shutil.ignore_patterns("__pycache__"))
    write(repo / "dvc.yaml", yaml.safe_dump(pipeline_file(layout), sort_keys=False))
    register(repo, layout, days)
    for day in days:
        write(repo / layout.raw(day), f"{day},raw\n" * 50)
    dvc(repo, "add", "--quiet", *layout.raw_targets(days))
    per_batch = ["pipeline/prepare/dvc.yaml", "pipeline/score/dvc.yaml"]
    groups = sorted({layout.group(d) for d in days})
    files = per_batch if not layout.grouped else [f"pipeline/{g}/dvc.yaml" for g in groups]
    if layout.root:
        files = [f"dvc.yaml:{kind}@{g}" for kind in ("prepare", "score") for g in groups]
    py = [sys.executable, "layout_stub.py"]
    build_all = "prepare-all" if not layout.grouped else "prepare-groups"
    subprocess.run([*py, build_all], cwd=repo, check=True, env=ENV)
    targets = files[:1] if not layout.grouped else [f"{f}:prepare" for f in files]
    if layout.root:
        targets = files[: len(groups)]
    dvc(repo, "commit", "--force", "--quiet", *targets)
    subprocess.run([*py, "window"], cwd=repo, check=True, env=ENV)
    subprocess.run([*py, "train"], cwd=repo, check=True, env=ENV)
    dvc(repo, "commit", "--force", "--quiet", "window", "train")
    subprocess.run([*py, build_all.replace("prepare", "score")], cwd=repo, check=True, env=ENV)
    targets = files[1:] if not layout.grouped else [f"{f}:score" for f in files]
    if layout.root:
        targets = files[len(groups) :]
    dvc(repo, "commit", "--force", "--quiet", *targets)
    for stage in ("evaluate", "drift"):
        subprocess.run([*py, stage], cwd=repo, check=True, env=ENV)
    dvc(repo, "commit", "--force", "--quiet", "evaluate", "drift")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "set-up"],
        cwd=repo,
        check=True,
    )
    return time.perf_counter() - start


def stub_seconds(repo: Path) -> tuple[float, float]:
    """The stand-in commands' own wall and CPU seconds since the last call."""
    log = repo / "stub-times.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return sum(float(line.split()[0]) for line in lines), sum(
        float(line.split()[1]) for line in lines
    )


def children_cpu() -> float:
    """CPU seconds of this process's finished children and theirs: unlike wall time, it
    barely moves with the load of other work on the machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locks(repo: Path) -> list[Path]:
    return [p for p in repo.rglob("dvc.lock") if ".dvc" not in p.parts]


def prepared(layout_name: str, size: int, workdir: Path) -> dict:
    """A built project of ``size`` days in ``layout_name``, committed, and the day to add."""
    layout = Layout(layout_name)
    every = day_names(size + 1)
    repo = workdir / f"{layout_name}-{size}"
    print(f"{layout_name}, {size} daily batches: set-up", flush=True)
    setup = build(repo, layout, every[:size])
    return {
        "layout": layout,
        "size": size,
        "repo": repo,
        "days": every[:size],
        "new": every[size],
        "setup_s": round(setup, 1),
    }


def measure(project: dict) -> dict:
    """No-op status and repro, then one day added and repro'd, on a built project."""
    layout, size, repo = project["layout"], project["size"], project["repo"]
    days, new = project["days"], project["new"]
    status_s, status_peak, said = measured(repo, "dvc", "status")
    if "up to date" not in said:
        raise SystemExit(f"{layout.name} {size}: the set-up left stages to run:\n{said[:3000]}")
    cpu = children_cpu()
    noop_s, _, said = measured(repo, "dvc", "repro")
    noop_cpu = children_cpu() - cpu
    if "Running stage" in said:
        raise SystemExit(f"{layout.name} {size}: the no-op repro ran stages:\n{said[:3000]}")
    stub_seconds(repo)
    # Add one day, as `driftline ingest` would: the raw file, its tracking, the registry.
    start, cpu = time.perf_counter(), children_cpu()
    write(repo / layout.raw(new), f"{new},raw\n" * 50)
    dvc(repo, "add", "--quiet", *layout.raw_targets([new]))
    register(repo, layout, [*days, new])
    register_s, register_cpu = time.perf_counter() - start, children_cpu() - cpu
    changed_s, _, said = measured(repo, "dvc", "status")
    # A root layout's group stage depends on the month's raw folder: status names that.
    named = f"data/raw/{layout.group(new)}" if layout.root else layout.raw(new)
    if named not in said:
        raise SystemExit(f"{layout.name} {size}: dvc status does not name {named}")
    cpu = children_cpu()
    repro_s, repro_peak, said = measured(repo, "dvc", "repro")
    repro_cpu = children_cpu() - cpu
    ran = said.count("Running stage")
    own, own_cpu = stub_seconds(repo)
    sizes = [p.stat().st_size for p in locks(repo)]
    result = {
        "layout": layout.name,
        "batches": size,
        "setup_s": project["setup_s"],
        "stages": int(dvc(repo, "stage", "list", "--all", "--name-only").count("\n")),
        "noop_status_s": round(status_s, 2),
        "noop_repro_s": round(noop_s, 2),
        "add_register_s": round(register_s, 2),
        "status_after_add_s": round(changed_s, 2),
        "add_repro_s": round(repro_s, 2),
        "add_repro_dvc_s": round(repro_s - own, 2),
        "add_s": round(register_s + repro_s - own, 2),
        "noop_repro_cpu_s": round(noop_cpu, 2),
        "add_cpu_s": round(register_cpu + repro_cpu - own_cpu, 2),
        "stages_run": ran,
        "locks_kib": round(sum(sizes) / 1024, 1),
        "largest_lock_kib": round(max(sizes) / 1024, 1),
        "peak_mib": max(status_peak, repro_peak),
    }
    print(f"  {json.dumps(result)}", flush=True)
    return result


def reset(project: dict) -> None:
    """Back to the built project: the added day, its outputs and DVC's run-cache entries gone
    (a first add finds none), so that every repetition adds the same day to the same state."""
    repo, layout = project["repo"], project["layout"]
    (repo / layout.raw(project["new"])).unlink()
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, check=True)
    subprocess.run(["git", "clean", "-q", "-fd"], cwd=repo, check=True)
    shutil.rmtree(repo / ".dvc" / "cache" / "runs", ignore_errors=True)
    dvc(repo, "checkout", "--force", "--quiet")


def one(layout_name: str, size: int, workdir: Path, keep: bool = False) -> dict:
    project = prepared(layout_name, size, workdir)
    result = measure(project)
    if keep:
        reset(project)
    else:
        shutil.rmtree(project["repo"])
    return result


def repeated(names: list[str], size: int, repeat: int, workdir: Path) -> list[dict]:
    """Each layout built once, then measured ``repeat`` times, the layouts interleaved (the
    order alternates per round), so that they share the machine's load; the medians, with
    the per-round ratio of each layout's add-one-day time to the first layout's."""
    projects = [prepared(name, size, workdir) for name in names]
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(repeat):
        order = projects if round_ % 2 == 0 else projects[::-1]
        for project in order:
            print(f"round {round_ + 1}/{repeat}: {project['layout'].name}", flush=True)
            runs[project["layout"].name].append(measure(project))
            reset(project)
    base = runs[names[0]]
    results = []
    for name in names:
        rows = runs[name]
        median = {
            key: round(statistics.median(row[key] for row in rows), 2)
            for key in rows[0]
            if isinstance(rows[0][key], (int, float)) and not isinstance(rows[0][key], bool)
        }
        ratios = [row["add_s"] / ref["add_s"] for row, ref in zip(rows, base, strict=True)]
        cpu_ratios = [
            row["add_cpu_s"] / ref["add_cpu_s"] for row, ref in zip(rows, base, strict=True)
        ]
        results.append(
            {
                **rows[0],
                **median,
                "repetitions": repeat,
                "add_ratio": round(statistics.median(ratios), 2),
                "add_ratios": [round(r, 2) for r in ratios],
                "add_cpu_ratio": round(statistics.median(cpu_ratios), 2),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 365, 1000])
    parser.add_argument(
        "--layouts",
        nargs="+",
        choices=LAYOUTS,
        help="layouts to run at every size (default: month-groups and root at every size, "
        "and root+params at the largest)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each layout this many times, interleaved, and report the medians "
        "(the projects are built once per size; single runs vary by a quarter)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build the projects in DIR and keep them (to profile DVC in them)",
    )
    args = parser.parse_args()
    # By default the layout built now against 0.1.0's (and, in a single run, root+params).
    names = list(args.layouts) if args.layouts else ["month-groups", "root"]
    with tempfile.TemporaryDirectory(prefix="driftline-layout-") as tmp:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = args.keep
        if args.repeat > 1:
            results = [
                row for n in args.sizes for row in repeated(names, n, args.repeat, Path(tmp))
            ]
        else:
            runs = [(name, n) for name in names for n in args.sizes]
            if not args.layouts:
                runs += [("root+params", max(args.sizes))]
            results = [one(name, n, Path(tmp), bool(args.keep)) for name, n in runs]
    out = ROOT / "bench" / "results" / "layout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "results": results}, indent=2) + "\n")
    print(markdown(results))


def markdown(results: list[dict]) -> str:
    rows = [
        ("stages and .dvc files", "stages"),
        ("no-op `dvc status` (s)", "noop_status_s"),
        ("no-op `dvc repro` (s)", "noop_repro_s"),
        ("add one day: track it, register it (s)", "add_register_s"),
        ("then `dvc status` (s)", "status_after_add_s"),
        ("then `dvc repro`, DVC's part (s)", "add_repro_dvc_s"),
        ("add one day, register + `dvc repro` (s)", "add_s"),
        ("the same, CPU (s)", "add_cpu_s"),
        ("no-op `dvc repro`, CPU (s)", "noop_repro_cpu_s"),
        ("stages it ran", "stages_run"),
        ("lock files, all (KiB)", "locks_kib"),
        ("largest lock file (KiB)", "largest_lock_kib"),
        ("peak memory (MiB)", "peak_mib"),
    ]
    if "add_ratio" in results[0]:
        rows.append(("add one day, median of the rounds' ratios to the first", "add_ratio"))
        rows.append(("the same in CPU seconds", "add_cpu_ratio"))
        rows.insert(0, ("repetitions (medians)", "repetitions"))
    head = " | ".join(f"{r['layout']}, {r['batches']}" for r in results)
    lines = [f"| DVC's bookkeeping | {head} |", "|---|" + "---|" * len(results)]
    lines += [f"| {label} | " + " | ".join(str(r[k]) for r in results) + " |" for label, k in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
