"""The retrain verdict replayed against known change points (issue 24), per policy.

A made-up churn dataset, twelve monthly batches of 3,000 customers, with three changes:

- month 7 (2024-07): a price rise, monthly charges up 15% (a feature the model relies on);
- month 9 (2024-09): a new contract kind, `weekly`, a fifth of the customers, churning more;
- month 10 (2024-10): the churn mechanism changes: support calls stop mattering, tenure
  works the other way (concept drift: the features' distributions barely move).

Besides, three features the churn never depends on drift from early on, as usage data does:
`app_version` creeps up month by month, `minutes_in_app` grows, and `promo_emails` doubles
from month 5 (a new marketing cadence): a third of the features drift on the stable months.

A project of its own is made from it with `driftline init` (as a user would), trained on
2024-01..2024-03, every month ingested and reproduced once. Then each month from 2024-04 on
is judged as if it were the newest, under each policy, by the drift stage's own functions:
the same monitor, history rules and verdict, on that month's profile and scores and the
quality history up to it. No retrain happens in the replay, so after a change every later
month still holds it: a verdict should fire within two months of each change and stay quiet
on 2024-04..2024-06.

    python bench/verdict_replay.py [--keep DIR]   # about 3 minutes; --keep DIR again replays

Prints a Markdown table (docs/monitoring.md holds the one this wrote).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import copy_repo, run

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
ROWS = 3000
WINDOW = ("2024-01", "2024-03")
CHANGES = {"2024-07": "price rise", "2024-09": "new contract kind", "2024-10": "mechanism"}
STABLE = ["2024-04", "2024-05", "2024-06"]
CONTRACTS = {"monthly": 0.55, "annual": 0.30, "biennial": 0.15}
LIMITS = {
    "tenure_months": (0, 120),
    "monthly_charges": (0, 300),
    "support_calls": (0, 30),
    "age": (18, 100),
    "app_version": (1, 10),
    "minutes_in_app": (0, 1440),
    "promo_emails": (0, 60),
}
EFFECT = {"monthly": 0.9, "annual": -0.5, "biennial": -1.2, "weekly": 1.5}


def month_frame(month: str, index: int) -> pd.DataFrame:
    """One month of customers and whether each churned, with the changes from its month on."""
    rng = np.random.default_rng(100 + index)
    n = ROWS
    kinds, shares = list(CONTRACTS), list(CONTRACTS.values())
    if month >= "2024-09":
        kinds, shares = [*kinds, "weekly"], [s * 0.8 for s in shares] + [0.2]
    contract = rng.choice(kinds, size=n, p=shares)
    tenure = rng.integers(1, 73, n)
    charges = np.clip(rng.normal(70, 18, n), 20, 140) * (1.15 if month >= "2024-07" else 1.0)
    calls = rng.poisson(1.5, n)
    region = rng.choice(["north", "south", "east", "west"], size=n)
    age = np.clip(rng.normal(45, 12, n), 18, 90).round()
    app_version = np.round(3.0 + 0.02 * index + rng.normal(0, 0.03, n), 2)
    minutes = np.clip(rng.normal(300 + 12 * index, 50, n), 0, 700).round()
    emails = rng.poisson(2 if index < 4 else 4, n)
    if month >= "2024-10":  # the new mechanism
        logit = -1.0 + 0.03 * (charges - 70) + 0.04 * (tenure - 36) + 0.0 * (calls - 1.5)
    else:
        logit = -1.0 + 0.03 * (charges - 70) - 0.04 * (tenure - 36) + 0.45 * (calls - 1.5)
    logit = logit + np.array([EFFECT[c] for c in contract])
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    days = pd.date_range(f"{month}-01", periods=pd.Period(month).days_in_month, freq="D")
    return pd.DataFrame(
        {
            "billing_date": rng.choice(days.strftime("%Y-%m-%d"), size=n),
            "contract": contract,
            "tenure_months": tenure,
            "monthly_charges": charges.round(2),
            "support_calls": calls,
            "region": region,
            "age": age,
            "app_version": app_version,
            "minutes_in_app": minutes,
            "promo_emails": emails,
            "churned": np.where(churned, "Yes", "No"),
        }
    )


def build(project: Path) -> None:
    incoming = project.parent / "incoming"
    incoming.mkdir()
    files = []
    for index, month in enumerate(MONTHS):
        path = incoming / f"{month}.csv"
        month_frame(month, index).to_csv(path, index=False)
        files.append(path)
    init = ["--target", "churned", "--positive", "Yes", "--classes", "stayed,churned"]
    run(project, "driftline", "init", str(files[0]), *init)
    # What a user's review of contract.yaml does: each numeric range to the plan's limits.
    contract = project / "contract.yaml"
    text = contract.read_text()
    for column, (low, high) in LIMITS.items():
        text = re.sub(rf'("{column}": {{.*range: )\[[^]]*\]', rf"\g<1>[{low}, {high}]", text)
    contract.write_text(text)
    run(project, "git", "add", "-A")
    run(project, "git", "commit", "-qm", "driftline init")
    for path in files:
        run(project, "driftline", "ingest", str(path))
    from driftline.tooling.params_text import set_window

    params = project / "params.yaml"
    params.write_text(set_window(params.read_text(), *WINDOW))
    seconds, _ = run(project, "dvc", "repro")
    print(f"built: 12 months ingested, dvc repro in {seconds:.0f} s", file=sys.stderr)


RULES = ["threshold", "iqr"]
POLICIES = {
    "counts, newest alone (before)": {
        "when": {"dataset_drift": True, "label_drift": True, "rules": RULES},
    },
    "+ importance drift (the demo's)": {
        "when": {
            "dataset_drift": True,
            "importance_drift": True,
            "label_drift": True,
            "rules": RULES,
        },
    },
    "+ baseline 3": {
        "when": {
            "dataset_drift": True,
            "importance_drift": True,
            "label_drift": True,
            "rules": RULES,
        },
        "baseline": 3,
    },
    "+ prediction drift": {
        "when": {
            "dataset_drift": True,
            "importance_drift": True,
            "label_drift": True,
            "prediction_drift": True,
            "rules": RULES,
        },
        "baseline": 3,
    },
    "+ persistence 2 of 3": {
        "when": {
            "dataset_drift": True,
            "importance_drift": True,
            "label_drift": True,
            "prediction_drift": True,
            "rules": RULES,
            "persistence": {"k": 2, "n": 3},
        },
        "baseline": 3,
    },
}


def replay(project: Path) -> tuple[list[str], dict[str, list[bool]], pd.DataFrame]:
    """Each month after the window judged as the newest, under each policy."""
    os.chdir(project)
    from driftline.core import paths
    from driftline.core.config import feature_lists, load_params
    from driftline.core.io import read_json
    from driftline.monitoring.drift import monitor_batch
    from driftline.monitoring.timeline import records
    from driftline.monitoring.verdict import verdict
    from driftline.stages.drift import history_rules

    params = load_params()
    reference = read_json(paths.REFERENCE)
    categorical, numeric = feature_lists(params, reference)
    features = categorical + numeric
    weights = read_json(paths.MODEL_META)["importance"]["weights"]
    window_scores = read_json(paths.SCORE_PROFILE)
    history = pd.read_csv(paths.HISTORY, dtype={"batch": "str"})
    months = history["batch"].tolist()
    verdicts: dict[str, list[bool]] = {name: [] for name in POLICIES}
    for i, month in enumerate(months):
        scores = pd.read_parquet(paths.scores(month), columns=["score"])["score"].to_numpy()
        current = read_json(paths.profile(month))
        result = monitor_batch(params, features, reference, current, scores, window_scores, weights)
        earlier = records(history.iloc[:i])
        for name, policy in POLICIES.items():
            settings = {**params["drift"], "baseline": policy.get("baseline")}
            rules = history_rules(history.iloc[: i + 1], settings)
            retrain, _ = verdict(result, rules, policy["when"], False, earlier)
            verdicts[name].append(retrain)
    return months, verdicts, history


def table(months: list[str], verdicts: dict[str, list[bool]], history: pd.DataFrame) -> str:
    head = ["month", "change", "roc_auc", "drifted", "importance drifted"]
    lines = [
        "| " + " | ".join(head + list(verdicts)) + " |",
        "|" + "---|" * (len(head) + len(verdicts)),
    ]
    rows = history.set_index("batch")
    for i, month in enumerate(months):
        row = rows.loc[month]
        cells = [
            month,
            CHANGES.get(month, "stable" if month in STABLE else ""),
            f"{row['roc_auc']:.3f}",
            f"{row['share_drifted']:.2f}",
            f"{row['drifted_importance']:.2f}",
        ]
        cells += ["**yes**" if verdicts[name][i] else "no" for name in verdicts]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("| " + " | ".join(["**score**", "", "", "", ""] + [
        score(months, v) for v in verdicts.values()
    ]) + " |")  # fmt: skip
    return "\n".join(lines)


def score(months: list[str], fired: list[bool]) -> str:
    """Changes caught within two months, and false alarms on the stable months."""
    at = dict(zip(months, fired, strict=True))
    caught = sum(
        any(at.get(m, False) for m in months[months.index(change) : months.index(change) + 2])
        for change in CHANGES
    )
    false = sum(at[m] for m in STABLE)
    flips = sum(a != b for a, b in zip(fired, fired[1:], strict=False))
    return f"{caught}/3 caught, {false}/3 false alarms, {flips} flips"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the project here and keep it")
    args = parser.parse_args()
    started = time.perf_counter()
    work = args.keep or Path(tempfile.mkdtemp(prefix="verdict-replay-"))
    project = work / "project"
    built = (project / "metrics/history.csv").is_file()
    project.mkdir(parents=True, exist_ok=True)
    try:
        if not built:
            copy_repo(project)
            build(project)
        months, verdicts, history = replay(project)
        print(table(months, verdicts, history))
    finally:
        os.chdir(work.parent)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
