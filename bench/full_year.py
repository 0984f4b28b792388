"""The whole demo year, month by month, as a user would add it.

    python bench/full_year.py

In a throwaway copy of the repository: `make repro`'s steps on the six committed months, then
for each later month `driftline demo next`, `driftline ingest` and `dvc repro`. It prints one
Markdown row per added month (quality of the model trained on January to March; data, label
and prediction drift of the month against that training window; the history rules that fired;
the retrain verdict; the month's drift against itself, which must be none; and the time the
month cost) and saves the final quality history and rule-band plots into docs/ for the README.
Retraining is never applied here, so every month is judged against the same model.
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
            evaluate |= json.loads((repo / "reports/evaluate.json").read_text())
            drift = json.loads((repo / "reports/drift.json").read_text())
            itself = self_drift(repo, evaluate["batch"])
            stages = [s["stage"] for s in stage_figures(output)]
            rows.append((evaluate, drift, itself, elapsed, stages))
        (ROOT / "docs").mkdir(exist_ok=True)
        for name in ("history.png", "history_rules.png"):
            shutil.copyfile(repo / "plots" / name, ROOT / "docs" / f"full-year-{name}")
    print(
        "| month | rows | ROC AUC | late share | drifted features | dataset drift | "
        "label drift | prediction drift | rules fired | retrain | against itself | "
        "top drifted | next + ingest + repro (s) | stages run |"
    )
    print("|---" * 14 + "|")
    for evaluate, drift, itself, elapsed, stages in rows:
        ranked = sorted(drift["top_features"], key=lambda n: drift["top_features"][n]["rank"])
        fired = [
            f"{metric} {rule}"
            for metric, rules in drift["history_rules"].items()
            for rule, alarm in rules.items()
            if alarm
        ]
        print(
            f"| {evaluate['batch']} | {evaluate['rows']:,} | {evaluate['roc_auc']:.3f} | "
            f"{evaluate['positive_rate']:.3f} | {drift['drifted_features']}/"
            f"{drift['features_tested']} | {yes(drift['dataset_drift'])} | "
            f"{signal(drift['target_drift'])} | {signal(drift['prediction_drift'])} | "
            f"{', '.join(fired) or 'none'} | {yes(drift['retrain'])} | {itself} drifted | "
            f"{', '.join(ranked[:3])} | {elapsed:.1f} | {', '.join(stages)} |"
        )
    print("\nSaved docs/full-year-history.png and docs/full-year-history_rules.png")


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def signal(result: dict) -> str:
    return f"{yes(result['drifted'])} ({result['drift_score']:.2f})"


def self_drift(repo: Path, batch: str) -> int:
    """How many features drift when the batch's own profile is its reference (must be 0)."""
    code = (
        "import json, sys; from driftline.monitoring.drift import monitor; "
        "from driftline.core.config import TARGET, load_params; "
        "from driftline.core.config import feature_lists; "
        "from driftline.core.paths import profile as profile_path; "
        "p = load_params(); "
        "c, n = feature_lists(p, json.load(open('data/window/reference.json'))); "
        f"profile = json.load(open(profile_path('{batch}'))); "
        "print(len(monitor(profile, profile, c + n, TARGET, p['drift'])['drifted_columns']))"
    )
    return int(run(repo, sys.executable, "-c", code)[1].split()[-1])


if __name__ == "__main__":
    main()
