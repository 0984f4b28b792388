"""The whole demo year, month by month, as a user would add it.

    python bench/full_year.py

In a throwaway copy of the repository: `make repro`'s steps on the six committed months, then
for each later month `driftline demo next`, `driftline ingest` and `dvc repro`. It prints one
Markdown row per added month (quality of the model trained on January to March, drift of the
month against that training window, and the time the month cost) and saves the final quality
history plot as docs/full-year-history.png for the README.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, copy_repo, run, stage_figures  # noqa: E402

MONTHS_AFTER_COMMITTED = 6


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="driftline-year-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        run(repo, "driftline", "demo", "materialize")
        run(repo, "dvc", "repro")
        for _ in range(MONTHS_AFTER_COMMITTED):
            start = time.perf_counter()
            _, printed = run(repo, "driftline", "demo", "next")
            incoming = next(w for w in printed.split() if w.endswith(".csv"))
            run(repo, "driftline", "ingest", incoming)
            _, output = run(repo, "dvc", "repro")
            elapsed = time.perf_counter() - start
            evaluate = json.loads((repo / "metrics/evaluate.json").read_text())
            drift = json.loads((repo / "metrics/drift.json").read_text())
            rows.append((evaluate, drift, elapsed, [s["stage"] for s in stage_figures(output)]))
        target = ROOT / "docs" / "full-year-history.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(repo / "plots/history.png", target)
    print("| month | rows | ROC AUC | late share | drifted features | dataset drift | "
          "top drifted | next + ingest + repro (s) | stages run |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for evaluate, drift, elapsed, stages in rows:
        ranked = sorted(drift["top_features"], key=lambda n: drift["top_features"][n]["rank"])
        top = ", ".join(ranked[:3])
        print(
            f"| {evaluate['batch']} | {evaluate['rows']:,} | {evaluate['roc_auc']:.3f} | "
            f"{evaluate['positive_rate']:.3f} | {drift['drifted_features']}/"
            f"{drift['features_tested']} | {'yes' if drift['dataset_drift'] else 'no'} | "
            f"{top} | {elapsed:.1f} | {', '.join(stages)} |"
        )
    print(f"\nSaved {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
