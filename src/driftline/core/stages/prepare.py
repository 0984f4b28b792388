"""prepare@<batch>: raw CSV -> validated, typed parquet plus the batch's drift profile
(of every candidate feature and the target)."""

from __future__ import annotations

from driftline.core import paths
from driftline.core.config import load_contract, load_params
from driftline.core.contract import read_batch
from driftline.core.features import CATEGORICAL, NUMERIC, TARGET, prepare_frame, profile_ranges
from driftline.core.io import write_json, write_parquet
from driftline.core.log import get_logger
from driftline.core.profile import profile_frame
from driftline.core.raw_batch import verify_raw
from driftline.core.stages import one_batch, run


def prepare(argv: list[str]) -> None:
    batch = one_batch(argv)
    params = load_params()
    features = params["features"]
    contract = load_contract()
    verify_raw(batch)
    raw = read_batch(paths.raw(batch), contract)
    prepared, cancelled = prepare_frame(raw, features["late_minutes"], features["cancelled"])
    action = "dropped" if features["cancelled"] == "drop" else "counted as late"
    get_logger().info(
        "%s: %d rows, %d without an arrival (cancelled or diverted) %s, %d kept",
        batch,
        len(raw),
        cancelled,
        action,
        len(prepared),
    )
    # Every candidate feature is profiled, so choosing other features never re-prepares.
    ranges = profile_ranges(NUMERIC, contract)
    profile = profile_frame(prepared, [*CATEGORICAL, TARGET], ranges, params["profile"]["bins"])
    profile.update(batch=batch, raw_rows=len(raw), no_arrival=cancelled)
    write_parquet(paths.prepared(batch), prepared)
    write_json(paths.profile(batch), profile)


if __name__ == "__main__":
    run("prepare", prepare)
