"""Batches in groups: the per-batch stages run once per group, one ``prepare@<group>`` and one
``score@<group>`` in ``pipeline/<group>/dvc.yaml``, so DVC's bookkeeping grows with the months,
not with the batches.

A batch's group is the month of its name (``2013-01-05`` and ``2013-01`` are in ``2013-01``);
a batch whose name starts with no ``YYYY-MM`` is a group of its own."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from driftline.core.errors import DriftlineError

MONTH = re.compile(r"\d{4}-\d{2}")
PIPELINE = Path("pipeline")
SYNC_COMMAND = "driftline pipeline sync"
# The params each group stage declares, in its dvc.yaml and in each batch's key
# (driftline.core.known_outputs): what its outputs depend on.
PARAMS = {
    "prepare": ("target", "features.derive", "features.exclude", "profile.bins"),
    "score": (
        "evaluate.threshold",
        "features.categorical",
        "features.numeric",
        "profile.bins",
        "drift.share",
        "drift.columns",
    ),
}


def group_of(batch: str) -> str:
    """The group of a batch: its month, ``name[:7]``, when the name starts with one."""
    return batch[:7] if MONTH.match(batch) else batch


def grouped(batches: list[str]) -> dict[str, list[str]]:
    """The batches by group, groups in the order of their first batch, batches in order."""
    groups: dict[str, list[str]] = {}
    for batch in batches:
        groups.setdefault(group_of(batch), []).append(batch)
    return groups


def group_file(group: str) -> Path:
    """The group's generated stage file, e.g. pipeline/2013-01/dvc.yaml."""
    return PIPELINE / group / "dvc.yaml"


def group_lock(group: str) -> Path:
    return PIPELINE / group / "dvc.lock"


def stage_name(kind: str, group: str) -> str:
    """DVC's name of a group's stage: ``prepare@2013-01`` (a one-item foreach gives it)."""
    return f"{kind}@{group}"


def listed_batches(path: Path) -> list[str] | None:
    """The batches a group's stage file runs prepare on (its command's arguments), or None
    when the file is missing or not a group file."""
    if not path.is_file():
        return None
    try:
        stages = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stages") or {}
        words = stages["prepare"]["do"]["cmd"].split()
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None
    return words[3:] if words[:3] == ["python", "-m", "driftline.core.stages.prepare"] else None


def check_group_files(batches: list[str], root: Path = Path(".")) -> None:
    """Refuse a registry (``pipeline/batches.yaml``) that the group stage files do not match:
    a group with no file, a file that lists other batches, or a file of no registered group.

    Raises
    ------
    DriftlineError
        Naming each group at fault and the command that regenerates the files.
    """
    groups = grouped(batches)
    problems = []
    for group, names in groups.items():
        listed = listed_batches(root / group_file(group))
        if listed is None:
            problems.append(f"group {group} ({names[0]}...) has no {group_file(group)}")
        elif listed != names:
            problems.append(f"{group_file(group)} lists {listed}, pipeline/batches.yaml {names}")
    for path in sorted((root / PIPELINE).glob("*/dvc.yaml")):
        group = path.parent.name
        if group not in groups and listed_batches(path) is not None:
            problems.append(f"{group_file(group)} is of group {group}, which no batch is in")
    if problems:
        raise DriftlineError(
            "the per-group stage files do not match pipeline/batches.yaml:\n  "
            + "\n  ".join(problems)
            + f"\nRun '{SYNC_COMMAND}' to regenerate them, then 'dvc repro'"
        )
