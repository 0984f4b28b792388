"""Property-based fuzzing of the data contract and of `driftline ingest` (hypothesis).

Random frames, built by mutating a small valid batch: columns dropped, added, renamed or
retyped; cells replaced by nulls, random text, huge or negative numbers; rows duplicated or
removed (down to none); the file re-encoded or truncated; CSV or parquet. Whatever the input,
the contract ends in one of two ways: a typed frame, or a DriftlineError naming the problem.
`driftline ingest` likewise either adds the batch or refuses it with exit 2, no traceback and
the repository unchanged. The case counts are fixed (derandomized), and stated in the README.
On the session's weather project (tests/weather.py), its own contract and a month of its
weather, so it runs in every fork.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from driftline.core.batches import group_of
from driftline.core.config import load_contract
from driftline.core.errors import DriftlineError
from driftline.data.contract import read_batch, scan_batch
from helpers import copy_of, run

from .test_ingest import STAGING, batches, csv_bytes, month, snapshot

CONTRACT_CASES = 300
INGEST_CASES = 12

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
CELL = st.one_of(
    st.none(), TEXT, st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.booleans()
)


@st.composite
def mutated(draw, base: pd.DataFrame) -> pd.DataFrame:
    """``base`` with up to six random mutations; cells are plain Python objects."""
    columns = {name: base[name].astype(object).tolist() for name in base.columns}
    rows = len(base)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["cell", "column", "drop", "extra", "rows", "rename"]))
        if kind == "extra":
            columns[draw(TEXT) or "extra"] = [draw(CELL)] * rows
            continue
        if kind == "rows":
            picked = draw(st.lists(st.integers(0, max(rows - 1, 0)), max_size=2 * len(base)))
            picked = picked if rows else []
            columns = {name: [values[i] for i in picked] for name, values in columns.items()}
            rows = len(picked)
            continue
        if not columns:
            continue
        name = draw(st.sampled_from(sorted(columns)))
        if kind == "cell" and rows:
            columns[name][draw(st.integers(0, rows - 1))] = draw(CELL)
        elif kind == "column":
            columns[name] = draw(st.lists(CELL, min_size=rows, max_size=rows))
        elif kind == "drop":
            del columns[name]
        elif kind == "rename":
            columns[draw(TEXT)] = columns.pop(name)
    return pd.DataFrame(columns, dtype=object)


def write(frame: pd.DataFrame, folder: Path, data) -> Path:
    """The frame as a file: CSV (maybe re-encoded or truncated) or parquet."""
    form = data.draw(st.sampled_from(["csv", "latin-1", "utf-16", "truncated", "parquet"]))
    if form == "parquet":
        path = folder / "batch.parquet"
        try:
            frame.astype(str).to_parquet(path) if data.draw(st.booleans()) else frame.to_parquet(
                path
            )
        except Exception:  # a frame pyarrow cannot store is not an input anyone can send
            frame.astype(str).to_parquet(path)
        return path
    path = folder / "batch.csv"
    text = frame.to_csv(index=False, lineterminator="\n")
    if form == "truncated":
        raw = text.encode("utf-8")
        path.write_bytes(raw[: data.draw(st.integers(0, max(len(raw) - 1, 0)))])
    elif form in ("latin-1", "utf-16"):
        path.write_bytes(text.encode(form, errors="replace"))
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> pd.DataFrame:
    """A small valid batch: the weather project's next month, May 2024, its first 30
    readings (three of them with no label yet), as the raw CSV has them."""
    return month(tmp_path_factory.mktemp("sample"), "2024-05").head(30).reset_index(drop=True)


@pytest.fixture(scope="module")
def weather_contract(weather_project) -> dict:
    """The weather project's contract, as `driftline init` inferred it."""
    return load_contract(weather_project / "contract.yaml")


QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=CONTRACT_CASES, deadline=None, derandomize=True, suppress_health_check=QUIET)
@given(data=st.data())
def test_the_contract_accepts_or_refuses_clearly(tmp_path_factory, sample, weather_contract, data):
    frame = data.draw(mutated(sample))
    path = write(frame, tmp_path_factory.mktemp("fuzz"), data)
    try:
        typed = read_batch(path, weather_contract)
    except DriftlineError as exc:
        assert str(path) in str(exc) or path.name in str(exc), str(exc)
        event("refused")
        return
    event("accepted")
    # Accepted: every contract column is present and typed, and the scan agrees.
    columns = list(weather_contract["columns"])
    assert list(typed.columns)[: len(columns)] == columns
    assert scan_batch(path, weather_contract).rows == len(typed)


@settings(max_examples=INGEST_CASES, deadline=None, derandomize=True, suppress_health_check=QUIET)
@given(data=st.data())
def test_ingest_adds_or_refuses_and_leaves_no_trace(
    tmp_path_factory, weather_project, sample, data
):
    repo = copy_of(weather_project, tmp_path_factory.mktemp("case") / "repo")
    frame = data.draw(mutated(sample))
    path = write(frame, tmp_path_factory.mktemp("input"), data)
    before = snapshot(repo)
    done = run(repo, "driftline", "ingest", str(path), check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert not any((repo / STAGING).glob("*")), "ingest left staged files"
    event("accepted" if done.returncode == 0 else "refused")
    if done.returncode == 0:
        registry = batches(repo)
        added = registry[-1]
        assert registry[:-1] == batches(weather_project), "an accepted batch is registered last"
        tracked = f"data/raw/{group_of(added)}.dvc"
        assert "up to date" in run(repo, "dvc", "status", tracked).stdout
    else:
        assert done.returncode == 2, done.stderr
        assert snapshot(repo) == before, "a refused ingest changed the repository"
        assert done.stderr.strip(), "a refusal must say why"


def test_the_unmutated_sample_is_accepted(tmp_path, sample, weather_contract):
    path = tmp_path / "may.csv"
    path.write_bytes(csv_bytes(sample))
    assert len(read_batch(path, weather_contract)) == 30


def test_a_time_that_is_no_date_is_refused_by_the_reader_too(tmp_path, sample, weather_contract):
    path = tmp_path / "may.csv"
    path.write_bytes(csv_bytes(sample.assign(date=["0", *sample["date"][1:]])))
    with pytest.raises(DriftlineError, match="do not form a valid date"):
        scan_batch(path, weather_contract)
    with pytest.raises(DriftlineError, match="do not form a valid date"):
        read_batch(path, weather_contract)
