"""Labels that arrive later: ``driftline ingest --labels FILE`` gives a pending batch (one
without the target's column) its labels by key, under the ingest lock and journal
(driftline.tooling.amend), so a refusal changes nothing and a kill half-way is undone by the
next run. The raw file becomes the labelled batch, checked against the whole contract; DVC
sees one changed file, and ``dvc repro`` reruns that batch's group stages and the summaries.
An earlier model's archived timeline row of the batch, made while it was pending, gets its
realised quality where that model is the champion at hand.

The join and its refusals are pure functions on text-valued frames (every value a string,
missing as NA, as :func:`driftline.data.contract.text_chunks` reads a file).

A labels file holds the key columns of contract.yaml's ``labels.key`` and the target's
column, and may hold the other ``labels.later`` columns; it labels one pending batch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from driftline.core import paths
from driftline.core.batches import group_of
from driftline.core.config import TARGET, check_against_contract, load_contract, load_params
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json, write_csv, write_text
from driftline.data.contract import (
    canonical_csv,
    check_file,
    file_columns,
    read_batch,
    restricted,
    text_chunks,
    with_target_classes,
)
from driftline.data.dataset import prepare_frame
from driftline.data.raw_files import batch_meta
from driftline.model.store import load_champion
from driftline.monitoring.estimate import calibrated_draws, estimate, missed_by
from driftline.monitoring.quality import quality
from driftline.monitoring.timeline import TIMELINE_COLUMNS, model_label, read_rows
from driftline.tooling.amend import journaled, next_steps, registered_batch, swap_raw
from driftline.tooling.ingest import exclusive, recover, stage_file, staging
from driftline.tooling.registry import registered

MISSING = ["", "NA"]


def read_text(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A canonical CSV (a raw batch as ingest wrote it) as text, missing values as NA."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=MISSING, usecols=columns)


def _said(row: pd.Series, key: list[str]) -> str:
    return ", ".join(f"{name}={row[name]}" for name in key)


def check_unique_keys(path: str | Path, key: list[str], source: str | Path) -> None:
    """Refuse a batch whose key names two rows (their labels could not be told apart)."""
    frame = read_text(path, key)
    repeated = frame.duplicated(key, keep="first").to_numpy()
    if repeated.any():
        second = int(repeated.nonzero()[0][0])
        row = frame.iloc[second]
        first = int((frame[key] == row[key]).all(axis=1).to_numpy().nonzero()[0][0])
        raise DriftlineError(
            f"{source}: row {second + 2}: key ({_said(row, key)}) repeats row {first + 2}; "
            "contract.yaml's labels.key must name one row, so that its labels can be attached"
        )


def check_columns(
    columns: list[str], key: list[str], later: list[str], target: str, source: str | Path
) -> list[str]:
    """The later columns a labels file brings; refused without a key column or the target's,
    or with a column that is neither."""
    missing = [name for name in [*key, target] if name not in columns]
    if missing:
        raise DriftlineError(
            f"{source}: missing column(s) {', '.join(missing)}: a labels file holds the key "
            f"({', '.join(key)}) and the target's column '{target}'"
        )
    other = [name for name in columns if name not in key and name not in later]
    if other:
        raise DriftlineError(
            f"{source}: unexpected column(s) {', '.join(other)}: a labels file holds the key "
            f"and the columns of contract.yaml's labels.later ({', '.join(later)}) only"
        )
    return [name for name in later if name in columns]


def typed_key(frame: pd.DataFrame, key: list[str], columns: dict[str, Any]) -> pd.DataFrame:
    """The key columns as the contract types them, so that ``7`` and ``7.0`` or ``007`` name
    the same row (the labels file and the batch may spell a number differently)."""
    typed = {}
    for name in key:
        kind = columns[name]["type"]
        if kind == "str":
            typed[name] = frame[name].astype("str")
        else:
            typed[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return pd.DataFrame(typed, index=frame.index)


def matched(pending: pd.DataFrame, labels: pd.DataFrame) -> int:
    """How many of the labels' keys (typed: :func:`typed_key`) name a row of ``pending``."""
    return int(labels.merge(pending, on=list(labels.columns), how="inner").shape[0])


def attach(
    batch: pd.DataFrame,
    labels: pd.DataFrame,
    key: list[str],
    later: list[str],
    columns: dict[str, Any],
    source: str | Path,
) -> tuple[pd.DataFrame, int]:
    """The pending ``batch`` with the ``labels``' later columns joined by ``key``, its
    contract ``columns`` in order (a later column the file does not bring stays empty).

    Returns the labelled batch and how many of its rows got no label. Refused: a key that
    repeats in the labels, or that names no row of the batch.
    """
    mine, theirs = typed_key(batch, key, columns), typed_key(labels, key, columns)
    repeated = theirs.duplicated(key, keep="first").to_numpy()
    if repeated.any():
        line = int(repeated.nonzero()[0][0])
        raise DriftlineError(
            f"{source}: row {line + 2}: key ({_said(labels.iloc[line], key)}) is labelled "
            "twice; a row gets one label"
        )
    known = theirs.merge(mine.drop_duplicates(), on=key, how="left", indicator=True)["_merge"]
    unknown = (known == "left_only").to_numpy()
    if unknown.any():
        line = int(unknown.nonzero()[0][0])
        raise DriftlineError(
            f"{source}: row {line + 2}: key ({_said(labels.iloc[line], key)}) names no row of "
            f"the batch ({int(unknown.sum())} such row(s))"
        )
    brought = pd.concat(
        [theirs.reset_index(drop=True), labels[later].reset_index(drop=True)], axis=1
    )
    joined = mine.merge(brought, on=key, how="left", indicator=True)
    unlabelled = int((joined["_merge"] == "left_only").sum())
    result = batch.reset_index(drop=True).copy()
    for name in columns:
        if name in later:
            result[name] = joined[name].to_numpy()
        elif name not in result.columns:
            result[name] = pd.NA
    return result[list(columns)], unlabelled


def coverage_refusal(unlabelled: int, rows: int, batch: str, source: str | Path) -> str:
    """Why a labels file that leaves rows of the batch without a label is refused."""
    return (
        f"{source}: labels {rows - unlabelled} of batch {batch}'s {rows} rows; {unlabelled} "
        "would stay unlabelled. Give every row its label, or accept a partial labelling with "
        "--partial REASON (the rows left are then empty targets, which params.yaml's "
        "target.missing governs)"
    )


def labels_meta(source: str | Path, rows: int, unlabelled: int, reason: str | None) -> Any:
    """What the batch's .dvc meta records of its labels."""
    return {
        "source": Path(source).name,
        "labelled_rows": rows - unlabelled,
        **({"partial": reason, "unlabelled_rows": unlabelled} if unlabelled else {}),
    }


def attach_labels(source: Path, name: str | None = None, partial: str | None = None) -> list[str]:
    """Attach the labels in ``source`` to the pending batch whose rows they name (or to
    batch ``name``); refused, with nothing changed, for a label of an unknown row, a key
    labelled twice, a batch that is not pending, a value the contract or the target refuses,
    or rows left unlabelled unless ``partial`` gives the reason. Returns what it did."""
    try:
        return _attach_labels(source, name, partial)
    except DriftlineError as exc:
        if "nothing was changed" in str(exc):
            raise
        raise DriftlineError(f"{exc}\nnothing was changed") from exc


def _attach_labels(source: Path, name: str | None, partial: str | None) -> list[str]:
    with exclusive(), tempfile.TemporaryDirectory(prefix="batch-", dir=staging()) as tmp:
        recover(Path(tmp))
        params = load_params()
        contract = load_contract()
        check_against_contract(params, contract)
        contract = with_target_classes(contract, params["target"])
        spec, target = contract.get("labels"), params["target"]["column"]
        if spec is None:
            raise DriftlineError(
                "contract.yaml has no labels block (pending, key, later): no batch can be "
                "pending labels"
            )
        key = spec["key"]
        brought = check_columns(file_columns(source), key, spec["later"], target, source)
        # The labels file's own values, checked by the contract (the target's classes too),
        # so that a refusal names its rows.
        check_file(source, restricted(contract, [*key, *brought]))
        given = pd.concat(list(text_chunks(source)), ignore_index=True)
        batch = _labelled_batch(params, name, given, key, contract, target, source)
        text = read_text(paths.raw(batch))
        joined, unlabelled = attach(text, given, key, brought, contract["columns"], source)
        if unlabelled and not partial:
            raise DriftlineError(coverage_refusal(unlabelled, len(joined), batch, source))
        staged = Path(tmp) / "labelled.csv"
        write_text(staged, canonical_csv(joined))
        try:  # the joined batch against the whole contract: the rules across both files
            candidate = stage_file(staged, contract, Path(tmp) / "checked.csv")
        except DriftlineError as exc:
            raise DriftlineError(f"batch {batch} with the labels of {source}: {exc}") from exc
        meta = {
            **{k: v for k, v in batch_meta(batch).items() if k != "labels"},
            "labels": labels_meta(source, len(joined), unlabelled, partial),
        }
        with journaled("labels", batch, Path(tmp)) as set_aside:
            swap_raw(set_aside, batch, candidate.staged, meta)
            archived = _reconcile_served(batch, params, contract)
    left = f"; {unlabelled} left without one ({partial})" if unlabelled else ""
    return [
        f"Labelled batch {batch}: {len(joined) - unlabelled} of {len(joined)} rows from "
        f"{source}{left}",
        *([archived] if archived else []),
        *next_steps(group_of(batch), False, f"Labels of batch {batch}"),
    ]


def _reconcile_served(batch: str, params: dict, contract: dict) -> str | None:
    """The archived row of ``batch`` that an earlier model made while it was pending
    (models/served.csv, written by a retrain): its realised quality beside its estimate,
    scored with that model where it is the champion at hand (the retrain kept it in
    models/champion/). Returns what it did, or None when no such row exists."""
    rows = read_rows(paths.SERVED) if paths.SERVED.is_file() else []
    mine = next((r for r in rows if str(r["batch"]) == batch and r.get("pending")), None)
    if mine is None:
        return None
    meta_path = paths.champion(paths.MODEL_META)
    meta = read_json(meta_path) if meta_path.is_file() else {}
    if model_label(meta.get("window") or ["?"]) != mine["model"]:
        return (
            f"timeline: model {mine['model']}'s archived row of {batch} keeps its estimate "
            f"only: that model is no longer in {paths.CHAMPION}/"
        )
    try:
        model = load_champion()
    except DriftlineError as exc:  # not pulled, or changed: the labels still land
        return (
            f"timeline: model {mine['model']}'s archived row of {batch} keeps its estimate "
            f"only: {exc}"
        )
    prepared, _ = prepare_frame(read_batch(paths.raw(batch), contract), params, contract)
    features = meta["features"]["categorical"] + meta["features"]["numeric"]
    scores = model.predict_proba(prepared[features])[:, 1]
    threshold = params["evaluate"]["threshold"]
    realised = quality(prepared[TARGET].to_numpy(), scores, threshold)
    found = {**realised, "pending": False}
    if "calibration" in meta:  # the estimate on the same rows, as score@ makes it
        estimated = estimate(
            calibrated_draws(scores, meta["calibration"]),
            scores,
            threshold,
            params["train"]["seed"],
        )
        found.update(estimated, estimate_missed=bool(missed_by(realised, estimated)))
    mine.update({k: v for k, v in found.items() if k in TIMELINE_COLUMNS})
    write_csv(paths.SERVED, pd.DataFrame(rows, columns=TIMELINE_COLUMNS))
    return (
        f"timeline: model {mine['model']}, which served {batch} on arrival, scored it again "
        f"with the labels ({paths.SERVED}): realised ROC AUC {_shown(realised['roc_auc'])} beside "
        f"its estimate {_shown(mine.get('est_roc_auc'))}"
    )


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def pending_batches(names: list[str], target: str) -> list[str]:
    """The batches, of ``names``, whose raw file has no target column: pending labels."""
    return [n for n in names if paths.raw(n).is_file() and target not in file_columns(paths.raw(n))]


def _labelled_batch(
    params: dict,
    name: str | None,
    given: pd.DataFrame,
    key: list[str],
    contract: dict,
    target: str,
    source: Path,
) -> str:
    """The pending batch the labels are for: ``name``, or the one whose rows they name."""
    batches = registered(params)
    if name is not None:
        registered_batch(batches, name)
        if name not in pending_batches([name], target):
            raise DriftlineError(
                f"batch {name} is not pending labels: its raw file has its target column "
                f"'{target}' (to correct labels, replace the batch: driftline ingest --replace "
                f"{name} FILE)"
            )
        return name
    names = [b.name for b in batches]
    waiting = pending_batches(names, target)
    theirs = typed_key(given, key, contract["columns"]).drop_duplicates()

    def rows_named(batch: str) -> int:
        keys = typed_key(read_text(paths.raw(batch), key), key, contract["columns"])
        return matched(keys, theirs)

    hits = {batch: count for batch in waiting if (count := rows_named(batch))}
    if len(hits) > 1:
        found = ", ".join(f"{b} ({n} rows)" for b, n in hits.items())
        raise DriftlineError(
            f"{source}: labels rows of several pending batches: {found}; a labels file labels "
            "one batch"
        )
    if hits:
        return next(iter(hits))
    for batch in reversed(names):  # the refusal says which labelled batch holds the rows
        if batch not in waiting and paths.raw(batch).is_file() and rows_named(batch):
            raise DriftlineError(
                f"{source}: its rows are batch {batch}'s, which is not pending labels: it "
                f"has its target column '{target}' already"
            )
    raise DriftlineError(
        f"{source}: its keys name no row of a pending batch (pending: "
        f"{', '.join(waiting) or 'none'})"
    )
