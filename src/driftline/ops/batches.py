"""The batch registry: the names listed under ``batches`` in params.yaml, oldest first, and
what their ``data/raw/<name>.csv.dvc`` files record (content hash, period, rows); and its
write half, which ``driftline ingest`` uses: ``dvc add``, the .dvc ``meta`` and registering a
name in params.yaml."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftline.core.config import PARAMS_FILE, batch_list
from driftline.core.errors import DriftlineError
from driftline.core.io import write_text
from driftline.core.raw_batch import dvc_file, dvc_record

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PERIOD = re.compile(r"\d{4}-\d{2}(-\d{2})?")
BATCHES_KEYS = ("batches:", "batches: []")


@dataclass(frozen=True)
class Batch:
    name: str
    period: str | None
    md5: str | None


def registered(params: dict[str, Any]) -> list[Batch]:
    """Every registered batch with its content hash and period, oldest first.

    The period comes from the ``meta`` that ``driftline ingest`` writes into the .dvc file,
    or from the name when it is a period itself (as the demo batches' names are).
    """
    found = []
    for name in batch_list(params):
        record = dvc_record(name) if dvc_file(name).is_file() else {}
        outs = record.get("outs") or [{}]
        period = (record.get("meta") or {}).get("period")
        if period is None and PERIOD.fullmatch(name):
            period = name
        found.append(Batch(name, None if period is None else str(period), outs[0].get("md5")))
    return found


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise DriftlineError(
            f"batch name {name!r} is not allowed: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


def dvc_add(targets: list[Path]) -> None:
    """Track files with ``dvc add``; if another dvc command (a ``dvc repro``) holds DVC's
    repository lock, wait for it to finish."""
    dvc = shutil.which("dvc")
    if dvc is None:
        raise DriftlineError("dvc is not on PATH; activate the project's environment (.venv)")
    done = subprocess.run(
        [dvc, "--wait-for-lock", "add", "--quiet", *map(str, targets)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise DriftlineError(f"'dvc add' failed:\n{done.stderr.strip() or done.stdout.strip()}")


def add_meta(name: str, meta: dict[str, Any]) -> None:
    """Record ``meta`` in the batch's .dvc file (DVC keeps a ``meta`` section as it is)."""
    record = dvc_record(name)
    record["meta"] = meta
    write_text(dvc_file(name), yaml.safe_dump(record, sort_keys=False))


def register(names: list[str], params_file: str | Path = PARAMS_FILE) -> None:
    """Append batch names to the ``batches`` list of params.yaml, keeping every comment.

    The list is edited as text (a new ``  - "name"`` line after its last item) and the result
    is parsed back and checked before it atomically replaces the file.
    """
    params_file = Path(params_file)
    text = params_file.read_text(encoding="utf-8")
    before = yaml.safe_load(text)["batches"] or []
    lines = text.splitlines(keepends=True)
    start = next(
        (i for i, line in enumerate(lines) if line.split("#")[0].strip() in BATCHES_KEYS), None
    )
    if start is None:
        raise DriftlineError(f"{params_file}: no top-level 'batches:' list to append to")
    lines[start] = "batches:\n"
    end = start + 1
    while end < len(lines) and (lines[end].startswith("  - ") or not lines[end].strip()):
        end += 1
    while lines[end - 1].strip() == "":
        end -= 1
    added = [f'  - "{name}"\n' for name in names]
    updated = "".join(lines[:end] + added + lines[end:])
    if yaml.safe_load(updated)["batches"] != [*before, *names]:
        raise DriftlineError(f"{params_file}: could not append to 'batches' safely")
    write_text(params_file, updated)
