"""`driftline predict`: a features-only file scored by the promoted model or a named version,
in chunks, with the same features and the same verified loader as the pipeline. On the
session's weather project (tests/weather.py): small, and no demo test, so it runs in every
fork."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.core import paths
from driftline.core.config import parse_yaml
from helpers import copy_of, run

BATCH = "2024-03"  # after the window (2024-01..2024-02): what the model serves
WINDOW = ("2024-01", "2024-02")
TARGET = "rain_tomorrow"
# A weather month is a few hundred rows: chunks this small make several of a file.
SMALL_CHUNKS = "100"


# ---------------------------------------------------- integration: the command, for real


@pytest.fixture
def repo(weather_project, tmp_path) -> Path:
    """A copy of the weather project: reproduced and committed, so its model has a commit."""
    return copy_of(weather_project, tmp_path / "repo")


def labelled_rows(repo: Path, batch: str = BATCH) -> pd.DataFrame:
    """A raw batch's rows that prepare@ keeps (a target), as the text the file holds."""
    raw = pd.read_csv(repo / f"data/raw/{batch}/{batch}.csv", dtype=str, keep_default_na=False)
    return raw[raw[TARGET] != "NA"].reset_index(drop=True)


def features_only(repo: Path, tmp: Path, rows: int | None = None, name="in.csv") -> Path:
    """A features-only CSV of the batch: a weather month without its target."""
    raw = labelled_rows(repo).drop(columns=[TARGET])
    path = tmp / name
    (raw if rows is None else raw.head(rows)).to_csv(path, index=False)
    return path


def pipeline_scores(repo: Path, batch: str = BATCH) -> np.ndarray:
    """What score@ computed for the batch: the model's predict_proba on prepare@'s rows."""
    return pd.read_parquet(repo / paths.scores(batch))["score"].to_numpy()


def predict(repo: Path, *args: str, check: bool = True):
    return run(repo, "driftline", "predict", *map(str, args), check=check)


def test_a_csv_is_scored_as_the_pipeline_scores_it_in_the_input_order(repo, tmp_path):
    source = features_only(repo, tmp_path)
    done = predict(repo, source, "-o", tmp_path / "out.csv", "--keep", "reading_id", "date")
    out = pd.read_csv(
        tmp_path / "out.csv", dtype={"date": str, "model_version": str}, keep_default_na=False
    )
    assert list(out.columns) == ["reading_id", "date", "probability", "decision", "model_version"]
    rows = labelled_rows(repo)
    assert out["reading_id"].astype(str).tolist() == rows["reading_id"].tolist()
    assert out["date"].tolist() == rows["date"].tolist()
    np.testing.assert_array_equal(out["probability"].to_numpy(), pipeline_scores(repo))
    threshold = parse_yaml((repo / "params.yaml").read_text())["evaluate"]["threshold"]
    assert (out["decision"] == (out["probability"] >= threshold)).all()
    assert set(out["decision"]) == {0, 1}
    head = run(repo, "git", "rev-parse", "--short=8", "HEAD").stdout.strip()
    assert set(out["model_version"]) == {head}
    line = done.stdout.strip()
    assert line.startswith("drift: ") and "features drifted" in line and "most drifted" in line


def test_a_parquet_file_with_its_target_and_every_column_is_scored_the_same(repo, tmp_path):
    raw = labelled_rows(repo)
    typed = pd.read_csv(repo / f"data/raw/{BATCH}/{BATCH}.csv").loc[lambda f: f[TARGET].notna()]
    typed.to_parquet(tmp_path / "in.parquet", index=False)
    predict(repo, tmp_path / "in.parquet", "-o", tmp_path / "out.parquet", "--keep", "reading_id")
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["reading_id"].astype(str).tolist() == raw["reading_id"].tolist()
    np.testing.assert_array_equal(out["probability"].to_numpy(), pipeline_scores(repo))
    assert out["decision"].dtype == "int8"


def test_chunks_of_any_size_give_the_same_output_and_drift_line(repo, tmp_path):
    source = features_only(repo, tmp_path, rows=300)
    one = predict(repo, source, "-o", tmp_path / "one.csv", "--chunk-rows", "100000")
    many = predict(repo, source, "-o", tmp_path / "many.csv", "--chunk-rows", "77")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "many.csv").read_bytes()
    assert one.stdout == many.stdout
    assert "start predict" in many.stderr and "300 rows scored" in many.stderr


def test_a_csv_with_a_byte_order_mark_is_read_as_ingest_reads_it(repo, tmp_path):
    """A spreadsheet's CSV export starts with a UTF-8 byte-order mark; ingest accepts it, and
    so does predict, with the same scores as without it."""
    source = features_only(repo, tmp_path, rows=200)
    marked = tmp_path / "exported.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    predict(repo, source, "-o", tmp_path / "plain.csv")
    predict(repo, marked, "-o", tmp_path / "marked.csv")
    assert (tmp_path / "marked.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()


def refused(repo: Path, source: Path, tmp_path: Path, *expected: str) -> str:
    """Predict, in chunks smaller than the file, must fail naming ``expected``, and leave the
    earlier output as it was."""
    target = tmp_path / "out.csv"
    target.write_text("an earlier output\n")
    done = predict(repo, source, "-o", target, "--chunk-rows", SMALL_CHUNKS, check=False)
    assert done.returncode == 2, done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_text() == "an earlier output\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    return done.stderr


def edited(repo: Path, tmp_path: Path, edit) -> Path:
    source = features_only(repo, tmp_path)  # more than one chunk of SMALL_CHUNKS rows
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    assert len(frame) > 2 * int(SMALL_CHUNKS)
    edit(frame)
    frame.to_csv(source, index=False)
    return source


def test_a_missing_feature_column_is_refused_naming_it(repo, tmp_path):
    source = edited(repo, tmp_path, lambda f: f.pop("temp_c"))
    refused(repo, source, tmp_path, f"{source}: missing required column(s): temp_c")


def test_a_value_of_the_wrong_type_is_refused_naming_its_row_and_column(repo, tmp_path):
    def edit(frame):
        frame.loc[frame.index[-3], "humidity"] = "damp"  # in the last chunk

    source = edited(repo, tmp_path, edit)
    rows = len(pd.read_csv(source, usecols=["date"]))
    refused(repo, source, tmp_path, f"column 'humidity', row {rows - 3 + 2}: must be float", "damp")


def test_values_outside_the_contract_are_refused_naming_row_column_and_rule(repo, tmp_path):
    def edit(frame):
        frame.loc[9, "temp_c"] = "500"
        frame.loc[20, "station"] = ""

    source = edited(repo, tmp_path, edit)
    refused(
        repo,
        source,
        tmp_path,
        f"{source}: breaks the data contract",
        "column 'temp_c', row 11: must lie in [-30.0, 38.0] (value 500.0)",
        "column 'station', row 22: must not be empty",
    )


def test_a_wrong_type_in_a_parquet_file_is_refused_naming_its_row(repo, tmp_path):
    typed = pd.read_csv(repo / f"data/raw/{BATCH}/{BATCH}.csv")
    assert len(typed) > 2 * int(SMALL_CHUNKS)
    typed["humidity"] = typed["humidity"].astype("str")  # a text column in the file
    typed.loc[234, "humidity"] = "damp"
    typed.to_parquet(tmp_path / "in.parquet", index=False)
    refused(repo, tmp_path / "in.parquet", tmp_path, "column 'humidity', row 236: must be float")


def scores_of(path: Path) -> np.ndarray:
    return pd.read_csv(path)["probability"].to_numpy()


def test_a_named_version_scores_with_that_version_fetched_through_dvc(repo, tmp_path):
    source = features_only(repo, tmp_path)
    run(repo, "git", "tag", "model@v1.0.0")
    run(repo, "dvc", "push", "-q")  # as CI does for a version
    predict(repo, source, "-o", tmp_path / "v1.csv")
    params = repo / "params.yaml"
    text = params.read_text()
    assert text.count("    max_iter: 100\n") == 1  # train.hgb's
    params.write_text(text.replace("    max_iter: 100\n", "    max_iter: 7\n"))
    run(repo, "dvc", "repro", "train")
    run(repo, "git", "commit", "-qam", "a weaker model")
    # The old model is no longer in the workspace, nor in the local cache: only the remote.
    md5 = re.search(
        r"path: models/model.pkl\n\s+hash: md5\n\s+md5: (\w+)",
        run(repo, "git", "show", "model@v1.0.0:dvc.lock").stdout,
    )[1]
    shutil.rmtree(repo / ".dvc/cache/files/md5" / md5[:2])
    predict(repo, source, "-o", tmp_path / "new.csv")
    old = predict(repo, source, "-o", tmp_path / "old.csv", "--model", "v1.0.0")
    np.testing.assert_array_equal(scores_of(tmp_path / "old.csv"), scores_of(tmp_path / "v1.csv"))
    assert not np.array_equal(scores_of(tmp_path / "new.csv"), scores_of(tmp_path / "v1.csv"))
    assert set(pd.read_csv(tmp_path / "old.csv")["model_version"]) == {"model@v1.0.0"}
    assert set(pd.read_csv(tmp_path / "new.csv")["model_version"]) != {"model@v1.0.0"}
    assert "model model@v1.0.0" in old.stderr
    # The same version by its commit, and by its full tag name.
    by_commit = predict(repo, source, "-o", tmp_path / "c.csv", "--model", "HEAD~1")
    assert "model model@v1.0.0" in by_commit.stderr
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_an_unknown_version_is_refused_and_writes_nothing(repo, tmp_path):
    source = features_only(repo, tmp_path, rows=100)
    for version in ("v9.9.9", "no-such-branch"):
        done = predict(repo, source, "-o", tmp_path / "out.csv", "--model", version, check=False)
        assert done.returncode == 2
        assert f"--model {version}: no model version or git revision of that name" in done.stderr
        assert not (tmp_path / "out.csv").exists()


def test_fail_on_drift_exits_3_on_a_drifted_input_and_0_on_the_training_months(repo, tmp_path):
    frames = [labelled_rows(repo, b) for b in WINDOW]
    window = pd.concat(frames).drop(columns=[TARGET])
    window.to_csv(tmp_path / "window.csv", index=False)
    calm = predict(repo, tmp_path / "window.csv", "-o", tmp_path / "w.csv", "--fail-on-drift")
    assert "drift: no dataset drift" in calm.stdout
    # The same readings in a heatwave: warmer and more humid, still within the contract's ranges.
    hot = window.assign(
        temp_c=(window["temp_c"].astype(float) + 20).clip(upper=37.9).round(1),
        humidity=(window["humidity"].astype(float) + 30).clip(upper=100.0).round(1),
    )
    hot.to_csv(tmp_path / "hot.csv", index=False)
    drifted = predict(
        repo, tmp_path / "hot.csv", "-o", tmp_path / "h.csv", "--fail-on-drift", check=False
    )
    assert drifted.returncode == 3, drifted.stderr
    assert "drift: DATASET DRIFT" in drifted.stdout and "temp_c" in drifted.stdout
    assert len(pd.read_csv(tmp_path / "h.csv")) == len(hot)  # written all the same
    assert predict(repo, tmp_path / "hot.csv", "-o", tmp_path / "k.csv").returncode == 0
