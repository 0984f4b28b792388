"""Retraining as a params change: ``driftline retrain`` moves ``train.window`` in params.yaml
to end at the newest batch when the drift stage advises it (reports/drift.json; or with
``--force``), as a sliding or an expanding window (``retrain.window``); ``dvc repro`` then
trains the new model.

Its quality rows go into the timeline: metrics/history.csv's rows (the outgoing model on
each batch after its window) are added to models/served.csv, which the evaluate stage reads,
so no batch's quality as its serving model scored it vanishes with the retrain.

The model it replaces becomes the champion: models/model.pkl and models/meta.json, checked
against dvc.lock, are copied to models/champion/ and tracked with ``dvc add`` (so ``dvc push``
stores them and a fresh clone gets them with ``dvc pull``). The ``promote`` stage then
compares the new model, the challenger, with it on the same rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from driftline.core import paths
from driftline.core.config import PARAMS_FILE, batch_list, load_params, window_batches
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json, write_bytes, write_csv, write_text
from driftline.model.store import recorded_md5
from driftline.monitoring.timeline import TIMELINE_COLUMNS, archived, model_label, read_rows
from driftline.tooling.params_text import set_window
from driftline.tooling.registry import dvc_add

WINDOW_MODES = ("sliding", "expanding")


def retrain(force: bool = False, dry_run: bool = False) -> list[str]:
    """Apply the retrain verdict: move train.window in params.yaml to end at the newest batch.

    Returns what it did (or would do, with ``dry_run``), line by line, for the user.
    """
    params = load_params()
    batches = batch_list(params)
    newest = batches[-1]
    if not paths.DRIFT_REPORT.exists():
        raise DriftlineError(f"{paths.DRIFT_REPORT} is missing: run 'dvc repro' first")
    verdict = read_json(paths.DRIFT_REPORT)
    if verdict.get("batch") != newest or "retrain" not in verdict:
        raise DriftlineError(
            f"{paths.DRIFT_REPORT} is for batch {verdict.get('batch')!r} but the newest batch "
            f"is {newest!r}: run 'dvc repro' first, then 'driftline retrain'"
        )
    if not verdict["retrain"] and not force:
        return [
            f"No retraining advised for {newest}; train.window is unchanged "
            "(--force retrains anyway)."
        ]
    old = window_batches(params)
    mode = params["retrain"]["window"]
    labelled = labelled_prefix(batches)
    start, end = moved_window(labelled, old[0], old[-1], mode)
    if (start, end) == (old[0], old[-1]):
        newest = "newest batch" if len(labelled) == len(batches) else "newest labelled batch"
        return [f"train.window already ends at the {newest} {end}; nothing to change."]
    text = set_window(Path(PARAMS_FILE).read_text(), start, end)
    reasons = verdict.get("retrain_reasons", []) if verdict["retrain"] else ["--force"]
    said = [f"reason: {reason}" for reason in reasons]
    if len(labelled) < len(batches):
        said.append(
            f"the window ends at {end}, the newest labelled batch: "
            f"{', '.join(batches[len(labelled) :])} pending labels"
        )
    said.append(f"train.window: {old[0]}..{old[-1]} -> {start}..{end} ({mode})")
    handed, hand_over = outgoing(old)
    said += handed
    if dry_run:
        return [*said, f"Dry run: params.yaml, models/champion and {paths.SERVED} are unchanged."]
    write_text(PARAMS_FILE, text)
    load_params()  # the edited file must still pass every check
    hand_over()
    return [
        *said,
        "Next: dvc repro (trains the new model and compares it with the champion), then "
        "dvc metrics diff or driftline report, and driftline gate; commit with: git add "
        "params.yaml models/champion models/served.csv dvc.lock metrics plots reports; then "
        "dvc push",
    ]


def labelled_prefix(batches: list[str]) -> list[str]:
    """The batches before the first one pending labels (as the quality history marks them):
    a window cannot hold a batch without labels."""
    if not paths.HISTORY.is_file():
        return batches
    pending = {str(r["batch"]) for r in read_rows(paths.HISTORY) if r.get("pending")}
    first = next((i for i, name in enumerate(batches) if name in pending), len(batches))
    return batches[:first]


def outgoing(window: list[str]) -> tuple[list[str], Callable[[], None]]:
    """What a new training window does to the model serving now (trained on ``window``): it
    becomes the champion the promotion gate compares the new model with, and its quality rows
    go into the timeline. Checks first; returns what it will do, line by line, and the
    function that does it."""
    champion = [paths.MODEL, paths.MODEL_META]
    for path in champion:
        check_recorded(path)
    label = model_label(window)
    served = present_rows(paths.SERVED)
    kept = archived(served, present_rows(paths.HISTORY), label)
    said = [
        f"champion: the model of {label} is kept in {paths.CHAMPION}/ (dvc add)",
        f"timeline: model {label}'s quality on the {len(kept) - len(served)} batches it "
        f"served is kept in {paths.SERVED}",
    ]

    def hand_over() -> None:
        write_csv(paths.SERVED, pd.DataFrame(kept, columns=TIMELINE_COLUMNS))
        for path in champion:
            write_bytes(paths.champion(path), path.read_bytes())
        dvc_add([paths.champion(path) for path in champion])

    return said, hand_over


def present_rows(path: Path) -> list[dict]:
    """:func:`read_rows`, refusing a missing file with what to do."""
    if not path.exists():
        raise DriftlineError(f"{path} is missing: run 'dvc repro' first (git checkout restores it)")
    return read_rows(path)


def check_recorded(path: Path) -> None:
    """The file is the one dvc.lock records: the model serving now, not a stray one."""
    if not path.is_file():
        raise DriftlineError(
            f"{path} is missing, so the model being replaced cannot be kept as the champion: "
            "run 'dvc pull' (or 'dvc repro') first"
        )
    actual = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    if actual != recorded_md5(path):
        raise DriftlineError(
            f"{path} does not match dvc.lock, so it is not the model serving now: restore it "
            f"with 'dvc checkout {path}' (or run 'dvc repro') before 'driftline retrain'"
        )


def moved_window(batches: list[str], start: str, end: str, mode: str) -> tuple[str, str]:
    """The window ending at the newest batch: same length (sliding) or same start (expanding)."""
    if mode not in WINDOW_MODES:
        raise DriftlineError(
            f"params.yaml: key 'retrain.window' is {mode!r}; choose {' or '.join(WINDOW_MODES)}"
        )
    first, last = batches.index(start), batches.index(end)
    newest = len(batches) - 1
    if mode == "expanding":
        return start, batches[newest]
    return batches[max(newest - (last - first), 0)], batches[newest]
