"""`driftline compare` and the drift verdicts on the demo months, with the pipeline's engine."""

import json

import pytest

from driftline.core.config import TARGET
from driftline.data.contract import read_batch
from driftline.data.dataset import prepare_frame, profile_spec
from driftline.monitoring.drift import monitor
from driftline.monitoring.profile import merge_profiles, profile_frame
from helpers import compare_frame, run


def test_compare_command_prints_json_or_markdown(tmp_path, repo_root):
    compare_frame(3_000, 10).to_csv(tmp_path / "ref.csv", index=False)
    compare_frame(3_000, 11, shift=2.0).to_parquet(tmp_path / "cur.parquet")
    args = ("driftline", "compare", str(tmp_path / "ref.csv"), str(tmp_path / "cur.parquet"))
    verdicts = json.loads(run(repo_root, *args, "--target", "label").stdout)
    assert verdicts["columns"]["load"]["drifted"] and not verdicts["columns"]["steady"]["drifted"]
    assert verdicts["target"]["test"] == "jensenshannon"
    markdown = run(repo_root, *args, "--md").stdout
    assert "| load | wasserstein |" in markdown and "2 of 5 columns drifted" in markdown


def test_compare_command_refuses_bad_files(tmp_path, repo_root):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    for args, message in (
        ((str(tmp_path / "missing.csv"), str(tmp_path / "notes.txt")), "missing.csv: no such file"),
        ((str(tmp_path / "notes.txt"), str(tmp_path / "notes.txt")), "expected a .csv or .parquet"),
        ((str(tmp_path / "broken.parquet"),) * 2, "broken.parquet: cannot be read"),
    ):
        done = run(repo_root, "driftline", "compare", *args, check=False)
        assert done.returncode == 2 and message in done.stderr
        assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def demo_profiles(tmp_path_factory, demo_months, params, contract):
    """The pipeline's profiles of a few demo months (prepared, on the contract's grids)."""
    from driftline.tooling.demo import batch_csv_bytes

    folder = tmp_path_factory.mktemp("demo")
    profiles = {}
    for month in ("2013-01", "2013-02", "2013-03", "2013-04", "2013-07", "2013-10"):
        (folder / f"{month}.csv").write_bytes(batch_csv_bytes(demo_months[month]))
        prepared, _ = prepare_frame(read_batch(folder / f"{month}.csv", contract), params, contract)
        categorical, ranges = profile_spec(prepared, params, contract)
        profiles[month] = profile_frame(prepared, [*categorical, TARGET], ranges, 10_000)
    return profiles


def test_demo_summer_drifts_from_winter_and_a_month_against_itself_does_not(demo_profiles, params):
    features = params["features"]["categorical"] + params["features"]["numeric"]
    winter = merge_profiles([demo_profiles[m] for m in ("2013-01", "2013-02", "2013-03")])
    july = monitor(winter, demo_profiles["2013-07"], features, TARGET, params["drift"])
    assert july["dataset_drift"]
    assert {"temp", "dewp", "humid"} <= set(july["drifted_columns"])
    assert not {"carrier", "origin", "day_of_week"} & set(july["drifted_columns"])
    january = demo_profiles["2013-01"]
    itself = monitor(january, january, features, TARGET, params["drift"])
    assert itself["drifted_columns"] == [] and not itself["target"]["drifted"]
    # Inside the winter window, February does not drift from its own reference.
    february = monitor(winter, demo_profiles["2013-02"], features, TARGET, params["drift"])
    assert not february["dataset_drift"]
