"""Saving and loading the model safely. The model file is a pickle, and unpickling can run
code, so loading has two gates:

1. the file's bytes must match the md5 that ``dvc.lock`` records for the ``train`` stage's
   output: it is then the file this repository's pipeline wrote (or DVC restored from a
   remote, which verifies the same hash); the champion (``load_champion``), a copy that
   ``driftline retrain`` tracked with ``dvc add``, must match the md5 of its ``.dvc`` file;
2. the unpickler builds only the classes and functions on ``ALLOWED``, which are what the
   pipelines that ``train`` writes are made of. Anything else (``os.system``, ``eval``,
   another library's class) stops the load before it is called.

skops was tried for the file format and not adopted: skops 0.16 names the arrays in its zip
by ``id()`` and stamps each entry with the current time, so the same model gives different
bytes on every run, and DVC would rerun every stage after ``train`` each time.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.errors import DriftlineError
from driftline.pipeline.dvc_cache import dvc_record, lock_outs

LOCK = paths.LOCK
PROTOCOL = 5

# (module, name) of every global that a pickled hgb or logreg pipeline refers to, with the
# pinned numpy and scikit-learn. tests/unit/model/test_store.py trains both kinds and loads them.
ALLOWED = frozenset(
    [
        ("builtins", "slice"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.random._pcg64", "PCG64"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random.bit_generator", "SeedSequence"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
        ("sklearn._loss._loss", "CyHalfBinomialLoss"),
        ("sklearn._loss.link", "Interval"),
        ("sklearn._loss.link", "LogitLink"),
        ("sklearn._loss.loss", "HalfBinomialLoss"),
        ("sklearn.compose._column_transformer", "ColumnTransformer"),
        ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
        (
            "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
            "HistGradientBoostingClassifier",
        ),
        ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
        ("sklearn.impute._base", "SimpleImputer"),
        ("sklearn.linear_model._logistic", "LogisticRegression"),
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.preprocessing._data", "StandardScaler"),
        ("sklearn.preprocessing._encoders", "OneHotEncoder"),
        ("sklearn.preprocessing._label", "LabelEncoder"),
    ]
)


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, path: Path):
        super().__init__(io.BytesIO(data))
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise DriftlineError(
                f"{self.path} refers to {module}.{name}, which a model trained here never "
                "does; it was not loaded. Retrain with 'dvc repro'; if you upgraded numpy or "
                "scikit-learn, add the new name to ALLOWED in driftline/core/model_store.py"
            )
        return super().find_class(module, name)


def model_bytes(model: Any) -> bytes:
    """The bytes of the model file."""
    return pickle.dumps(model, protocol=PROTOCOL)


def recorded_md5(
    path: Path = paths.MODEL, lock: Path = LOCK, text: str | None = None, stage: str = "train"
) -> str:
    """The md5 that ``dvc.lock`` records for ``path`` as an output of ``stage``; ``text``
    is the lock's text when it comes from elsewhere than the file ``lock`` (a git revision),
    which ``lock`` then names in messages."""
    try:
        outs = lock_outs(lock.read_text() if text is None else text, stage)
    except (OSError, KeyError) as exc:
        raise DriftlineError(
            f"{lock} records no '{stage}' output, so {path} cannot be verified and was not "
            "loaded: run 'dvc repro'"
        ) from exc
    if path.as_posix() in outs:
        return outs[path.as_posix()]
    raise DriftlineError(f"{lock} records no md5 for {path}; it was not loaded: run 'dvc repro'")


def tracked_md5(path: Path) -> str:
    """The md5 that ``path``'s own ``.dvc`` file (written by ``dvc add``) records."""
    record_file = path.with_name(path.name + ".dvc")
    try:
        return str(dvc_record(record_file)["outs"][0]["md5"])
    except (DriftlineError, KeyError, IndexError, TypeError) as exc:
        raise DriftlineError(
            f"{record_file} records no md5, so {path} cannot be verified and was not loaded"
        ) from exc


def load_champion(path: Path | None = None) -> Any:
    """Unpickle the champion (by default models/champion/model.pkl), the model being
    replaced, only if its md5 matches its ``.dvc`` file and it is built from ``ALLOWED``
    alone; otherwise refuse, unloaded."""
    path = path or paths.champion(paths.MODEL)
    record = path.with_name(path.name + ".dvc")
    data = verified(
        path.read_bytes(), tracked_md5(path), path, record, f"Restore it with 'dvc pull {record}'"
    )
    return unpickle_model(data, path)


def verified(
    data: bytes,
    expected: str,
    path: Path | str,
    record: Path | str = LOCK,
    restore: str | None = None,
) -> bytes:
    """``data`` if its md5 is ``expected`` (what ``record`` says for ``path``); otherwise
    refuse, naming both md5s and the repair (``restore``, by default checkout or retrain)."""
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != expected:
        restore = restore or (
            f"Restore the recorded file with 'dvc checkout {path}' (or 'dvc pull'), "
            "or retrain with 'dvc repro'"
        )
        raise DriftlineError(
            f"{path} does not match {record} (md5 {actual}, expected {expected}); it was not "
            f"loaded. {restore}"
        )
    return data


def unpickle_model(data: bytes, path: Path | str) -> Any:
    """Unpickle verified model bytes, building only what ``ALLOWED`` lists."""
    return _AllowListUnpickler(data, Path(path)).load()


def load_model(path: Path = paths.MODEL, lock: Path = LOCK) -> Any:
    """Unpickle the model only if its md5 matches ``dvc.lock`` and it is built from
    ``ALLOWED`` alone; otherwise refuse, unloaded. ``driftline predict --model REV`` reads
    the bytes and the md5 at a git revision instead, through the same two gates."""
    expected = recorded_md5(path, lock)
    return unpickle_model(verified(path.read_bytes(), expected, path, lock), path)
