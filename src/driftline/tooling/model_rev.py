"""A model version and what it was trained with, read at a git revision: the model itself,
its metadata, the training reference and score profile, and the params and data contract.

A version is a git tag in DVC's model-registry format, ``model@vMAJOR.MINOR.PATCH``; any
other git revision (a branch, a commit) names a version too. The files DVC tracks are
fetched through DVC from that revision (from the local cache, else the remote), and each is
checked against the md5 the revision's ``dvc.lock`` records before it is used; the model is
then unpickled by the same allow-list loader as ``score@``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.config import (
    CONTRACT_FILE,
    PARAMS_FILE,
    load_contract,
    load_params,
    parse_yaml,
)
from driftline.core.errors import DriftlineError
from driftline.model.store import LOCK, recorded_md5, unpickle_model, verified
from driftline.tooling.repo_state import git_result
from driftline.tooling.versions import ARTIFACT, version_of

VERSION = re.compile(r"v\d+\.\d+\.\d+")
WORKING_TREE = "working tree"
# The DVC outputs a version is made of, and the stage that writes each.
FILES = {
    "model": (paths.MODEL, "train"),
    "meta": (paths.MODEL_META, "train"),
    "score_profile": (paths.SCORE_PROFILE, "train"),
    "reference": (paths.REFERENCE, "window"),
}


@dataclass
class ModelVersion:
    """A loaded, verified model and what goes with it."""

    label: str  # the tag, the short commit, or "working tree"
    model: Any
    meta: dict[str, Any]
    reference: dict[str, Any]
    score_profile: dict[str, Any]
    params: dict[str, Any]
    contract: dict[str, Any]


def _version_tag(commit: str) -> str | None:
    """The newest ``model@v*`` tag on ``commit``, if any."""
    tags = git_result("tag", "--points-at", commit, "--list", f"{ARTIFACT}@v*").stdout.split()
    tags = [t for t in tags if version_of(t)]
    return max(tags, key=version_of) if tags else None


def resolve(version: str) -> tuple[str, str]:
    """The commit a ``--model`` value names, and its label: ``vX.Y.Z`` means the tag
    ``model@vX.Y.Z``; anything else is a git revision (a tag, branch or commit)."""
    rev = f"{ARTIFACT}@{version}" if VERSION.fullmatch(version) else version
    done = git_result("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if done.returncode != 0:
        known = git_result("tag", "--list", f"{ARTIFACT}@v*").stdout.split()
        listed = ", ".join(known[-10:]) if known else "none yet"
        raise DriftlineError(
            f"--model {version}: no model version or git revision of that name here "
            f"(looked for {rev!r}; versions: {listed}). A version is a tag model@vX.Y.Z; "
            "`git tag --list 'model@*'` lists them"
        )
    commit = done.stdout.strip()
    label = rev if rev.startswith(f"{ARTIFACT}@") else _version_tag(commit) or commit[:8]
    return commit, label


def _at(commit: str, path: str | Path) -> str:
    done = git_result("show", f"{commit}:{Path(path).as_posix()}")
    if done.returncode != 0:
        raise DriftlineError(f"{path} does not exist at {commit[:8]}: no model version there")
    return done.stdout


def _fetch(path: Path, commit: str) -> bytes:
    """The bytes of a DVC-tracked file at ``commit``, from DVC's cache or remote."""
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        return dvc.api.read(path.as_posix(), repo=".", rev=commit, mode="rb")
    except DvcException as exc:
        raise DriftlineError(
            f"{path} at {commit[:8]} is neither in DVC's cache nor on its remote: {exc}. "
            "Fetch it with `dvc fetch --rev <rev>` or push it from where it was trained"
        ) from exc


def _working_label() -> str:
    """The label of the working tree's model: HEAD's version tag or short commit when
    ``dvc.lock`` is as committed, else "working tree"."""
    head = git_result("rev-parse", "--verify", "--quiet", "HEAD")
    if head.returncode != 0 or git_result("diff", "--quiet", "HEAD", "--", str(LOCK)).returncode:
        return WORKING_TREE
    commit = head.stdout.strip()
    return _version_tag(commit) or commit[:8]


def load_version(version: str | None) -> ModelVersion:
    """The model ``version`` names (``None``: the promoted one, in the working tree), with
    its metadata, reference, params and contract, every DVC file verified against its lock.
    """
    import json

    loaded: dict[str, Any] = {}
    if version is None:
        label = _working_label()
        for key, (path, stage) in FILES.items():
            if not path.is_file():
                raise DriftlineError(
                    f"{path} is missing: run 'dvc pull' (or 'dvc repro') to get the model"
                )
            loaded[key] = verified(path.read_bytes(), recorded_md5(path, LOCK, stage=stage), path)
        params, contract = load_params(check_window=False), load_contract()
    else:
        commit, label = resolve(version)
        lock_text = _at(commit, LOCK)
        where = f"{LOCK} at {label}"
        for key, (path, stage) in FILES.items():
            expected = recorded_md5(path, Path(where), text=lock_text, stage=stage)
            loaded[key] = verified(_fetch(path, commit), expected, f"{path} at {label}", where)
        params = parse_yaml(_at(commit, PARAMS_FILE))
        contract = parse_yaml(_at(commit, CONTRACT_FILE))
    return ModelVersion(
        label=label,
        model=unpickle_model(loaded["model"], paths.MODEL),
        meta=json.loads(loaded["meta"]),
        reference=json.loads(loaded["reference"]),
        score_profile=json.loads(loaded["score_profile"]),
        params=params,
        contract=contract,
    )
