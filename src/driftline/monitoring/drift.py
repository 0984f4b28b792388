"""Data drift tests on column profiles, and the dataset drift verdict.

The default test follows the most used open-source monitor, so verdicts can be compared:

============== ====================================== ===========================
reference      numeric, more than 5 distinct values   otherwise
============== ====================================== ===========================
<= 1000 rows   Kolmogorov-Smirnov (p < 0.05)          chi-square, or a Z-test of
                                                      proportions for 2 values
> 1000 rows    Wasserstein distance / reference std   Jensen-Shannon distance
               (drift if >= 0.1)                      (drift if >= 0.1)
============== ====================================== ===========================

PSI is also available. A column's test and threshold can be overridden in params. Every
result is also put on one scale, the drift score, where higher always means more drift: a
p-value test and a distance read in opposite directions (a smaller p-value, a larger distance,
is more drift), so neither raw number can be marked better or worse by itself; the drift score
can: 1 is the test's threshold, above it the column drifted. Every function here is pure:
profiles in, numbers out. The distributions come from
``scipy.special``: ``scipy.stats`` would triple the drift stage's start-up time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from driftline.core.config import TARGET
from driftline.core.errors import DriftlineError
from driftline.monitoring.profile import hist_array, mean_std, nonempty_bins, score_profile

SMALL_REFERENCE_ROWS = 1000
FEW_VALUES = 5
PSI_EPSILON = 1e-4
P_VALUE_CAP = 10.0
# Drift weighted by importance fires when the drifted features carry at least this share of
# the model's importance (params.yaml: drift.importance_share).
IMPORTANCE_SHARE = 0.5


def drift_score(kind: str, value: float, threshold: float) -> float:
    """``distance / threshold`` for a distance, ``threshold / p_value`` for a p-value
    (capped at 10, which a p-value of a tenth of the threshold already reaches)."""
    if kind == "p_value":
        return min(threshold / max(value, 1e-12), P_VALUE_CAP)
    return value / threshold


def measured(result: dict[str, Any]) -> tuple[str, float]:
    """What a column's test measured, by its name: ``("p_value", p)`` or ``("distance", d)``."""
    kind = "p_value" if "p_value" in result else "distance"
    return kind, result[kind]


def wasserstein_normed(ref: dict[str, Any], cur: dict[str, Any]) -> float:
    """Wasserstein-1 distance between two histograms on one grid, over the reference std.

    Each bin's mass sits at its centre, so the distance is the area between the two CDFs;
    it differs from the distance between the raw values by at most one bin width.
    """
    _same_grid(ref, cur)
    _, std = mean_std(ref)
    width = (ref["range"][1] - ref["range"][0]) / ref["bins"]
    distance = float(np.abs(_cdf(ref) - _cdf(cur))[:-1].sum() * width)
    return distance / std if std > 0 else (0.0 if distance == 0 else float("inf"))


def ks_pvalue(ref: dict[str, Any], cur: dict[str, Any]) -> float:
    """Two-sample Kolmogorov-Smirnov p-value from histograms (asymptotic distribution).

    The statistic is the largest CDF gap at the bin edges, which can only understate the
    exact statistic by the mass inside one bin.
    """
    _same_grid(ref, cur)
    statistic = float(np.max(np.abs(_cdf(ref) - _cdf(cur))))
    n, m = ref["count"], cur["count"]
    return float(special.kolmogorov(np.sqrt(n * m / (n + m)) * statistic))


def jensen_shannon(ref: dict[str, Any], cur: dict[str, Any]) -> float:
    """Jensen-Shannon distance (natural log) between the value frequencies of two columns."""
    p, q = _aligned_counts(ref, cur)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = (special.rel_entr(p, m).sum() + special.rel_entr(q, m).sum()) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def chi_square_pvalue(ref: dict[str, Any], cur: dict[str, Any]) -> float:
    """Chi-square goodness-of-fit p-value of the current frequencies against the reference's.

    Values the reference never saw are pooled into one cell with a tiny expected share.
    """
    p, q = _aligned_counts(ref, cur)
    expected = np.maximum(p / p.sum(), PSI_EPSILON)
    expected = expected / expected.sum() * q.sum()
    statistic = float(np.sum((q - expected) ** 2 / expected))
    return float(special.chdtrc(len(q) - 1, statistic))


def z_test_pvalue(ref: dict[str, Any], cur: dict[str, Any]) -> float:
    """Two-sided Z-test that the share of the most common reference value is unchanged."""
    p, q = _aligned_counts(ref, cur)
    n_ref, n_cur = p.sum(), q.sum()
    top = int(np.argmax(p))
    pooled = (p[top] + q[top]) / (n_ref + n_cur)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    if spread == 0:
        return 1.0
    z = (p[top] / n_ref - q[top] / n_cur) / spread
    return float(special.erfc(abs(z) / np.sqrt(2)))


def psi(ref: dict[str, Any], cur: dict[str, Any]) -> float:
    """Population stability index over the reference's bins (or categories).

    Numeric columns use ten bins of equal reference mass; empty shares are floored at 1e-4.
    Usual reading: below 0.1 stable, 0.1 to 0.25 moderate shift, above 0.25 major shift.
    """
    if ref["kind"] == "numeric":
        _same_grid(ref, cur)
        cuts = np.searchsorted(_cdf(ref), np.linspace(0, 1, 11)[1:-1], side="right")
        starts = np.unique(np.r_[0, cuts])
        p = np.add.reduceat(hist_array(ref), starts)
        q = np.add.reduceat(hist_array(cur), starts)
    else:
        p, q = _aligned_counts(ref, cur)
    p = np.maximum(p / max(p.sum(), 1), PSI_EPSILON)
    q = np.maximum(q / max(q.sum(), 1), PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


# name: (function, default threshold, what it returns). A "distance" drifts at or above its
# threshold, a "p_value" below it.
TESTS = {
    "wasserstein": (wasserstein_normed, 0.1, "distance"),
    "jensenshannon": (jensen_shannon, 0.1, "distance"),
    "psi": (psi, 0.1, "distance"),
    "ks": (ks_pvalue, 0.05, "p_value"),
    "chisquare": (chi_square_pvalue, 0.05, "p_value"),
    "ztest": (z_test_pvalue, 0.05, "p_value"),
}


def default_test(ref: dict[str, Any], reference_rows: int) -> str:
    """The test the reference size and the column's type and distinct values call for."""
    distinct = nonempty_bins(ref)
    numeric_many = ref["kind"] == "numeric" and distinct > FEW_VALUES
    if reference_rows > SMALL_REFERENCE_ROWS:
        return "wasserstein" if numeric_many else "jensenshannon"
    if numeric_many:
        return "ks"
    return "ztest" if distinct <= 2 else "chisquare"


def column_drift(
    ref: dict[str, Any],
    cur: dict[str, Any],
    reference_rows: int,
    override: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Test one column; ``override`` may set ``test`` and ``threshold``.

    Returns the test, what it measured under its own name (``p_value``, where smaller means
    more drift, or ``distance``, where larger does), the threshold, the ``drift_score`` (see
    :func:`drift_score`), the verdict, the missing-value rates and, for categorical columns,
    how many current rows hold a value the reference never saw.
    """
    override = override or {}
    name = override.get("test") or default_test(ref, reference_rows)
    if name not in TESTS:
        raise DriftlineError(
            f"params.yaml: drift.columns names an unknown test {name!r}; "
            f"choose from {', '.join(sorted(TESTS))}"
        )
    if name in ("wasserstein", "ks") and ref["kind"] != "numeric":
        raise DriftlineError(f"params.yaml: drift.columns: the {name} test needs a numeric column")
    function, default_threshold, kind = TESTS[name]
    threshold = float(override.get("threshold", default_threshold))
    empty = ref["count"] == 0 or cur["count"] == 0
    value = float("nan") if empty else function(ref, cur)
    drifted = False if empty else (value >= threshold if kind == "distance" else value < threshold)
    result = {
        "test": name,
        kind: value,
        "threshold": threshold,
        "drift_score": 0.0 if empty else drift_score(kind, value, threshold),
        "drifted": bool(drifted),
        "missing_rate_reference": _missing_rate(ref),
        "missing_rate_current": _missing_rate(cur),
    }
    if ref["kind"] == "categorical":
        result["unseen_rows"] = int(sum(c for k, c in cur["freq"].items() if k not in ref["freq"]))
    return result


def dataset_drift(
    reference: dict[str, Any],
    current: dict[str, Any],
    columns: list[str],
    share: float,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Test each column; the dataset drifts when the share of drifted columns >= ``share``."""
    overrides = overrides or {}
    results = {
        name: column_drift(
            reference["columns"][name],
            current["columns"][name],
            reference["rows"],
            overrides.get(name),
        )
        for name in columns
    }
    drifted = sorted(name for name, r in results.items() if r["drifted"])
    drift_share = len(drifted) / len(columns) if columns else 0.0
    return {
        "columns": results,
        "drifted_columns": drifted,
        "share_drifted": drift_share,
        "dataset_drift": bool(columns) and drift_share >= share,
    }


def importance_drift(drifted: list[str], weights: dict[str, float], share: float) -> dict[str, Any]:
    """Drift weighted by importance: the share of the model's importance (``weights``, summing
    to 1 over its features) that the ``drifted`` features carry, and whether it reaches
    ``share``. Strong drift in a feature the model ignores adds nothing; in one it relies on,
    much."""
    carried = float(sum(weights.get(name, 0.0) for name in drifted))
    return {
        "drifted_importance": carried,
        "importance_drift": bool(weights) and carried >= share,
        "importance_share": share,
    }


def monitor(
    reference: dict[str, Any],
    current: dict[str, Any],
    features: list[str],
    target: str,
    settings: dict[str, Any],
    scores: tuple[dict[str, Any], dict[str, Any]] | None = None,
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One batch against the reference: every feature, the target (label drift), given the
    reference and current profiles of the model's scores, prediction drift, and given the
    model's importance ``weights``, drift weighted by importance.

    ``settings`` are the ``drift`` params: ``share``, ``importance_share`` and per-column
    overrides in ``columns`` (the target by its name, the scores as ``prediction``). Returns
    :func:`dataset_drift`'s result plus ``share``, ``target`` (None when ``current`` has no
    target: a batch pending labels), ``prediction`` (None without scores) and
    :func:`importance_drift`'s keys (``drifted_importance`` None without weights).
    """
    overrides = settings.get("columns") or {}
    result = dataset_drift(reference, current, features, settings["share"], overrides)
    result["share"] = settings["share"]
    share = float(settings.get("importance_share", IMPORTANCE_SHARE))
    if weights is None:
        result.update(drifted_importance=None, importance_drift=False, importance_share=share)
    else:
        result.update(importance_drift(result["drifted_columns"], weights, share))
        for name, column in result["columns"].items():
            column["importance"] = weights.get(name, 0.0)
    result["target"] = (  # None for a batch pending labels: label drift is unavailable
        column_drift(
            reference["columns"][target],
            current["columns"][target],
            reference["rows"],
            overrides.get(target),
        )
        if target in current["columns"]
        else None
    )
    result["prediction"] = (
        None
        if scores is None
        else column_drift(scores[0], scores[1], scores[0]["count"], overrides.get("prediction"))
    )
    return result


def _cdf(column: dict[str, Any]) -> np.ndarray:
    hist = hist_array(column)
    return np.cumsum(hist) / max(hist.sum(), 1)


def _same_grid(ref: dict[str, Any], cur: dict[str, Any]) -> None:
    if ref["range"] != cur["range"] or ref["bins"] != cur["bins"]:
        raise ValueError("the two profiles use different histogram grids")


def _aligned_counts(ref: dict[str, Any], cur: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both columns over the union of their values (or non-empty bins)."""
    if ref["kind"] == "numeric":
        _same_grid(ref, cur)
        p, q = hist_array(ref), hist_array(cur)
        keep = (p > 0) | (q > 0)
        return p[keep], q[keep]
    keys = sorted(set(ref["freq"]) | set(cur["freq"]))
    p = np.array([ref["freq"].get(k, 0) for k in keys], dtype="float64")
    q = np.array([cur["freq"].get(k, 0) for k in keys], dtype="float64")
    return p, q


def _missing_rate(column: dict[str, Any]) -> float:
    total = column["count"] + column["nulls"]
    return column["nulls"] / total if total else 0.0


def monitor_batch(
    params: dict[str, Any],
    features: list[str],
    reference: dict[str, Any],
    current: dict[str, Any],
    scores: np.ndarray,
    window_scores: dict[str, Any],
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """:func:`monitor` of a batch's profile ``current`` against the ``reference`` profile, as
    the pipeline runs it: the model's ``features`` and the target, with the ``drift`` params;
    prediction drift compares ``scores`` with ``window_scores``, the profile of the model's
    scores on its window, and ``weights`` are the model's importances (models/meta.json).
    ``score@`` keeps a summary for the quality history and each feature's drift score;
    ``drift`` reports all of it for the newest batch."""
    score_profiles = (window_scores, score_profile(scores, params["profile"]["bins"]))
    return monitor(reference, current, features, TARGET, params["drift"], score_profiles, weights)
