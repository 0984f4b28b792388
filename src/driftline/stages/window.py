"""window: the training window's rows in one file, and its merged profile (the drift reference).

It reruns whenever a batch is added, but writes the same bytes unless the window itself
changed, so DVC then skips train.
"""

from __future__ import annotations

import pandas as pd

from driftline.core import paths
from driftline.core.config import load_params, window_batches
from driftline.core.errors import DriftlineError
from driftline.core.io import read_json, write_json, write_parquet
from driftline.core.log import get_logger
from driftline.core.runner import run
from driftline.monitoring.profile import merge_profiles


def window(argv: list[str]) -> None:
    params = load_params()
    batches = window_batches(params)
    profiles = [read_json(paths.profile(b)) for b in batches]
    pending = [b for b, profile in zip(batches, profiles, strict=True) if profile.get("pending")]
    if pending:
        raise DriftlineError(
            f"params.yaml: train.window holds {', '.join(pending)}, pending labels: a model "
            "learns from labelled batches only; end the window before them, or attach their "
            "labels first (driftline ingest --labels FILE)"
        )
    frame = pd.concat([pd.read_parquet(paths.prepared(b)) for b in batches], ignore_index=True)
    reference = merge_profiles(profiles)
    reference["batches"] = batches
    get_logger().info(
        "window %s..%s: %d batches, %d rows", batches[0], batches[-1], len(batches), len(frame)
    )
    write_parquet(paths.WINDOW, frame)
    write_json(paths.REFERENCE, reference)


if __name__ == "__main__":
    run("window", window)
