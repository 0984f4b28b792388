"""The one params loader: reads ``params.yaml`` and the batch registry,
``data/batches.yaml``, and refuses, naming the file and the key, what is wrong.

The registry is apart from the settings: DVC parses params.yaml again for every stage that
declares params (each group stage does), and the list grows by a batch a day. It also lists
the groups of the batches, which ``dvc.yaml`` reads through ``vars`` for its ``foreach``;
the summary stages depend on the file as a whole."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from driftline.core.batches import grouped
from driftline.core.errors import DriftlineError

PARAMS_FILE = "params.yaml"
# The registered batches, oldest first, and their groups: written by `driftline ingest` and
# `driftline init`, read here and by dvc.yaml (`vars`).
REGISTRY_FILE = "data/batches.yaml"
# PyYAML's safe loader in C when it was built with libyaml (its wheels are), else in Python:
# the same values, parsed about ten times faster (every stage and command reads several files).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CONTRACT_FILE = "contract.yaml"
CONTRACT_TYPES = ("int", "float", "str")
# The prepared frame's own columns: each row's time and its label (a candidate feature may
# take neither name).
TIME = "time"
TARGET = "target"
# The words params.yaml may use, checked here (driftline.data.target and
# driftline.monitoring.quality implement them).
TARGET_NUMERIC_RULES = ("above", "at_least", "below", "at_most")
TARGET_RULES = TARGET_NUMERIC_RULES + ("equals", "in")
TARGET_MISSING = ("drop", "positive", "negative")
SCORE_METRIC_NAMES = ("roc_auc", "pr_auc", "log_loss", "brier")


def parse_yaml(text: str) -> Any:
    """``text`` parsed as YAML, safely (plain data only): the one YAML parser of the package.

    Raises
    ------
    yaml.YAMLError
        If ``text`` is not valid YAML.
    """
    return yaml.load(text, Loader=_YAML_LOADER)


def read_yaml(path: Path) -> Any:
    """The YAML file at ``path``, parsed with :func:`parse_yaml`.

    Raises
    ------
    DriftlineError
        If the file is not valid YAML (the message names it).
    OSError
        If it cannot be read.
    """
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DriftlineError(f"{path}: not valid YAML: {exc}") from exc


def load_params(path: str | Path = PARAMS_FILE, check_window: bool = True) -> dict[str, Any]:
    """Read ``params.yaml`` and the registry beside it, and check the keys every stage
    relies on. The registered batches are at ``params["batches"]``.

    Parameters
    ----------
    path : str or Path
        The params file, by default ``params.yaml`` in the working directory (DVC runs
        stages from the repository root); the registry is ``data/batches.yaml`` in the
        same folder.
    check_window : bool
        Check that ``train.window`` names registered batches. ``driftline ingest`` turns
        this off: a new project registers its first batches before it has a window.

    Returns
    -------
    dict
        The parsed params.

    Raises
    ------
    DriftlineError
        If the file is missing, is not valid YAML, or a required key is absent or malformed.
    """
    path = Path(path)
    params = _read_mapping(path)
    if "batches" in params:
        raise DriftlineError(
            f"{path}: 'batches' is not a setting: the batch list lives in {REGISTRY_FILE}, "
            "which 'driftline ingest' writes"
        )
    registry = path.parent / REGISTRY_FILE
    params["batches"] = load_registry(registry)
    _check(params, path, registry, check_window)
    return params


def load_registry(path: str | Path = REGISTRY_FILE) -> list[str]:
    """The batch names the registry lists, oldest first.

    Raises
    ------
    DriftlineError
        If the file is missing or malformed, lists a batch twice, or lists other groups than
        those of its batches (``dvc.yaml`` runs one prepare and one score stage per group).
    """
    path = Path(path)
    if not path.is_file():
        raise DriftlineError(
            f"{path}: file not found. Run from the repository root; a new project gets it "
            "from 'driftline init'"
        )
    data = read_yaml(path)
    names = data.get("batches") if isinstance(data, dict) else None
    if names is None and isinstance(data, dict) and "batches" in data:
        names = []  # `batches:` with no items yet
    if not isinstance(names, list):
        raise DriftlineError(f"{path}: expected 'batches:' and a list of batch names")
    names = [str(name) for name in names]
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise DriftlineError(f"{path}: lists {', '.join(twice)} twice")
    groups = [str(group) for group in (data.get("groups") or [])]
    if groups != list(grouped(names)):
        raise DriftlineError(
            f"{path}: 'groups' lists {groups}, but its batches are in {list(grouped(names))}: "
            "each group once, in the order of its first batch (was the file edited by hand? "
            "'driftline ingest' writes both lists)"
        )
    return names


def load_contract(path: str | Path = CONTRACT_FILE) -> dict[str, Any]:
    """Read the data contract, ``contract.yaml``: ``columns`` maps each required raw column
    to its ``type`` (int, float or str), ``nullable``, optional inclusive ``range`` and
    ``categories``; ``period``, ``time``, ``empty_only_with`` and ``extra_columns``
    describe the batch as a whole.

    Raises
    ------
    DriftlineError
        If the file is missing or malformed, naming the column at fault.
    """
    path = Path(path)
    contract = _read_mapping(path)
    columns = _require(contract, "columns", dict, path)
    for name, spec in columns.items():
        if not isinstance(spec, dict) or spec.get("type") not in CONTRACT_TYPES:
            raise DriftlineError(f"{path}: column '{name}' needs a type, one of {CONTRACT_TYPES}")
        bounds = spec.get("range")
        if bounds is not None and not (
            isinstance(bounds, list) and len(bounds) == 2 and bounds[0] <= bounds[1]
        ):
            raise DriftlineError(f"{path}: column '{name}' range must be [low, high]")
    period = _require(contract, "period", str, path)
    if period not in ("month", "day"):
        raise DriftlineError(f"{path}: key 'period' is {period!r}; choose 'month' or 'day'")
    _check_time(contract.get("time"), columns, path)
    pairs = contract.get("empty_only_with") or {}
    if not isinstance(pairs, dict):
        raise DriftlineError(f"{path}: key 'empty_only_with' must map a column to its partner")
    for name in [*pairs, *pairs.values()]:
        if name not in columns:
            raise DriftlineError(f"{path}: key 'empty_only_with' names '{name}', not a column")
    if contract.get("extra_columns", "refuse") not in ("refuse", "drop"):
        raise DriftlineError(f"{path}: key 'extra_columns' must be 'refuse' or 'drop'")
    _check_labels(contract, path)
    return contract


def _check_labels(contract: dict[str, Any], path: Path) -> None:
    """The optional ``labels`` block: whether a batch may arrive without its labels
    (``pending``: allow | refuse), the ``key`` columns that name a row (never empty) and the
    ``later`` columns, which arrive with the labels and are absent from a pending batch."""
    labels = contract.get("labels")
    if labels is None:
        return
    if not isinstance(labels, dict):
        raise DriftlineError(f"{path}: key 'labels' must be a mapping (pending, key, later)")
    if labels.get("pending", "refuse") not in ("allow", "refuse"):
        raise DriftlineError(f"{path}: key 'labels.pending' must be 'allow' or 'refuse'")
    columns = contract["columns"]
    for part in ("key", "later"):
        names = labels.get(part)
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            raise DriftlineError(f"{path}: key 'labels.{part}' must list one column or more")
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise DriftlineError(f"{path}: key 'labels.{part}' names {unknown}, not columns")
    both = sorted(set(labels["key"]) & set(labels["later"]))
    if both:
        raise DriftlineError(f"{path}: {both} in both labels.key and labels.later")
    empty = [n for n in labels["key"] if columns[n].get("nullable")]
    if empty:
        raise DriftlineError(f"{path}: key column(s) {empty} of labels.key may be empty (nullable)")
    time = contract["time"]
    late_time = sorted({*([time] if isinstance(time, str) else time)} & set(labels["later"]))
    if late_time:
        raise DriftlineError(
            f"{path}: time column(s) {late_time} in labels.later: a pending batch must be dated"
        )


def _check_time(time: Any, columns: dict[str, Any], path: Path) -> None:
    """``time`` is one text column of ISO 8601 dates or datetimes, or the integer columns
    of year, month, day and optionally hour and minute; none of them may be empty."""
    names = [time] if isinstance(time, str) else time
    if not (isinstance(names, list) and (isinstance(time, str) or 3 <= len(names) <= 5)):
        raise DriftlineError(
            f"{path}: key 'time' must name one date or datetime column (e.g. time: date), or "
            "the year, month and day columns, optionally with hour and minute "
            "(e.g. time: [year, month, day])"
        )
    want = "str" if isinstance(time, str) else "int"
    for name in names:
        if name not in columns:
            raise DriftlineError(f"{path}: key 'time' names '{name}', which is not a column")
        if columns[name]["type"] != want or columns[name].get("nullable"):
            kind = "a text column of ISO 8601 dates" if want == "str" else "an int column"
            raise DriftlineError(f"{path}: time column '{name}' must be {kind}, not nullable")


def _read_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DriftlineError(f"{path}: file not found; run from the repository root")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DriftlineError(f"{path}: expected a mapping at the top level")
    return data


def batch_list(params: dict[str, Any]) -> list[str]:
    """The registered batches, oldest first, as :func:`load_params` read them."""
    return [str(b) for b in params["batches"]]


def window_batches(params: dict[str, Any]) -> list[str]:
    """The batches of the training window ``train.window`` (start and end inclusive)."""
    batches = batch_list(params)
    window = params["train"]["window"]
    start, end = str(window["start"]), str(window["end"])
    return batches[batches.index(start) : batches.index(end) + 1]


def _require(params: dict[str, Any], dotted: str, kind: type | tuple[type, ...], path: Path):
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise DriftlineError(f"{path}: missing key '{dotted}'")
        node = node[part]
    if not isinstance(node, kind) or isinstance(node, bool) and bool not in _as_tuple(kind):
        names = " or ".join(k.__name__ for k in _as_tuple(kind))
        raise DriftlineError(
            f"{path}: key '{dotted}' must be {names}, got {type(node).__name__} ({node!r})"
        )
    return node


def _check_target(params: dict[str, Any], path: Path) -> None:
    _require(params, "target.column", str, path)
    positive = _require(params, "target.positive", dict, path)
    if len(positive) != 1 or next(iter(positive)) not in TARGET_RULES:
        raise DriftlineError(
            f"{path}: key 'target.positive' must hold one rule, one of {', '.join(TARGET_RULES)}: "
            "e.g. {above: 15} or {in: [Yes]}"
        )
    rule = next(iter(positive))
    negative = params["target"].get("negative")
    if rule in TARGET_NUMERIC_RULES:
        _require(params, f"target.positive.{rule}", (int, float), path)
        if negative is not None:
            raise DriftlineError(
                f"{path}: key 'target.negative' is for a rule on classes (equals, in); under "
                f"target.positive.{rule} every other number is negative: remove it"
            )
    else:
        if rule == "in":
            _require(params, "target.positive.in", list, path)
        _check_negative(params, path)
    missing = _require(params, "target.missing", str, path)
    if missing not in TARGET_MISSING:
        raise DriftlineError(
            f"{path}: key 'target.missing' is {missing!r}; choose {', '.join(TARGET_MISSING)}"
        )
    classes = _require(params, "target.classes", list, path)
    if len(classes) != 2 or len({str(c) for c in classes}) != 2:
        raise DriftlineError(
            f"{path}: key 'target.classes' must name the negative and the positive class, "
            "e.g. [on time, late]"
        )


def _check_negative(params: dict[str, Any], path: Path) -> None:
    """A rule on classes names the negative ones too, so a value that is neither (a typo, a
    new spelling, a row cut inside the target) is refused, not silently labelled 0."""
    if "negative" not in params["target"]:
        raise DriftlineError(
            f"{path}: missing key 'target.negative': a rule on classes (equals, in) names "
            'the values of label 0 too, e.g. negative: ["No"], so that a value that is '
            "neither is refused at ingest"
        )
    negative = _require(params, "target.negative", list, path)
    both = {str(v) for v in negative} & {str(v) for v in positive_classes(params["target"])}
    if not negative or both:
        raise DriftlineError(
            f"{path}: key 'target.negative' must list at least one value and none of "
            f"target.positive's, got {negative!r}"
        )


def positive_classes(target: dict[str, Any]) -> list[Any]:
    """The values of label 1 under a rule on classes (``equals`` or ``in``)."""
    ((rule, value),) = target["positive"].items()
    return list(value) if rule == "in" else [value]


def check_against_contract(params: dict[str, Any], contract: dict[str, Any]) -> None:
    """What params may only name with the contract at hand: the target's column and rule."""
    column = params["target"]["column"]
    spec = contract["columns"].get(column)
    if spec is None:
        raise DriftlineError(
            f"params.yaml: key 'target.column' is {column!r}, which contract.yaml does not list"
        )
    rule = next(iter(params["target"]["positive"]))
    if rule in TARGET_NUMERIC_RULES and spec["type"] == "str":
        raise DriftlineError(
            f"params.yaml: target.positive.{rule} compares numbers, but '{column}' is a text "
            "column in contract.yaml: use {equals: VALUE} or {in: [CLASSES]}"
        )
    labels = contract.get("labels")
    if labels is not None and column not in labels["later"]:
        raise DriftlineError(
            f"contract.yaml: labels.later must list the target's column '{column}' "
            "(params.yaml: target.column): it is what a pending batch lacks"
        )
    excluded = set(params["features"].get("exclude") or [])
    features = [c for c in (labels or {}).get("later", []) if c != column and c not in excluded]
    if features:
        raise DriftlineError(
            f"contract.yaml: labels.later lists {features}, which are candidate features: a "
            "pending batch lacks them, so the model could not score it; list them in "
            "params.yaml's features.exclude"
        )
    unknown = [c for c in params["features"].get("exclude") or [] if c not in contract["columns"]]
    if unknown:
        raise DriftlineError(
            f"params.yaml: features.exclude names {unknown}, which contract.yaml does not list"
        )


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _check(params: dict[str, Any], path: Path, registry: Path, check_window: bool) -> None:
    names = params["batches"]
    window = _require(params, "train.window", dict, path)
    for end in ("start", "end"):
        name = str(_require(params, f"train.window.{end}", str, path))
        if check_window and name not in names:
            raise DriftlineError(
                f"{path}: key 'train.window.{end}' is {name!r}, which {registry} does not list"
            )
    if check_window and names.index(str(window["start"])) > names.index(str(window["end"])):
        raise DriftlineError(f"{path}: key 'train.window' starts after it ends")
    model = _require(params, "train.model", str, path)
    if model not in ("hgb", "logreg"):
        raise DriftlineError(f"{path}: key 'train.model' is {model!r}; choose 'hgb' or 'logreg'")
    _require(params, f"train.{model}", dict, path)
    _require(params, "train.seed", int, path)
    _require(params, "train.threads", int, path)
    for key in ("importance_repeats", "importance_rows"):
        given = params["train"].get(key)
        if given is not None and _require(params, f"train.{key}", int, path) < 1:
            raise DriftlineError(f"{path}: key 'train.{key}' must be at least 1")
    fraction = _require(params, "train.holdout_fraction", (int, float), path)
    if not 0.0 < fraction < 1.0:
        raise DriftlineError(f"{path}: key 'train.holdout_fraction' must be between 0 and 1")
    threshold = _require(params, "evaluate.threshold", (int, float), path)
    if not 0.0 < threshold < 1.0:
        raise DriftlineError(f"{path}: key 'evaluate.threshold' must be between 0 and 1")
    _check_target(params, path)
    _require(params, "features.derive", bool, path)
    for key in ("exclude", "categorical", "numeric"):
        if params["features"].get(key) is not None:
            _require(params, f"features.{key}", list, path)
    _require(params, "profile.bins", int, path)
    _require(params, "drift.share", (int, float), path)
    _require(params, "drift.top", int, path)
    columns = params["drift"].get("columns")
    if columns is not None and not isinstance(columns, dict):
        raise DriftlineError(f"{path}: key 'drift.columns' must be a mapping of column overrides")
    if _require(params, "drift.min_history", int, path) < 2:
        raise DriftlineError(f"{path}: key 'drift.min_history' must be at least 2")
    _require(params, "drift.k", (int, float), path)
    baseline = params["drift"].get("baseline")
    if baseline is not None and (
        isinstance(baseline, bool) or not isinstance(baseline, int) or baseline < 1
    ):
        raise DriftlineError(
            f"{path}: key 'drift.baseline' must be null (every earlier batch) or a whole "
            f"number of batches, at least 1, got {baseline!r}"
        )
    if params["drift"].get("rules_on", "realised") not in ("realised", "estimates"):
        raise DriftlineError(
            f"{path}: key 'drift.rules_on' must be 'realised' or 'estimates', got "
            f"{params['drift']['rules_on']!r}"
        )
    for metric, rule in _require(params, "drift.history", dict, path).items():
        _require(params, f"drift.history.{metric}.higher_is_better", bool, path)
        if rule.get("threshold") is not None:
            _require(params, f"drift.history.{metric}.threshold", (int, float), path)
    mode = _require(params, "retrain.window", str, path)
    if mode not in ("sliding", "expanding"):
        raise DriftlineError(
            f"{path}: key 'retrain.window' is {mode!r}; choose 'sliding' or 'expanding'"
        )
    for signal in ("dataset_drift", "label_drift", "prediction_drift"):
        _require(params, f"retrain.when.{signal}", bool, path)
    for optional in ("importance_drift", "concept_drift"):
        if optional in params["retrain"]["when"]:
            _require(params, f"retrain.when.{optional}", bool, path)
    if "importance_share" in params["drift"]:
        share = _require(params, "drift.importance_share", (int, float), path)
        if not 0.0 < share <= 1.0:
            raise DriftlineError(f"{path}: key 'drift.importance_share' must be in (0, 1]")
    if "persistence" in params["retrain"]["when"]:
        k = _require(params, "retrain.when.persistence.k", int, path)
        n = _require(params, "retrain.when.persistence.n", int, path)
        if not 1 <= k <= n:
            raise DriftlineError(
                f"{path}: key 'retrain.when.persistence' must have 1 <= k <= n (a signal on k "
                f"of the newest n batches), got k={k}, n={n}"
            )
    _check_promote(params, path)


def _check_promote(params: dict[str, Any], path: Path) -> None:
    """The promotion gate's settings (``driftline.model.promotion.decide``)."""
    known = ", ".join(SCORE_METRIC_NAMES)
    for metric in _require(params, "promote.floors", dict, path):
        if metric not in SCORE_METRIC_NAMES:
            raise DriftlineError(
                f"{path}: key 'promote.floors' names {metric!r}; the metrics are {known}"
            )
        _require(params, f"promote.floors.{metric}", (int, float), path)
    decide_by = _require(params, "promote.decide_by", str, path)
    if decide_by not in SCORE_METRIC_NAMES:
        raise DriftlineError(
            f"{path}: key 'promote.decide_by' is {decide_by!r}; choose one of {known}"
        )
    if _require(params, "promote.margin", (int, float), path) < 0:
        raise DriftlineError(f"{path}: key 'promote.margin' must be 0 or more")
    if _require(params, "promote.min_rows", int, path) < 1:
        raise DriftlineError(f"{path}: key 'promote.min_rows' must be at least 1")
    if _require(params, "promote.bootstrap.resamples", int, path) < 1:
        raise DriftlineError(f"{path}: key 'promote.bootstrap.resamples' must be at least 1")
    if not 0.0 < _require(params, "promote.bootstrap.confidence", (int, float), path) < 1.0:
        raise DriftlineError(
            f"{path}: key 'promote.bootstrap.confidence' must be between 0 and 1, e.g. 0.95"
        )
    _require(params, "promote.bootstrap.seed", int, path)


def feature_lists(params: dict[str, Any], reference: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The model's categorical and numeric features, checked against the candidates the
    training reference profiles; a list left out of params means all candidates of its kind.
    """
    kinds = {name: c["kind"] for name, c in reference["columns"].items() if name != TARGET}
    chosen = []
    for kind in ("categorical", "numeric"):
        available = [name for name, k in kinds.items() if k == kind]
        names = params["features"].get(kind)
        if names is None:
            chosen.append(available)
            continue
        names = [str(c) for c in names]
        unknown = [c for c in names if c not in available]
        if unknown:
            raise DriftlineError(
                f"params.yaml: features.{kind} {unknown} are not {kind} candidates; choose "
                f"from {available} (candidates: contract.yaml's columns but the target, the "
                "time columns and features.exclude, plus the derived ones)"
            )
        chosen.append(names)
    if not chosen[0] and not chosen[1]:
        raise DriftlineError("params.yaml: features.categorical and features.numeric are empty")
    return chosen[0], chosen[1]
