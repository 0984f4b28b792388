"""``driftline init``: turn the demo clone into an empty project for your own data.

It removes the demo batches, their .dvc files, every output built from them (data, model,
metrics, plots, report, the lock) and the ``demo`` block; writes a starter ``contract.yaml``
inferred from a sample file; sets the target from the options, ``features`` to every
candidate, ``batches: []`` and an empty training window; and says what to review next.
Everything is checked before anything is written. A project that already holds batches of
its own is refused, unchanged.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from driftline.core import paths
from driftline.core.batches import grouped
from driftline.core.config import (
    CONTRACT_FILE,
    PARAMS_FILE,
    REGISTRY_FILE,
    TARGET_NUMERIC_RULES,
    batch_list,
    check_against_contract,
    load_contract,
    load_params,
    parse_yaml,
    positive_classes,
)
from driftline.core.errors import DriftlineError
from driftline.core.io import write_text
from driftline.data.contract import text_chunks
from driftline.data.dataset import row_times
from driftline.data.raw_files import dvc_file
from driftline.monitoring.timeline import TIMELINE_COLUMNS
from driftline.tooling import demo
from driftline.tooling.contract_inference import column_spec, contract_text, find_time, infer_period
from driftline.tooling.params_text import replace_block, set_window
from driftline.tooling.registry import write_registry

# What the demo's runs left that no other project has: the locks and every git-tracked output.
BUILT_FILES = (
    Path("dvc.lock"),
    paths.WINDOW,
    paths.REFERENCE,
    paths.MODEL,
    paths.MODEL_META,
    paths.SCORE_PROFILE,
    paths.VALIDATION,
    paths.champion(paths.MODEL),
    paths.champion(paths.MODEL_META),
    paths.champion(paths.MODEL).with_name("model.pkl.dvc"),
    paths.champion(paths.MODEL_META).with_name("meta.json.dvc"),
    paths.TRAIN_METRICS,
    paths.EVALUATE_METRICS,
    paths.HISTORY,
    paths.TIMELINE,
    paths.DRIFT_METRICS,
    paths.CHALLENGER_METRICS,
    paths.CHAMPION_METRICS,
    paths.EVALUATE_REPORT,
    paths.DRIFT_REPORT,
    paths.PROMOTION_REPORT,
    paths.ROC,
    paths.PRC,
    paths.CONFUSION,
    paths.DRIFT_SCORES,
    paths.CURVES_PNG,
    paths.CONFUSION_PNG,
    paths.HISTORY_PNG,
    paths.DRIFT_PNG,
    paths.DISTRIBUTIONS_PNG,
    paths.RULES_PNG,
    paths.DRIFT_MARKDOWN,
)


@dataclass(frozen=True)
class Plan:
    """What ``init`` writes and removes, all decided before anything changes."""

    contract: str
    contract_data: dict[str, Any]
    params: str
    remove: list[Path]


def parse_positive(text: str) -> dict[str, Any]:
    """``--positive``: ``'above: 15'`` (any rule of ``target.positive``, in YAML), or a bare
    value, which means ``equals`` it."""
    try:
        value = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise DriftlineError(f"--positive {text!r} is not valid YAML: {exc}") from exc
    return value if isinstance(value, dict) else {"equals": text}


def default_classes(positive: dict[str, Any]) -> list[str]:
    """Names for label 0 and label 1 that say what the rule is, e.g. ``['<= 15', '> 15']``."""
    ((rule, value),) = positive.items()
    if rule in TARGET_NUMERIC_RULES:
        symbols = {"above": (">", "<="), "at_least": (">=", "<"), "below": ("<", ">="),
                   "at_most": ("<=", ">")}[rule]  # fmt: skip
        return [f"{symbols[1]} {value}", f"{symbols[0]} {value}"]
    shown = " or ".join(str(v) for v in positive_classes({"positive": positive}))
    return [f"not {shown}", shown]


def plan(
    sample: Path,
    target: str,
    positive: dict[str, Any],
    classes: list[str] | None = None,
    time: str | list[str] | None = None,
    period: str | None = None,
    exclude: list[str] | None = None,
    force: bool = False,
) -> Plan:
    """Check everything and decide what to write; change nothing."""
    params = load_params(check_window=False)
    months = demo.load_months(demo.demo_year(params)) if "demo" in params else None
    own = demo.own_batches(params, months)
    if own:
        raise DriftlineError(
            f"this project already holds batches of its own ({', '.join(own[:5])}"
            f"{', ...' if len(own) > 5 else ''}): 'driftline init' would remove them, so it "
            "changed nothing"
        )
    if months is None and not force:
        raise DriftlineError(
            "params.yaml has no 'demo' block: this project was initialised already. Run "
            "'driftline init --force ...' to infer contract.yaml again (it is overwritten)"
        )
    frame = pd.concat(list(text_chunks(sample)), ignore_index=True)
    specs = {str(name): column_spec(frame[name]) for name in frame.columns}
    if target not in specs:
        raise DriftlineError(f"{sample}: has no column {target!r} for the target")
    time = time if time is not None else find_time(frame, specs)
    names = [time] if isinstance(time, str) else time
    for name in names:
        if name not in specs:
            raise DriftlineError(f"--time names {name!r}, which {sample} has no column of")
        # A time column's values are dates, new every period: never categories.
        specs[name]["nullable"] = False
        specs[name].pop("categories", None)
    period = period or infer_period(row_times(frame, {"time": time}))
    contract_yaml = contract_text(specs, time, period, str(sample))
    contract = load_contract_text(contract_yaml)

    params_yaml = params_text(
        Path(PARAMS_FILE).read_text(encoding="utf-8"),
        target,
        positive,
        negative_classes(frame[target], positive, sample),
        classes or default_classes(positive),
        exclude or [],
    )
    new_params = parse_yaml(params_yaml)
    _check_params(params_yaml, new_params, contract)
    groups = grouped(batch_list(params))
    remove = [
        path
        for names in groups.values()
        for path in (paths.raw(names[0]).parent, dvc_file(names[0]))
    ]
    remove += [
        folder(group)
        for group in groups
        for folder in (
            paths.prepared_dir,
            paths.profiles_dir,
            paths.scores_dir,
            paths.batch_metrics_dir,
        )
    ]
    remove += list(BUILT_FILES)
    return Plan(contract_yaml, contract, params_yaml, [p for p in remove if p.exists()])


def negative_classes(values: pd.Series, positive: dict[str, Any], sample: Path) -> list[str] | None:
    """Under a rule on classes (``equals``, ``in``), the sample's other target values, sorted:
    ``target.negative``. None under a numeric rule, which needs none."""
    if next(iter(positive)) in TARGET_NUMERIC_RULES:
        return None
    chosen = {str(v) for v in positive_classes({"positive": positive})}
    seen = {str(v) for v in values.dropna()}
    if not chosen & seen:
        raise DriftlineError(
            f"{sample}: the target column {values.name!r} never holds the positive class "
            f"({' or '.join(sorted(chosen))}); it holds {', '.join(sorted(seen)[:10])}"
        )
    if not seen - chosen:
        raise DriftlineError(
            f"{sample}: the target column {values.name!r} holds only the positive class "
            f"({' or '.join(sorted(chosen))}): choose a sample with rows of both classes, so "
            "that target.negative can be inferred"
        )
    return sorted(seen - chosen)


def params_text(
    text: str,
    target: str,
    positive: dict[str, Any],
    negative: list[str] | None,
    classes: list[str],
    exclude: list[str],
) -> str:
    """params.yaml for a new project: no demo, no batches, no window yet, the target and
    every candidate feature; every other setting and comment as it was."""
    if "demo" in (parse_yaml(text) or {}):  # absent when initialised already (--force)
        text = replace_block(text, "demo", None)
    negative_line = (
        f"  negative: {json.dumps(negative)}   # the values of label 0 (rules on classes); a\n"
        "                             # value that is neither is refused at ingest\n"
        if negative is not None
        else ""
    )
    text = replace_block(
        text,
        "target",
        "target:\n"
        f"  column: {json.dumps(target)}\n"
        f"  positive: {json.dumps(positive)}   # above | at_least | below | at_most a number,\n"
        "                             # equals a value, or in a list of classes\n"
        f"{negative_line}"
        "  missing: drop              # rows with an empty column: drop | positive | negative\n"
        f"  classes: {json.dumps(classes)}   # the names of label 0 and label 1\n\n",
    )
    text = replace_block(
        text,
        "features",
        "features:\n"
        "  derive: false              # true: add src/driftline/data/features.py's columns\n"
        f"  exclude: {json.dumps(exclude)}   # review: columns known only after the label; ids\n"
        "  categorical: ~             # ~: every text candidate; or a list\n"
        "  numeric: ~                 # ~: every numeric candidate; or a list\n\n",
    )
    return set_window(text, "", "")


def apply(p: Plan) -> list[str]:
    """Write the plan: contract, params, an empty registry and an empty timeline first (each
    atomically), then remove the demo's files and folders, and their lines in DVC's
    .gitignore files."""
    write_text(CONTRACT_FILE, p.contract)
    write_text(PARAMS_FILE, p.params)
    write_registry([])
    write_text(paths.SERVED, ",".join(TIMELINE_COLUMNS) + "\n")  # no model served yet
    for path in p.remove:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    names = {path.name for path in p.remove}
    ignores = [*Path(".").glob("data/**/.gitignore"), *Path(".").glob("metrics/**/.gitignore")]
    for ignore in sorted(ignores) + [Path("models/.gitignore")]:
        if not ignore.is_file():
            continue
        lines = ignore.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if line.strip().lstrip("/") not in names]
        if kept != lines:
            write_text(ignore, "".join(kept))
    return [str(path) for path in p.remove]


def next_steps(contract: dict[str, Any], sample: Path) -> str:
    time = contract["time"]
    return "\n".join(
        [
            "Review, in this order (docs/own-data.md has the checklist):",
            f"  1. contract.yaml: inferred from {sample}. Check each column's type, nullability,",
            "     range and categories, and that `time` and `period` are right.",
            "  2. params.yaml `target`: the column, the positive rule, `missing`, `classes`.",
            "  3. params.yaml `features.exclude`: every column known only after the label",
            "     (it would leak it), and identifiers.",
            "  4. The defaults tuned for the demo: evaluate.threshold, train.hgb.min_samples_leaf,",
            "     drift.history thresholds (docs/own-data.md#the-own-data-checklist).",
            "Then add your batches, oldest first, set the window and run the pipeline:",
            "  driftline ingest FILE             # once per batch",
            "  (set train.window.start and .end in params.yaml to the batches to train on)",
            "  dvc repro",
            "  git add -A data params.yaml contract.yaml dvc.lock metrics plots reports",
            f"(time is {json.dumps(time)}.)",
        ]
    )


def load_contract_text(text: str) -> dict[str, Any]:
    """A contract from text, with the checks of :func:`load_contract`."""
    with tempfile.TemporaryDirectory(prefix="driftline-init-") as tmp:
        path = Path(tmp) / CONTRACT_FILE
        path.write_text(text, encoding="utf-8")
        try:
            return load_contract(path)
        except DriftlineError as exc:
            raise DriftlineError(
                f"the inferred contract.yaml would not load ({exc}); nothing was changed"
            ) from exc


def _check_params(text: str, params: dict[str, Any], contract: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="driftline-init-") as tmp:
        path = Path(tmp) / PARAMS_FILE
        path.write_text(text, encoding="utf-8")
        write_registry([], Path(tmp) / REGISTRY_FILE)
        load_params(path, check_window=False)
    check_against_contract(params, contract)
