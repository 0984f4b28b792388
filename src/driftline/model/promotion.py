"""The promotion gate: whether a challenger may replace the champion, with the reasons.

Public API (a pure function; the ``promote`` stage and the policy replay call it):

``decide(challenger, comparison, rows, *, floors, decide_by="log_loss", margin=0.0,
min_rows=500, confidence=0.95) -> dict``

- ``challenger``: the challenger's metrics on the comparison rows, ``{metric: value | None}``
  (``paired_bootstrap.metric_values``).
- ``comparison``: ``paired_bootstrap.paired_bootstrap``'s result on the same rows, or ``None``
  when there is no champion: then only the floors apply, and the reasons say so.
- ``rows``: how many rows the metrics were measured on.
- ``floors``: the challenger's worst acceptable value per metric, ``{metric: value}``: at
  least the value for a metric where higher is better (``roc_auc``, ``pr_auc``), at most for
  one where lower is (``log_loss``, ``brier``) (``quality.HIGHER_IS_BETTER``).
- ``decide_by``: the metric of the rule against the champion.
- ``margin``: ``0`` means "not worse than the champion beyond the interval": the challenger
  is refused only when the whole interval of the difference lies on the worse side (it is
  worse, and not by chance). ``margin > 0`` means "better by at least the margin": the
  interval's bound on the worse side must show a gain of at least ``margin``.
- ``min_rows``: fewer comparison rows than this and nothing is promoted.
- ``confidence``: the interval's coverage, for the reasons' wording only.

It returns ``{"promote": bool, "reasons": [str, ...]}``: one reason per rule checked, passed or
failed, each a sentence a reviewer can read; a failed rule's reason starts with ``FAIL:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline.monitoring.quality import HIGHER_IS_BETTER


def decide(
    challenger: Mapping[str, float | None],
    comparison: Mapping[str, Mapping[str, Any]] | None,
    rows: int,
    *,
    floors: Mapping[str, float],
    decide_by: str = "log_loss",
    margin: float = 0.0,
    min_rows: int = 500,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Promote or not, with the reasons (see the module docstring)."""
    reasons: list[str] = []
    passed = True

    def say(ok: bool, text: str) -> None:
        nonlocal passed
        passed = passed and ok
        reasons.append(text if ok else f"FAIL: {text}")

    if rows < min_rows:
        say(False, f"only {rows} rows to compare on, fewer than min_rows {min_rows}")
    for name, floor in floors.items():
        value = challenger.get(name)
        higher = HIGHER_IS_BETTER[name]
        if value is None:
            say(False, f"challenger {name} is undefined (the rows hold a single class)")
            continue
        ok = value >= floor if higher else value <= floor
        sign = ">=" if higher else "<="
        say(ok, f"challenger {name} {value:.4f} {'' if ok else 'not '}{sign} floor {floor:g}")
    if comparison is None:
        reasons.append("no champion to compare with: the floors alone decide")
    else:
        ok, text = _against_champion(comparison[decide_by], decide_by, margin, confidence)
        say(ok, text)
    return {"promote": passed, "reasons": reasons}


def _against_champion(
    result: Mapping[str, Any], name: str, margin: float, confidence: float
) -> tuple[bool, str]:
    """The rule against the champion on the deciding metric."""
    diff, low, high = result["difference"], result["low"], result["high"]
    if diff is None or low is None or high is None:
        return False, f"{name} is undefined on the comparison rows: no comparison is possible"
    higher = HIGHER_IS_BETTER[name]
    # The interval of the gain (positive when the challenger is better): worse and better ends.
    worst, best = (low, high) if higher else (-high, -low)
    interval = f"difference {diff:+.4f}, {confidence:.0%} interval [{low:+.4f}, {high:+.4f}]"
    values = f"{name} {result['challenger']:.4f} vs champion {result['champion']:.4f}"
    if margin > 0:
        ok = worst >= margin
        verdict = "better" if ok else "not shown better"
        return ok, f"challenger {values}: {verdict} by at least the margin {margin:g} ({interval})"
    if best < 0:
        return False, f"challenger {values}: worse beyond the interval ({interval})"
    kind = "better beyond the interval" if worst > 0 else "not worse beyond the interval"
    return True, f"challenger {values}: {kind} ({interval})"
