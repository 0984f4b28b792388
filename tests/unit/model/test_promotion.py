"""The promotion gate's rules, at their edges."""

import pytest

from driftline.model.promotion import decide

FLOORS = {"roc_auc": 0.65, "log_loss": 0.6}
GOOD = {"roc_auc": 0.72, "pr_auc": 0.5, "log_loss": 0.5, "brier": 0.16}


def compared(difference, low, high, metric="log_loss", champion=0.5):
    return {
        metric: {
            "champion": champion,
            "challenger": champion + difference,
            "difference": difference,
            "low": low,
            "high": high,
        }
    }


def failures(result):
    return [r for r in result["reasons"] if r.startswith("FAIL:")]


def test_no_champion_floors_only_and_said():
    result = decide(GOOD, None, 2_000, floors=FLOORS)
    assert result["promote"] is True
    assert any("no champion" in r and "floors alone" in r for r in result["reasons"])
    low_auc = decide({**GOOD, "roc_auc": 0.64}, None, 2_000, floors=FLOORS)
    assert low_auc["promote"] is False
    assert failures(low_auc) == ["FAIL: challenger roc_auc 0.6400 not >= floor 0.65"]


def test_floors_on_lower_is_better_metrics_are_ceilings():
    at = decide({**GOOD, "log_loss": 0.6}, None, 2_000, floors=FLOORS)
    assert at["promote"] is True  # exactly at the floor passes
    above = decide({**GOOD, "log_loss": 0.61}, None, 2_000, floors=FLOORS)
    assert failures(above) == ["FAIL: challenger log_loss 0.6100 not <= floor 0.6"]


def test_too_few_rows_is_never_promoted():
    result = decide(GOOD, compared(-0.1, -0.12, -0.08), 499, floors=FLOORS, min_rows=500)
    assert result["promote"] is False
    assert "499 rows" in failures(result)[0]
    assert decide(GOOD, compared(-0.1, -0.12, -0.08), 500, floors=FLOORS)["promote"]


@pytest.mark.parametrize(
    ("low", "high", "promote"),
    [
        (0.001, 0.02, False),  # log loss higher on the whole interval: worse beyond it
        (-0.01, 0.02, True),  # the interval straddles 0: not worse beyond it
        (0.0, 0.02, True),  # the better end touches 0: not shown worse
        (-0.03, -0.01, True),  # better
    ],
)
def test_not_worse_beyond_the_interval_on_a_lower_is_better_metric(low, high, promote):
    result = decide(GOOD, compared((low + high) / 2, low, high), 2_000, floors={})
    assert result["promote"] is promote
    if promote:
        assert failures(result) == []
    else:
        assert failures(result)[0].endswith(
            "worse beyond the interval (difference +0.0105, 95% interval [+0.0010, +0.0200])"
        )


def test_not_worse_on_a_higher_is_better_metric_uses_the_high_end():
    worse = compared(-0.02, -0.03, -0.005, metric="roc_auc", champion=0.7)
    result = decide(GOOD, worse, 2_000, floors={}, decide_by="roc_auc")
    assert result["promote"] is False
    assert failures(result)[0].startswith("FAIL: challenger roc_auc 0.6800 vs champion 0.7000")
    straddles = compared(-0.01, -0.03, 0.005, metric="roc_auc", champion=0.7)
    assert decide(GOOD, straddles, 2_000, floors={}, decide_by="roc_auc")["promote"]


def test_a_margin_needs_the_worse_end_better_by_the_margin():
    # log loss: gain = -difference; the worse end of the gain is -high.
    enough = compared(-0.03, -0.04, -0.02)
    assert decide(GOOD, enough, 2_000, floors={}, margin=0.02)["promote"] is True
    short = compared(-0.03, -0.04, -0.019)
    result = decide(GOOD, short, 2_000, floors={}, margin=0.02)
    assert result["promote"] is False
    assert "margin 0.02" in failures(result)[0]


def test_every_failed_rule_is_a_reason():
    result = decide({**GOOD, "roc_auc": 0.5}, compared(0.05, 0.04, 0.06), 100, floors=FLOORS)
    assert result["promote"] is False
    assert len(failures(result)) == 3  # rows, the roc_auc floor, the rule against the champion


def test_an_undefined_metric_fails():
    result = decide({**GOOD, "roc_auc": None}, None, 2_000, floors=FLOORS)
    assert "undefined" in failures(result)[0]
    undefined = compared(0.0, None, None)
    undefined["log_loss"]["difference"] = None
    assert decide(GOOD, undefined, 2_000, floors={})["promote"] is False
