"""A group stage (``prepare@<group>``, ``score@<group>``) computes only the batches whose
outputs it does not know already.

Each batch gets a key: a sha256 over everything its outputs depend on (input hashes, the
declared params, the code). Each of the stage's output folders holds a manifest,
``_keys.json`` ({batch: key}). When the stage runs, DVC has removed its outputs from the
workspace but they are still in DVC's cache, and ``dvc.lock`` still holds the previous
run's entry: its folder hashes lead to the ``.dir`` listings in the cache, and so to
the previous manifests and files. A batch whose key is unchanged gets its previous files back,
each checked against its md5 as it is copied; every other batch is computed. Anything amiss
(no lock, no entry, an object missing from the cache, a bad md5) means: compute it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.batches import stage_name
from driftline.core.io import write_bytes, write_json
from driftline.core.log import get_logger
from driftline.pipeline.dvc_cache import cache_dir, cached_object, listing, lock_outs

MANIFEST = "_keys.json"


def code_fingerprint(deps: tuple[Path, ...], root: Path = Path(".")) -> str:
    """A sha256 over the stage's code deps as ``dvc.yaml`` declares them (files and folders;
    driftline.pipeline.stage_inputs), every file by its path, sorted, read in the repository:
    the keys follow what the lock records, not whichever copy of the package is installed.
    A folder counts as DVC counts it: every file in it but byte code (``.dvcignore``)."""
    files = set()
    for dep in deps:
        if (root / dep).is_dir():
            files |= {
                path.relative_to(root)
                for path in (root / dep).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts
            }
        else:
            files.add(dep)
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.as_posix()):
        content = hashlib.sha256((root / path).read_bytes()).hexdigest()
        digest.update(path.as_posix().encode("utf-8") + b"\0" + content.encode("ascii") + b"\n")
    return digest.hexdigest()


def declared(params: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of dotted params keys, e.g. ``features.derive``, by key."""
    values = {}
    for key in keys:
        node: Any = params
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        values[key] = node
    return values


def batch_key(parts: dict[str, Any]) -> str:
    """The sha256 of ``parts`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unchanged(previous: dict[str, str], keys: dict[str, str]) -> list[str]:
    """The batches, in ``keys``' order, whose key the previous manifest holds as it is."""
    return [batch for batch, key in keys.items() if previous.get(batch) == key]


def previous_folders(lock: Path, stage: str, folders: list[Path]) -> dict[Path, str]:
    """The ``.dir`` md5 of each folder among the outputs of ``stage``'s entry in ``lock``;
    folders it does not record are left out."""
    try:
        outs = lock_outs(lock.read_text(encoding="utf-8"), stage)
    except (OSError, KeyError):
        return {}
    wanted = {folder.as_posix(): folder for folder in folders}
    return {
        wanted[path]: md5.removesuffix(".dir")
        for path, md5 in outs.items()
        if path in wanted and md5.endswith(".dir")
    }


def cached_bytes(cache: Path, md5: str | None) -> bytes | None:
    """The bytes of a cache object if they match ``md5``, else None."""
    if md5 is None:
        return None
    try:
        data = cached_object(cache, md5).read_bytes()
    except OSError:
        return None
    return data if hashlib.md5(data, usedforsecurity=False).hexdigest() == md5 else None


def previous_manifest(cache: Path, files: dict[str, str]) -> dict[str, str]:
    data = cached_bytes(cache, files.get(MANIFEST))
    try:
        manifest = json.loads(data) if data is not None else {}
    except ValueError:
        return {}
    return manifest if isinstance(manifest, dict) else {}


@dataclass(frozen=True)
class GroupStage:
    """One run of a group stage: ``outputs`` maps each output folder to the path of a batch's
    file in it; ``compute`` writes every output file of one batch."""

    kind: str
    group: str
    outputs: dict[Path, Callable[[str], Path]]
    compute: Callable[[str], None]


def build(stage: GroupStage, keys: dict[str, str], root: Path = Path(".")) -> list[str]:
    """Restore the batches whose outputs are known, compute the others, write the manifests
    and remove any other file from the output folders. Returns the reused batches."""
    started = time.perf_counter()
    cache = cache_dir(root)
    name = stage_name(stage.kind, stage.group)
    known = previous_folders(root / paths.LOCK, name, [*stage.outputs])
    before = {folder: listing(cache, md5) for folder, md5 in known.items()}
    manifests = [previous_manifest(cache, before.get(folder, {})) for folder in stage.outputs]
    same = set.intersection(*(set(unchanged(manifest, keys)) for manifest in manifests))
    candidates = [batch for batch in keys if batch in same]
    reused = [batch for batch in candidates if _restore(stage, before, cache, batch, root)]
    for batch in keys:
        if batch not in reused:
            stage.compute(batch)
    for folder, path_of in stage.outputs.items():
        write_json(root / folder / MANIFEST, keys)
        expected = {MANIFEST, *(path_of(batch).name for batch in keys)}
        for path in (root / folder).iterdir():
            if path.name not in expected and path.is_file():
                path.unlink()
    get_logger().info(
        "%s: %d batches, %d reused, %d computed in %.1f s",
        stage.group,
        len(keys),
        len(reused),
        len(keys) - len(reused),
        time.perf_counter() - started,
    )
    return reused


def _restore(
    stage: GroupStage,
    before: dict[Path, dict[str, str]],
    cache: Path,
    batch: str,
    root: Path,
) -> bool:
    """Copy a batch's previous files back from the cache, all or none (a bad one: none)."""
    found = {}
    for folder, path_of in stage.outputs.items():
        target = path_of(batch)
        data = cached_bytes(cache, before.get(folder, {}).get(target.name))
        if data is None:
            return False
        found[target] = data
    for target, data in found.items():
        write_bytes(root / target, data)
    return True
