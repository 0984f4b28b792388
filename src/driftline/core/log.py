"""The one logger: timestamps on stderr, plus a timer that reports wall time and peak memory."""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER_NAME = "driftline"


class _Stderr(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record is emitted, not as it was when the
    logger was configured: a caller that redirects stderr later (pytest's capture, a
    ``contextlib.redirect_stderr``) gets the messages."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def get_logger() -> logging.Logger:
    """Return the package logger, configured once to write ``time level message`` to stderr."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Log ``label`` when it starts and, when it ends, its wall time and the peak memory.

    The closing line has a fixed shape, ``done <label> in <s> s, peak <MiB> MiB``, which the
    benchmarks read.
    """
    logger = get_logger()
    logger.info("start %s", label)
    start = time.perf_counter()
    yield
    logger.info(
        "done %s in %.2f s, peak %.0f MiB", label, time.perf_counter() - start, peak_rss_mb()
    )
