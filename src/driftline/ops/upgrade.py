"""Moving a project from the layout before 2026-12 to today's; ``driftline pipeline sync``
runs it, and does nothing in a project that has today's layout.

- The batch list: from ``batches`` in params.yaml to ``pipeline/batches.yaml``, every other
  line of params.yaml, comments too, kept as it is.
- The raw batches: from one tracked file per batch (``data/raw/<batch>.csv`` and
  ``data/raw/<batch>.csv.dvc``) to one tracked folder per group (``data/raw/<group>/<batch>.csv``
  and ``data/raw/<group>.dvc``), each batch's ``meta`` kept under its name. Every batch is
  checked first: its file must be in the workspace with the md5 its .dvc file records. Only
  then is anything changed, so a project missing a file (a clone that has not pulled) is
  refused as it is. Each file is moved, not copied, and DVC's cache keeps every object, so no
  bytes can be lost on the way."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftline.core import paths
from driftline.core.config import PARAMS_FILE, REGISTRY_FILE, load_registry
from driftline.core.dvc_cache import file_md5
from driftline.core.errors import DriftlineError
from driftline.core.io import write_text
from driftline.core.log import get_logger
from driftline.ops.batches import add_meta, dvc_add, run_dvc, write_registry
from driftline.ops.params_text import remove_block


def move_registry(
    params_file: str | Path = PARAMS_FILE, registry_file: str | Path = REGISTRY_FILE
) -> list[str] | None:
    """Move ``batches`` out of params.yaml into the registry; return the batches moved, or
    None when params.yaml has no ``batches`` (nothing to do).

    The registry is written first, then params.yaml without the block: a kill between the
    two leaves both, and the next run finishes the move (the registry is rewritten from
    params.yaml, which still has the list)."""
    params_file, registry_file = Path(params_file), Path(registry_file)
    text = params_file.read_text(encoding="utf-8")
    try:
        settings = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DriftlineError(f"{params_file}: not valid YAML: {exc}") from exc
    if "batches" not in settings:
        return None
    names = [str(name) for name in settings["batches"] or []]
    if registry_file.is_file() and load_registry(registry_file) != names:
        raise DriftlineError(
            f"{params_file} lists batches and {registry_file} lists others: keep one list "
            f"(delete 'batches' from {params_file}, or {registry_file}) and run this again; "
            "nothing was changed"
        )
    updated = remove_block(text, "batches")
    left = yaml.safe_load(updated) or {}
    if "batches" in left or left != {k: v for k, v in settings.items() if k != "batches"}:
        raise DriftlineError(f"{params_file}: could not remove 'batches' safely; nothing changed")
    write_registry(names, registry_file)
    write_text(params_file, updated)
    return names


@dataclass(frozen=True)
class OldBatch:
    name: str
    record: Path  # data/raw/<name>.csv.dvc
    md5: str
    meta: dict[str, Any]

    @property
    def file(self) -> Path:
        return paths.RAW / f"{self.name}.csv"


def old_batches() -> list[OldBatch]:
    """The batches still tracked one file each, with what their .dvc files record."""
    found = []
    for record in sorted(paths.RAW.glob("*.csv.dvc")):
        name = record.name.removesuffix(".csv.dvc")
        try:
            data = yaml.safe_load(record.read_text(encoding="utf-8")) or {}
            (out,) = data["outs"]
            md5 = str(out["md5"])
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise DriftlineError(f"{record}: not a .dvc file of one raw batch ({exc})") from exc
        found.append(OldBatch(name, record, md5, data.get("meta") or {}))
    return found


def move_raw() -> list[str]:
    """Move every batch tracked one file each into its group's tracked folder; return the
    batches moved (none when the project has the folder layout already).

    Raises
    ------
    DriftlineError
        Naming each batch whose file is missing or differs from its record; nothing is
        changed then.
    """
    old = old_batches()
    if not old:
        return []
    problems = []
    for batch in old:
        if not batch.file.is_file():
            problems.append(f"{batch.file} is not in the workspace: run 'dvc pull' first")
        elif file_md5(batch.file) != batch.md5:
            problems.append(
                f"{batch.file} differs from the md5 {batch.record} records: restore it with "
                f"'dvc checkout {batch.file}' (or commit the change with 'dvc add') first"
            )
        elif paths.raw(batch.name).exists():
            problems.append(f"{paths.raw(batch.name)} exists already: move it away first")
    if problems:
        raise DriftlineError(
            "cannot move the raw batches into one folder per group; nothing was changed:\n  "
            + "\n  ".join(problems)
        )
    log = get_logger()
    log.info("moving %d raw batches into one tracked folder per group", len(old))
    # DVC's own way to stop tracking a file; it keeps the file and drops its .gitignore line.
    run_dvc("remove", *(str(batch.record) for batch in old))
    for batch in old:
        target = paths.raw(batch.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(batch.file, target)
    dvc_add(sorted({paths.raw(batch.name).parent for batch in old}))
    meta = {batch.name: batch.meta for batch in old if batch.meta}
    if meta:
        add_meta(meta)
    for batch in old:
        log.info("%s -> %s", batch.file, paths.raw(batch.name))
    return [batch.name for batch in old]
