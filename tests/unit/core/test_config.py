"""Bad params are refused before any work, naming the key."""

import pytest
import yaml

from driftline.core.config import load_contract, load_params, parse_yaml, window_batches
from driftline.core.errors import DriftlineError
from driftline.tooling.init_project import params_text
from driftline.tooling.params_text import set_window
from driftline.tooling.registry import write_registry


@pytest.fixture(scope="module")
def settings(repo_root) -> dict:
    """This repository's params.yaml as `driftline init` leaves it for a project of its own,
    whatever the repository holds (the demo or a team's data): a made-up target, three monthly
    batches and the window on the first two. The base the bad params below break."""
    text = params_text(
        (repo_root / "params.yaml").read_text(encoding="utf-8"),
        "rain_tomorrow",
        {"equals": "Yes"},
        ["No"],
        ["dry", "rain"],
        ["reading_id"],
    )
    return {
        **parse_yaml(set_window(text, "2024-01", "2024-02")),
        "batches": ["2024-01", "2024-02", "2024-03"],
    }


def write(tmp_path, params):
    """params.yaml, and the batch list apart in data/batches.yaml, as a project has them."""
    settings = {k: v for k, v in params.items() if k != "batches"}
    (tmp_path / "data").mkdir(exist_ok=True)
    registry = tmp_path / "data/batches.yaml"
    groups = list(dict.fromkeys(b[:7] for b in params["batches"]))
    registry.write_text(
        yaml.safe_dump({"groups": groups, "batches": params["batches"]}), encoding="utf-8"
    )
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def test_repository_params_load_and_window_resolves(params):
    assert window_batches(params) == ["2013-01", "2013-02", "2013-03"]


def test_the_base_loads(tmp_path, settings):
    assert window_batches(load_params(write(tmp_path, settings))) == ["2024-01", "2024-02"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["train"].update(model="forest"), "'train.model' is 'forest'"),
        (lambda p: p["train"]["window"].update(end="2099-01"), "'train.window.end' is '2099-01'"),
        (lambda p: p["train"]["window"].update(start="2024-03"), "starts after it ends"),
        (lambda p: p["train"].update(seed="x"), "'train.seed' must be int"),
        (lambda p: p["train"].update(holdout_fraction=1.5), "'train.holdout_fraction'"),
        (lambda p: p["evaluate"].update(threshold=True), "'evaluate.threshold' must be"),
        (lambda p: p.pop("drift"), "missing key 'drift.share'"),
        (lambda p: p["batches"].append("2024-01"), "data/batches.yaml: lists 2024-01 twice"),
        (lambda p: p["target"].update(missing="keep"), "'target.missing' is 'keep'"),
        (lambda p: p["target"].update(positive={"over": 15}), "one rule, one of above"),
        (lambda p: p["target"].update(positive={"above": "x"}), "'target.positive.above'"),
        (lambda p: p["target"].update(classes=["late"]), "'target.classes' must name"),
        (lambda p: p["target"].pop("negative"), "missing key 'target.negative': a rule on"),
        (lambda p: p["target"].update(negative="No"), "'target.negative' must be list"),
        (lambda p: p["target"].update(negative=[]), "'target.negative' must list at least"),
        (lambda p: p["target"].update(negative=["Yes"]), "and none of target.positive's"),
        (lambda p: p["target"].update(positive={"above": 1}), "every other number is negative"),
        (lambda p: p["features"].update(derive="yes"), "'features.derive' must be bool"),
        (lambda p: p["features"].update(numeric="temp"), "'features.numeric' must be list"),
        (lambda p: p["drift"].update(min_history=1), "'drift.min_history' must be at least 2"),
        (lambda p: p["drift"].update(k="two"), "'drift.k' must be int or float"),
        (
            lambda p: p["drift"]["history"]["roc_auc"].update(higher_is_better="yes"),
            "'drift.history.roc_auc.higher_is_better' must be bool",
        ),
        (lambda p: p["retrain"].update(window="tumbling"), "'retrain.window' is 'tumbling'"),
        (lambda p: p["retrain"]["when"].pop("label_drift"), "missing key 'retrain.when.label"),
        (
            lambda p: p["retrain"]["when"].update(persistence={"k": 3, "n": 2}),
            "'retrain.when.persistence' must have 1 <= k <= n",
        ),
        (
            lambda p: p["retrain"]["when"].update(persistence={"k": "two", "n": 3}),
            "'retrain.when.persistence.k' must be int",
        ),
        (lambda p: p.pop("promote"), "missing key 'promote.floors'"),
        (lambda p: p["promote"]["floors"].update(auc=0.7), "'promote.floors' names 'auc'"),
        (lambda p: p["promote"]["floors"].update(roc_auc="high"), "'promote.floors.roc_auc'"),
        (lambda p: p["promote"].update(decide_by="f1"), "'promote.decide_by' is 'f1'"),
        (lambda p: p["promote"].update(margin=-0.01), "'promote.margin' must be 0 or more"),
        (lambda p: p["promote"].update(min_rows=0), "'promote.min_rows' must be at least 1"),
        (
            lambda p: p["promote"]["bootstrap"].update(confidence=95),
            "'promote.bootstrap.confidence' must be between 0 and 1",
        ),
        (lambda p: p["promote"]["bootstrap"].pop("seed"), "missing key 'promote.bootstrap.seed'"),
    ],
)
def test_bad_params_name_the_key(tmp_path, settings, change, message):
    broken = parse_yaml(yaml.safe_dump(settings))
    change(broken)
    with pytest.raises(DriftlineError) as info:
        load_params(write(tmp_path, broken))
    assert message in str(info.value)


def test_missing_and_malformed_files(tmp_path, settings):
    with pytest.raises(DriftlineError, match="params.yaml: file not found"):
        load_params(tmp_path / "params.yaml")
    path = tmp_path / "params.yaml"
    path.write_text("train: [unclosed\n", encoding="utf-8")
    with pytest.raises(DriftlineError, match="params.yaml: not valid YAML"):
        load_params(path)
    write(tmp_path, settings)
    (tmp_path / "data/batches.yaml").write_text("batches: [unclosed\n", encoding="utf-8")
    with pytest.raises(DriftlineError, match="data/batches.yaml: not valid YAML"):
        load_params(path)
    (tmp_path / "data/batches.yaml").unlink()
    with pytest.raises(DriftlineError, match="data/batches.yaml: file not found") as info:
        load_params(path)
    assert "driftline init" in str(info.value)


def test_a_batch_list_in_params_yaml_is_refused_naming_where_it_lives(tmp_path, settings):
    path = write(tmp_path, settings)
    old = parse_yaml(path.read_text())
    path.write_text(yaml.safe_dump({"batches": settings["batches"], **old}), encoding="utf-8")
    with pytest.raises(DriftlineError) as info:
        load_params(path)
    assert "'batches' is not a setting: the batch list lives in data/batches.yaml" in str(
        info.value
    )


def test_a_registry_whose_groups_are_not_those_of_its_batches_is_refused(tmp_path, settings):
    path = write(tmp_path, settings)
    registry = tmp_path / "data/batches.yaml"
    write_registry(["2013-03-30", "2013-03-31", "2013-04-01", "week-7"], registry)
    assert parse_yaml(registry.read_text())["groups"] == ["2013-Q1", "2013-Q2", "week-7"]
    text = registry.read_text()
    registry.write_text(text.replace('  - "week-7"\n', "", 1))  # the group line, by hand
    with pytest.raises(DriftlineError) as info:
        load_params(path, check_window=False)
    assert "data/batches.yaml: 'groups' lists ['2013-Q1', '2013-Q2']" in str(info.value)
    assert "in ['2013-Q1', '2013-Q2', 'week-7']" in str(info.value)


def test_repository_contract_loads(contract):
    assert contract["columns"]["arr_delay"] == {
        "type": "int",
        "nullable": True,
        "range": [-1440, 2880],
    }


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"a": {"type": "date"}}, "column 'a' needs a type"),
        ({"a": "int"}, "column 'a' needs a type"),
        ({"a": {"type": "int", "range": [5, 1]}}, "column 'a' range must be [low, high]"),
    ],
)
def test_bad_contract_names_the_column(tmp_path, columns, message):
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump({"columns": columns}), encoding="utf-8")
    with pytest.raises(DriftlineError) as info:
        load_contract(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ("when", None),
        (["y", "m", "d"], None),
        (["y", "m", "d", "h", "mi"], None),
        (["y", "m"], "must name one date or datetime column"),
        ("y", "time column 'y' must be a text column of ISO 8601 dates"),
        (["when", "m", "d"], "time column 'when' must be an int column"),
        ("nope", "'time' names 'nope', which is not a column"),
        ("maybe", "time column 'maybe' must be a text column of ISO 8601 dates, not nullable"),
    ],
)
def test_time_is_one_date_column_or_the_year_month_day_columns(tmp_path, time, message):
    ints = {name: {"type": "int"} for name in ("y", "m", "d", "h", "mi")}
    columns = {"when": {"type": "str"}, "maybe": {"type": "str", "nullable": True}, **ints}
    path = tmp_path / "contract.yaml"
    path.write_text(
        yaml.safe_dump({"period": "day", "time": time, "columns": columns}), encoding="utf-8"
    )
    if message is None:
        assert load_contract(path)["time"] == time
        return
    with pytest.raises(DriftlineError) as info:
        load_contract(path)
    assert message in str(info.value)
