"""The data contract (pandera) refuses bad raw batches, naming the file, column, row and rule."""

import re

import pandas as pd
import pytest

from driftline.core.errors import DriftlineError
from driftline.data.contract import canonical_csv, read_batch, scan_batch, with_target_classes

CONTRACT = {
    "period": "month",
    "time": ["year", "month", "day"],
    "empty_only_with": {"arr_delay": "air_time"},
    "extra_columns": "refuse",
    "columns": {
        "year": {"type": "int", "nullable": False},
        "month": {"type": "int", "nullable": False, "range": [1, 12]},
        "day": {"type": "int", "nullable": False, "range": [1, 31]},
        "carrier": {"type": "str", "nullable": False, "categories": ["UA", "AA"]},
        "arr_delay": {"type": "int", "nullable": True},
        "air_time": {"type": "int", "nullable": True},
        "temp": {"type": "float", "nullable": True, "range": [-60, 130]},
    },
}
HEADER = "year,month,day,carrier,arr_delay,air_time,temp\n"
GOOD = HEADER + "2013,7,1,UA,5,100,30.5\n2013,7,2,AA,NA,NA,NA\n"


def write(tmp_path, text, name="batch.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_batch_is_typed(tmp_path):
    frame = read_batch(write(tmp_path, GOOD), CONTRACT)
    assert list(frame.columns) == list(CONTRACT["columns"])
    assert str(frame["month"].dtype) == "Int64"
    assert frame["arr_delay"].isna().tolist() == [False, True]
    assert frame["temp"].tolist()[0] == 30.5


# A table of bad inputs and the message each must get, one case per row. It is kept as laid
# out by hand (`fmt: skip` below): the formatter would split each longer row into four lines.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        (HEADER, "has a header but no rows"),
        ("year,month,day,arr_delay,air_time,temp\n2013,7,1,5,100,3\n",
         "missing required column(s): carrier"),
        (HEADER.replace("\n", ",extra\n") + "2013,7,1,UA,5,100,3,x\n",
         "unexpected column(s) extra"),
        (HEADER + "2013,7,1,UA,5,100,30\n2013,x,1,UA,5,100,30\n",
         "column 'month', row 3: must be int (value 'x')"),
        (HEADER + "2013,13,1,UA,5,100,30\n",
         "column 'month', row 2: must lie in [1, 12] (value 13)"),
        (HEADER + "2013,7,1,,5,100,30\n", "column 'carrier', row 2: must not be empty"),
        (HEADER + "2013,7,1,UA,5,100,inf\n", "column 'temp', row 2: must be a finite number"),
        (HEADER + "2013,7,1,UA,5,100,hot\n", "column 'temp', row 2: must be float"),
        (HEADER + "2013,7,1,UA,5.5,100,30\n", "column 'arr_delay', row 2: must be int"),
        (HEADER + "2013,7,1,UA,NA,100,30\n",
         "row 2: 'arr_delay' is empty but 'air_time' is not"),
        (HEADER + "2013,7,31,UA,5,100,30\n2013,8,1,UA,5,100,30\n",
         "row 3 falls in 2013-08, outside the batch's period 2013-07"),
        (HEADER + "2013,2,30,UA,5,100,30\n", "row 2: the time column(s) year, month, day do not"),
        (GOOD + "2013,7,3,UA,5,100,30,1,2\n", "not a well-formed CSV"),
    ],
)  # fmt: skip
def test_bad_batches_are_refused_with_a_precise_message(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DriftlineError) as info:
        scan_batch(path, CONTRACT)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_several_problems_are_listed_together(tmp_path):
    path = write(tmp_path, HEADER + "2013,13,1,,5,100,30\n")
    with pytest.raises(DriftlineError) as info:
        read_batch(path, CONTRACT)
    assert "column 'month', row 2" in str(info.value)
    assert "column 'carrier', row 2" in str(info.value)


def test_wrong_encoding_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "2013,7,1,Café,5,100,30\n").encode("latin-1"))
    with pytest.raises(DriftlineError, match="not UTF-8 text"):
        read_batch(path, CONTRACT)


def test_binary_and_truncated_files_are_refused(tmp_path):
    binary = tmp_path / "image.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DriftlineError, match="a binary file"):
        read_batch(binary, CONTRACT)
    parquet = tmp_path / "batch.parquet"
    pd.read_csv(write(tmp_path, GOOD)).to_parquet(parquet)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(parquet.read_bytes()[:-20])
    with pytest.raises(DriftlineError, match="not a readable parquet file"):
        read_batch(truncated, CONTRACT)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DriftlineError, match="nope.csv: file not found"):
        read_batch(tmp_path / "nope.csv", CONTRACT)


def test_extra_columns_can_be_dropped(tmp_path):
    path = write(tmp_path, HEADER.replace("\n", ",extra\n") + "2013,7,1,UA,5,100,3,x\n")
    summary = scan_batch(path, {**CONTRACT, "extra_columns": "drop"})
    assert summary.dropped_columns == ["extra"] and summary.rows == 1


def test_scan_counts_unseen_categories_and_writes_canonical_csv(tmp_path):
    import io

    path = write(tmp_path, GOOD + "2013,7,3,ZZ,1,50,NA\n")
    sink = io.BytesIO()
    summary = scan_batch(path, CONTRACT, sink=sink)
    assert summary.rows == 3 and summary.period == "2013-07"
    assert summary.unseen == {"carrier=ZZ": 1}
    assert sink.getvalue().decode() == GOOD + "2013,7,3,ZZ,1,50,NA\n"


def test_parquet_batches_are_read_like_csv(tmp_path):
    parquet = tmp_path / "batch.parquet"
    typed = {"arr_delay": "Int64", "air_time": "Int64"}
    pd.read_csv(write(tmp_path, GOOD), dtype=typed).to_parquet(parquet)
    summary = scan_batch(parquet, CONTRACT)
    assert summary.rows == 2 and summary.period == "2013-07"


def test_canonical_csv_spells_missing_as_na():
    frame = pd.DataFrame({"a": ["1", None]}, dtype="str")
    assert canonical_csv(frame) == "a\n1\nNA\n"


def test_a_target_value_that_is_neither_class_is_refused(tmp_path):
    """Under a rule on classes, params.yaml's target names both; a third value (a new
    spelling, a typo) is refused by ingest's scan and prepare's read alike, not labelled 0."""
    target = {"column": "carrier", "positive": {"equals": "UA"}, "negative": ["AA"]}
    contract = with_target_classes(CONTRACT, target)
    assert read_batch(write(tmp_path, GOOD), contract)["carrier"].tolist() == ["UA", "AA"]
    path = write(tmp_path, GOOD + "2013,7,3,ua,1,50,NA\n")
    expected = (
        "column 'carrier', row 4: must be a class of params.yaml's target: UA (label 1, "
        "target.positive) or AA (label 0, target.negative) (value 'ua')"
    )
    for read in (read_batch, scan_batch):
        with pytest.raises(DriftlineError, match=re.escape(expected)):
            read(path, contract)
    scan_batch(path, CONTRACT)  # the contract alone counts it as an unseen category
    # A numeric rule adds no check: the contract's range bounds the column.
    numeric = {"column": "arr_delay", "positive": {"above": 15}}
    assert with_target_classes(CONTRACT, numeric) is CONTRACT
