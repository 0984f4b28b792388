"""`driftline init`'s starter contract, inferred from a sample, and its target options."""

import pandas as pd
import pytest

from driftline.core.config import parse_yaml
from driftline.core.errors import DriftlineError
from driftline.tooling.contract_inference import column_spec, contract_text, find_time
from driftline.tooling.init_project import default_classes, parse_positive


def text(values):
    return pd.Series(values, dtype="object")


def test_numbers_get_a_type_and_a_range_wider_than_the_sample():
    assert column_spec(text(["3", "7", None])) == {
        "type": "int",
        "nullable": True,
        "range": [0, 11],  # 4 wider on each side, never below 0 when none was negative
        "seen": [3.0, 7.0],
    }
    spec = column_spec(text(["-1.5", "2.5"]))
    assert spec["type"] == "float" and spec["range"] == [-5.5, 6.5]


def test_text_lists_few_categories_and_none_for_identifiers():
    assert column_spec(text(["b", "a"] * 5))["categories"] == ["a", "b"]
    assert "categories" not in column_spec(text([f"id{i}" for i in range(100)]))


def test_the_time_is_an_iso_column_or_year_month_day():
    frame = pd.DataFrame({"when": ["2024-01-01", "2024-01-02"], "v": ["1", "2"]})
    specs = {name: column_spec(frame[name]) for name in frame}
    assert find_time(frame, specs) == "when"
    triple = pd.DataFrame({"Year": ["2024"], "Month": ["1"], "Day": ["2"]})
    specs = {name: column_spec(triple[name]) for name in triple}
    assert find_time(triple, specs) == ["Year", "Month", "Day"]
    with pytest.raises(DriftlineError, match="--time COLUMN"):
        find_time(frame[["v"]], {"v": specs["Year"]})


def test_the_contract_text_is_the_yaml_it_says():
    specs = {"when": {"type": "str", "nullable": False}, "n": column_spec(text(["1", "5"]))}
    loaded = parse_yaml(contract_text(specs, "when", "day", "sample.csv"))
    assert loaded["time"] == "when" and loaded["period"] == "day"
    assert loaded["columns"]["n"] == {"type": "int", "nullable": False, "range": [0, 9]}


def test_positive_rules_and_their_class_names():
    assert parse_positive("Yes") == {"equals": "Yes"}
    assert parse_positive("above: 15") == {"above": 15}
    assert default_classes({"above": 15}) == ["<= 15", "> 15"]
    assert default_classes({"in": ["a", "b"]}) == ["not a or b", "a or b"]
