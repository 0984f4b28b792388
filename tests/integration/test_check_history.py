"""`driftline check-history`: the quality-history rules on a metric log a user already keeps."""

import json

import pandas as pd
import pytest

from driftline.core.errors import DriftlineError
from driftline.tooling.history_log import read_metric
from helpers import run

LONG = """batch,metric_name,score
b1,roc_auc,0.81
b1,log_loss,0.45
b2,roc_auc,0.83
b2,log_loss,0.44
b3,roc_auc,0.80
b3,log_loss,0.46
b4,roc_auc,0.82
b4,log_loss,0.45
b5,roc_auc,0.70
b5,log_loss,0.62
"""


def check(folder, *args: str) -> dict:
    done = run(folder, "driftline", "check-history", *args)
    assert done.returncode == 0
    return json.loads(done.stdout)


def test_long_format_as_course_notebooks_log_it(tmp_path):
    (tmp_path / "log.csv").write_text(LONG)
    verdict = check(
        tmp_path, "log.csv", "--metric", "roc_auc", "--batch-col", "batch", "--threshold", "0.75"
    )
    assert verdict["newest"] == {"batch": "b5", "value": 0.70} and verdict["points"] == 5
    assert verdict["alarm"]
    statuses = {rule: r["status"] for rule, r in verdict["rules"].items()}
    assert statuses == dict.fromkeys(("threshold", "comparative", "parametric", "iqr"), "alarm")
    # mean 0.815 and population std 0.0111803 of the four earlier values
    assert verdict["rules"]["parametric"]["bound"] == pytest.approx(0.815 - 2 * 0.0111803, 1e-6)


def test_lower_is_better_and_the_wide_format(tmp_path):
    wide = "batch,roc_auc,log_loss\nb1,0.8,0.45\nb2,0.82,0.44\nb3,0.81,0.46\nb4,0.83,0.40\n"
    (tmp_path / "wide.csv").write_text(wide)
    loss = check(tmp_path, "wide.csv", "--metric", "log_loss", "--lower-is-better")
    assert not loss["higher_is_better"] and not loss["alarm"]  # 0.40 is the best loss yet
    assert loss["newest"] == {"batch": "4", "value": 0.40}  # no --batch-col: row numbers
    flipped = check(tmp_path, "wide.csv", "--metric", "log_loss")
    assert flipped["rules"]["comparative"]["alarm"]  # read as higher-is-better, it is worst


def test_the_pipelines_own_history_file(tmp_path):
    """The format evaluate writes (its columns, through its writer), whatever a project's
    history holds today: a retrain may leave the real one empty."""
    from driftline.core.io import write_csv
    from driftline.monitoring.timeline import HISTORY_COLUMNS

    rows = [
        {**dict.fromkeys(HISTORY_COLUMNS, 0.5), "batch": f"2031-0{i}", "roc_auc": auc}
        for i, auc in enumerate([0.81, 0.83, 0.80, 0.62], start=1)
    ]
    write_csv(tmp_path / "history.csv", pd.DataFrame(rows, columns=HISTORY_COLUMNS))
    verdict = check(tmp_path, "history.csv", "--metric", "roc_auc", "--batch-col", "batch")
    assert verdict["points"] == 4
    assert set(verdict["rules"]) == {"threshold", "comparative", "parametric", "iqr"}
    assert verdict["rules"]["comparative"]["alarm"]  # 0.62: worse than every earlier batch


def test_short_history_is_insufficient_not_an_alarm(tmp_path):
    (tmp_path / "short.csv").write_text("auc\n0.9\n0.1\n")
    verdict = check(tmp_path, "short.csv", "--metric", "auc", "--min-history", "3")
    assert not verdict["alarm"]
    assert verdict["rules"]["comparative"]["status"] == "insufficient history"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (LONG, ("--metric", "f1"), "metric 'f1' is neither a column"),
        (LONG, ("--metric", "roc_auc", "--batch-col", "week"), "--batch-col 'week' is not"),
        ("auc\n0.9\nhigh\n", ("--metric", "auc"), "auc value 'high' (data row 2) is not a number"),
        ("batch,metric,a,b\n1,auc,0.8,0.7\n", ("--metric", "auc"), "name it with --value-col"),
    ],
)
def test_bad_logs_are_refused_with_the_reason(tmp_path, content, args, message):
    (tmp_path / "log.csv").write_text(content)
    done = run(tmp_path, "driftline", "check-history", "log.csv", *args, check=False)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DriftlineError, match="nope.csv: no such file"):
        read_metric(tmp_path / "nope.csv", "auc")
