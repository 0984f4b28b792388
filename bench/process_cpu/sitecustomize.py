"""Logs each Python process's CPU time when it exits, one JSON line per process, to the file
$PROCESS_CPU_LOG: put this folder on PYTHONPATH and run anything (`.ci/run`, `make test`).
bench/process_cpu_report.py sums the log by kind of process (a stage, a `dvc` or `driftline`
command, a pytest worker) and by the test folder it ran in. A process killed by a signal
(the fault tests' SIGKILL) runs no exit handler and is not logged."""

import atexit
import json
import os
import sys
import time

_STARTED = time.monotonic()


def _log() -> None:
    target = os.environ.get("PROCESS_CPU_LOG")
    if not target:
        return
    times = os.times()
    record = {
        "argv": sys.argv[:4],
        "cwd": os.getcwd(),
        "cpu": round(times.user + times.system, 3),
        "wall": round(time.monotonic() - _STARTED, 3),
        "xdist_worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
    }
    try:
        with open(target, "a", encoding="utf-8") as log:  # one short append per process
            log.write(json.dumps(record) + "\n")
    except OSError:
        pass


atexit.register(_log)
