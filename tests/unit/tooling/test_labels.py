"""Labels that arrive later, the pure part: a labels file's columns, the join by key, and
the refusals (driftline.tooling.labels); the contract's labels block (core.config)."""

import pandas as pd
import pytest
import yaml

from driftline.core.config import check_against_contract, load_contract
from driftline.core.errors import DriftlineError
from driftline.tooling.labels import (
    attach,
    check_columns,
    check_unique_keys,
    coverage_refusal,
    labels_meta,
)

COLUMNS = {
    "day": {"type": "str"},
    "shop": {"type": "int"},
    "amount": {"type": "float"},
    "outcome": {"type": "str", "nullable": True},
    "settled": {"type": "int", "nullable": True},
}
KEY, LATER = ["day", "shop"], ["outcome", "settled"]


def text(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype="str")


BATCH = text(
    [
        {"day": "2024-05-01", "shop": "7", "amount": "1.5"},
        {"day": "2024-05-01", "shop": "8", "amount": "2.5"},
        {"day": "2024-05-02", "shop": "7", "amount": "3.5"},
    ]
)


def test_labels_join_by_the_typed_key_in_contract_order_whatever_the_spelling():
    labels = text(
        [
            {"day": "2024-05-02", "shop": "7.0", "outcome": "paid"},  # 7.0 is shop 7
            {"day": "2024-05-01", "shop": "007", "outcome": "lost"},
        ]
    )
    joined, unlabelled = attach(BATCH, labels, KEY, ["outcome"], COLUMNS, "l.csv")
    assert list(joined.columns) == list(COLUMNS)
    assert joined["outcome"].tolist()[0] == "lost" and joined["outcome"].tolist()[2] == "paid"
    assert pd.isna(joined["outcome"].iloc[1]) and joined["settled"].isna().all()
    assert joined["amount"].tolist() == ["1.5", "2.5", "3.5"]  # the batch's text, unchanged
    assert unlabelled == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"day": "2024-05-03", "shop": "7", "outcome": "paid"}],
            "l.csv: row 2: key (day=2024-05-03, shop=7) names no row of the batch",
        ),
        (
            [
                {"day": "2024-05-01", "shop": "7", "outcome": "paid"},
                {"day": "2024-05-01", "shop": "7.0", "outcome": "lost"},
            ],
            "l.csv: row 3: key (day=2024-05-01, shop=7.0) is labelled twice",
        ),
    ],
)
def test_an_unknown_or_repeated_key_is_refused_with_its_row(rows, message):
    with pytest.raises(DriftlineError) as info:
        attach(BATCH, text(rows), KEY, ["outcome"], COLUMNS, "l.csv")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["day", "outcome"], "missing column(s) shop"),
        (["day", "shop"], "missing column(s) outcome"),
        (["day", "shop", "outcome", "amount"], "unexpected column(s) amount"),
    ],
)
def test_a_labels_file_holds_the_key_the_target_and_later_columns_only(columns, message):
    with pytest.raises(DriftlineError) as info:
        check_columns(columns, KEY, LATER, "outcome", "l.csv")
    assert message in str(info.value)
    assert check_columns(["shop", "outcome", "day"], KEY, LATER, "outcome", "l.csv") == ["outcome"]


def test_a_pending_batch_whose_key_repeats_is_refused_naming_both_rows(tmp_path):
    path = tmp_path / "b.csv"
    pd.concat([BATCH, BATCH.iloc[[1]]]).to_csv(path, index=False)
    with pytest.raises(DriftlineError) as info:
        check_unique_keys(path, KEY, "in.csv")
    assert "in.csv: row 5: key (day=2024-05-01, shop=8) repeats row 3" in str(info.value)
    BATCH.to_csv(path, index=False)
    check_unique_keys(path, KEY, "in.csv")  # unique: no refusal


def test_partial_labels_say_how_many_rows_are_left_and_why():
    said = coverage_refusal(2, 10, "2024-05", "l.csv")
    assert "labels 8 of batch 2024-05's 10 rows; 2 would stay unlabelled" in said
    assert labels_meta("in/l.csv", 10, 0, None) == {"source": "l.csv", "labelled_rows": 10}
    assert labels_meta("l.csv", 10, 2, "lost") == {
        "source": "l.csv",
        "labelled_rows": 8,
        "partial": "lost",
        "unlabelled_rows": 2,
    }


def contract_with(tmp_path, labels) -> dict:
    path = tmp_path / "contract.yaml"
    columns = {"day": {"type": "str"}, **{k: v for k, v in COLUMNS.items() if k != "day"}}
    body = {"period": "day", "time": "day", "columns": columns, "labels": labels}
    path.write_text(yaml.safe_dump(body))
    return load_contract(path)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"pending": "maybe", "key": KEY, "later": LATER}, "'labels.pending' must be 'allow'"),
        ({"pending": "allow", "key": [], "later": LATER}, "'labels.key' must list one column"),
        ({"pending": "allow", "key": ["nope"], "later": LATER}, "labels.key' names ['nope']"),
        ({"pending": "allow", "key": ["shop", "outcome"], "later": LATER}, "in both labels.key"),
        ({"pending": "allow", "key": ["settled"], "later": ["outcome"]}, "may be empty"),
        ({"pending": "allow", "key": KEY, "later": ["day"]}, "in both labels.key"),
        ({"pending": "allow", "key": ["shop"], "later": ["day"]}, "a pending batch must be dated"),
    ],
)
def test_a_bad_labels_block_is_refused_naming_the_key(tmp_path, labels, message):
    with pytest.raises(DriftlineError) as info:
        contract_with(tmp_path, labels)
    assert message in str(info.value)


def test_the_later_columns_hold_the_target_and_no_feature(tmp_path):
    params = {"target": {"column": "outcome", "positive": {"equals": "paid"}}, "features": {}}
    contract = contract_with(tmp_path, {"pending": "allow", "key": KEY, "later": ["settled"]})
    with pytest.raises(DriftlineError, match="labels.later must list the target's column"):
        check_against_contract(params, contract)
    contract = contract_with(tmp_path, {"pending": "allow", "key": KEY, "later": LATER})
    with pytest.raises(DriftlineError, match=r"lists \['settled'\], which are candidate features"):
        check_against_contract(params, contract)
    check_against_contract({**params, "features": {"exclude": ["settled"]}}, contract)
