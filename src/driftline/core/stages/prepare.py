"""prepare@<batch>: raw CSV -> validated, typed parquet plus the batch's drift profile
(of every candidate feature and the label)."""

from __future__ import annotations

from driftline.core import paths
from driftline.core.config import check_against_contract, load_contract, load_params
from driftline.core.contract import read_batch
from driftline.core.dataset import TARGET, prepare_frame, profile_spec
from driftline.core.io import write_json, write_parquet
from driftline.core.log import get_logger
from driftline.core.profile import profile_frame
from driftline.core.raw_batch import verify_raw
from driftline.core.stages import one_batch, run


def prepare(argv: list[str]) -> None:
    batch = one_batch(argv)
    params = load_params()
    contract = load_contract()
    check_against_contract(params, contract)
    verify_raw(batch)
    raw = read_batch(paths.raw(batch), contract)
    prepared, unlabelled = prepare_frame(raw, params, contract)
    target = params["target"]
    action = {"drop": "dropped", "positive": "labelled 1", "negative": "labelled 0"}
    get_logger().info(
        "%s: %d rows, %d with an empty '%s' %s, %d kept",
        batch,
        len(raw),
        unlabelled,
        target["column"],
        action[target["missing"]],
        len(prepared),
    )
    # Every candidate feature is profiled, so choosing other features never re-prepares.
    categorical, ranges = profile_spec(prepared, params, contract)
    profile = profile_frame(prepared, [*categorical, TARGET], ranges, params["profile"]["bins"])
    profile.update(batch=batch, raw_rows=len(raw), unlabelled=unlabelled)
    write_parquet(paths.prepared(batch), prepared)
    write_json(paths.profile(batch), profile)


if __name__ == "__main__":
    run("prepare", prepare)
