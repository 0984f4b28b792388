"""Batches in groups: the per-batch stages run once per group, one ``prepare@<group>`` and one
``score@<group>`` (a ``foreach`` over the registry's groups in ``dvc.yaml``), so DVC's
bookkeeping grows with the months, not with the batches.

A batch's group is the month of its name (``2013-01-05`` and ``2013-01`` are in ``2013-01``);
a batch whose name starts with no ``YYYY-MM`` is a group of its own."""

from __future__ import annotations

import re

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
