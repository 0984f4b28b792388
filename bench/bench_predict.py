"""Benchmark: `driftline predict` against a plain script, on 1M and 10M rows.

    python bench/bench_predict.py [--sizes 1000000 10000000] [--cap-gib 10] [--repeat 1]

Run it in a checkout where `make repro` has run: both sides score with that checkout's
model (models/model.pkl, verified against dvc.lock). The input is a features-only CSV
built from the real demo flights of 2013 (all twelve months, weather joined, no target and
no column known only after departure), repeated until it has the rows asked for; each
repetition moves `year` on by one, so the rows are not all copies (2013 to 2042).

Side by side, one after the other, each in its own process:
- `driftline predict IN -o OUT.csv`: chunks of 100,000 rows, the contract check, the features,
  the scores, the output and the drift profile;
- the plain script (`--plain IN OUT`): `pandas.read_csv` of the whole file, the same
  features (`feature_frame`), the same model's `predict_proba` on the whole frame, and the
  probability and decision written with the same CSV writer. No check, no drift.

Each run's peak memory is its own peak RSS (`os.wait4`'s rusage). A watchdog polls the
child's RSS and kills it above `--cap-gib` (the machine's 24 GiB are shared): such a run is
reported as "stopped at X GiB". The goal: predict at least 0.8x the plain script's rows/s,
with memory that stays flat as the file grows.

Writes bench/results/predict.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ENV, ROOT  # noqa: E402

DEMO_YEAR = 2013
DROPPED = ["arr_delay", "dep_time", "dep_delay", "arr_time", "air_time"]
POLL_S = 0.1


def build_input(rows: int, path: Path) -> None:
    """A features-only CSV of ``rows`` rows from the demo months (see the docstring)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from driftline.tooling.demo import load_months

    months = load_months(DEMO_YEAR)
    frame = pd.concat(months.values(), ignore_index=True).drop(columns=DROPPED)
    base = pa.Table.from_pandas(frame, preserve_index=False)
    year = base.schema.get_field_index("year")
    written = 0
    options = pcsv.WriteOptions(quoting_style="none")
    with pcsv.CSVWriter(path, base.schema, write_options=options) as writer:
        shift = 0
        while written < rows:
            part = base.slice(0, min(base.num_rows, rows - written))
            years = pa.array([str(DEMO_YEAR + shift)] * part.num_rows, pa.string())
            writer.write_table(part.set_column(year, "year", years))
            written += part.num_rows
            shift += 1


def plain(source: Path, target: Path) -> None:
    """The plain script: the whole file in one frame, the same features and model."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from driftline.core.config import load_contract, load_params
    from driftline.core.io import read_json
    from driftline.data.dataset import feature_frame
    from driftline.model.store import load_model

    params, contract = load_params(), load_contract()
    meta = read_json("models/meta.json")
    features = meta["features"]["categorical"] + meta["features"]["numeric"]
    model = load_model()
    frame = pd.read_csv(source, keep_default_na=False, na_values=["", "NA"])
    probability = model.predict_proba(feature_frame(frame, params, contract)[features])[:, 1]
    decision = (probability >= params["evaluate"]["threshold"]).astype(np.int8)
    pcsv.write_csv(pa.table({"probability": probability, "decision": decision}), target)


def measured(command: list[str], rows: int, cap_bytes: int, logs: Path) -> dict:
    """Run ``command`` once: its wall time, rows/s and its own peak RSS (``os.wait4``), or
    where the watchdog stopped it."""
    with (logs / "out").open("w+") as out, (logs / "err").open("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=out, stderr=err)
        stopped: dict = {"at": None}

        def watch() -> None:
            status = Path(f"/proc/{child.pid}/status")
            while stopped["at"] is None:
                try:
                    text = status.read_text()
                except OSError:
                    return
                lines = [row for row in text.splitlines() if row.startswith("VmRSS:")]
                rss = int(lines[0].split()[1]) * 1024 if lines else 0
                if rss > cap_bytes:
                    stopped["at"] = rss
                    child.kill()
                    return
                time.sleep(POLL_S)

        watchdog = threading.Thread(target=watch, daemon=True)
        watchdog.start()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    result = {"rows": rows, "seconds": round(elapsed, 2)}
    if stopped["at"] is not None:
        return {**result, "rows_per_s": None, "stopped_gib": round(stopped["at"] / 2**30, 1)}
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stdout}\n{stderr}")
    return {
        **result,
        "rows_per_s": round(rows / elapsed),
        "peak_mib": usage.ru_maxrss // 1024,
        "drift_line": stdout.strip() or None,
        # predict's closing line says where the chunk loop's time went
        "phases": next((line for line in stderr.splitlines() if "; time in " in line), None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--cap-gib", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side per size")
    args = parser.parse_args()
    if not (ROOT / "models/model.pkl").is_file():
        raise SystemExit("no models/model.pkl here: run `make repro` first")
    cap = int(args.cap_gib * 2**30)
    driftline = str(Path(sys.executable).parent / "driftline")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        for rows in args.sizes:
            source = Path(tmp) / f"in-{rows}.csv"
            build_input(rows, source)
            size = source.stat().st_size / 2**20
            print(f"{rows:,} rows: {size:,.0f} MiB of CSV", file=sys.stderr)
            for _ in range(args.repeat):
                for label, command in (
                    ("predict", [driftline, "predict", str(source), "-o", f"{tmp}/p.csv"]),
                    ("plain", [sys.executable, __file__, "--plain", str(source), f"{tmp}/q.csv"]),
                ):
                    result = {"run": label, **measured(command, rows, cap, Path(tmp))}
                    result["input_mib"] = round(size)
                    print(json.dumps(result), file=sys.stderr)
                    results.append(result)
            source.unlink()
    out = ROOT / "bench/results/predict.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("| rows | run | seconds | rows/s | peak memory | predict/plain rows/s |")
    print("|---|---|---|---|---|---|")
    for rows in args.sizes:
        runs = [r for r in results if r["rows"] == rows]
        speed = {
            label: max((r["rows_per_s"] or 0) for r in runs if r["run"] == label)
            for label in ("predict", "plain")
        }
        for r in runs:
            memory = (
                f"stopped at {r['stopped_gib']} GiB"
                if r.get("stopped_gib") is not None
                else f"{r['peak_mib']:,} MiB"
            )
            ratio = f"{speed['predict'] / speed['plain']:.2f}x" if speed["plain"] else "-"
            print(
                f"| {rows:,} | {r['run']} | {r['seconds']} | {r['rows_per_s'] or '-'} | "
                f"{memory} | {ratio if r['run'] == 'predict' else ''} |"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--plain"]:
        os.chdir(ROOT)
        plain(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
