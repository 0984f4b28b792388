"""`driftline init`'s params.yaml rewrite, on the text."""

from driftline.core.config import parse_yaml
from driftline.tooling.init_project import params_text
from helpers import ROOT


def test_params_of_a_new_project_and_of_one_initialised_already():
    """The demo's block goes; run again with --force on the result, nothing is missing."""
    first = params_text(
        (ROOT / "params.yaml").read_text(),
        "rain",
        {"equals": "Yes"},
        ["No"],
        ["dry", "rain"],
        ["id"],
    )
    params = parse_yaml(first)
    assert "demo" not in params
    assert params["target"]["column"] == "rain" and params["features"]["exclude"] == ["id"]
    assert params["target"]["negative"] == ["No"]
    again = parse_yaml(params_text(first, "snow", {"above": 0}, None, ["dry", "snow"], []))
    assert again["target"]["column"] == "snow" and again["target"]["classes"] == ["dry", "snow"]
    assert "negative" not in again["target"]  # a numeric rule has none
    assert {k: v for k, v in again.items() if k not in ("target", "features")} == {
        k: v for k, v in params.items() if k not in ("target", "features")
    }
