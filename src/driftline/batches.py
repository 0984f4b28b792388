"""The batch registry: the names listed under ``batches`` in params.yaml, oldest first, and
what their ``data/raw/<name>.csv.dvc`` files record (content hash, period, rows)."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftline import paths
from driftline.config import PARAMS_FILE, batch_list
from driftline.errors import DriftlineError
from driftline.io import write_text

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PERIOD = re.compile(r"\d{4}-\d{2}(-\d{2})?")
BATCHES_KEYS = ("batches:", "batches: []")
# The C loader when PyYAML has one: a registry can hold hundreds of .dvc files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Batch:
    name: str
    period: str | None
    md5: str | None


def dvc_file(name: str) -> Path:
    return paths.raw(name).with_name(f"{name}.csv.dvc")


def registered(params: dict[str, Any]) -> list[Batch]:
    """Every registered batch with its content hash and period, oldest first.

    The period comes from the ``meta`` that ``driftline ingest`` writes into the .dvc file,
    or from the name when it is a period itself (as the demo batches' names are).
    """
    found = []
    for name in batch_list(params):
        record: dict[str, Any] = {}
        if dvc_file(name).is_file():
            record = yaml.load(dvc_file(name).read_text(encoding="utf-8"), Loader=_LOADER) or {}
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
    path = dvc_file(name)
    record = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    record["meta"] = meta
    write_text(path, yaml.safe_dump(record, sort_keys=False))


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


def verify_raw(name: str) -> None:
    """Refuse a raw batch whose bytes differ from the md5 its .dvc file records: the file, or
    the DVC cache copy it was checked out from, is corrupted, and must not be used."""
    record = yaml.load(dvc_file(name).read_text(encoding="utf-8"), Loader=_LOADER) or {}
    expected = ((record.get("outs") or [{}])[0]).get("md5")
    digest = hashlib.md5(usedforsecurity=False)
    with paths.raw(name).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        cached = Path(".dvc/cache/files/md5") / str(expected)[:2] / str(expected)[2:]
        raise DriftlineError(
            f"{paths.raw(name)} does not match the md5 recorded in {dvc_file(name)} (got "
            f"{digest.hexdigest()}, expected {expected}): the file or its copy in the DVC cache "
            f"is corrupted, and it was not used. Repair: delete both copies and fetch a good "
            f"one from the remote: rm -f {paths.raw(name)} {cached}; dvc pull {paths.raw(name)}"
            " (without a remote: put the original file back and run 'dvc add' on it)"
        )
