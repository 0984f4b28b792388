"""Batches in groups: the per-batch stages run once per group, one ``prepare@<group>`` and one
``score@<group>`` (a ``foreach`` over the registry's groups in ``dvc.yaml``), so DVC's
bookkeeping grows with the groups, not with the batches.

A monthly batch is a group of its own (``2013-01``, and ``2013-01-bis``'s group is ``2013-01``
too); a daily batch's group is its quarter (``2013-01-05`` is in ``2013-Q1``): with a year of
days, four groups, so the one ``dvc.lock`` that DVC reads and rewrites after each stage stays
small (docs/architecture.md, "Groups"). A batch whose name starts with no ``YYYY-MM`` is a
group of its own."""

from __future__ import annotations

import re

from driftline.core.errors import DriftlineError

MONTH = re.compile(r"\d{4}-\d{2}")
DAY = re.compile(r"(\d{4})-(\d{2})-\d{2}(?!\d)")


def group_of(batch: str) -> str:
    """The group of a batch: a day's quarter (``2013-Q1``), else the month its name starts
    with (``name[:7]``), else the name itself."""
    day = DAY.match(batch)
    if day:
        return f"{day[1]}-Q{(int(day[2]) - 1) // 3 + 1}"
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
