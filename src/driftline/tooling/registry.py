"""The batch registry: the names ``data/batches.yaml`` lists, oldest first, and what
their group's ``data/raw/<group>.dvc`` file records (content hash, period, rows); and its
write half, which ``driftline ingest`` uses: ``dvc add``, the .dvc ``meta`` and registering a
name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftline.core.batches import grouped
from driftline.core.config import REGISTRY_FILE, batch_list, load_registry, parse_yaml
from driftline.core.errors import DriftlineError
from driftline.core.io import write_text
from driftline.data.raw_files import batch_meta, dvc_file, group_record, recorded_md5
from driftline.pipeline.dvc_cache import cache_dir

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PERIOD = re.compile(r"\d{4}-\d{2}(-\d{2})?")


@dataclass(frozen=True)
class Batch:
    name: str
    period: str | None
    md5: str | None


def registered(params: dict[str, Any]) -> list[Batch]:
    """Every registered batch with its content hash and period, oldest first.

    The period comes from the ``meta`` that ``driftline ingest`` writes into the group's .dvc
    file, or from the name when it is a period itself (as the demo batches' names are).
    """
    found = []
    records: dict[Path, dict[str, Any]] = {}
    cache = cache_dir()
    for name in batch_list(params):
        path = dvc_file(name)
        if path not in records:
            records[path] = group_record(name)
        record = records[path]
        period = batch_meta(name, record).get("period")
        if period is None and PERIOD.fullmatch(name):
            period = name
        found.append(
            Batch(name, None if period is None else str(period), recorded_md5(name, record, cache))
        )
    return found


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise DriftlineError(
            f"batch name {name!r} is not allowed: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


def run_dvc(*args: str) -> None:
    """Run a dvc command; if another dvc command (a ``dvc repro``) holds DVC's repository
    lock, wait for it to finish."""
    dvc = shutil.which("dvc")
    if dvc is None:
        raise DriftlineError("dvc is not on PATH; activate the project's environment (.venv)")
    done = subprocess.run([dvc, "--wait-for-lock", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise DriftlineError(
            f"'dvc {args[0]}' failed:\n{done.stderr.strip() or done.stdout.strip()}"
        )


def dvc_add(targets: list[Path]) -> None:
    """Track files or folders with ``dvc add``."""
    run_dvc("add", "--quiet", *map(str, targets))


def add_meta(meta: dict[str, dict[str, Any]]) -> None:
    """Record each batch's ``meta`` under ``meta.batches`` in its group's .dvc file, beside
    what it holds of the group's other batches (DVC keeps a ``meta`` section as it is)."""
    by_file: dict[Path, dict[str, dict[str, Any]]] = {}
    for name, entry in meta.items():
        by_file.setdefault(dvc_file(name), {})[name] = entry
    for path, entries in by_file.items():
        record = group_record(next(iter(entries)))
        kept = record.get("meta") or {}
        record["meta"] = {**kept, "batches": {**(kept.get("batches") or {}), **entries}}
        write_text(path, yaml.safe_dump(record, sort_keys=False))


def forget_meta(name: str) -> None:
    """Drop a removed batch's entry from its group's .dvc ``meta`` (:func:`add_meta`'s undo)."""
    record = group_record(name)
    batches = dict(((record.get("meta") or {}).get("batches")) or {})
    if batches.pop(name, None) is not None:
        record["meta"]["batches"] = batches
        write_text(dvc_file(name), yaml.safe_dump(record, sort_keys=False))


REGISTRY_HEADER = """\
# The registered raw batches (data/raw/<group>/<name>.csv), oldest first: the newest is the
# last. Written by `driftline ingest`, which appends each batch it adds. `groups` are the
# batches' groups (months), which dvc.yaml's prepare and score stages run over (`foreach`).
# It is apart from params.yaml, the settings, which DVC parses again for every stage that
# declares params; window, evaluate and drift depend on this file.
"""


def _yaml_list(key: str, names: list[str]) -> str:
    return (
        f"{key}:"
        + (" []\n" if not names else "\n")
        + "".join(f"  - {json.dumps(name)}\n" for name in names)
    )


def write_registry(names: list[str], registry_file: str | Path = REGISTRY_FILE) -> None:
    """Write the registry with ``names`` and their groups, atomically, after checking it reads
    back as them."""
    registry_file = Path(registry_file)
    names = [check_name(name) for name in names]
    groups = list(grouped(names))
    text = REGISTRY_HEADER + _yaml_list("groups", groups) + _yaml_list("batches", names)
    data = parse_yaml(text) or {}
    if data.get("batches") != names or data.get("groups") != groups:
        raise DriftlineError(f"{registry_file}: could not write the batch list safely")
    registry_file.parent.mkdir(parents=True, exist_ok=True)
    write_text(registry_file, text)


def register(names: list[str], registry_file: str | Path = REGISTRY_FILE) -> None:
    """Append batch names to the registry, ``data/batches.yaml``."""
    write_registry([*load_registry(registry_file), *names], registry_file)
