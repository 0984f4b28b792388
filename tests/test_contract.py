"""The data contract refuses bad raw batches, naming the file, column, row and rule."""

import pytest

from driftline.contract import read_batch
from driftline.errors import DriftlineError

CONTRACT = {
    "columns": {
        "month": {"type": "int", "nullable": False, "range": [1, 12]},
        "carrier": {"type": "str", "nullable": False},
        "arr_delay": {"type": "int", "nullable": True},
        "temp": {"type": "float", "nullable": True, "range": [-60, 130]},
    }
}
GOOD = "month,carrier,arr_delay,temp,extra\n1,UA,5,30.5,x\n1,AA,NA,NA,y\n"


def write(tmp_path, text, name="batch.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_batch_is_typed_and_extra_columns_dropped(tmp_path):
    frame = read_batch(write(tmp_path, GOOD), CONTRACT)
    assert list(frame.columns) == ["month", "carrier", "arr_delay", "temp"]
    assert str(frame["month"].dtype) == "Int64"
    assert frame["arr_delay"].isna().tolist() == [False, True]
    assert frame["temp"].tolist()[0] == 30.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a readable UTF-8 CSV"),
        ("month,carrier,arr_delay,temp\n", "has no rows"),
        ("month,arr_delay,temp\n1,5,3\n", "missing required column(s) carrier"),
        (
            "month,carrier,arr_delay,temp\n1,UA,5,30\nx,UA,5,30\n",
            "column 'month' must be int but row 3 holds 'x'",
        ),
        (
            "month,carrier,arr_delay,temp\n13,UA,5,30\n",
            "column 'month' must lie in [1, 12] but row 2 holds 13",
        ),
        (
            "month,carrier,arr_delay,temp\n1,,5,30\n",
            "column 'carrier' is not nullable but row 2 is empty",
        ),
        (
            "month,carrier,arr_delay,temp\n1,UA,5,inf\n",
            "column 'temp' has a non-finite value at row 2",
        ),
        (
            "month,carrier,arr_delay,temp\n1,UA,5.5,30\n",
            "column 'arr_delay' must be int but row 2 has a fraction",
        ),
    ],
)
def test_bad_batches_are_refused_with_a_precise_message(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DriftlineError) as info:
        read_batch(path, CONTRACT)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_wrong_encoding_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("month,carrier,arr_delay,temp\n1,Café,5,30\n".encode("latin-1"))
    with pytest.raises(DriftlineError, match="not a readable UTF-8 CSV"):
        read_batch(path, CONTRACT)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DriftlineError, match="nope.csv: file not found"):
        read_batch(tmp_path / "nope.csv", CONTRACT)
