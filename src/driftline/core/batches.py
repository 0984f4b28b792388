"""Batches in groups: the per-batch stages run once per group, one ``prepare@<group>`` and one
``score@<group>`` (a ``foreach`` over the registry's groups in ``dvc.yaml``), so DVC's
bookkeeping grows with the months, not with the batches.

A batch's group is the month of its name (``2013-01-05`` and ``2013-01`` are in ``2013-01``);
a batch whose name starts with no ``YYYY-MM`` is a group of its own."""

from __future__ import annotations

import re

from driftline.core.errors import DriftlineError

MONTH = re.compile(r"\d{4}-\d{2}")


def group_of(batch: str) -> str:
    """The group of a batch: its month, ``name[:7]``, when the name starts with one."""
    return batch[:7] if MONTH.match(batch) else batch


def grouped(batches: list[str]) -> dict[str, list[str]]:
    """The batches by group, groups in the order of their first batch, batches in order."""
    groups: dict[str, list[str]] = {}
    for batch in batches:
        groups.setdefault(group_of(batch), []).append(batch)
    return groups


def stage_name(kind: str, group: str) -> str:
    """DVC's name of a group's stage: ``prepare@2013-01``."""
    return f"{kind}@{group}"


def one_group(argv: list[str], batches: list[str]) -> tuple[str, list[str]]:
    """The group a group stage's arguments name, and its batches among ``batches`` (the
    registry's)."""
    if len(argv) != 1:
        raise DriftlineError(f"expected the name of one group of batches, e.g. 2013-01; got {argv}")
    group = argv[0]
    members = grouped(batches).get(group)
    if not members:
        raise DriftlineError(
            f"group {group}: no registered batch is in it (data/batches.yaml); run 'dvc repro' "
            "to run the stages of the groups it lists"
        )
    return group, members
