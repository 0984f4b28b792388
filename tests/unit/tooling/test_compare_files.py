"""`driftline compare` and the drift verdicts on the demo months, with the pipeline's engine."""

import numpy as np
import pytest
from scipy import stats

from driftline.core.errors import DriftlineError
from driftline.tooling.compare_files import compare_frames
from helpers import compare_frame

SETTINGS = {"share": 0.5, "columns": {}}


def test_known_drift_is_found_and_stable_columns_are_not():
    result = compare_frames(
        compare_frame(20_000, 1),
        compare_frame(20_000, 2, shift=1.0, weights=(0.2, 0.3, 0.5)),
        SETTINGS,
        10_000,
        target="label",
    )
    assert result["drifted_columns"] == ["carrier", "load"]
    assert result["columns"]["load"]["test"] == "wasserstein"
    assert result["columns"]["carrier"]["test"] == "jensenshannon"
    assert result["columns"]["flag"]["test"] == "jensenshannon"  # 2 values: not Wasserstein
    assert result["share_drifted"] == pytest.approx(2 / 4) and result["dataset_drift"]
    assert result["target"]["drifted"] and "label" not in result["columns"]


def test_wasserstein_on_the_shared_grid_matches_scipy_on_the_rows():
    ref, cur = compare_frame(50_000, 3), compare_frame(50_000, 4, shift=0.3)
    exact = stats.wasserstein_distance(ref["load"], cur["load"]) / np.std(ref["load"])
    score = compare_frames(ref, cur, SETTINGS, 10_000)["columns"]["load"]["distance"]
    span = max(ref["load"].max(), cur["load"].max()) - min(ref["load"].min(), cur["load"].min())
    # Each value moves at most half a bin, so the distance moves at most one bin width.
    assert abs(score - exact) <= span / 10_000 / np.std(ref["load"])


def test_small_reference_uses_the_statistical_tests():
    result = compare_frames(compare_frame(800, 5), compare_frame(800, 6), SETTINGS, 10_000)
    tests = {name: r["test"] for name, r in result["columns"].items()}
    assert tests == {
        "load": "ks",
        "steady": "ks",
        "carrier": "chisquare",
        "flag": "ztest",
        "label": "ztest",
    }
    ks = stats.ks_2samp(compare_frame(800, 5)["load"], compare_frame(800, 6)["load"]).pvalue
    assert result["columns"]["load"]["p_value"] == pytest.approx(ks, abs=0.05)
    assert not result["dataset_drift"]


def test_a_file_against_itself_never_drifts():
    data = compare_frame(5_000, 7)
    result = compare_frames(data, data.copy(), SETTINGS, 10_000)
    assert result["drifted_columns"] == [] and result["share_drifted"] == 0


def test_overrides_and_one_sided_columns():
    ref, cur = compare_frame(5_000, 8), compare_frame(5_000, 9).drop(columns="flag").assign(extra=1)
    settings = {"share": 0.5, "columns": {"steady": {"test": "psi", "threshold": 0.2}}}
    result = compare_frames(ref, cur, settings, 10_000)
    assert result["columns"]["steady"]["test"] == "psi"
    assert result["columns"]["steady"]["threshold"] == 0.2
    assert (result["only_in_reference"], result["only_in_current"]) == (["flag"], ["extra"])
    with pytest.raises(DriftlineError, match="--target 'flag' is not a column of both files"):
        compare_frames(ref, cur, SETTINGS, 10_000, target="flag")
    with pytest.raises(DriftlineError, match="share no column"):
        compare_frames(ref[["flag"]], cur[["extra"]], SETTINGS, 10_000)
