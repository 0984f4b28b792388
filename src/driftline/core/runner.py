"""The stage runner: a stage's body with timing and peak-memory logging, and the errors a user
can fix as one line on stderr and exit status 2."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable

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
