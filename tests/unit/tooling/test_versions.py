"""The version bump rule, and the gate's verdict as the comment section and `driftline gate`
print it (from a reports/promotion.json written here)."""

import json

import pytest

from driftline.core.errors import DriftlineError
from driftline.tooling.promotion import gate, promotion_section
from driftline.tooling.versions import bump

PARAMS = {
    "features.categorical": ["carrier"],
    "features.numeric": ["distance"],
    "target": {"column": "arr_delay", "positive": {"above": 15}},
    "train.model": "hgb",
    "train.window": {"start": "2013-01", "end": "2013-03"},
    "train.hgb.max_iter": 100,
    "evaluate.threshold": 0.3,
}


def record(md5="a", **changes):
    return {"params": {**PARAMS, **changes}, "md5": md5}


@pytest.mark.parametrize(
    ("changes", "part", "why"),
    [
        ({"features.numeric": ["distance", "temp"]}, "major", "features.numeric changed"),
        ({"target": {"column": "arr_delay", "positive": {"above": 30}}}, "major", "target"),
        ({"train.model": "logreg"}, "major", "train.model changed"),
        ({"train.window": {"start": "2013-04", "end": "2013-06"}}, "minor", "retrained"),
        ({"train.hgb.max_iter": 50}, "minor", "train.hgb.max_iter changed"),
        ({}, "patch", "the model's bytes changed"),
        ({"evaluate.threshold": 0.5}, "patch", "the model's bytes changed"),
    ],
)
def test_which_change_bumps_which_part(changes, part, why):
    found, reasons = bump(record(), record("b", **changes))
    assert found == part
    assert why in reasons[0]


def test_the_same_model_is_no_new_version_and_the_first_is_first():
    assert bump(record(), record(train_model="x"))[0] is None  # same md5
    assert bump(None, record()) == ("first", ["the first version"])


PROMOTION = {
    "promote": False,
    "reasons": [
        "challenger roc_auc 0.6700 >= floor 0.65",
        "FAIL: challenger log_loss 0.5600 vs champion 0.5000: worse beyond the interval "
        "(difference +0.0600, 95% interval [+0.0500, +0.0700])",
    ],
    "decide_by": "log_loss",
    "champion": {"first": "2013-01", "last": "2013-03", "time_range": {}},
    "challenger": {"first": "2013-04", "last": "2013-06", "time_range": {}},
    "rows": {"validation": 16000, "compared": 16000, "seen": 0},
    "metrics": {
        "roc_auc": {
            "champion": 0.70,
            "challenger": 0.67,
            "difference": -0.03,
            "low": -0.04,
            "high": 0.01,
        },
        "log_loss": {
            "champion": 0.50,
            "challenger": 0.56,
            "difference": 0.06,
            "low": 0.05,
            "high": 0.07,
        },
    },
    "bootstrap": {"resamples": 1000, "confidence": 0.95, "seed": 42},
}


def test_a_failed_gate_is_unmistakable_in_the_comment():
    text = promotion_section(PROMOTION)
    assert text.startswith("### Champion vs challenger\n\n> [!CAUTION]\n> **Promotion gate: ❌")
    assert "Do not merge" in text
    assert (
        "| log_loss (lower is better) | 0.5000 | 0.5600 | +0.0600 | [+0.0500, +0.0700] | 🔴 worse |"
        in text
    )
    assert (
        "| roc_auc (higher is better) | 0.7000 | 0.6700 | -0.0300 | [-0.0400, +0.0100] "
        "| within noise |" in text
    )
    assert "- ❌ FAIL: challenger log_loss 0.5600" in text
    assert "1000 resamples, 95%, seed 42" in text


def test_no_champion_says_the_floors_alone_decide():
    floors_only = {
        **PROMOTION,
        "promote": True,
        "champion": None,
        "reasons": ["no champion to compare with: the floors alone decide"],
        "metrics": {"roc_auc": {"challenger": 0.68}},
    }
    text = promotion_section(floors_only)
    assert "**Promotion gate: ✅ passed.**" in text and "[!CAUTION]" not in text
    assert "No champion yet" in text and "| roc_auc | 0.6800 |" in text


def test_gate_exits_1_with_the_reasons_and_0_when_promoted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DriftlineError, match="reports/promotion.json is missing"):
        gate()
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/promotion.json").write_text(json.dumps(PROMOTION))
    status, lines = gate()
    assert status == 1 and lines[0].startswith("promote: false")
    assert "  " + PROMOTION["reasons"][1] in lines
    (tmp_path / "reports/promotion.json").write_text(json.dumps({**PROMOTION, "promote": True}))
    assert gate()[0] == 0
