"""DVC's cache and hashes as the stages read them, with no DVC import: the md5 of a file as
DVC 3 records it, the outputs a ``dvc.lock`` records for a stage, a ``.dvc`` file's record,
where the cache is, and a tracked folder's listing (its ``.dir`` object)."""

from __future__ import annotations

import configparser
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from driftline.core.config import parse_yaml, read_yaml

DVC_DIR = Path(".dvc")


def file_md5(path: str | Path) -> str:
    """The md5 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def lock_outs(text: str, stage: str) -> dict[str, str]:
    """The md5 of each output of ``stage`` in a ``dvc.lock``'s text, by path (a folder's ends
    in ``.dir``).

    Raises
    ------
    KeyError
        If the lock is not valid YAML, or records no such stage or no outputs for it.
    """
    try:
        outs = (parse_yaml(text) or {})["stages"][stage]["outs"]
        return {str(out["path"]): str(out["md5"]) for out in outs}
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise KeyError(stage) from exc


def dvc_record(path: Path) -> dict[str, Any]:
    """The parsed ``.dvc`` file that ``dvc add`` wrote (empty if it is empty or missing).

    Raises
    ------
    DriftlineError
        If the file is not valid YAML.
    """
    if not path.is_file():
        return {}
    record = read_yaml(path) or {}
    return record if isinstance(record, dict) else {}


def cache_dir(root: Path = Path(".")) -> Path:
    """DVC's cache: ``cache.dir`` of ``.dvc/config.local`` or else ``.dvc/config`` (relative
    to ``.dvc``), by default ``.dvc/cache``."""
    found = None
    for name in ("config", "config.local"):
        config = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            config.read(root / DVC_DIR / name, encoding="utf-8")
        except configparser.Error:
            continue
        found = config.get("cache", "dir", fallback=found)
    return root / DVC_DIR / (found or "cache")


def cached_object(cache: Path, md5: str) -> Path:
    """Where the cache keeps the object of an md5 (``<md5>.dir`` for a folder's listing)."""
    return cache / "files" / "md5" / md5[:2] / md5[2:]


def listing(cache: Path, dir_md5: str) -> dict[str, str]:
    """A folder's files, {relpath: md5}, from its ``.dir`` object in the cache (``dir_md5``
    without the ``.dir``); empty when the object is missing or unreadable."""
    try:
        entries = json.loads(cached_object(cache, dir_md5 + ".dir").read_text(encoding="utf-8"))
        return {str(e["relpath"]): str(e["md5"]) for e in entries}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
