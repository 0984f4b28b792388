"""`driftline predict`: a features-only file scored by the promoted model or a named version,
in chunks, with the same features and the same verified loader as the pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from driftline.core.errors import DriftlineError
from driftline.data.contract import check_typed, restricted, schema
from driftline.monitoring.profile import FrameProfile, profile_frame
from driftline.tooling.predict import _rechunk

# ---------------------------------------------------------------- unit: the pure parts


def test_rechunk_gives_chunks_of_exactly_n_rows_in_order():
    batches = [
        pa.record_batch({"x": list(range(a, b))}) for a, b in ((0, 3), (3, 8), (8, 9), (9, 16))
    ]
    chunks = list(_rechunk(iter(batches), 4))
    assert [c.num_rows for c in chunks] == [4, 4, 4, 4]
    assert [v for c in chunks for v in c.column("x").to_pylist()] == list(range(16))
    assert [c.num_rows for c in _rechunk(iter(batches), 5)] == [5, 5, 5, 1]


def test_a_profile_built_chunk_by_chunk_equals_the_profile_of_all_rows():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(1000) < 0.1, np.nan, rng.normal(50, 30, 1000)),
            "c": pd.Series(rng.choice(["a", "b", None], 1000), dtype="str"),
        }
    )
    whole = profile_frame(frame, ["c"], {"x": (0.0, 100.0)}, 50)
    chunked = FrameProfile(["c"], {"x": (0.0, 100.0)}, 50)
    for start in range(0, 1000, 137):
        chunked.add(frame.iloc[start : start + 137])
    chunked = chunked.result()
    for column in ("x", "c"):
        got, want = chunked["columns"][column], whole["columns"][column]
        for key in want:
            if key in ("sum", "sumsq"):  # summation order differs
                assert got[key] == pytest.approx(want[key], rel=1e-12)
            else:
                assert got[key] == want[key], (column, key)
    assert chunked["rows"] == whole["rows"] == 1000


def contract_of(**columns) -> dict:
    return {"columns": columns, "empty_only_with": {"a": "b"}, "period": "month", "time": "d"}


CASES = [
    ({"a": [1, 2, 3], "b": [1.0, 2.0, 3.0], "s": ["x", "y", "z"]}, None),
    ({"a": [1, 2, 30], "b": [1.0, 2.0, 3.0], "s": ["x", "y", "z"]}, "column 'a', row 4"),
    ({"a": [1, 2, 3], "b": [1.0, np.inf, 3.0], "s": ["x", "y", "z"]}, "column 'b', row 3"),
    ({"a": [1, 2, 3], "b": [1.0, 2.0, 3.0], "s": ["x", None, "z"]}, "column 's', row 3"),
    ({"a": [1, None, 3], "b": [1.0, 2.0, 3.0], "s": ["x", "y", "z"]}, "row 3: 'a' is empty"),
    ({"a": [1, None, 3], "b": [1.0, np.nan, 3.0], "s": ["x", "y", "z"]}, None),
    ({"a": [-1, 2, 3], "b": [-5.0, 2.0, np.nan], "s": ["x", "y", None]}, "row 2"),
    (
        {"a": [1, 2, 3], "b": [1.0, 2.0, 3.0], "s": ["x", "w", "z"]},
        "column 's', row 3: must be a class of params.yaml's target: x (label 1, target.positive)"
        " or y or z (label 0, target.negative) (value 'w')",
    ),
]


@pytest.mark.parametrize(("columns", "expected"), CASES)
def test_the_fast_contract_check_refuses_what_pandera_refuses_with_the_same_words(
    columns, expected
):
    contract = contract_of(
        a={"type": "int", "nullable": True, "range": [0, 10]},
        b={"type": "float", "nullable": True, "range": [-1, 100]},
        s={
            "type": "str",
            "nullable": False,
            "classes": {"positive": ["x"], "negative": ["y", "z"]},
        },
    )
    frame = pd.DataFrame(columns)
    frame["s"] = frame["s"].astype("str")
    try:
        schema(contract).validate(frame.copy(), lazy=True)
        pandera_refuses = False
    except Exception:
        pandera_refuses = True
    if expected is None:
        check_typed(frame, contract, Path("in.csv"), 2)
        assert not pandera_refuses
        return
    assert pandera_refuses
    with pytest.raises(DriftlineError, match=re.escape(expected)) as refused:
        check_typed(frame, contract, Path("in.csv"), 2)
    assert str(refused.value).startswith("in.csv: breaks the data contract:")


def test_the_input_contract_keeps_the_features_columns_and_drops_the_row_rules_of_others():
    contract = contract_of(
        a={"type": "int", "nullable": True},
        b={"type": "float", "nullable": True},
        c={"type": "float", "nullable": True},
        d={"type": "float", "nullable": True},
        s={"type": "str", "nullable": False},
    )
    contract["empty_only_with"] = {"a": "b", "c": "d"}
    sub = restricted(contract, ["s", "c", "d"])
    assert list(sub["columns"]) == ["s", "c", "d"]
    assert sub["columns"]["s"] == contract["columns"]["s"]
    assert sub["empty_only_with"] == {"c": "d"}  # a and b are not features: their rule goes
    assert sub["extra_columns"] == "drop"
