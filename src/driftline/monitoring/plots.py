"""PNG renderings for the README and pull-request comments (DVC renders its own from the
plot data). Fixed size, fixed DPI and no software stamp, so the bytes only change when the
numbers do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from driftline.core.io import write_with  # noqa: E402
from driftline.monitoring.profile import bin_edges, hist_array  # noqa: E402

DPI = 100
HISTORY_METRICS = ("roc_auc", "pr_auc", "f1", "accuracy", "positive_rate")
# At most this many batch names on a history plot's x axis: more would overlap, and drawing
# each label costs time that would grow with the batches (daily batches for years).
BATCH_LABELS = 24


def _save(fig: plt.Figure, target: str | Path) -> None:
    write_with(
        target, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    )
    plt.close(fig)


def batch_ticks(count: int, most: int = BATCH_LABELS) -> list[int]:
    """The positions among ``count`` batches (0 .. count - 1) that get a label: all of them up
    to ``most``, else every k-th from the oldest and always the newest."""
    if count <= most:
        return list(range(count))
    step = -(-count // most)
    ticks = list(range(0, count, step))
    if count - 1 - ticks[-1] < step * 3 / 4:  # the newest label would overlap the last
        ticks.pop()
    return [*ticks, count - 1]


def _batch_axis(ax: plt.Axes, names: list[str], **label_style: Any) -> None:
    ticks = batch_ticks(len(names))
    ax.set_xticks(ticks, [names[i] for i in ticks], rotation=45, **label_style)


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


def reliability_png(
    tables: dict[str, tuple[list[dict[str, float]], float | None]], target: str | Path
) -> None:
    """Reliability diagrams, one line per named (table, calibration error) pair
    (monitoring.quality.reliability): each bin's mean score against its share of positives,
    the diagonal where they are equal, and each calibration error in the legend."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    for (name, (table, error)), marker in zip(tables.items(), "os^", strict=False):
        ax.plot(
            [b["mean_score"] for b in table],
            [b["positive_rate"] for b in table],
            marker=marker,
            label=f"{name} (error {error:.3f})" if error is not None else name,
        )
    ax.set(
        xlabel="mean predicted probability (bins of equal rows)",
        ylabel="share of positives",
        title="Reliability",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    _save(fig, target)


def confusion_png(
    counts: dict[str, int],
    threshold: float,
    classes: tuple[str, str],
    batch: str,
    target: str | Path,
) -> None:
    """The confusion matrix at the decision threshold, with counts in the cells; ``classes``
    names label 0 and label 1."""
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
    ax.set_xticks([0, 1], list(classes))
    ax.set_yticks([0, 1], list(classes))
    ax.set(xlabel="predicted", ylabel="actual", title=f"{batch}, threshold {threshold:g}")
    fig.tight_layout()
    _save(fig, target)


def history_png(
    history: list[dict[str, Any]], target: str | Path, promoted: list[int] | None = None
) -> None:
    """Quality per scored batch, oldest first, by the model serving when each arrived, with
    the ROC AUC estimated without labels and its 95% band (monitoring/estimate.py), batches
    pending labels shaded with their estimate only; a dashed line where a retrained model took
    over (``promoted``: positions in ``history``), labelled
    with its training window."""
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(history))

    def column(name: str) -> list[float]:
        return [float("nan") if row.get(name) is None else row[name] for row in history]

    for name in HISTORY_METRICS:
        ax.plot(x, column(name), marker="o", label=name)
    # The ROC AUC estimated from the calibrated scores alone, with its 95% band: where the
    # realised line leaves the band, the labels say what the scores could not.
    if any(row.get("est_roc_auc") is not None for row in history):
        ax.fill_between(
            x, column("est_roc_auc_low"), column("est_roc_auc_high"), color="tab:blue", alpha=0.15
        )
        ax.plot(x, column("est_roc_auc"), color="tab:blue", linestyle="--", label="roc_auc, est.")
    # Batches pending labels: shaded, their estimated ROC AUC as open markers (no realised
    # value yet).
    pending = [i for i, row in enumerate(history) if row.get("pending")]
    for i in pending:
        ax.axvspan(i - 0.5, i + 0.5, color="grey", alpha=0.12, linewidth=0)
    if pending:
        estimated = [column("est_roc_auc")[i] for i in pending]
        ax.plot(pending, estimated, "o", mfc="white", color="tab:blue", label="pending: est.")
        ax.annotate(
            "pending labels",
            (pending[0], 0.98),
            xycoords=("data", "axes fraction"),
            va="top",
            ha="center",
            fontsize="small",
            color="dimgrey",
        )
    for at in promoted or []:
        ax.axvline(at - 0.5, color="black", linestyle="--", linewidth=1)
        ax.annotate(
            f"model {history[at]['model']}",
            (at - 0.5, 0.98),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize="small",
        )
    ax.set(xlabel="batch", ylabel="value", title="Model quality per batch", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", ncols=3, fontsize="small")
    _batch_axis(ax, [str(row["batch"]) for row in history])
    fig.tight_layout()
    _save(fig, target)


def drift_png(columns: dict[str, dict[str, Any]], batch: str, target: str | Path) -> None:
    """Each feature's drift score against its threshold; drifted features in red."""
    names = sorted(columns, key=lambda n: columns[n]["drift_score"])
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2))
    ratios = [columns[n]["drift_score"] for n in names]
    colors = ["tab:red" if columns[n]["drifted"] else "tab:green" for n in names]
    ax.barh(names, ratios, color=colors)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set(
        xlabel="drift score: distance / threshold, or threshold / p-value; drift at >= 1",
        title=f"Feature drift, {batch} vs training reference",
    )
    fig.tight_layout()
    _save(fig, target)


def drift_timeline_png(
    rows: list[dict[str, Any]], weights: dict[str, float], share: float, target: str | Path
) -> None:
    """Each feature's drift score over the batches after the window (a heatmap: green below
    the test's threshold, red at twice it and more), the features ordered by the model's
    importance of them, which each label gives; and, above, the share of that importance the
    drifted features carry per batch."""
    names = sorted(weights, key=lambda n: (-weights[n], n))
    fig, (top, ax) = plt.subplots(
        2,
        1,
        figsize=(9, 0.28 * len(names) + 2.6),
        sharex=True,
        gridspec_kw={"height_ratios": [1, max(len(names) / 4, 1.5)]},
    )
    if not rows:
        ax.text(0.5, 0.5, "no batch after the training window yet", ha="center", va="center")
        ax.set_axis_off()
        top.set_axis_off()
    else:
        scores = np.array(
            [[row["feature_drift"].get(n, np.nan) for row in rows] for n in names], dtype=float
        )
        image = ax.imshow(
            scores, aspect="auto", cmap="RdYlGn_r", vmin=0, vmax=2, interpolation="nearest"
        )
        ax.set_yticks(range(len(names)), [f"{n} ({weights[n]:.2f})" for n in names])
        fig.colorbar(image, ax=ax, label="drift score (1: the test's threshold)", pad=0.01)
        carried = [row.get("drifted_importance") for row in rows]
        top.bar(range(len(rows)), [np.nan if c is None else c for c in carried], color="tab:red")
        top.axhline(share, color="black", linestyle="--", linewidth=1)
        top.set(ylim=(0, 1), ylabel="importance\ndrifted")
        top.grid(alpha=0.3, axis="y")
        _batch_axis(ax, [str(row["batch"]) for row in rows])
    top.set_title("Feature drift per batch after the window, features by the model's importance")
    fig.tight_layout()
    _save(fig, target)


def _coarse(ref: dict[str, Any], cur: dict[str, Any], groups: int = 40):
    """Both numeric histograms summed into ``groups`` equal runs of bins, over the span
    holding the middle 99.8% of either side; returns (edges, reference shares, current shares)."""
    p, q = hist_array(ref), hist_array(cur)
    spans = [np.searchsorted(np.cumsum(h) / h.sum(), [0.001, 0.999]) for h in (p, q) if h.sum()]
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans) + 1
    starts = np.unique(np.linspace(lo, hi, groups + 1).astype("int64"))
    edges = bin_edges(ref)[starts]
    shares = [np.add.reduceat(h, starts[:-1]) for h in (p, q)]
    return edges, *(s / max(s.sum(), 1) for s in shares)


def distributions_png(
    reference: dict[str, Any], current: dict[str, Any], names: list[str], batch: str, target
) -> None:
    """The newest batch against the reference, for the most drifted features: shares per
    range of values (numeric) or per category (the 12 largest)."""
    ncols = max(min(len(names), 3), 1)
    nrows = max((len(names) + ncols - 1) // ncols, 1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names, strict=False):
        ref, cur = reference["columns"][name], current["columns"][name]
        if ref["kind"] == "numeric" and ref["count"] and cur["count"]:
            edges, p, q = _coarse(ref, cur)
            ax.stairs(p, edges, label="reference", color="tab:blue", fill=True, alpha=0.35)
            ax.stairs(q, edges, label=batch, color="tab:red", linewidth=1.5)
        elif ref["kind"] == "categorical":
            keys = sorted(set(ref["freq"]) | set(cur["freq"]))
            p = np.array([ref["freq"].get(k, 0) for k in keys], dtype="float64")
            q = np.array([cur["freq"].get(k, 0) for k in keys], dtype="float64")
            p, q = p / max(p.sum(), 1), q / max(q.sum(), 1)
            order = np.argsort(-np.maximum(p, q), kind="stable")[:12]
            x = np.arange(order.size)
            ax.bar(x - 0.2, p[order], width=0.4, label="reference", color="tab:blue", alpha=0.6)
            ax.bar(x + 0.2, q[order], width=0.4, label=batch, color="tab:red", alpha=0.8)
            ax.set_xticks(x, [keys[i] for i in order], rotation=60, fontsize="small")
        ax.set(title=name, ylabel="share of rows")
        ax.legend(fontsize="small")
    if not names:
        axes[0, 0].text(0.5, 0.5, "no feature to show", ha="center", va="center")
    fig.suptitle(f"Most drifted features: {batch} against the training reference")
    fig.tight_layout()
    _save(fig, target)


def rules_png(
    history: pd.DataFrame, settings: dict[str, Any], rules: dict[str, Any], target
) -> None:
    """Each rule-checked metric over the batches, with the newest value's bounds drawn: the
    hard threshold, the mean ± k·std band and the IQR fences of the earlier values (shaded:
    the fixed baseline batches they come from, with a ``baseline``)."""
    metrics = list(settings["history"])
    fig, axes = plt.subplots(len(metrics), 1, figsize=(9, 2.6 * len(metrics)), squeeze=False)
    x = np.arange(len(history))
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        values = history[metric].to_numpy(dtype="float64")
        results = rules[metric]
        ax.plot(x, values, marker="o", color="tab:blue", label=metric)
        if settings.get("baseline") and len(values) > 1:
            last = min(settings["baseline"], len(values) - 1) - 0.5
            ax.axvspan(-0.5, last, color="tab:gray", alpha=0.15, label="baseline")
        threshold = results["threshold"]
        if "bound" in threshold:
            ax.axhline(threshold["bound"], color="black", linestyle="--", label="threshold")
        band = results["parametric"].get("band")
        if band:
            ax.axhspan(*band, color="tab:green", alpha=0.15, label=f"mean ± {settings['k']:g}·std")
        fences = results["iqr"].get("band")
        if fences:
            for fence in fences:
                ax.axhline(fence, color="tab:purple", linestyle=":", linewidth=1)
            ax.plot([], [], color="tab:purple", linestyle=":", label="IQR fences")
        if len(values):
            alarm = any(r["alarm"] for r in results.values())
            ax.plot(
                x[-1],
                values[-1],
                marker="o",
                markersize=10,
                linestyle="none",
                color="tab:red" if alarm else "tab:green",
                label="newest: alarm" if alarm else "newest: ok",
            )
        else:
            ax.text(
                0.5,
                0.5,
                "no batch after the training window",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        _batch_axis(ax, history["batch"].astype(str).tolist(), fontsize="small")
        ax.set(ylabel=metric)
        ax.grid(alpha=0.3)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    axes[0, 0].set_title("Quality history and the rule bounds for the newest batch")
    fig.tight_layout()
    _save(fig, target)
