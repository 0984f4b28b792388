"""Loading the model safely. The model file is a pickle, and unpickling runs code, so it is
loaded only once its bytes match the md5 that ``dvc.lock`` records for the ``train`` stage's
output: the file is then the one this repository's pipeline wrote (or DVC restored from a
remote, which verifies the same hash)."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import yaml

from driftline import paths
from driftline.errors import DriftlineError

LOCK = Path("dvc.lock")


def recorded_md5(path: Path = paths.MODEL, lock: Path = LOCK) -> str:
    """The md5 that ``dvc.lock`` records for ``path`` as an output of ``train``."""
    try:
        stages = yaml.load(lock.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        outs = stages["stages"]["train"]["outs"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise DriftlineError(
            f"{lock} records no 'train' output, so {path} cannot be verified and was not "
            "loaded: run 'dvc repro'"
        ) from exc
    for out in outs:
        if out.get("path") == path.as_posix():
            return str(out["md5"])
    raise DriftlineError(f"{lock} records no md5 for {path}; it was not loaded: run 'dvc repro'")


def load_model(path: Path = paths.MODEL, lock: Path = LOCK) -> Any:
    """Unpickle the model only if its md5 matches ``dvc.lock``; otherwise refuse, unloaded."""
    expected = recorded_md5(path, lock)
    data = path.read_bytes()
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != expected:
        raise DriftlineError(
            f"{path} does not match {lock} (md5 {actual}, expected {expected}); it was not "
            f"loaded. Restore the recorded model with 'dvc checkout {path}' (or 'dvc pull'), "
            "or retrain with 'dvc repro'"
        )
    return pickle.loads(data)
