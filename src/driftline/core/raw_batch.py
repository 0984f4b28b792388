"""A raw batch's DVC record, ``data/raw/<name>.csv.dvc``, and the check that the raw file's
bytes are the ones it records. ``prepare@`` reads them; ``driftline ingest`` writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from driftline.core import paths
from driftline.core.dvc_md5 import file_md5
from driftline.core.errors import DriftlineError

# The C loader when PyYAML has one: a registry can hold hundreds of .dvc files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dvc_file(name: str) -> Path:
    return paths.raw(name).with_name(f"{name}.csv.dvc")


def dvc_record(name: str) -> dict[str, Any]:
    """The parsed .dvc file of a batch (empty if the file is empty)."""
    return yaml.load(dvc_file(name).read_text(encoding="utf-8"), Loader=_LOADER) or {}


def recorded_md5(name: str) -> str | None:
    """The md5 of the raw file that its .dvc file records."""
    return ((dvc_record(name).get("outs") or [{}])[0]).get("md5")


def verify_raw(name: str) -> None:
    """Refuse a raw batch whose bytes differ from the md5 its .dvc file records: the file, or
    the DVC cache copy it was checked out from, is corrupted, and must not be used."""
    expected = recorded_md5(name)
    actual = file_md5(paths.raw(name))
    if actual != expected:
        cached = Path(".dvc/cache/files/md5") / str(expected)[:2] / str(expected)[2:]
        raise DriftlineError(
            f"{paths.raw(name)} does not match the md5 recorded in {dvc_file(name)} (got "
            f"{actual}, expected {expected}): the file or its copy in the DVC cache "
            f"is corrupted, and it was not used. Repair: delete both copies and fetch a good "
            f"one from the remote: rm -f {paths.raw(name)} {cached}; dvc pull {paths.raw(name)}"
            " (without a remote: put the original file back and run 'dvc add' on it)"
        )
