"""The prepared frame: the right target, no leakage, cancelled flights handled as configured."""

import pandas as pd
import pytest

from driftline.core.contract import read_batch
from driftline.core.errors import DriftlineError
from driftline.core.features import CANDIDATES, LEAKY, TARGET, feature_lists, prepare_frame


@pytest.fixture(scope="module")
def january(tmp_path_factory, demo_months, params, contract):
    from driftline.ops.demo import batch_csv_bytes

    path = tmp_path_factory.mktemp("raw") / "2013-01.csv"
    path.write_bytes(batch_csv_bytes(demo_months["2013-01"]))
    return read_batch(path, contract)


def test_no_feature_is_known_only_after_departure(params):
    categorical, numeric = feature_lists(params)
    assert not (set(categorical) | set(numeric)) & LEAKY
    assert not set(CANDIDATES) & LEAKY


def test_target_is_arrival_more_than_15_minutes_late_and_cancelled_dropped(january):
    prepared, cancelled = prepare_frame(january, 15, "drop")
    kept = january[january["arr_delay"].notna()]
    assert cancelled == int(january["arr_delay"].isna().sum()) > 0
    assert len(prepared) == len(kept)
    assert prepared[TARGET].tolist() == (kept["arr_delay"] > 15).astype(int).tolist()
    assert set(CANDIDATES) <= set(prepared.columns)


def test_cancelled_flights_can_count_as_late(january):
    prepared, cancelled = prepare_frame(january, 15, "late")
    assert len(prepared) == len(january)
    assert prepared.loc[january["arr_delay"].isna().to_numpy(), TARGET].eq(1).all()


def test_derived_features_from_the_schedule(january):
    prepared, _ = prepare_frame(january, 15, "drop")
    first = prepared.iloc[0]
    # 2013-01-01 was a Tuesday; the first flight is scheduled at 5:15.
    assert first["day_of_week"] == 1 and first["sched_hour"] == pytest.approx(5.25)
    assert first["sched_dep"] == pd.Timestamp("2013-01-01 05:15")


def test_unknown_feature_in_params_is_refused(params):
    bad = {**params, "features": {**params["features"], "categorical": ["carrier", "arr_time"]}}
    with pytest.raises(DriftlineError, match=r"features.categorical \['arr_time'\]"):
        feature_lists(bad)


def test_every_numeric_feature_has_a_histogram_grid(params, contract):
    from driftline.core.features import profile_ranges

    _, numeric = feature_lists(params)
    ranges = profile_ranges(numeric, contract)
    assert ranges["sched_hour"] == (0.0, 24.0)
    assert ranges["temp"] == tuple(float(v) for v in contract["columns"]["temp"]["range"])
    without = {"columns": {k: v for k, v in contract["columns"].items() if k != "temp"}}
    with pytest.raises(DriftlineError, match="numeric feature 'temp' needs a range"):
        profile_ranges(numeric, without)
