"""A backfill across CI runners: which group stages (prepare@<group>, score@<group>, one pair
per group of batches: driftline.core.batches) to run, split into shards, and the check
that the final job ran none of them (docs/backfill.md).

The engine is DVC's: each shard runs `dvc repro --single-item --pull` on its stages and
pushes their outputs and run-cache entries to the shared remote (`push` below); the final
job's `dvc repro --pull` finds every group stage there and restores it instead of running
it. This module decides what each shard runs, pushes, and reads DVC's log afterwards.

The model chain comes first, once. score@<group> needs the model, and the model needs the
training window's prepared batches, so when train (or the prepare of a group that holds a
window batch) would rerun, the planning job runs that chain and pushes it; each shard then
restores it from the run-cache in seconds instead of training again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from driftline.core.batches import group_of, grouped, stage_name
from driftline.core.config import batch_list, load_params, window_batches
from driftline.core.errors import DriftlineError

KINDS = ("prepare", "score")  # the group stages, in the order a group needs them
ADDRESS = re.compile(r"^(prepare|score)@(.+)$")
# What `dvc repro` prints for a stage it runs, and for one it restores from the run-cache.
RUNNING = re.compile(r"^Running stage '([^']+)':", re.MULTILINE)
RESTORED = re.compile(r"^Stage '([^']+)' is cached - skipping run", re.MULTILINE)


def address(kind: str, group: str) -> str:
    """DVC's name for a group stage, e.g. score@2013-04."""
    return stage_name(kind, group)


def per_group(name: str) -> tuple[str, str] | None:
    """(kind, group) of a group stage's address; None for any other stage."""
    match = ADDRESS.match(name)
    return None if match is None else (match[1], match[2])


@dataclass(frozen=True)
class Plan:
    model: list[str]  # run first, by the planning job; every shard restores them
    shards: list[list[str]]  # each shard's group stages, a group's prepare before its score

    def as_json(self) -> dict:
        """The plan, with ``matrix`` ready for ``strategy.matrix: ${{ fromJSON(...) }}``."""
        return {
            "model": " ".join(self.model),
            "stages": sum(len(s) for s in self.shards),
            "shards": len(self.shards),
            "matrix": {
                "include": [
                    {
                        "shard": i,
                        "groups": " ".join(dict.fromkeys(per_group(s)[1] for s in stages)),
                        "stages": " ".join(stages),
                    }
                    for i, stages in enumerate(self.shards, 1)
                ]
            },
        }


def split(batches: list[list[str]], k: int) -> list[list[str]]:
    """``batches`` (each a group's stages, in order) in ``k`` contiguous shards of near-equal
    stage counts, or one per group when there are fewer; a group is never split."""
    if k < 1:
        raise DriftlineError(f"--shards must be at least 1, not {k}")
    k = min(k, len(batches))
    total = sum(len(b) for b in batches)
    shards: list[list[str]] = [[] for _ in range(k)]
    shard = done = 0
    for i, stages in enumerate(batches):
        share = min(k - 1, done * k // total)  # the shard this batch's first stage falls in
        # One shard at a time, and never so late that a shard is left empty.
        shard = max(min(share, shard + 1), k - (len(batches) - i), shard)
        shards[shard] += stages
        done += len(stages)
    return shards


def make_plan(
    stale: set[str],
    batches: list[str],
    window: list[str],
    shards: int,
    first: str | None = None,
    last: str | None = None,
) -> Plan:
    """The plan for the stages DVC says are stale (``stale``: addresses, any stage).

    A group whose prepare reruns gets its score too (its input may change); when the model
    chain reruns (train, or the prepare of a group with a window batch), every score does. A
    stale group stage outside the groups of ``first``..``last`` (batches) is an error: the
    final job would run it."""
    for name, given in (("--from", first), ("--to", last)):
        if given is not None and given not in batches:
            raise DriftlineError(f"{name} {given}: not a registered batch in data/batches.yaml")
    groups = list(grouped(batches))
    lo = groups.index(group_of(first)) if first else 0
    hi = groups.index(group_of(last)) if last else len(groups) - 1
    if lo > hi:
        raise DriftlineError(f"--from {first} comes after --to {last} in data/batches.yaml")
    trained_on = list(dict.fromkeys(group_of(b) for b in window))
    retrain = "train" in stale or any(address("prepare", g) in stale for g in trained_on)
    todo: dict[str, list[str]] = {}
    for group in groups:
        prepare = address("prepare", group) in stale
        score = retrain or prepare or address("score", group) in stale
        todo[group] = [address("prepare", group)] * prepare + [address("score", group)] * score
    outside = [s for i, g in enumerate(groups) if not lo <= i <= hi for s in todo[g]]
    if outside:
        shown = ", ".join(outside[:4]) + (
            f" and {len(outside) - 4} more" if len(outside) > 4 else ""
        )
        raise DriftlineError(
            f"{len(outside)} group stages outside {groups[lo]}..{groups[hi]} would rerun "
            f"too ({shown}): the final job would run them on one runner. Widen --from/--to."
        )
    model = []
    if retrain:
        model = [address("prepare", g) for g in trained_on] + ["window", "train"]
    work = [todo[g] for g in groups[lo : hi + 1] if todo[g]]
    return Plan(model, split(work, shards))


def stale_stages(root: Path = Path(".")) -> set[str]:
    """The stages `dvc repro` would run, as DVC judges them without the data: a missing
    output or dependency counts as unchanged when its recorded hash still holds (what
    `dvc repro --allow-missing` skips), so a fresh CI checkout gets the same answer as a
    workspace with everything pulled."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo, repo.lock:
        graph = repo.index.graph
        return {
            stage.addressing
            for stage in graph
            if stage.cmd
            and stage.changed(allow_missing=True, upstream=list(graph.successors(stage)))
        }


def plan(shards: int, first: str | None = None, last: str | None = None) -> Plan:
    """The backfill plan for this checkout (run from the repository root)."""
    params = load_params()
    return make_plan(
        stale_stages(), batch_list(params), window_batches(params), shards, first, last
    )


def push(root: Path = Path(".")) -> int:
    """`dvc push --run-cache`, plus what it leaves out: the objects of the uncached outputs
    (metrics and plots with `cache: false`, e.g. metrics/train.json) that the run-cache
    entries name. DVC saves those into the local cache with the entry, but pushes only the
    entry, so another runner finds the entry and cannot restore it (it runs the stage
    instead). Returns how many objects were sent."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        sent = repo.push(run_cache=True)
        uncached = [
            out.hash_info
            for stage in repo.index.stages
            for out in stage.outs
            if not out.use_cache and out.hash_info and out.hash_info.value
        ]
        present = [h for h in uncached if repo.cache.local.exists(h.value)]
        result = repo.cloud.push(present)
    return sent + len(result.transferred)


@dataclass(frozen=True)
class FinalRun:
    ran: list[str]  # group stages the final `dvc repro` ran (should be none)
    restored: list[str]  # group stages it restored from the run-cache
    others: list[str]  # other stages it ran (window, evaluate, drift...)


def read_final_log(log: str) -> FinalRun:
    """What a `dvc repro` log says it ran and restored."""
    ran = RUNNING.findall(log)
    return FinalRun(
        ran=[s for s in ran if per_group(s)],
        restored=[s for s in RESTORED.findall(log) if per_group(s)],
        others=[s for s in ran if not per_group(s)],
    )
