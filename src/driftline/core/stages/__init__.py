"""Thin stage entry points run by ``dvc.yaml``: read params, call the pure functions, write
outputs atomically. Each is ``python -m driftline.core.stages.<stage> [group]``: the group
stages, prepare and score, take the name of one group of batches
(driftline.core.batch_groups)."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable

from driftline.core.batch_groups import grouped
from driftline.core.config import batch_list
from driftline.core.errors import DriftlineError
from driftline.core.log import get_logger, timed


def run(label: str, body: Callable[[list[str]], None], argv: list[str] | None = None) -> None:
    """Run a stage body with timing and peak-memory logging; a ``DriftlineError``, a missing
    input or a full disk becomes a one-line message on stderr and exit status 2, with no
    traceback."""
    argv = sys.argv[1:] if argv is None else argv
    if argv:  # a group stage: named as DVC names it, prepare@2013-01
        label = f"{label}@{argv[0]}"
    try:
        with timed(label):
            body(argv)
    except DriftlineError as exc:
        get_logger().error("%s", exc)
        sys.exit(2)
    except FileNotFoundError as exc:
        # DVC fixes the stage list when `dvc repro` starts, but a stage reads params.yaml when
        # it runs: a batch ingested meanwhile is registered without its upstream outputs.
        get_logger().error(
            "%s: input %s is missing. If a batch was ingested while this 'dvc repro' ran, "
            "run 'dvc repro' again (it builds the new batch first); otherwise run 'dvc repro' "
            "or 'dvc pull' to create it",
            label,
            exc.filename,
        )
        sys.exit(2)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        get_logger().error(
            "%s: no space left on the device while writing %s. Outputs are written to a temp "
            "file and renamed, so no output is half-written and the previous ones stand; free "
            "some space and run 'dvc repro' again",
            label,
            exc.filename or "an output",
        )
        sys.exit(2)


def one_group(argv: list[str], params: dict) -> tuple[str, list[str]]:
    """The group a group stage's arguments name, and its registered batches."""
    if len(argv) != 1:
        raise DriftlineError(f"expected the name of one group of batches, e.g. 2013-01; got {argv}")
    group = argv[0]
    batches = grouped(batch_list(params)).get(group)
    if not batches:
        raise DriftlineError(
            f"group {group}: no registered batch is in it (data/batches.yaml); run 'dvc repro' "
            "to run the stages of the groups it lists"
        )
    return group, batches
