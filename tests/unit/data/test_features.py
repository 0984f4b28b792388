"""The demo's prepared frame: the right target, no leakage, cancelled flights handled as
configured, and the derived features of its hook (src/driftline/data/features.py)."""

import pandas as pd
import pytest

from driftline.core.config import TARGET, TIME
from driftline.data.contract import read_batch
from driftline.data.dataset import prepare_frame, raw_candidates

# What is known only after departure would leak the label.
LEAKY = {"dep_time", "dep_delay", "arr_time", "air_time", "arr_delay", "sched_arr_time"}


@pytest.fixture(scope="module")
def january(tmp_path_factory, demo_months, params, contract):
    from driftline.tooling.demo import batch_csv_bytes

    path = tmp_path_factory.mktemp("raw") / "2013-01.csv"
    path.write_bytes(batch_csv_bytes(demo_months["2013-01"]))
    return read_batch(path, contract)


def with_missing(params, missing):
    return {**params, "target": {**params["target"], "missing": missing}}


def test_no_candidate_is_known_only_after_departure(params, contract):
    chosen = set(params["features"]["categorical"]) | set(params["features"]["numeric"])
    assert not chosen & LEAKY
    assert not set(raw_candidates(params, contract)) & LEAKY


def test_target_is_arrival_more_than_15_minutes_late_and_cancelled_dropped(
    january, params, contract
):
    prepared, cancelled = prepare_frame(january, params, contract)
    kept = january[january["arr_delay"].notna()]
    assert cancelled == int(january["arr_delay"].isna().sum()) > 0
    assert len(prepared) == len(kept)
    assert prepared[TARGET].tolist() == (kept["arr_delay"] > 15).astype(int).tolist()
    chosen = params["features"]["categorical"] + params["features"]["numeric"]
    assert set(chosen) <= set(prepared.columns)


def test_cancelled_flights_can_count_as_late(january, params, contract):
    prepared, _ = prepare_frame(january, with_missing(params, "positive"), contract)
    assert len(prepared) == len(january)
    assert prepared.loc[january["arr_delay"].isna().to_numpy(), TARGET].eq(1).all()


def test_derived_features_from_the_schedule(january, params, contract):
    prepared, _ = prepare_frame(january, params, contract)
    first = prepared.iloc[0]
    # 2013-01-01 was a Tuesday; the first flight is scheduled at 5:15.
    assert first["day_of_week"] == 1 and first["sched_hour"] == pytest.approx(5.25)
    assert first[TIME] == pd.Timestamp("2013-01-01 05:15")
