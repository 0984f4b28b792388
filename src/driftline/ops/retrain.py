"""Retraining as a params change: ``driftline retrain`` moves ``train.window`` in params.yaml
to end at the newest batch when metrics/drift.json advises it (or with ``--force``), as a
sliding or an expanding window (``retrain.window``); ``dvc repro`` then trains the new model.
"""

from __future__ import annotations

import re
from pathlib import Path

from driftline.core import paths
from driftline.core.config import PARAMS_FILE, batch_list, load_params, window_batches
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json, write_text

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


def set_window(text: str, start: str, end: str) -> str:
    """``params.yaml`` text with ``train.window.start`` and ``end`` replaced, comments and
    layout kept. The caller re-reads the result to check it."""
    lines = text.splitlines(keepends=True)
    section = _block(lines, 0, len(lines), "train")
    window = _block(lines, section[0] + 1, section[1], "window")
    found = set()
    for i in range(window[0] + 1, window[1]):
        match = re.match(r"^(\s+)(start|end)(\s*:\s*)([^#\n]*?)(\s*(#.*)?\n?)$", lines[i])
        if match:
            key = match.group(2)
            value = start if key == "start" else end
            lines[i] = f'{match.group(1)}{key}{match.group(3)}"{value}"{match.group(5)}'
            found.add(key)
    if found != {"start", "end"}:
        raise DriftlineError("params.yaml: train.window needs 'start:' and 'end:' lines")
    return "".join(lines)


def _block(lines: list[str], begin: int, stop: int, key: str) -> tuple[int, int]:
    """The line span [header, end) of the mapping ``key:`` between ``begin`` and ``stop``."""
    for i in range(begin, stop):
        match = re.match(rf"^(\s*){key}\s*:\s*(#.*)?$", lines[i])
        if match:
            indent = len(match.group(1))
            end = i + 1
            while end < stop and (
                not lines[end].strip()
                or lines[end].lstrip().startswith("#")
                or len(lines[end]) - len(lines[end].lstrip()) > indent
            ):
                end += 1
            return i, end
    raise DriftlineError(f"params.yaml: no '{key}:' block found to edit")
