"""The whole demo year, month by month, as a user would add it.

    python bench/full_year.py                 # each month with its labels
    python bench/full_year.py --labels-late   # each month first without, labels a month later

In a throwaway copy of the repository: `make repro`'s steps on the six committed months, then
for each later month `driftline demo next`, `driftline ingest` and `dvc repro`. It prints one
Markdown row per added month (quality of the model trained on January to March; data, label
and prediction drift of the month against that training window; the history rules that fired;
the retrain verdict; the month's drift against itself, which must be none; and the time the
month cost) and saves the final quality history and rule-band plots into docs/ for the README.
Retraining is never applied here, so every month is judged against the same model.

With ``--labels-late`` each later month arrives pending (``driftline demo next
--without-labels``), is ingested and reproduced (its quality estimated), and the month
before it gets its labels (``driftline demo labels``, ``driftline ingest --labels``) before
the next ``dvc repro``; the last month's labels land at the end. It prints, per month, the
ROC AUC, accuracy and F1 estimated on arrival, the realised values once the labels landed,
the absolute errors, whether the realised ROC AUC fell inside the 95% and 99% bands made on
arrival, and whether the concept-drift alarm flagged the estimates after it.
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
    if "--labels-late" in sys.argv[1:]:
        labels_late()
        return
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


METRICS = ("roc_auc", "accuracy", "f1")


def batch_row(repo: Path, batch: str) -> dict:
    """What score@ wrote of the batch: quality (realised, or None while pending), estimates
    with their 95% and 99% bands, drift."""
    from driftline.core.paths import batch_metrics

    return json.loads((repo / batch_metrics(batch)).read_text())


def labels_late() -> None:
    arrival, realised, alarms, seconds = {}, {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="driftline-late-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        run(repo, "driftline", "demo", "materialize")
        run(repo, "dvc", "repro")
        waiting = None
        for _ in range(MONTHS_AFTER_COMMITTED + 1):
            start = time.perf_counter()
            if waiting is not None:  # last month's labels land
                _, printed = run(repo, "driftline", "demo", "labels", waiting)
                labels = next(w for w in printed.split() if w.endswith(".csv"))
                run(repo, "driftline", "ingest", "--labels", labels)
            month = None
            if len(arrival) < MONTHS_AFTER_COMMITTED:  # this month arrives without them
                _, printed = run(repo, "driftline", "demo", "next", "--without-labels")
                incoming = next(w for w in printed.split() if w.endswith(".csv"))
                run(repo, "driftline", "ingest", incoming)
                month = Path(incoming).stem
            run(repo, "dvc", "repro")
            if waiting is not None:
                realised[waiting] = batch_row(repo, waiting)
            if month is not None:
                arrival[month] = batch_row(repo, month)
                concept = json.loads((repo / "reports/drift.json").read_text())["concept_drift"]
                alarms[month] = concept["fired"]
                seconds[month] = time.perf_counter() - start
            waiting = month
    print(
        "| month | rows on arrival / labelled | ROC AUC est. (95%) on arrival | realised | "
        "abs. error | in 95% | in 99% | accuracy est. / realised | F1 est. / realised | "
        "estimates flagged untrustworthy | labels + arrival + repro (s) |"
    )
    print("|---" * 11 + "|")
    errors = {name: [] for name in METRICS}
    inside = {"95": 0, "99": 0}
    for month, row in arrival.items():
        real = realised[month]
        for name in METRICS:
            errors[name].append(abs(row[f"est_{name}"] - real[name]))
        value = real["roc_auc"]
        in95 = row["est_roc_auc_low"] <= value <= row["est_roc_auc_high"]
        in99 = row["est_roc_auc_low99"] <= value <= row["est_roc_auc_high99"]
        inside["95"] += in95
        inside["99"] += in99
        print(
            f"| {month} | {row['rows']:,} / {real['rows']:,} | {row['est_roc_auc']:.3f} "
            f"({row['est_roc_auc_low']:.3f}-{row['est_roc_auc_high']:.3f}) | {value:.3f} | "
            f"{abs(row['est_roc_auc'] - value):.3f} | {yes(in95)} | {yes(in99)} | "
            f"{row['est_accuracy']:.3f} / {real['accuracy']:.3f} | "
            f"{row['est_f1']:.3f} / {real['f1']:.3f} | {yes(alarms[month])} | "
            f"{seconds[month]:.1f} |"
        )
    count = len(arrival)
    print(
        "\nMean absolute error of the estimate made on arrival: "
        + ", ".join(f"{n} {sum(e) / count:.4f}" for n, e in errors.items())
        + f"; realised ROC AUC inside the 95% band {inside['95']} of {count}, "
        f"inside the 99% band {inside['99']} of {count}"
    )


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
