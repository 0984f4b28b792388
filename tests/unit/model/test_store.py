"""The model is unpickled only when its bytes match the md5 dvc.lock records for it, and then
only from the classes a trained pipeline is made of."""

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.core.config import parse_yaml
from driftline.core.errors import DriftlineError
from driftline.model.build import build_model
from driftline.model.store import load_model, model_bytes


class Payload:
    """A pickle that, when loaded, writes a marker file: proof that it ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


MODEL = Path("models/model.pkl")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """An empty project folder as the working directory, as DVC runs stages."""
    (tmp_path / "models").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_lock(md5: str) -> Path:
    lock = Path("dvc.lock")
    lock.write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python -m driftline.stages.train\n"
        f"    outs:\n    - path: models/model.pkl\n      hash: md5\n      md5: {md5}\n"
    )
    return lock


def test_a_model_matching_the_lock_loads(repo):
    MODEL.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    lock = write_lock(hashlib.md5(MODEL.read_bytes()).hexdigest())
    assert load_model(MODEL, lock) == {"weights": [1, 2, 3]}


def test_a_swapped_model_is_refused_and_never_unpickled(repo):
    marker = repo / "code-ran"
    MODEL.write_bytes(pickle.dumps(Payload(marker)))
    lock = write_lock(hashlib.md5(pickle.dumps({"weights": [1, 2, 3]})).hexdigest())
    with pytest.raises(DriftlineError, match="does not match .*it was not loaded.*dvc checkout"):
        load_model(MODEL, lock)
    assert not marker.exists()


def test_without_a_lock_record_nothing_is_loaded(repo):
    marker = repo / "code-ran"
    MODEL.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(DriftlineError, match="records no 'train' output"):
        load_model(MODEL, Path("dvc.lock"))
    lock = write_lock("0" * 32)
    with pytest.raises(DriftlineError, match="records no md5 for models/other.pkl"):
        load_model(Path("models/other.pkl"), lock)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["hgb", "logreg"])
def test_both_model_kinds_load_through_the_allow_list(repo, repo_root, kind):
    # The hyperparameters params.yaml holds, in the demo or in a project of its own.
    hyper = parse_yaml((repo_root / "params.yaml").read_text())["train"][kind]
    rng = np.random.default_rng(0)
    categorical, numeric = ["carrier", "origin"], ["distance", "temp"]
    frame = pd.DataFrame(
        {
            "carrier": rng.choice(["AA", "UA", "DL", None], 400),
            "origin": rng.choice(["JFK", "LGA", "EWR"], 400),
            "distance": rng.uniform(100, 3000, 400),
            "temp": np.where(rng.random(400) < 0.1, np.nan, rng.normal(60, 15, 400)),
        }
    )
    late = rng.random(400) < 0.3
    model = build_model(kind, hyper, categorical, numeric, seed=42)
    model.fit(frame, late)
    MODEL.write_bytes(model_bytes(model))
    lock = write_lock(hashlib.md5(MODEL.read_bytes()).hexdigest())
    loaded = load_model(MODEL, lock)
    assert np.array_equal(loaded.predict_proba(frame), model.predict_proba(frame))


def test_a_pickle_that_calls_anything_else_is_refused_even_when_the_lock_matches(repo):
    marker = repo / "code-ran"
    MODEL.write_bytes(pickle.dumps(Payload(marker)))
    lock = write_lock(hashlib.md5(MODEL.read_bytes()).hexdigest())
    with pytest.raises(DriftlineError, match=r"refers to posix\.system.*was not loaded"):
        load_model(MODEL, lock)
    assert not marker.exists()
