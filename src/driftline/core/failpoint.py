"""Failpoints: named places where a test stops a command dead, or holds it, so that a crash
or a race replays the same way every run. Nothing happens unless ``DRIFTLINE_FAILPOINT``
names the point:

    DRIFTLINE_FAILPOINT=<name>[:<action>]

Actions:

- ``kill`` (the default): SIGKILL this process.
- ``killpg``: SIGKILL this process's whole process group, e.g. a stage and the ``dvc repro``
  that started it. Start the command in a session of its own, or it takes its caller along.
- ``wait=<file>``: say ``failpoint <name>: waiting for <file>`` on stderr, then wait until
  ``<file>`` exists (at most ``WAIT_S`` seconds, then fail).

The points:

- ``write@<path>``: every atomic write (``driftline.io.atomic_path``), after the temp file
  beside ``<path>`` is complete and before it is renamed onto it; ``<path>`` as the code
  names it, relative to the repository root: ``write@models/model.pkl``,
  ``write@data/profiles/2013-02/2013-02.json``, ``write@reports/drift.md``.
- ``ingest-moved``: ``driftline ingest``, after its journal is written and the new files are
  moved into ``data/raw``, before ``dvc add``.
- ``amend-moved``: ``driftline ingest --replace`` and ``driftline remove``, after the journal
  is written and the old raw file set aside (and, for a replace, the new one moved in),
  before ``dvc add``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

ENV_VAR = "DRIFTLINE_FAILPOINT"
WAIT_S = 600.0


def failpoint(name: str) -> None:
    """Act as ``DRIFTLINE_FAILPOINT`` says if it names ``name``; otherwise do nothing."""
    point, _, action = os.environ.get(ENV_VAR, "").partition(":")
    if point != name:
        return
    if action in ("", "kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "killpg":
        os.killpg(os.getpgid(0), signal.SIGKILL)
    elif action.startswith("wait="):
        release = Path(action.removeprefix("wait="))
        print(f"failpoint {name}: waiting for {release}", file=sys.stderr, flush=True)
        deadline = time.monotonic() + WAIT_S
        while not release.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"failpoint {name}: {release} did not appear in {WAIT_S} s")
            time.sleep(0.05)
    else:
        raise ValueError(f"{ENV_VAR}: unknown action {action!r} (kill, killpg or wait=<file>)")
