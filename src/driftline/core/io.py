"""Atomic writers. Every output goes to a temp file in its folder and is renamed into place,
so an interrupted run leaves the old file or the new one, never half of one."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from driftline.core.failpoint import failpoint

FLOAT_DIGITS = 6


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it onto ``target`` if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A process killed mid-write (SIGKILL runs no cleanup) leaves its temp file: remove it.
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        failpoint(f"write@{target.as_posix()}")
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def rounded(value: Any, digits: int = FLOAT_DIGITS) -> Any:
    """Round every float in a nested structure, so that JSON diffs show only real changes.

    NaN and infinities become ``None``: JSON has no spelling for them.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = round(value, digits)
        return 0.0 if value == 0 else value
    return value


def to_json(data: Any) -> str:
    """The one JSON format: sorted keys, rounded floats, two-space indent, final newline."""
    return json.dumps(rounded(data), sort_keys=True, indent=2, allow_nan=False) + "\n"


def write_json(target: str | Path, data: Any) -> None:
    write_text(target, to_json(data))


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_parquet(target: str | Path, frame: pd.DataFrame) -> None:
    """Write a frame as parquet without its index; the bytes depend only on the data."""
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def write_csv(target: str | Path, frame: pd.DataFrame) -> None:
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", float_format=f"%.{FLOAT_DIGITS}g")


def write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Atomically write ``target`` with ``writer(tmp_path)``, e.g. a matplotlib ``savefig``."""
    with atomic_path(target) as tmp:
        writer(tmp)
