"""Does the retrain policy pay off? July to December, replayed once per policy.

    python bench/policy_replay.py        (make policy-replay; about 20 minutes on 2 cores)

Every policy starts from the committed demo: batches January to June, the model trained on
January to March. Before each month from July to December arrives, the policy looks at the
newest month it has (the month before) and decides whether to retrain:

- ``never``: keep the January-March model all year;
- ``verdict``: retrain when metrics/drift.json says ``retrain: true``, and keep the new model
  only when the promotion gate (reports/promotion.json) passes; a refused promotion puts the
  repository back as it was, as an unmerged pull request would;
- ``monthly``: retrain every month and keep the new model whatever the gate says.

A retrain is what CI's retraining run does: ``driftline retrain`` then ``dvc repro``. Then the
month arrives (``driftline demo next``, ``driftline ingest``, ``dvc repro``) and the model of
the day is scored on it before any retrain sees it: metrics/evaluate.json is the quality "as
the month arrives". Each policy runs in its own throwaway repository, through the real
pipeline. It prints Markdown tables and each refused promotion's failed rules, writes
bench/results/policy_replay.json and saves docs/policy-replay.png.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, copy_repo, run  # noqa: E402

POLICIES = ("never", "verdict", "monthly")
MONTHS = 6  # July to December
PLOT = ROOT / "docs" / "policy-replay.png"


def main() -> None:
    started = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="driftline-policy-") as tmp:
        base = copy_repo(Path(tmp) / "base")
        run(base, "driftline", "demo", "materialize")
        run(base, "dvc", "repro")
        commit(base, "the committed demo, reproduced")
        for policy in POLICIES:
            repo = Path(tmp) / policy
            shutil.copytree(base, repo, symlinks=True)
            results[policy] = replay(repo, policy)
    out = ROOT / "bench" / "results" / "policy_replay.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    for policy, result in results.items():
        for batch, ok, failed in result["gate"]:
            if not ok:
                print(f"{policy}, retrained after {batch}: {'; '.join(failed)}")
    plot(results)
    print(f"\nSaved {PLOT.relative_to(ROOT)}; {time.perf_counter() - started:.0f} s in all")


def replay(repo: Path, policy: str) -> dict:
    """The policy's months: quality as each arrives, and what each retrain did."""
    months, retrains, refused, kept = [], 0, 0, []
    for _ in range(MONTHS):
        drift = read(repo, "reports/drift.json")
        if policy == "monthly" or (policy == "verdict" and drift["retrain"]):
            retrains += 1
            commit(repo, f"before retraining after {drift['batch']}")
            run(repo, "driftline", "retrain", "--force")
            run(repo, "dvc", "repro")
            gate = read(repo, "reports/promotion.json")
            failed = [reason for reason in gate["reasons"] if reason.startswith("FAIL:")]
            kept.append((drift["batch"], gate["promote"], failed))
            if policy == "verdict" and not gate["promote"]:
                refused += 1
                run(repo, "git", "reset", "-q", "--hard")
                run(repo, "git", "clean", "-qfdx", "models", "metrics", "plots", "reports")
                run(repo, "dvc", "checkout", "--force")
            else:
                commit(repo, f"retrained after {drift['batch']}")
        start = time.perf_counter()
        _, printed = run(repo, "driftline", "demo", "next")
        incoming = next(w for w in printed.split() if w.endswith(".csv"))
        run(repo, "driftline", "ingest", incoming)
        run(repo, "dvc", "repro")
        commit(repo, f"ingested {incoming}")
        evaluate = read(repo, "metrics/evaluate.json")
        window = read(repo, "reports/promotion.json")["challenger"]
        months.append(
            {
                "batch": read(repo, "reports/evaluate.json")["batch"],
                "roc_auc": evaluate["roc_auc"],
                "pr_auc": evaluate["pr_auc"],
                "window": f"{window['first']}..{window['last']}",
                "seconds": time.perf_counter() - start,
            }
        )
        print(f"{policy}: {months[-1]}", file=sys.stderr)
    return {"months": months, "retrains": retrains, "refused": refused, "gate": kept}


def table(results: dict) -> str:
    lines = [
        "| policy | mean ROC AUC | worst ROC AUC | mean PR AUC | worst PR AUC | retrains | "
        "promotions refused | gate verdicts (decided after) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for policy, result in results.items():
        roc = [m["roc_auc"] for m in result["months"]]
        pr = [m["pr_auc"] for m in result["months"]]
        verdicts = ", ".join(f"{b} {'pass' if ok else 'fail'}" for b, ok, _ in result["gate"])
        lines.append(
            f"| {policy} | {mean(roc):.4f} | {min(roc):.4f} | {mean(pr):.4f} | {min(pr):.4f} | "
            f"{result['retrains']} | {result['refused']} | {verdicts or '-'} |"
        )
    lines += ["", "| month | " + " | ".join(f"{p} ROC AUC (window)" for p in results) + " |"]
    lines.append("|---" * (len(results) + 1) + "|")
    for i, first in enumerate(next(iter(results.values()))["months"]):
        cells = [
            f"{r['months'][i]['roc_auc']:.4f} ({r['months'][i]['window']})"
            for r in results.values()
        ]
        lines.append(f"| {first['batch']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    for policy, result in results.items():
        batches = [m["batch"] for m in result["months"]]
        for axis, metric in zip(axes, ("roc_auc", "pr_auc"), strict=True):
            axis.plot(batches, [m[metric] for m in result["months"]], marker="o", label=policy)
    for axis, title in zip(axes, ("ROC AUC", "PR AUC"), strict=True):
        axis.set_title(f"{title} of each month as it arrives")
        axis.grid(alpha=0.3)
        axis.tick_params(axis="x", rotation=45)
    axes[0].legend(title="retrain policy")
    figure.tight_layout()
    figure.savefig(PLOT, dpi=110, metadata={"Software": None})
    plt.close(figure)


def commit(repo: Path, message: str) -> None:
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", message, "--allow-empty")


def read(repo: Path, name: str) -> dict:
    return json.loads((repo / name).read_text())


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


if __name__ == "__main__":
    main()
