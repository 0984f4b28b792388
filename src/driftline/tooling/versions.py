"""Model versions as git tags in DVC's model-registry format (the one GTO reads):
annotated tags ``model@vMAJOR.MINOR.PATCH`` on the commit whose dvc.lock records the model.
No hosted service and no token: everything is read from git.

Which part a new version bumps, from the ``train`` stage in dvc.lock at the last version and
now:

- MAJOR when what a caller of ``driftline predict`` feeds or gets changes: the features
  (``features.categorical``, ``features.numeric``), the ``target`` or the model family
  (``train.model``);
- MINOR when the model is retrained (``train.window`` moved) or its settings changed (any other
  ``train`` param: hyperparameters, seed, holdout);
- PATCH when only the model's bytes changed otherwise (a library upgrade, new data in the same
  window);
- no version at all when the model's md5 is unchanged.

``driftline models list`` shows each version's date, training window, the promotion gate's
verdict and headline metrics, read with ``git show <tag>:<file>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from driftline.core import paths
from driftline.core.config import parse_yaml
from driftline.core.errors import DriftlineError
from driftline.tooling.repo_state import git

ARTIFACT = "model"
TAG = re.compile(rf"{ARTIFACT}@v(\d+)\.(\d+)\.(\d+)")
MAJOR_PARAMS = ("features.categorical", "features.numeric", "target", "train.model")


def versions() -> list[dict[str, Any]]:
    """Every ``model@vX.Y.Z`` tag, oldest version first: tag, version, commit, date."""
    listed = git(
        "for-each-ref",
        f"refs/tags/{ARTIFACT}@v*",
        "--format=%(refname:short)%09%(creatordate:short)",
    )
    found = []
    for line in listed.splitlines():
        name, date = line.split("\t")
        version = version_of(name)
        if version:
            commit = git("rev-list", "-n", "1", name).strip()
            found.append({"tag": name, "version": version, "commit": commit, "date": date})
    return sorted(found, key=lambda v: v["version"])


def version_of(tag: str) -> tuple[int, ...] | None:
    """(MAJOR, MINOR, PATCH) of a ``model@vX.Y.Z`` tag; None for any other name."""
    match = TAG.fullmatch(tag)
    return tuple(int(part) for part in match.groups()) if match else None


def _show(rev: str, path: str) -> str | None:
    try:
        return git("show", f"{rev}:{path}")
    except DriftlineError:
        return None


def model_record(rev: str) -> dict[str, Any] | None:
    """The ``train`` stage's params and model md5 in dvc.lock at ``rev`` (None if absent)."""
    text = _show(rev, "dvc.lock")
    if text is None:
        return None
    train = (parse_yaml(text).get("stages") or {}).get("train")
    if not train:
        return None
    md5 = next((o["md5"] for o in train["outs"] if o["path"] == paths.MODEL.as_posix()), None)
    return {"params": _flat(train.get("params", {}).get("params.yaml", {})), "md5": md5}


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in ("target", "train.window"):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def bump(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The part to bump from model record ``old`` to ``new`` (see the module docstring), and
    why; ``(None, [...])`` when the model is the same."""
    if old is None:
        return "first", ["the first version"]
    if old["md5"] == new["md5"]:
        return None, ["the model is unchanged (same md5 in dvc.lock)"]
    changed = sorted(
        key
        for key in set(old["params"]) | set(new["params"])
        if old["params"].get(key) != new["params"].get(key)
    )
    major = [k for k in changed if any(k == p or k.startswith(f"{p}.") for p in MAJOR_PARAMS)]
    if major:
        return "major", [f"{k} changed: what a caller feeds or gets changed" for k in major]
    minor = [k for k in changed if k.startswith("train.")]
    if minor:
        why = {"train.window": "retrained on a new window"}
        return "minor", [why.get(k, f"{k} changed") for k in minor]
    return "patch", ["the model's bytes changed, nothing it is trained on or with"]


def next_version(rev: str = "HEAD") -> tuple[str | None, list[str]]:
    """The tag the model at ``rev`` gets (None if it is the last version's model), and why."""
    new = model_record(rev)
    if new is None or new["md5"] is None:
        raise DriftlineError(f"dvc.lock at {rev} records no model: run 'dvc repro' and commit")
    tags = versions()
    last = tags[-1] if tags else None
    part, reasons = bump(None if last is None else model_record(last["tag"]), new)
    if part is None:
        return None, [f"{last['tag']}: {reasons[0]}"] if last else reasons
    if last is None:
        return f"{ARTIFACT}@v1.0.0", reasons
    major, minor, patch = last["version"]
    version = {
        "major": (major + 1, 0, 0),
        "minor": (major, minor + 1, 0),
        "patch": (major, minor, patch + 1),
    }[part]
    return f"{ARTIFACT}@v{'.'.join(map(str, version))}", [f"{part} after {last['tag']}", *reasons]


def tag(rev: str = "HEAD") -> tuple[str | None, list[str]]:
    """Create the annotated tag of the model at ``rev``, if it is a new model."""
    name, reasons = next_version(rev)
    if name is None:
        return None, reasons
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()
    git("tag", "-a", name, commit, "-m", f"{name}: " + "; ".join(reasons))
    return name, reasons


def describe(version: dict[str, Any]) -> dict[str, Any]:
    """One version's row for ``driftline models list``, from its files in git."""
    rev = version["tag"]
    train = _json(_show(rev, paths.TRAIN_METRICS.as_posix())) or {}
    report = _json(_show(rev, paths.PROMOTION_REPORT.as_posix())) or {}
    window = report.get("challenger") or {}  # the model of this version: its window
    promotion = _json(_show(rev, paths.CHALLENGER_METRICS.as_posix()))
    return {
        "tag": rev,
        "date": version["date"],
        "commit": version["commit"][:7],
        "window": f"{window['first']}..{window['last']}" if window else "-",
        "promote": None if promotion is None else promotion.get("promote"),
        **{m: train.get(m) for m in ("roc_auc", "pr_auc", "log_loss")},
    }


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def table(rows: list[dict[str, Any]]) -> str:
    """The versions as an aligned text table, newest first."""
    if not rows:
        return "No model versions yet (no model@vX.Y.Z tag): 'driftline models tag' makes one."
    head = ["tag", "date", "commit", "window", "gate", "roc_auc", "pr_auc", "log_loss"]

    def cell(row: dict[str, Any], key: str) -> str:
        value = row["promote" if key == "gate" else key]
        if key == "gate":
            return "-" if value is None else "passed" if value else "FAILED"
        return f"{value:.4f}" if isinstance(value, float) else str(value or "-")

    body = [[cell(r, k) for k in head] for r in reversed(rows)]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]
    return "\n".join(
        "  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
        for line in [head, *body]
    )
