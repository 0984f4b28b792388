"""Retraining as a params change: ``driftline retrain`` moves ``train.window`` in params.yaml
to end at the newest batch when metrics/drift.json advises it (or with ``--force``), as a
sliding or an expanding window (``retrain.window``); ``dvc repro`` then trains the new model.
"""

from __future__ import annotations

from pathlib import Path

from driftline.core import paths
from driftline.core.config import PARAMS_FILE, batch_list, load_params, window_batches
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json, write_text
from driftline.ops.params_text import set_window

WINDOW_MODES = ("sliding", "expanding")


def retrain(force: bool = False, dry_run: bool = False) -> list[str]:
    """Apply the retrain verdict: move train.window in params.yaml to end at the newest batch.

    Returns what it did (or would do, with ``dry_run``), line by line, for the user.
    """
    params = load_params()
    batches = batch_list(params)
    newest = batches[-1]
    if not paths.DRIFT_METRICS.exists():
        raise DriftlineError(f"{paths.DRIFT_METRICS} is missing: run 'dvc repro' first")
    verdict = read_json(paths.DRIFT_METRICS)
    if verdict.get("batch") != newest or "retrain" not in verdict:
        raise DriftlineError(
            f"{paths.DRIFT_METRICS} is for batch {verdict.get('batch')!r} but the newest batch "
            f"is {newest!r}: run 'dvc repro' first, then 'driftline retrain'"
        )
    if not verdict["retrain"] and not force:
        return [
            f"No retraining advised for {newest}; train.window is unchanged "
            "(--force retrains anyway)."
        ]
    old = window_batches(params)
    mode = params["retrain"]["window"]
    start, end = moved_window(batches, old[0], old[-1], mode)
    if (start, end) == (old[0], old[-1]):
        return [f"train.window already ends at the newest batch {newest}; nothing to change."]
    text = set_window(Path(PARAMS_FILE).read_text(), start, end)
    reasons = verdict.get("retrain_reasons", []) if verdict["retrain"] else ["--force"]
    said = [f"reason: {reason}" for reason in reasons]
    said.append(f"train.window: {old[0]}..{old[-1]} -> {start}..{end} ({mode})")
    if dry_run:
        return [*said, "Dry run: params.yaml is unchanged."]
    write_text(PARAMS_FILE, text)
    load_params()  # the edited file must still pass every check
    return [
        *said,
        "Next: dvc repro (trains the new model); then dvc params diff and dvc metrics diff.",
    ]


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
