"""What git and DVC say about this checkout: the base revision of a comparison, whether
``dvc.lock`` is stale, and DVC's metrics and params diffs.

A CI checkout has no data and no models (they live in the DVC remote), so ``dvc status``
always lists them as missing there. A lock is stale only when it disagrees with a file git
holds: the code, params, contract, pipeline or a git-tracked output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

from driftline.core.errors import DriftlineError


def _run(args: list[str], what: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise DriftlineError(f"'{what}' failed: {detail[-1] if detail else 'no output'}")
    return done.stdout


def git_result(*args: str) -> subprocess.CompletedProcess:
    """Run git and return its result whatever its exit status (the caller reads it)."""
    return subprocess.run(["git", *args], capture_output=True, text=True)


def git(*args: str) -> str:
    """Run git and return its stdout; a failure is an error naming the command."""
    return _run(["git", *args], f"git {' '.join(args)}")


def dvc(*args: str) -> str:
    """Run the DVC of this environment and return what it printed on stdout."""
    return _run([sys.executable, "-m", "dvc", *args], f"dvc {' '.join(args)}")


def resolve_base(ref: str) -> str:
    """The commit ``ref`` names, or an error that says why it cannot be found."""
    done = git_result("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode == 0:
        return done.stdout.strip()
    if git("rev-parse", "--is-shallow-repository").strip() == "true":
        hint = (
            "this clone is shallow; fetch the base first (`git fetch origin <branch>`), "
            "or check out with `fetch-depth: 0`"
        )
    else:
        hint = "no branch, tag or commit has that name here; is it fetched?"
    raise DriftlineError(f"base {ref!r} is not a commit in this clone: {hint}")


def commits_between(old: str, new: str) -> int:
    """How many commits ``new`` has that ``old`` has not."""
    return int(git("rev-list", "--count", f"{old}..{new}"))


def files_at(commit: str, paths: Iterable[str]) -> set[str]:
    """Which of ``paths`` exist in ``commit``."""
    paths = sorted(set(paths))
    if not paths:
        return set()
    listed = git("ls-tree", "-r", "--name-only", commit, "--", *paths)
    return set(listed.splitlines())


def tracked_files() -> set[str]:
    """The files git tracks, less the ``.gitignore`` files DVC writes beside its outputs (a
    folder of DVC outputs holds one, which does not make the folder git's)."""
    names = filter(None, git("ls-files", "-z").split("\0"))
    return {name for name in names if name.rsplit("/", 1)[-1] != ".gitignore"}


def _held_by_git(path: str, tracked: set[str], dirty: set[str]) -> bool:
    """Whether git holds ``path``, so that a change to it is a stale lock, not missing data.

    A folder that holds DVC-tracked files beside git's (models/champion: its README and the
    champion's .dvc files in git, the champion itself in DVC) differs from dvc.lock whenever
    the DVC files are not pulled, as in a pull request's report job: it counts only when git
    sees an uncommitted change in it.
    """
    inside = [name for name in tracked if name.startswith(f"{path.rstrip('/')}/")]
    if any(name.endswith(".dvc") for name in inside):
        return any(name == path or name.startswith(f"{path.rstrip('/')}/") for name in dirty)
    return path in tracked or bool(inside)


def dirty_files() -> set[str]:
    """The paths git sees changed or untracked in the working tree."""
    listed = git("status", "--porcelain", "-z", "--untracked-files=all")
    return {entry[3:] for entry in listed.split("\0") if len(entry) > 3}


def _describe(path: str, state: Any) -> str:
    if isinstance(state, dict):  # params: {"train.hgb.max_iter": "modified"}
        return f"{path} ({', '.join(f'{key} {how}' for key, how in sorted(state.items()))})"
    return f"{path} {state}"


def stale_stages(
    status: dict[str, Any], tracked: set[str], dirty: frozenset[str] | set[str] = frozenset()
) -> dict[str, list[str]]:
    """The stages whose ``dvc.lock`` entry disagrees with what git holds, and why.

    Parameters
    ----------
    status : dict
        The output of ``dvc status --json``.
    tracked : set of str
        The paths git tracks (``git ls-files``).
    dirty : set of str
        The paths git sees changed in the working tree (``git status``).

    Returns
    -------
    dict
        Stage name to its reasons, e.g. ``{"train": ["params.yaml (train modified)"]}``.
        Missing data or models (not in git) are no reason.
    """
    stale = {}
    for stage, entries in status.items():
        reasons = []
        for entry in entries:
            if isinstance(entry, str):  # "changed command"
                reasons.append(entry)
                continue
            for changes in entry.values():
                reasons += [
                    _describe(path, state)
                    for path, state in changes.items()
                    if _held_by_git(path, tracked, set(dirty))
                ]
        if reasons:
            stale[stage] = reasons
    return stale


def check_lock_is_fresh() -> None:
    """Refuse, naming the stages, when ``dvc.lock`` does not match the code and params."""
    status = json.loads(dvc("status", "--json") or "{}")
    stale = stale_stages(status, tracked_files(), dirty_files())
    if stale:
        by_reason: dict[str, list[str]] = {}
        for stage, reasons in sorted(stale.items()):
            for why in reasons:
                by_reason.setdefault(why, []).append(stage)
        lines = "\n".join(f"  {why}: {', '.join(stages)}" for why, stages in by_reason.items())
        raise DriftlineError(
            "dvc.lock is stale: these stages changed since it was written:\n"
            f"{lines}\nRun `dvc repro` and commit dvc.lock with the outputs it rewrites."
        )


def metrics_diff(base: str) -> dict[str, dict[str, dict[str, Any]]]:
    """``dvc metrics diff <base> --json``: {path: {metric: {"old", "new"[, "diff"]}}}."""
    return json.loads(dvc("metrics", "diff", base, "--json") or "{}")


def params_diff_md(base: str) -> str:
    return dvc("params", "diff", base, "--md")
