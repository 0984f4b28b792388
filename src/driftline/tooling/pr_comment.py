"""``driftline report``: the pull-request comment a reviewer decides from, as Markdown.

It opens with the champion against the challenger and the promotion gate's verdict, when
reports/promotion.json exists (``driftline.tooling.promotion``). Then it holds the metric diff
against a base revision (headline metrics first, each change marked better or worse), the
params diff, the drift verdict and the most-drifted features, the
retraining verdict with its reasons, the performance-history rules, and links to the plots.
A hidden marker lets the posting step find and update the same comment on every push.

The sections are pure functions of what DVC printed and what the stages' reports hold
(reports/drift.json, reports/promotion.json: the numbers of the metric files with their
names, reasons and per-feature detail); :func:`build` gathers those and refuses a stale
``dvc.lock``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.io import read_json
from driftline.monitoring.timeline import read_rows
from driftline.tooling import repo_state
from driftline.tooling.promotion import promotion_section

MARKER = "<!-- driftline-report -->"
NOT_AVAILABLE = "not available"

# The metrics a reviewer reads first, in this order.
HEADLINE = (
    (str(paths.EVALUATE_METRICS), "roc_auc"),
    (str(paths.EVALUATE_METRICS), "pr_auc"),
    (str(paths.TRAIN_METRICS), "roc_auc"),
    (str(paths.DRIFT_METRICS), "share_drifted"),
    (str(paths.DRIFT_METRICS), "label_drift_score"),
    (str(paths.DRIFT_METRICS), "prediction_drift_score"),
)
# By the metric's name, the last part of the dotted name found here (so
# ``validation.log_loss`` goes by ``log_loss``): +1 when higher is better, -1 when lower is
# better (a loss). Drift scores (higher is more drift, whatever the test) and shares measure
# distance from the training data, so less is better; so are alarms. A test's raw `p_value`
# or `distance` gets no mark: the two read in opposite directions.
DIRECTION = {
    "roc_auc": 1,
    "pr_auc": 1,
    "f1": 1,
    "accuracy": 1,
    "log_loss": -1,
    "brier": -1,
    "calibration_error": -1,
    "share_drifted": -1,
    "drifted_importance": -1,
    "drifted_features": -1,
    "drift_score": -1,
    "label_drift_score": -1,
    "prediction_drift_score": -1,
    "history_alarms": -1,
}
PLOTS = (
    paths.HISTORY_PNG,
    paths.RULES_PNG,
    paths.DRIFT_PNG,
    paths.DRIFT_TIMELINE_PNG,
    paths.DISTRIBUTIONS_PNG,
    paths.CURVES_PNG,
    paths.CONFUSION_PNG,
)


@dataclass(frozen=True)
class Change:
    """One metric in ``dvc metrics diff --json``; ``old`` or ``new`` is None when absent."""

    path: str
    metric: str
    old: Any
    new: Any

    @property
    def headline(self) -> bool:
        return (self.path, self.metric) in HEADLINE

    @property
    def verdict(self) -> str:
        if self.old is None:
            return "new"
        if self.new is None:
            return "removed"
        sign = direction(self.metric)
        if sign is None or not (_is_number(self.old) and _is_number(self.new)):
            return ""
        delta = (self.new - self.old) * sign
        return "🟢 better" if delta > 0 else "🔴 worse" if delta < 0 else ""


def direction(metric: str) -> int | None:
    """+1 (higher is better), -1 (lower is better) or None, by the last known part of the name."""
    return next((DIRECTION[p] for p in reversed(metric.split(".")) if p in DIRECTION), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def changes(diff: dict[str, dict[str, dict[str, Any]]]) -> list[Change]:
    """The metrics of ``dvc metrics diff --json``: headline ones first, then by path and name."""
    found = [
        Change(path, metric, values.get("old"), values.get("new"))
        for path, metrics in diff.items()
        for metric, values in metrics.items()
    ]
    order = {key: i for i, key in enumerate(HEADLINE)}
    return sorted(
        found,
        key=lambda c: (order.get((c.path, c.metric), len(order)), c.path, c.metric),
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def _delta(change: Change) -> str:
    if _is_number(change.old) and _is_number(change.new):
        return f"{change.new - change.old:+.5g}"
    return ""


def _table(rows: list[Change], base: str, head: str) -> list[str]:
    lines = [
        f"| Path | Metric | `{base}` | {head} | Change | |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.path} | {c.metric} | {_fmt(c.old)} | {_fmt(c.new)} | {_delta(c)} | {c.verdict} |"
        for c in rows
    ]
    return lines


def metrics_section(found: list[Change], base: str, head: str, base_has: set[str]) -> str:
    """The metric diff: headline metrics in a table, every other change folded away.

    Parameters
    ----------
    found : list of Change
        From :func:`changes`.
    base, head : str
        Labels of the two sides (e.g. ``main`` and a short commit).
    base_has : set of str
        The metric files that exist at the base.
    """
    title = f"### Metrics (`dvc metrics diff {base}`)"
    if not found:
        return f"{title}\n\nNo metric changed against `{base}`."
    lines = [title, ""]
    if not base_has:
        lines += [f"`{base}` has no metrics yet: every metric is new.", ""]
    headline = [c for c in found if c.headline]
    rest = [c for c in found if not c.headline]
    if headline:
        lines += _table(headline, base, head)
    if rest:
        lines += [
            "",
            f"<details><summary>{len(rest)} other changed metrics</summary>",
            "",
            *_table(rest, base, head),
            "",
            "</details>",
        ]
    return "\n".join(lines)


def params_section(params_md: str, base: str) -> str:
    """``dvc params diff <base> --md`` as DVC prints it, or one line when nothing changed."""
    title = f"### Params (`dvc params diff {base}`)"
    rows = [line for line in params_md.strip().splitlines() if line.startswith("|")][2:]
    if not rows:
        return f"{title}\n\nNo param changed against `{base}`."
    return f"{title}\n\n{params_md.strip()}"


def _yes_no(flag: Any) -> str:
    return NOT_AVAILABLE if flag is None else "yes" if flag else "no"


def _test_result(result: dict[str, Any] | None) -> str:
    if not result:
        return NOT_AVAILABLE
    kind = "p_value" if "p_value" in result else "distance"
    return (
        f"{_yes_no(result.get('drifted'))} ({result.get('test')} {kind.replace('_', '-')} "
        f"{_fmt(result.get(kind))}, drift score {_fmt(result.get('drift_score'))})"
    )


def drift_section(drift: dict[str, Any] | None) -> str:
    """The drift verdict of the newest batch, its share of drifted features and the top ones."""
    title = "### Drift"
    if drift is None:
        return f"{title}\n\nDrift verdict: {NOT_AVAILABLE} (`{paths.DRIFT_REPORT}` is missing)."
    dataset = _yes_no(drift.get("dataset_drift"))
    if "share_drifted" in drift:
        dataset += (
            f", {drift.get('drifted_features')} of {drift.get('features_tested')} features "
            f"drifted (share {drift['share_drifted']:.2f})"
        )
    weighted = ""
    if drift.get("drifted_importance") is not None:
        weighted = (
            f"**{_yes_no(drift.get('importance_drift'))}**, the drifted features carry "
            f"{drift['drifted_importance']:.2f} of the model's importance"
        )
    lines = [
        title,
        "",
        f"Batch `{drift.get('batch')}` against the training reference `{drift.get('reference')}`.",
        *(
            [
                "",
                f"> Batch `{drift.get('batch')}` is inside the training window: the model was "
                "trained on it, so these figures compare the reference with part of itself "
                "and no retraining is advised.",
            ]
            if drift.get("newest_in_window")
            else []
        ),
        "",
        f"- Dataset drift: **{dataset}**",
        *([f"- Importance drift: {weighted}"] if weighted else []),
        "- Target drift: "
        + (
            "not available: the batch is **pending labels**"
            if drift.get("newest_pending")
            else _test_result(drift.get("target_drift"))
        ),
        f"- Prediction drift: {_test_result(drift.get('prediction_drift'))}",
        *_estimate_lines(drift),
    ]
    top = sorted((drift.get("top_features") or {}).items(), key=lambda kv: kv[1].get("rank", 0))
    if top:
        # The model's importance of each feature, where the report has it (models since
        # drift weighted by importance).
        weighed = any("importance" in r for _, r in top)
        header = ["rank", "feature", "test", "drift score", "drifted"]
        header += ["importance"] * weighed
        lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, r in top:
            cells = [r.get("rank"), name, r.get("test"), _fmt(r.get("drift_score"))]
            cells.append(_yes_no(r.get("drifted")))
            if weighed:
                importance = r.get("importance")
                cells.append(f"{importance:.3f}" if _is_number(importance) else "-")
            lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def _estimate_lines(drift: dict[str, Any]) -> list[str]:
    """What the pending labels and the estimates' own alarm say (reports/drift.json)."""
    lines = []
    early = drift.get("early_warning")
    if drift.get("newest_pending") and early is not None:
        fired = [f"{m} {r}" for m, rules in early.items() for r, on in rules.items() if on]
        lines.append(
            "- Early warning from the **estimated** quality (the verdict waits for the labels): "
            + (", ".join(fired) if fired else "no history rule fires")
        )
    concept = drift.get("concept_drift") or {}
    if concept.get("fired"):
        pending = ", ".join(f"`{b}`" for b in concept.get("untrustworthy") or []) or "none"
        lines.append(
            f"- ⚠️ Concept drift: {concept.get('reason', '').removeprefix('concept drift: ')}. "
            f"Estimates of the batches pending after `{concept.get('batch')}` are "
            f"**untrustworthy**: {pending}"
        )
    return lines


def timeline_section(rows: list[dict[str, Any]] | None, shown: int = 6) -> str:
    """The newest batches of the quality timeline (metrics/timeline.csv), each with the model
    that served it, so a retrain's pull request shows the outgoing model's record too."""
    title = "### Quality timeline"
    if not rows:
        return f"{title}\n\nNo batch scored after a training window yet."
    lines = [
        title,
        "",
        (f"The newest {shown} of {len(rows)}" if len(rows) > shown else f"All {len(rows)}")
        + f" batches, each as the model serving when it arrived scored it (`{paths.TIMELINE}`):",
        "",
        "| batch | model | roc_auc | estimated from the scores (95%) | pr_auc | log_loss | rows |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['batch']} | {r['model']} | {_realised(r)} | {_estimated(r)} "
        f"| {_fmt(r.get('pr_auc'))} | {_fmt(r.get('log_loss'))} | {_fmt(r.get('rows'))} |"
        for r in rows[-shown:]
    ]
    return "\n".join(lines)


def _realised(row: dict[str, Any]) -> str:
    return "pending labels" if row.get("pending") else _fmt(row.get("roc_auc"))


def _estimated(row: dict[str, Any]) -> str:
    """A row's ROC AUC estimated without labels, its band, and a mark where the realised
    value fell outside the 99% band (docs/monitoring.md)."""
    if row.get("est_roc_auc") is None:
        return "-"
    band = f"{row['est_roc_auc']:.3f} ({row['est_roc_auc_low']:.3f}-{row['est_roc_auc_high']:.3f})"
    return band + (" ⚠️ realised outside its 99% band" if row.get("estimate_missed") else "")


def retrain_section(drift: dict[str, Any] | None) -> str:
    title = "### Retraining"
    if drift is None or "retrain" not in drift:
        return f"{title}\n\nRetraining verdict: {NOT_AVAILABLE} (`{paths.DRIFT_REPORT}` has none)."
    advised = "**advised**" if drift["retrain"] else "not advised"
    reasons = drift.get("retrain_reasons") or []
    return "\n".join([title, "", f"Retraining: {advised}.", *(f"- {why}" for why in reasons)])


def history_rules_section(drift: dict[str, Any] | None) -> str:
    """The performance-history rules per metric: which raised an alarm."""
    title = "### Performance-history rules"
    rules = (drift or {}).get("history_rules")
    if not rules:
        return f"{title}\n\nRule results: {NOT_AVAILABLE} (`{paths.DRIFT_REPORT}` has none)."
    names = list(dict.fromkeys(rule for results in rules.values() for rule in results))
    lines = [title, "", f"| metric | {' | '.join(names)} |", "|---|" + "---|" * len(names)]
    for metric, results in rules.items():
        cells = [
            "-" if rule not in results else "🔴 alarm" if results[rule] else "ok" for rule in names
        ]
        lines.append(f"| {metric} | {' | '.join(cells)} |")
    return "\n".join(lines)


def plots_section(plots: list[Path], server: str, repository: str, sha: str) -> str:
    """Links to the plot PNGs at ``sha``; without a repository and commit, their paths."""
    title = "### Plots"
    if repository and sha:
        base = f"{server.rstrip('/')}/{repository}/blob/{sha}"
        items = [f"- [{p.stem}]({base}/{p.as_posix()})" for p in plots]
        return "\n".join([title, "", *items])
    items = [f"- `{p.as_posix()}`" for p in plots]
    note = "Local files (links need GITHUB_REPOSITORY and a commit: --sha or GITHUB_SHA):"
    return "\n".join([title, "", note, *items])


def render(
    base: str,
    head: str,
    found: list[Change],
    base_has: set[str],
    params_md: str,
    drift: dict[str, Any] | None,
    plots: str,
    base_moved: str = "",
    promotion: str = "",
    timeline: list[dict[str, Any]] | None = None,
) -> str:
    """The whole comment, marker first, then the champion against the challenger."""
    sections = [
        MARKER,
        f"## Driftline report: `{head}` against `{base}`",
        *([base_moved] if base_moved else []),
        *([promotion] if promotion else []),
        metrics_section(found, base, head, base_has),
        timeline_section(timeline),
        params_section(params_md, base),
        drift_section(drift),
        retrain_section(drift),
        history_rules_section(drift),
        plots,
    ]
    return "\n\n".join(sections) + "\n"


def base_moved_note(base_commit: str, tip: str, ahead: int) -> str:
    """The line that says the base branch has moved on since ``base_commit`` (its fork point)."""
    if not ahead:
        return ""
    commits = "commit" if ahead == 1 else "commits"
    return (
        f"> **Note:** `{tip}` has {ahead} new {commits} since this branch forked from it at "
        f"`{base_commit[:7]}`. These figures compare the branch with that fork point, which is "
        f"what the branch changes. Merge `{tip}` into the branch to compare with its tip."
    )


def build(base: str, sha: str | None = None, base_tip: str | None = None) -> str:
    """Check that ``dvc.lock`` is fresh, then compare this checkout with ``base``.

    ``sha`` is the commit (or branch) the plot links point at, by default ``GITHUB_SHA``; the
    repository and server come from ``GITHUB_REPOSITORY`` and ``GITHUB_SERVER_URL``.
    ``base_tip``, when ``base`` is a pull request's merge base, is the base branch's tip: the
    comment then says how far that tip has moved past the merge base.
    """
    commit = repo_state.resolve_base(base)
    moved = ""
    if base_tip:
        tip = repo_state.resolve_base(base_tip)
        moved = base_moved_note(commit, base_tip, repo_state.commits_between(commit, tip))
    repo_state.check_lock_is_fresh()
    sha = sha or os.environ.get("GITHUB_SHA", "")
    found = changes(repo_state.metrics_diff(base))
    base_has = repo_state.files_at(commit, {c.path for c in found})
    drift = read_json(paths.DRIFT_REPORT) if paths.DRIFT_REPORT.is_file() else None
    plots = plots_section(
        [p for p in PLOTS if p.is_file()],
        os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
        os.environ.get("GITHUB_REPOSITORY", ""),
        sha,
    )
    head = sha[:7] if re.fullmatch(r"[0-9a-f]{40}", sha) else sha or "workspace"
    params_md = repo_state.params_diff_md(base)
    promotion = (
        promotion_section(read_json(paths.PROMOTION_REPORT))
        if paths.PROMOTION_REPORT.is_file()
        else ""
    )
    timeline = read_rows(paths.TIMELINE) if paths.TIMELINE.is_file() else None
    return render(base, head, found, base_has, params_md, drift, plots, moved, promotion, timeline)
