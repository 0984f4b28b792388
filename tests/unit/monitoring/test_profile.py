import numpy as np
import pandas as pd
import pytest

from driftline.monitoring.profile import (
    categorical_profile,
    hist_array,
    histogram_quantiles,
    mean_std,
    merge_profiles,
    numeric_profile,
    profile_frame,
)


def test_numeric_profile_counts_every_value_and_nulls():
    values = np.array([0.0, 0.5, 1.0, 9.99, 10.0, np.nan, -3.0, 12.0])
    profile = numeric_profile(values, 0, 10, 10)
    assert profile["count"] == 7
    assert profile["nulls"] == 1
    assert sum(profile["hist"].values()) == 7
    assert profile["out_of_range"] == 2  # -3 and 12, kept in the edge bins
    assert profile["hist"] == {"0": 3, "1": 1, "9": 3}  # sparse: empty bins left out
    assert hist_array(profile).tolist() == [3, 1, 0, 0, 0, 0, 0, 0, 0, 3]
    assert profile["min"] == -3.0 and profile["max"] == 12.0


def test_mean_std_match_numpy_population_std():
    rng = np.random.default_rng(0)
    values = rng.normal(50, 7, 5000)
    mean, std = mean_std(numeric_profile(values, 0, 100, 100))
    assert mean == pytest.approx(values.mean(), rel=1e-12)
    assert std == pytest.approx(values.std(ddof=0), rel=1e-9)


def test_histogram_quantiles_within_one_bin_of_exact():
    rng = np.random.default_rng(1)
    values = rng.gamma(2.0, 10.0, 20000)
    profile = numeric_profile(values, 0, 200, 1000)
    width = 200 / 1000
    for q, estimate in histogram_quantiles(profile).items():
        assert abs(estimate - np.quantile(values, float(q))) <= width


def test_categorical_profile_is_sorted_and_counts_nulls():
    profile = categorical_profile(pd.Series(["b", "a", None, "b"], dtype="object"))
    assert profile == {"kind": "categorical", "count": 3, "nulls": 1, "freq": {"a": 1, "b": 2}}


def test_merged_profiles_equal_the_profile_of_concatenated_rows():
    rng = np.random.default_rng(2)
    frames = [
        pd.DataFrame({"x": rng.normal(5, 2, n), "c": rng.choice(list("abcd"), n)})
        for n in (300, 700, 50)
    ]
    ranges = {"x": (-5.0, 15.0)}
    merged = merge_profiles([profile_frame(f, ["c"], ranges, 64) for f in frames])
    whole = profile_frame(pd.concat(frames, ignore_index=True), ["c"], ranges, 64)
    assert merged["rows"] == whole["rows"]
    assert merged["columns"]["c"] == whole["columns"]["c"]
    mx, wx = merged["columns"]["x"], whole["columns"]["x"]
    assert mx["hist"] == wx["hist"]
    assert mx["count"] == wx["count"] and mx["min"] == wx["min"] and mx["max"] == wx["max"]
    assert mx["sum"] == pytest.approx(wx["sum"]) and mx["sumsq"] == pytest.approx(wx["sumsq"])


def test_merging_profiles_on_different_grids_is_refused():
    a = {"rows": 1, "columns": {"x": numeric_profile(np.array([1.0]), 0, 10, 10)}}
    b = {"rows": 1, "columns": {"x": numeric_profile(np.array([1.0]), 0, 20, 10)}}
    with pytest.raises(ValueError, match="different grids"):
        merge_profiles([a, b])
