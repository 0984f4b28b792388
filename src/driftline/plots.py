"""PNG renderings for the README and pull-request comments (DVC renders its own from the
plot data). Fixed size, fixed DPI and no software stamp, so the bytes only change when the
numbers do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from driftline.drift import severity  # noqa: E402
from driftline.io import write_with  # noqa: E402

DPI = 100
HISTORY_METRICS = ("roc_auc", "pr_auc", "f1", "accuracy", "positive_rate")


def _save(fig: plt.Figure, target: str | Path) -> None:
    write_with(
        target, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    )
    plt.close(fig)


def curves_png(roc: list[dict], pr: list[dict], batch: str, target: str | Path) -> None:
    """ROC and precision-recall curves of one batch, side by side."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.plot([p["fpr"] for p in roc], [p["tpr"] for p in roc], color="tab:blue")
    left.plot([0, 1], [0, 1], color="grey", linestyle=":")
    left.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, {batch}")
    right.plot([p["recall"] for p in pr], [p["precision"] for p in pr], color="tab:orange")
    right.set(
        xlabel="recall", ylabel="precision", title=f"Precision-recall, {batch}", ylim=(0, 1.02)
    )
    fig.tight_layout()
    _save(fig, target)


def confusion_png(counts: dict[str, int], threshold: float, batch: str, target: str | Path) -> None:
    """The confusion matrix at the decision threshold, with counts in the cells."""
    grid = [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(grid, cmap="Blues")
    peak = max(max(row) for row in grid)
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                f"{grid[i][j]:,}",
                ha="center",
                va="center",
                color="white" if grid[i][j] > peak / 2 else "black",
            )
    ax.set_xticks([0, 1], ["on time", "late"])
    ax.set_yticks([0, 1], ["on time", "late"])
    ax.set(xlabel="predicted", ylabel="actual", title=f"{batch}, threshold {threshold:g}")
    fig.tight_layout()
    _save(fig, target)


def history_png(history: list[dict[str, Any]], target: str | Path) -> None:
    """Quality of the current model on each scored batch, oldest first."""
    fig, ax = plt.subplots(figsize=(9, 4))
    batches = [row["batch"] for row in history]
    for name in HISTORY_METRICS:
        values = [row.get(name) for row in history]
        ax.plot(batches, [float("nan") if v is None else v for v in values], marker="o", label=name)
    ax.set(xlabel="batch", ylabel="value", title="Model quality per batch", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", ncols=len(HISTORY_METRICS), fontsize="small")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    _save(fig, target)


def drift_png(columns: dict[str, dict[str, Any]], batch: str, target: str | Path) -> None:
    """Each feature's drift score against its threshold; drifted features in red."""
    names = sorted(columns, key=lambda n: severity(columns[n]))
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2))
    ratios = [severity(columns[n]) for n in names]
    colors = ["tab:red" if columns[n]["drifted"] else "tab:green" for n in names]
    ax.barh(names, ratios, color=colors)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set(
        xlabel="score / threshold (p-value tests: threshold / p-value); drift at >= 1",
        title=f"Feature drift, {batch} vs training reference",
    )
    fig.tight_layout()
    _save(fig, target)
