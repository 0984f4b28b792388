"""Correct or remove a registered batch: ``driftline ingest --replace BATCH FILE`` and
``driftline remove BATCH``; the journal, the checks and the next steps they share with
``driftline ingest --labels FILE`` (driftline.tooling.labels).

Both run under the ingest lock with its journal (driftline.tooling.ingest), so a refusal
changes nothing and a run killed half-way is undone by the next ingest, replace or remove.
The old raw file is set aside, not deleted, until the change is complete. What changes is
what DVC versions: the group's raw folder (``dvc add``), its .dvc file's ``meta``, the
registry, and the batch's archived rows in models/served.csv (they measured data that is no
longer there), so ``dvc repro`` reruns that batch's group stages (the other batches of the
group are restored, not recomputed) and the summaries.

A batch inside the training window changes the model: refused unless ``force``, and then,
as ``driftline retrain`` does, the model serving now becomes the champion that the
promotion gate judges the new one against. The batches where the window starts and ends are
never removed: move the window first.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from driftline.core import paths
from driftline.core.batches import group_of, grouped
from driftline.core.config import (
    REGISTRY_FILE,
    check_against_contract,
    load_contract,
    load_params,
    window_batches,
)
from driftline.core.errors import DriftlineError
from driftline.core.failpoint import failpoint
from driftline.core.io import write_csv, write_text
from driftline.data.contract import with_target_classes
from driftline.data.raw_files import batch_meta, dvc_file
from driftline.monitoring.timeline import TIMELINE_COLUMNS, read_rows
from driftline.tooling.ingest import (
    JOURNAL,
    exclusive,
    recover,
    saved_state,
    stage_file,
    staging,
    undo,
)
from driftline.tooling.registry import (
    Batch,
    add_meta,
    dvc_add,
    forget_meta,
    registered,
    run_dvc,
    write_registry,
)
from driftline.tooling.retrain import outgoing

# The group stages' output folders, which a group that loses its last batch leaves behind.
GROUP_OUTPUTS = (paths.prepared_dir, paths.profiles_dir, paths.scores_dir, paths.batch_metrics_dir)


def replace_batch(name: str, source: Path, force: bool = False) -> list[str]:
    """Replace registered batch ``name``'s raw data with ``source``, a corrected copy of the
    same period, checked against the contract first. Returns what it did, line by line."""
    with exclusive(), tempfile.TemporaryDirectory(prefix="batch-", dir=staging()) as tmp:
        recover(Path(tmp))
        params = load_params()
        batches = registered(params)
        batch = registered_batch(batches, name)
        in_window = _window_check(params, name, force, "replacing")
        contract = load_contract()
        check_against_contract(params, contract)
        contract = with_target_classes(contract, params["target"])
        try:
            candidate = stage_file(source, contract, Path(tmp) / "new.csv")
        except DriftlineError as exc:
            raise DriftlineError(f"{exc}\nnothing was changed") from exc
        same = next((b for b in batches if b.md5 == candidate.md5), None)
        if same is not None:
            raise DriftlineError(
                f"{source}: same content as the registered batch {same.name}: nothing to "
                "replace, nothing was changed"
            )
        period = candidate.summary.period
        if batch.period and period and period != batch.period:
            raise DriftlineError(
                f"{source}: its rows fall in {period}, but batch {name} covers {batch.period}: "
                "a replacement corrects a batch's rows for the same period (a batch of another "
                "period is a new one: driftline ingest), nothing was changed"
            )
        said, hand_over = outgoing(window_batches(params)) if in_window else ([], None)
        meta = {
            **batch_meta(name),
            "period": period,
            "rows": candidate.summary.rows,
            "source": source.name,
            "unseen_category_rows": sum(candidate.summary.unseen.values()),
        }
        with journaled("replace", name, Path(tmp)) as set_aside:
            swap_raw(set_aside, name, candidate.staged, meta)
            dropped = _drop_served(name)
        if hand_over is not None:
            hand_over()
            # The outgoing model's rows were read before the change: its old row of this
            # batch, if an earlier model served it, must not come back.
            _drop_served(name)
    return [
        f"Replaced batch {name} ({batch.period or 'no period'}): {candidate.summary.rows} rows "
        f"from {source}",
        *_served_said(name, dropped),
        *said,
        *next_steps(group_of(name), in_window, f"Replace batch {name}"),
    ]


def remove_batch(name: str, force: bool = False) -> list[str]:
    """Remove registered batch ``name``: its raw data, its registration and its archived
    timeline rows. Returns what it did, line by line."""
    with exclusive(), tempfile.TemporaryDirectory(prefix="batch-", dir=staging()) as tmp:
        recover(Path(tmp))
        params = load_params()
        batches = registered(params)
        batch = registered_batch(batches, name)
        names = [b.name for b in batches]
        window = window_batches(params)
        if name in (window[0], window[-1]):
            end = "starts" if name == window[0] else "ends"
            raise DriftlineError(
                f"batch {name} is where train.window {end} ({window[0]}..{window[-1]}): move "
                "the window first (train.window in params.yaml, or driftline retrain), then "
                "remove it; nothing was changed"
            )
        in_window = _window_check(params, name, force, "removing")
        said, hand_over = outgoing(window) if in_window else ([], None)
        rest = [n for n in names if n != name]
        group = group_of(name)
        emptied = group not in grouped(rest)
        with journaled("remove", name, Path(tmp)) as set_aside:
            set_aside(paths.raw(name))
            failpoint("amend-moved")
            if emptied:  # its group goes: no folder to track, no stages to run
                run_dvc("remove", str(dvc_file(name)))
                shutil.rmtree(paths.raw(name).parent, ignore_errors=True)
                _drop_lock_entries(group)
            else:
                dvc_add([paths.raw(name).parent])
                forget_meta(name)
            write_registry(rest, REGISTRY_FILE)
            dropped = _drop_served(name)
        if emptied:
            for folder in GROUP_OUTPUTS:
                shutil.rmtree(folder(group), ignore_errors=True)
        if hand_over is not None:
            hand_over()
            # The outgoing model's rows were read before the change: its old row of this
            # batch, if an earlier model served it, must not come back.
            _drop_served(name)
    return [
        f"Removed batch {name} ({batch.period or 'no period'})"
        + (f", and its group {group}, which held nothing else" if emptied else ""),
        *_served_said(name, dropped),
        *said,
        *next_steps(None if emptied else group, in_window, f"Remove batch {name}"),
    ]


def registered_batch(batches: list[Batch], name: str) -> Batch:
    """Batch ``name`` among the registered ``batches``, its raw file present; refused otherwise."""
    found = next((b for b in batches if b.name == name), None)
    if found is None:
        listed = ", ".join(b.name for b in batches[-5:])
        raise DriftlineError(
            f"no batch named {name!r} is registered (the newest: {listed}); nothing was changed"
        )
    if not paths.raw(name).is_file():
        raise DriftlineError(
            f"{paths.raw(name)} is missing: run 'dvc pull' first; nothing was changed"
        )
    return found


def _window_check(params: dict, name: str, force: bool, doing: str) -> bool:
    """Whether the batch is in the training window; refused there unless ``force``."""
    window = window_batches(params)
    if name not in window:
        return False
    if not force:
        raise DriftlineError(
            f"batch {name} is in the training window ({window[0]}..{window[-1]}): {doing} it "
            "changes the model. Add --force to make it a retrain, which the promotion gate "
            "judges against the model serving now; nothing was changed"
        )
    return True


class journaled:
    """The change, under a journal: the registry, the raw .gitignore, the group's .dvc file
    and models/served.csv are saved first, and each raw file ``set_aside`` is moved into the
    staging folder (not deleted); on failure, or at the next run after a kill, all of it is
    put back."""

    def __init__(self, command: str, name: str, tmp: Path):
        kept = [
            Path(REGISTRY_FILE),
            paths.RAW / ".gitignore",
            dvc_file(name),
            paths.SERVED,
            paths.LOCK,
        ]
        self.journal = {
            "command": command,
            "batches": [name],
            "created": [],
            "moved": {},
            **saved_state(kept),
        }
        self.tmp = tmp

    def set_aside(self, path: Path) -> None:
        backup = self.tmp / f"set-aside-{path.name}"
        self.journal["moved"][str(path)] = str(backup)
        write_text(JOURNAL, json.dumps(self.journal))
        os.replace(path, backup)

    def __enter__(self):
        write_text(JOURNAL, json.dumps(self.journal))
        return self.set_aside

    def __exit__(self, kind, exc, trace) -> bool:
        if kind is None:
            JOURNAL.unlink()
            return False
        undo(self.journal)
        if isinstance(exc, DriftlineError):
            raise DriftlineError(f"{exc}\nnothing was changed") from exc
        return False


def swap_raw(set_aside, name: str, staged: Path, meta: dict) -> None:
    """Inside :class:`journaled`: batch ``name``'s raw file set aside and replaced by
    ``staged`` (checked), its group folder tracked again and its ``meta`` recorded."""
    set_aside(paths.raw(name))
    os.replace(staged, paths.raw(name))
    failpoint("amend-moved")
    dvc_add([paths.raw(name).parent])
    add_meta({name: meta})


def _drop_lock_entries(group: str) -> None:
    """Drop the group stages of a group that is gone from dvc.lock. DVC rewrites a stage's
    entry when it runs and leaves the entries of stages that no longer exist, so without this
    the committed lock would differ from a fresh build's. Cut as text, so DVC's own layout of
    every other entry stays byte for byte."""
    lock = paths.LOCK
    if not lock.is_file():
        return
    gone = {f"  prepare@{group}:", f"  score@{group}:"}
    kept, skipping = [], False
    for line in lock.read_text().splitlines(keepends=True):
        if line.startswith("  ") and not line.startswith("   "):  # a stage's first line
            skipping = line.rstrip("\n") in gone
        elif not line.startswith(" "):  # a top-level key
            skipping = False
        if not skipping:
            kept.append(line)
    write_text(lock, "".join(kept))


def _drop_served(name: str) -> str | None:
    """Drop the batch's row from models/served.csv; returns the model that had served it."""
    if not paths.SERVED.is_file():
        return None
    rows = read_rows(paths.SERVED)
    mine = [r for r in rows if str(r["batch"]) == name]
    if not mine:
        return None
    kept = [r for r in rows if str(r["batch"]) != name]
    write_csv(paths.SERVED, pd.DataFrame(kept, columns=TIMELINE_COLUMNS))
    return str(mine[0]["model"])


def _served_said(name: str, model: str | None) -> list[str]:
    if model is None:
        return []
    return [
        f"timeline: model {model}'s archived row for {name} is dropped from {paths.SERVED} "
        "(it measured the old data)"
    ]


def next_steps(group: str | None, in_window: bool, message: str) -> list[str]:
    """What to run next; ``group`` is the changed group, None when it is gone."""
    rerun = f"reruns prepare@{group} and score@{group}, then" if group else "reruns"
    return [
        "Next:",
        f"  dvc repro                 # {rerun} the summaries"
        + (", and trains the model again (the gate judges it)" if in_window else ""),
        f"  git add data {paths.SERVED} dvc.lock metrics plots reports"
        + (" params.yaml models/champion" if in_window else ""),
        f"  git commit -m '{message}'",
        "  dvc push                  # send the data to the DVC remote",
    ]
