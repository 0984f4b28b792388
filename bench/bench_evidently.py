"""Benchmark: our drift engine against evidently's DataDriftPreset, side by side on the same
frames, with wall time, peak memory and per-column verdict agreement.

    .venv/bin/python bench/bench_evidently.py [--rounds 3] [--rows 1000000]

The frame pairs (reference, current):

- a synthetic frame of ``--rows`` rows x 20 mixed columns (continuous, few-valued and binary
  numbers, booleans, strings with 5 to 100 categories, a category dtype, some nulls), fixed
  seeds, where 8 columns are built to drift (shifted, rescaled or re-weighted) and 12 not;
- the demo data: reference January to March 2013, current each later month, and March
  against itself (no drift), on the model's features from params.yaml.

Each pair is written once to parquet; then each engine runs in a fresh subprocess that reads
the two files, warms up on their first 2,000 rows (so lazy imports are not timed), and times
the drift computation alone: ``compare_frames`` for ours; ``Dataset.from_pandas`` plus
``Report([DataDriftPreset()]).run`` for evidently, with each column declared numerical or
categorical as our engine types it (numeric dtypes numeric, everything else categorical) and
evidently's default choice of test. Memory: the process's peak RSS, and the growth of the
peak during the computation alone over the RSS once the frames are loaded (the high-water
mark is reset through /proc/self/clear_refs just before the computation). Both are read from
VmHWM in /proc/self/status, not from getrusage's ru_maxrss: a child's ru_maxrss starts at its
parent's RSS, inherited through fork and exec, so it would show this script's own frames.

evidently needs pandas < 3, so it runs from its own venv, created on first use (only when
missing or when the pins change) from bench/evidently-requirements.txt, in
``$XDG_CACHE_HOME/driftline-bench/`` (default ``~/.cache``), outside the repository.

Writes bench/results/evidently.json and prints a Markdown summary for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "bench" / "evidently-requirements.txt"
RESULTS = ROOT / "bench" / "results" / "evidently.json"
WARMUP_ROWS = 2_000
SEED = 20130101
# evidently's display names of its default tests, as our engine names them.
EVIDENTLY_TESTS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "ztest",
    "PSI": "psi",
}


# --- the evidently venv ----------------------------------------------------------------------


def evidently_python() -> Path:
    """The evidently venv's python (bench/common.py: bench_venv)."""
    from common import bench_venv

    return bench_venv("evidently-venv", REQUIREMENTS, sys.executable)


# --- the frames ------------------------------------------------------------------------------


def synthetic_pair(rows: int, seed: int):
    """Reference and current frames of 20 mixed columns, and which columns were made to drift.

    Each column is drawn by a function of (generator, rows, is_current); a column built not
    to drift ignores ``is_current``. Reference and current use separate generators.
    """
    import numpy as np
    import pandas as pd

    def choice(labels, weights=None):
        weights = None if weights is None else np.asarray(weights) / np.sum(weights)
        return lambda g, n, c: np.asarray(labels, dtype=object)[g.choice(len(labels), n, p=weights)]

    def with_nulls(make, ref_share, cur_share):
        def draw(g, n, c):
            values = make(g, n, c)
            values[g.random(n) < (cur_share if c else ref_share)] = None
            return values

        return draw

    def zipf(k, s):
        return 1 / np.arange(1, k + 1) ** s

    def as_float(make):
        return lambda g, n, c: make(g, n, c).astype("float64")

    def exponential_nulls(g, n, c):
        values = g.exponential(2.0, n)
        values[g.random(n) < (0.20 if c else 0.05)] = np.nan
        return values

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    letters = [f"k{i:02d}" for i in range(20)]
    columns = {  # name: (draw, built to drift)
        "num_normal": (lambda g, n, c: g.normal(0, 1, n), False),
        "num_normal_shift": (lambda g, n, c: g.normal(0.3 if c else 0, 1, n), True),
        "num_normal_tiny_shift": (lambda g, n, c: g.normal(0.03 if c else 0, 1, n), False),
        "num_lognormal_rescaled": (
            lambda g, n, c: g.lognormal(0, 0.5, n) * (1.5 if c else 1),
            True,
        ),
        "num_uniform": (lambda g, n, c: g.uniform(0, 100, n), False),
        "num_exponential_nulls": (exponential_nulls, False),
        "num_heavy_tail": (lambda g, n, c: g.lognormal(0, 2, n), False),
        "num_poisson_shift": (lambda g, n, c: g.poisson(11 if c else 10, n).astype("int64"), True),
        "num_four_values": (as_float(choice([1, 2, 3, 4], [4, 3, 2, 1])), False),
        "num_five_reweighted": (
            lambda g, n, c: choice(
                [1, 2, 3, 4, 5], [1, 1.5, 2, 2.5, 3] if c else [3, 2.5, 2, 1.5, 1]
            )(g, n, c).astype("int64"),
            True,
        ),
        "bin_same": (lambda g, n, c: (g.random(n) < 0.3).astype("int8"), False),
        "bin_shifted": (lambda g, n, c: (g.random(n) < (0.5 if c else 0.3)).astype("int8"), True),
        "bool_flag": (lambda g, n, c: g.random(n) < 0.1, False),
        "cat_5": (choice(list("abcde"), [5, 4, 3, 2, 1]), False),
        "cat_5_reweighted": (
            lambda g, n, c: choice(list("abcde"), [1] * 5 if c else [8, 6, 3, 2, 1])(g, n, c),
            True,
        ),
        "cat_20_unseen": (
            lambda g, n, c: (
                choice(letters + ["new1", "new2", "new3"], [0.85 / 20] * 20 + [0.05] * 3)(g, n, c)
                if c
                else choice(letters)(g, n, c)
            ),
            True,
        ),
        "cat_100_zipf": (choice([f"v{i:03d}" for i in range(100)], zipf(100, 1.1)), False),
        "cat_100_zipf_shift": (
            lambda g, n, c: choice([f"v{i:03d}" for i in range(100)], zipf(100, 0.5 if c else 1.1))(
                g, n, c
            ),
            True,
        ),
        "cat_50_nulls": (with_nulls(choice([f"s{i:02d}" for i in range(50)]), 0.1, 0.1), False),
        "cat_month_category": (
            lambda g, n, c: pd.Categorical(choice(months)(g, n, c), categories=months),
            False,
        ),
    }
    frames = []
    for is_current, offset in ((False, 0), (True, 1)):
        generator = np.random.default_rng(seed + offset)
        frames.append(
            pd.DataFrame(
                {name: draw(generator, rows, is_current) for name, (draw, _) in columns.items()}
            )
        )
    return frames[0], frames[1], {name: drifts for name, (_, drifts) in columns.items()}


def demo_months(params: dict) -> dict:
    """Prepared frames of every 2013 month, on the model's features: the pipeline's parquet
    outputs where present, else prepared from the demo data as the prepare stage does."""
    import pandas as pd

    from driftline.core.config import load_contract
    from driftline.data.contract import read_batch
    from driftline.data.dataset import prepare_frame
    from driftline.tooling.demo import batch_csv_bytes, load_months

    # The demo's params list the model's features.
    features = [*params["features"]["categorical"], *params["features"]["numeric"]]
    contract = load_contract(ROOT / "contract.yaml")
    raw_months = None
    months = {}
    with tempfile.TemporaryDirectory(prefix="driftline-months-") as tmp:
        for month in range(1, 13):
            name = f"2013-{month:02d}"
            prepared_file = ROOT / "data" / "prepared" / f"{name}.parquet"
            if prepared_file.is_file():
                months[name] = pd.read_parquet(prepared_file, columns=features)
                continue
            raw_months = raw_months or load_months(2013)
            csv = Path(tmp) / f"{name}.csv"
            csv.write_bytes(batch_csv_bytes(raw_months[name]))
            raw = read_batch(csv, contract)
            prepared, _ = prepare_frame(raw, params, contract)
            months[name] = prepared[features].reset_index(drop=True)
    return months


def frame_pairs(args: argparse.Namespace, params: dict):
    """Yield (name, reference, current, columns built to drift or None) for every pair."""
    import pandas as pd

    reference, current, designed = synthetic_pair(args.rows, SEED)
    yield f"synthetic {args.rows:,} x 20", reference, current, designed
    months = demo_months(params)
    window = pd.concat([months[m] for m in ("2013-01", "2013-02", "2013-03")], ignore_index=True)
    for name in sorted(months)[3:]:
        yield f"{name} vs 2013-01..03", window, months[name], None
    yield "2013-03 vs itself", months["2013-03"], months["2013-03"], None


# --- the workers (each in a fresh process) ---------------------------------------------------


def _status_kib(key: str) -> int:
    """A field of /proc/self/status, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak() -> bool:
    """Reset the process's peak RSS to its current RSS (Linux 4.0+); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") == _status_kib("VmRSS")


def measure(compute, warm_up) -> dict:
    """Run ``warm_up``, then time ``compute`` and record memory as the docstring above says."""
    import gc

    warm_up()
    gc.collect()
    loaded = _status_kib("VmRSS")
    peak_before = _status_kib("VmHWM")
    reset = _reset_peak()
    start = time.perf_counter()
    result = compute()
    seconds = time.perf_counter() - start
    peak_during = _status_kib("VmHWM")
    return {
        "seconds": seconds,
        "loaded_mib": loaded / 1024,
        "peak_mib": max(peak_before, peak_during) / 1024,
        "compute_growth_mib": (peak_during - loaded) / 1024 if reset else None,
        "result": result,
    }


def worker_ours(reference: str, current: str, spec: dict) -> dict:
    import pandas as pd

    from driftline.monitoring.drift import measured
    from driftline.tooling.compare_files import compare_frames

    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)

    def run(r, c):
        return compare_frames(r, c, spec["settings"], spec["bins"])

    figures = measure(
        lambda: run(ref, cur), lambda: run(ref.head(WARMUP_ROWS), cur.head(WARMUP_ROWS))
    )
    result = figures.pop("result")
    figures["columns"] = {
        # evidently reports the raw p-value or distance: compare like with like.
        name: {"test": r["test"], "score": measured(r)[1], "drifted": r["drifted"]}
        for name, r in result["columns"].items()
    }
    figures["share_drifted"] = result["share_drifted"]
    figures["version"] = pd.__version__
    return figures


def worker_evidently(reference: str, current: str, spec: dict) -> dict:
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    definition = DataDefinition(
        numerical_columns=spec["numerical"], categorical_columns=spec["categorical"]
    )

    def run(r, c):
        report = Report([DataDriftPreset()], include_tests=True)
        return report.run(
            Dataset.from_pandas(c, data_definition=definition),
            Dataset.from_pandas(r, data_definition=definition),
        )

    figures = measure(
        lambda: run(ref, cur), lambda: run(ref.head(WARMUP_ROWS), cur.head(WARMUP_ROWS))
    )
    snapshot = figures.pop("result").dict()
    scores = {m["id"]: m["value"] for m in snapshot["metrics"]}
    columns = {}
    for test in snapshot["tests"]:
        params = test["metric_config"]["params"]
        if params["type"] != "evidently:metric_v2:ValueDrift":
            continue
        columns[params["column"]] = {
            "test": EVIDENTLY_TESTS.get(params["method"], params["method"]),
            "score": scores[test["metric_config"]["metric_id"]],
            "drifted": test["status"] == "FAIL",
        }
    figures["columns"] = columns
    figures["share_drifted"] = sum(c["drifted"] for c in columns.values()) / len(columns)
    figures["version"] = f"evidently {evidently.__version__}, pandas {pd.__version__}"
    return figures


WORKERS = {"ours": worker_ours, "evidently": worker_evidently}


def run_worker(python: Path, engine: str, reference: Path, current: Path, spec: dict) -> dict:
    """Run one engine on one pair in a fresh process and return its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [str(python), __file__, "--worker", engine, str(reference), str(current)]
        done = subprocess.run(
            [*command, out.name, json.dumps(spec)], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"{engine} worker failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(Path(out.name).read_text())


# --- comparing and reporting -----------------------------------------------------------------


def compare_pair(runs: dict, designed: dict | None) -> dict:
    """Median time over rounds, largest memory figures, and the per-column verdict comparison."""
    summary = {}
    for engine, rounds in runs.items():
        summary[engine] = {
            "seconds": statistics.median(r["seconds"] for r in rounds),
            "seconds_rounds": [round(r["seconds"], 4) for r in rounds],
            "peak_mib": max(r["peak_mib"] for r in rounds),
            "loaded_mib": max(r["loaded_mib"] for r in rounds),
            "compute_growth_mib": max(
                float("nan") if r["compute_growth_mib"] is None else r["compute_growth_mib"]
                for r in rounds
            ),
            "share_drifted": rounds[0]["share_drifted"],
            "version": rounds[0]["version"],
        }
    ours, theirs = runs["ours"][0]["columns"], runs["evidently"][0]["columns"]
    columns = {
        name: {"ours": ours[name], "evidently": theirs[name]}
        | ({"built_to_drift": designed[name]} if designed else {})
        for name in ours
    }
    disagree = [n for n, c in columns.items() if c["ours"]["drifted"] != c["evidently"]["drifted"]]
    same_test = [n for n, c in columns.items() if c["ours"]["test"] == c["evidently"]["test"]]
    gaps = [abs(columns[n]["ours"]["score"] - columns[n]["evidently"]["score"]) for n in same_test]
    summary.update(
        speedup=summary["evidently"]["seconds"] / summary["ours"]["seconds"],
        agreement=1 - len(disagree) / len(columns),
        same_test=len(same_test) / len(columns),
        max_score_gap=max(gaps, default=float("nan")),
        disagreements=disagree,
        columns=columns,
    )
    if designed:
        summary["matches_design"] = {
            engine: sum(c[engine]["drifted"] == c["built_to_drift"] for c in columns.values())
            / len(columns)
            for engine in ("ours", "evidently")
        }
    return summary


def markdown(result: dict) -> str:
    lines = [
        f"| pair ({result['cores']} cores) | ref rows | cur rows | cols | ours s | evidently s "
        "| speed-up | ours peak MiB (compute +) | evidently peak MiB (compute +) "
        "| same verdict | same test | max score gap | drifted ours / evidently |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in result["pairs"]:
        o, e, n = p["ours"], p["evidently"], len(p["columns"])
        drifted = [
            sum(c[k]["drifted"] for c in p["columns"].values()) for k in ("ours", "evidently")
        ]
        lines.append(
            f"| {p['name']} | {p['reference_rows']:,} | {p['current_rows']:,} | {n} "
            f"| {o['seconds']:.3f} | {e['seconds']:.2f} | {p['speedup']:.1f}x "
            f"| {o['peak_mib']:.0f} (+{o['compute_growth_mib']:.0f}) "
            f"| {e['peak_mib']:.0f} (+{e['compute_growth_mib']:.0f}) "
            f"| {p['agreement']:.0%} | {p['same_test']:.0%} | {p['max_score_gap']:.1e} "
            f"| {drifted[0]} / {drifted[1]} |"
        )
    t = result["totals"]
    lines += [
        "",
        f"Overall: same verdict on {t['agreement']:.1%} of {t['columns']} columns (goal >= 95%); "
        f"speed-up {t['min_speedup']:.1f}x to {t['max_speedup']:.1f}x (goal >= 20x); "
        f"peak memory below evidently's on {t['lower_peak']} of {len(result['pairs'])} pairs.",
    ]
    rows = [
        (p["name"], name, p["columns"][name])
        for p in result["pairs"]
        for name in p["disagreements"]
    ]
    if rows:
        lines += [
            "",
            "| pair | column | ours: test, score, drifted | evidently: test, score, drifted |",
            "|---|---|---|---|",
        ]
        for pair, name, c in rows:
            o, e = c["ours"], c["evidently"]
            lines.append(
                f"| {pair} | {name} | {o['test']}, {o['score']:.4g}, {o['drifted']} "
                f"| {e['test']}, {e['score']:.4g}, {e['drifted']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh runs per engine and pair")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic pair")
    args = parser.parse_args()
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT / "src"))
    from driftline.core.config import load_params
    from driftline.tooling.compare_files import is_numeric

    params = load_params(ROOT / "params.yaml", check_window=False)
    python = {"ours": Path(sys.executable), "evidently": evidently_python()}
    ours_spec = {"settings": params["drift"], "bins": params["profile"]["bins"]}
    pairs = []
    with tempfile.TemporaryDirectory(prefix="driftline-bench-evidently-") as tmp:
        for index, (name, reference, current, designed) in enumerate(frame_pairs(args, params)):
            files = [Path(tmp) / f"{index:02d}-{side}.parquet" for side in ("ref", "cur")]
            reference.to_parquet(files[0], index=False)
            current.to_parquet(files[1], index=False)
            numeric = [c for c in reference if is_numeric(reference[c], current[c])]
            specs = {
                "ours": ours_spec,
                "evidently": {
                    "numerical": numeric,
                    "categorical": [c for c in reference if c not in numeric],
                },
            }
            runs = {engine: [] for engine in WORKERS}
            for _ in range(args.rounds):  # interleaved, so both see the same machine load
                for engine in WORKERS:
                    runs[engine].append(run_worker(python[engine], engine, *files, specs[engine]))
            pair = {"name": name, "reference_rows": len(reference), "current_rows": len(current)}
            pairs.append(pair | compare_pair(runs, designed))
            print(f"{name}: done", file=sys.stderr)
    result = {
        "cores": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "python": platform.python_version(),
        "rounds": args.rounds,
        "drift_settings": ours_spec,
        "pairs": pairs,
        "totals": totals(pairs),
        "benchmark_seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(
        f"\nWhole benchmark: {result['benchmark_seconds']:.0f} s; wrote {RESULTS.relative_to(ROOT)}"
    )


def totals(pairs: list[dict]) -> dict:
    columns = sum(len(p["columns"]) for p in pairs)
    agreeing = sum(p["agreement"] * len(p["columns"]) for p in pairs)
    return {
        "columns": columns,
        "agreement": agreeing / columns,
        "min_speedup": min(p["speedup"] for p in pairs),
        "max_speedup": max(p["speedup"] for p in pairs),
        "lower_peak": sum(p["ours"]["peak_mib"] < p["evidently"]["peak_mib"] for p in pairs),
    }


def worker_main(argv: list[str]) -> None:
    engine, reference, current, out, spec = argv
    figures = WORKERS[engine](reference, current, json.loads(spec))
    Path(out).write_text(json.dumps(figures))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
    else:
        main()
