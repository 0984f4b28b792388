"""A raw batch's DVC record and the check that its bytes are the ones DVC tracks.

The raw batches of a group (a month, or a quarter of days: ``driftline.core.batches``) lie
in one folder, ``data/raw/<group>/<batch>.csv``, tracked as one by ``data/raw/<group>.dvc``:
its ``outs`` hold the folder's hash, whose ``.dir`` listing in DVC's cache holds each file's
md5, and its ``meta.batches`` what ``driftline ingest`` recorded of each batch. ``prepare@``
reads them; ``driftline ingest`` writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.batches import group_of
from driftline.core.errors import DriftlineError
from driftline.pipeline.dvc_cache import cache_dir, cached_object, dvc_record, file_md5, listing


def dvc_file(name: str) -> Path:
    """The .dvc file that tracks a batch's group folder, e.g. data/raw/2013-01.dvc."""
    return paths.RAW / f"{group_of(name)}.dvc"


def group_record(name: str) -> dict[str, Any]:
    """The parsed .dvc file of a batch's group (empty if the file is empty or missing)."""
    return dvc_record(dvc_file(name))


def batch_meta(name: str, record: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ingest recorded of a batch (period, rows, source, ...): its entry under the
    group's ``meta.batches``; empty when there is none (the demo's batches)."""
    record = group_record(name) if record is None else record
    return ((record.get("meta") or {}).get("batches") or {}).get(name) or {}


def folder_md5(record: dict[str, Any]) -> str | None:
    """The group folder's hash, without ``.dir``, as its .dvc record holds it."""
    md5 = ((record.get("outs") or [{}])[0]).get("md5")
    return md5.removesuffix(".dir") if isinstance(md5, str) and md5.endswith(".dir") else None


def recorded_md5(
    name: str, record: dict[str, Any] | None = None, cache: Path | None = None
) -> str | None:
    """The md5 DVC tracks for a batch's raw file: its entry in the ``.dir`` listing of the
    folder hash the group's .dvc file records (``record`` and ``cache``, when the caller has
    them already). None when the batch is not tracked, or the listing is not in the cache (a
    clone that has not pulled the folder)."""
    md5 = folder_md5(group_record(name) if record is None else record)
    if md5 is None:
        return None
    return listing(cache or cache_dir(), md5).get(paths.raw(name).name)


def verify_raw(name: str, record: dict[str, Any] | None = None, cache: Path | None = None) -> str:
    """Refuse a raw batch whose bytes differ from the md5 DVC tracks for it: the file, or the
    DVC cache copy it was checked out from, is corrupted, and must not be used. Returns that
    md5 (``record`` and ``cache`` as :func:`recorded_md5` takes them)."""
    raw = paths.raw(name)
    record = group_record(name) if record is None else record
    cache = cache or cache_dir()
    folder = folder_md5(record)
    if folder is None:
        raise DriftlineError(
            f"{raw}: its folder is not tracked by DVC ({dvc_file(name)} is missing or holds no "
            f"folder); ingest it with 'driftline ingest', or track it: dvc add {raw.parent}"
        )
    expected = recorded_md5(name, record, cache)
    if expected is None:
        raise DriftlineError(
            f"{raw}: DVC's cache has no listing of {raw.parent} as {dvc_file(name)} records "
            f"it ({folder}.dir), or the listing has no {raw.name}: fetch it with "
            f"'dvc pull {raw.parent}'"
        )
    if not raw.is_file():
        raise DriftlineError(f"{raw} is missing from the workspace: fetch it with 'dvc pull {raw}'")
    actual = file_md5(raw)
    if actual != expected:
        cached = cached_object(cache, expected)
        raise DriftlineError(
            f"{raw} does not match the md5 recorded in {dvc_file(name)} (got "
            f"{actual}, expected {expected}): the file or its copy in the DVC cache "
            f"is corrupted, and it was not used. Repair: delete both copies and fetch a good "
            f"one from the remote: rm -f {raw} {cached}; dvc pull {raw}"
            f" (without a remote: put the original file back and run 'dvc add {raw.parent}')"
        )
    return expected


def unregistered(group: str, batches: list[str]) -> list[Path]:
    """The entries of a group's raw folder that are not the raw file of one of ``batches``
    (a stray download, an editor's backup): ``dvc add`` of the folder would track them."""
    folder = paths.raw_dir(group)
    expected = {paths.raw(batch).name for batch in batches}
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.name not in expected)


def check_folder(group: str, batches: list[str]) -> None:
    """Refuse a group's raw folder that holds anything but its registered batches' files.

    Raises
    ------
    DriftlineError
        Naming each stray entry and what to do with it.
    """
    stray = unregistered(group, batches)
    if stray:
        raise DriftlineError(
            f"{paths.raw_dir(group)} holds {', '.join(map(str, stray))}, which is not a "
            "registered batch (data/batches.yaml): move it out of the folder (add a batch with "
            f"'driftline ingest FILE'), then 'dvc add {paths.raw_dir(group)}' and 'dvc repro'"
        )
