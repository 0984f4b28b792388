"""The promotion gate's result (reports/promotion.json) for people: the "Champion vs
challenger" section at the top of the pull-request comment, and ``driftline gate``, which
prints the verdict and fails (exit 1) when the challenger may not be promoted."""

from __future__ import annotations

from typing import Any

from driftline.core import paths
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json
from driftline.model.paired_bootstrap import METRICS
from driftline.monitoring.quality import HIGHER_IS_BETTER

TITLE = "### Champion vs challenger"


def read_promotion() -> dict[str, Any]:
    """reports/promotion.json, or a clear error when the pipeline has not written it."""
    if not paths.PROMOTION_REPORT.is_file():
        raise DriftlineError(
            f"{paths.PROMOTION_REPORT} is missing: run 'dvc repro' (the promote stage writes it)"
        )
    return read_json(paths.PROMOTION_REPORT)


def _window(side: dict[str, Any] | None) -> str:
    return "-" if side is None else f"{side['first']}..{side['last']}"


def _num(value: Any, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _mark(name: str, result: dict[str, Any]) -> str:
    """Better or worse beyond the interval, or within it (noise)."""
    low, high = result.get("low"), result.get("high")
    if low is None or high is None:
        return ""
    gain_low, gain_high = (low, high) if HIGHER_IS_BETTER[name] else (-high, -low)
    if gain_low > 0:
        return "🟢 better"
    if gain_high < 0:
        return "🔴 worse"
    return "within noise"


def verdict_line(promotion: dict[str, Any]) -> str:
    if promotion["promote"]:
        return "**Promotion gate: ✅ passed.** The challenger may replace the champion."
    return (
        "**Promotion gate: ❌ FAILED. Do not merge:** the challenger may not replace the champion."
    )


def promotion_section(promotion: dict[str, Any]) -> str:
    """The comment's first section: the two models on the same rows, and the gate."""
    rows, boot = promotion["rows"], promotion["bootstrap"]
    champion = promotion.get("champion")
    verdict = verdict_line(promotion)
    lines = [TITLE, ""]
    lines += [f"> [!CAUTION]\n> {verdict}" if not promotion["promote"] else verdict, ""]
    order = {name: i for i, name in enumerate(METRICS)}
    metrics = dict(sorted(promotion["metrics"].items(), key=lambda kv: order.get(kv[0], 99)))
    if champion is None:
        lines += [
            f"No champion yet (no retrain since the first model): the challenger "
            f"({_window(promotion['challenger'])}) is judged by the floors alone, on its "
            f"{rows['compared']} validation rows.",
            "",
            "| metric | challenger |",
            "|---|---|",
            *(f"| {name} | {_num(r['challenger'])} |" for name, r in metrics.items()),
        ]
    else:
        confidence = f"{boot['confidence']:.0%}"
        seen = f", less {rows['seen']} the champion was trained on" if rows["seen"] else ""
        lines += [
            f"Champion: the model of `{_window(champion)}`. Challenger: the model of "
            f"`{_window(promotion['challenger'])}`. Both scored on the same "
            f"{rows['compared']} rows: the challenger's validation rows{seen}, which neither "
            f"model was fit on. Interval: paired bootstrap, {boot['resamples']} resamples, "
            f"{confidence}, seed {boot['seed']}.",
            "",
            f"| metric | champion | challenger | difference | {confidence} interval | |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in metrics.items():
            better = "higher" if HIGHER_IS_BETTER[name] else "lower"
            lines.append(
                f"| {name} ({better} is better) | {_num(r['champion'])} | "
                f"{_num(r['challenger'])} | {_num(r['difference'], True)} | "
                f"[{_num(r['low'], True)}, {_num(r['high'], True)}] | {_mark(name, r)} |"
            )
    lines += ["", f"Gate (deciding metric `{promotion['decide_by']}`):", ""]
    lines += [f"- {'❌ ' if r.startswith('FAIL:') else ''}{r}" for r in promotion["reasons"]]
    return "\n".join(lines)


def gate() -> tuple[int, list[str]]:
    """``driftline gate``: the exit status (1 when the gate fails) and the lines to print."""
    promotion = read_promotion()
    lines = [
        f"challenger {_window(promotion['challenger'])} against champion "
        f"{_window(promotion.get('champion'))} on {promotion['rows']['compared']} rows",
        *(f"  {reason}" for reason in promotion["reasons"]),
    ]
    if promotion["promote"]:
        return 0, ["promote: true", *lines]
    return 1, [
        "promote: false: the challenger fails the promotion gate; do not merge",
        *lines,
    ]
