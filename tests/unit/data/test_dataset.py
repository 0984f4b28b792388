"""The machinery that turns any typed batch into the prepared frame, driven by config alone:
the label rule, the row time, the candidate features and the model's feature lists. Small
frames made here, independent of the demo data."""

import pandas as pd
import pytest

from driftline.core.config import TARGET, TIME, check_against_contract, feature_lists
from driftline.core.errors import DriftlineError
from driftline.data import features as hook
from driftline.data.dataset import prepare_frame, profile_spec, row_times
from driftline.data.target import label

CONTRACT = {
    "period": "day",
    "time": "date",
    "columns": {
        "date": {"type": "str", "nullable": False},
        "station": {"type": "str", "nullable": False, "categories": ["A", "B"]},
        "temp": {"type": "float", "nullable": True, "range": [-40, 50]},
        "rain_mm": {"type": "float", "nullable": True, "range": [0, 500]},
        "rain_tomorrow": {"type": "str", "nullable": True, "categories": ["No", "Yes"]},
        "row_id": {"type": "int", "nullable": False},
    },
}
PARAMS = {
    "target": {
        "column": "rain_tomorrow",
        "positive": {"equals": "Yes"},
        "missing": "drop",
        "classes": ["dry", "rain"],
    },
    "features": {"derive": False, "exclude": ["row_id"], "categorical": None, "numeric": None},
}


def batch() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series(["2024-03-01", "2024-03-01", "2024-03-01"], dtype="str"),
            "station": pd.Series(["A", "B", "A"], dtype="str"),
            "temp": [10.5, None, 12.0],
            "rain_mm": [0.0, 3.2, 0.4],
            "rain_tomorrow": pd.Series(["Yes", "No", None], dtype="str"),
            "row_id": pd.array([7, 8, 9], dtype="Int64"),
        }
    )


@pytest.mark.parametrize(
    ("positive", "expected"),
    [
        ({"above": 15}, [0, 0, 1, 0]),
        ({"at_least": 15}, [0, 1, 1, 0]),
        ({"below": 15}, [1, 0, 0, 0]),
        ({"at_most": 15}, [1, 1, 0, 0]),
        ({"equals": 15}, [0, 1, 0, 0]),
        ({"in": [3, 20]}, [1, 0, 1, 0]),
    ],
)
def test_each_rule_labels_numbers(positive, expected):
    labels, keep = label(pd.Series([3, 15, 20, None], dtype="Int64"), positive, "drop")
    assert labels.tolist() == expected
    assert keep.tolist() == [True, True, True, False]


@pytest.mark.parametrize(("missing", "value"), [("positive", 1), ("negative", 0)])
def test_an_empty_target_is_labelled_as_configured_and_kept(missing, value):
    labels, keep = label(pd.Series(["Yes", None], dtype="str"), {"in": ["Yes"]}, missing)
    assert labels.tolist() == [1, value]
    assert keep.all()


def test_time_from_one_iso_column_with_offsets_in_utc():
    frame = pd.DataFrame({"when": ["2024-03-01", "2024-03-01T23:30:00-02:00", "not a date"]})
    times = row_times(frame, {"time": "when"})
    assert times.iloc[0] == pd.Timestamp("2024-03-01")
    assert times.iloc[1] == pd.Timestamp("2024-03-02 01:30")
    assert pd.isna(times.iloc[2])


def test_time_from_year_month_day_and_optionally_hour_and_minute():
    frame = pd.DataFrame({"y": [2013], "m": [1], "d": [2], "h": [5], "mi": [15]})
    assert row_times(frame, {"time": ["y", "m", "d"]}).iloc[0] == pd.Timestamp("2013-01-02")
    five = row_times(frame, {"time": ["y", "m", "d", "h", "mi"]})
    assert five.iloc[0] == pd.Timestamp("2013-01-02 05:15")


def test_prepared_frame_from_config_alone():
    prepared, unlabelled = prepare_frame(batch(), PARAMS, CONTRACT)
    # The target, the time column and the excluded id are no candidates; the unlabelled
    # row is dropped.
    assert list(prepared.columns) == [TIME, TARGET, "station", "temp", "rain_mm"]
    assert unlabelled == 1 and len(prepared) == 2
    assert prepared[TARGET].tolist() == [1, 0]
    assert prepared[TIME].tolist() == [pd.Timestamp("2024-03-01")] * 2
    assert str(prepared["temp"].dtype) == "float64"
    categorical, numeric = profile_spec(prepared, PARAMS, CONTRACT)
    assert categorical == ["station"]
    assert numeric == {"temp": (-40.0, 50.0), "rain_mm": (0.0, 500.0)}


def test_a_numeric_candidate_without_a_range_is_refused_by_name():
    contract = {**CONTRACT, "columns": {**CONTRACT["columns"], "temp": {"type": "float"}}}
    prepared, _ = prepare_frame(batch(), PARAMS, contract)
    with pytest.raises(DriftlineError, match=r"contract.yaml: numeric feature 'temp' needs a"):
        profile_spec(prepared, PARAMS, contract)


def test_the_hook_adds_derived_features_and_may_not_shadow_a_candidate(monkeypatch):
    params = {**PARAMS, "features": {**PARAMS["features"], "derive": True}}
    monkeypatch.setattr(hook, "RANGES", {"weekday": (0.0, 7.0)})
    monkeypatch.setattr(
        hook, "derive", lambda raw, time: pd.DataFrame({"weekday": time.dt.day_of_week * 1.0})
    )
    prepared, _ = prepare_frame(batch(), params, CONTRACT)
    assert prepared["weekday"].tolist() == [4.0, 4.0]  # 2024-03-01 was a Friday
    assert profile_spec(prepared, params, CONTRACT)[1]["weekday"] == (0.0, 7.0)
    monkeypatch.setattr(hook, "derive", lambda raw, time: pd.DataFrame({"temp": raw["temp"]}))
    with pytest.raises(DriftlineError, match=r"derive\(\) returns \['temp'\].*features.exclude"):
        prepare_frame(batch(), params, CONTRACT)


def reference() -> dict:
    kinds = {"station": "categorical", "temp": "numeric", "rain_mm": "numeric"}
    columns = {name: {"kind": kind} for name, kind in kinds.items()}
    return {"columns": {**columns, TARGET: {"kind": "categorical"}}}


def test_feature_lists_default_to_every_candidate_and_refuse_unknown_ones():
    assert feature_lists(PARAMS, reference()) == (["station"], ["temp", "rain_mm"])
    chosen = {**PARAMS, "features": {**PARAMS["features"], "numeric": ["temp"]}}
    assert feature_lists(chosen, reference()) == (["station"], ["temp"])
    wrong = {**PARAMS, "features": {**PARAMS["features"], "categorical": ["temp"]}}
    with pytest.raises(DriftlineError, match=r"features.categorical \['temp'\] are not categ"):
        feature_lists(wrong, reference())


def test_target_config_is_checked_against_the_contract():
    check_against_contract(PARAMS, CONTRACT)
    numeric_rule = {**PARAMS, "target": {**PARAMS["target"], "positive": {"above": 1}}}
    with pytest.raises(DriftlineError, match="compares numbers, but 'rain_tomorrow' is a text"):
        check_against_contract(numeric_rule, CONTRACT)
    unknown = {**PARAMS, "target": {**PARAMS["target"], "column": "rain"}}
    with pytest.raises(DriftlineError, match="'rain', which contract.yaml does not list"):
        check_against_contract(unknown, CONTRACT)


def test_only_the_prepared_frame_runs_the_hook():
    """A fork may empty or delete features.py (derive: false): nothing else may import it."""
    import ast

    from helpers import ROOT

    src = ROOT / "src" / "driftline"
    importers = []
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if "driftline.data.features" in names:
                importers.append(path.name)
    assert importers == ["dataset.py", "dataset.py"]
