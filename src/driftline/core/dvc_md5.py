"""The md5 of a file's bytes, as DVC 3 records it in a lock or a .dvc file: the one way the
stages check a file against a recorded hash."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_md5(path: str | Path) -> str:
    """The md5 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
