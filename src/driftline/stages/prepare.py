"""prepare@<group>: each raw CSV of the group -> validated, typed parquet plus the batch's drift
profile (of every candidate feature and the label). Batches whose outputs are known already
are restored, not recomputed (driftline.pipeline.reuse)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.batches import one_group
from driftline.core.config import (
    CONTRACT_FILE,
    TARGET,
    batch_list,
    check_against_contract,
    load_contract,
    load_params,
)
from driftline.core.io import write_json, write_parquet
from driftline.core.log import get_logger
from driftline.core.runner import run
from driftline.data.contract import arrival_contract, read_batch, with_target_classes
from driftline.data.dataset import feature_frame, prepare_frame, profile_spec
from driftline.data.raw_files import check_folder, group_record, verify_raw
from driftline.monitoring.profile import profile_frame
from driftline.pipeline.dvc_cache import cache_dir
from driftline.pipeline.reuse import GroupStage, batch_key, build, code_fingerprint, declared
from driftline.pipeline.stage_inputs import declared_inputs


def prepare(argv: list[str]) -> None:
    params = load_params()
    group, batches = one_group(argv, batch_list(params))
    check_folder(group, batches)
    contract = load_contract()
    check_against_contract(params, contract)
    # One group: one .dvc record and one listing for all its batches, each file checked.
    record, cache = group_record(batches[0]), cache_dir()
    raw_md5 = {batch: verify_raw(batch, record, cache) for batch in batches}
    inputs = declared_inputs("prepare")
    common = {
        "stage": "prepare",
        "params": declared(params, inputs.params),
        "contract": hashlib.sha256(Path(CONTRACT_FILE).read_bytes()).hexdigest(),
        "code": code_fingerprint(inputs.code),
    }
    keys = {b: batch_key({**common, "batch": b, "raw": raw_md5[b]}) for b in batches}
    stage = GroupStage(
        "prepare",
        group,
        {paths.prepared_dir(group): paths.prepared, paths.profiles_dir(group): paths.profile},
        lambda batch: prepare_batch(batch, params, contract),
    )
    build(stage, keys)


def prepare_batch(batch: str, params: dict[str, Any], contract: dict[str, Any]) -> None:
    target = params["target"]
    checked, pending = arrival_contract(
        paths.raw(batch), with_target_classes(contract, target), target["column"]
    )
    raw = read_batch(paths.raw(batch), checked)
    if pending:  # no labels yet: features only, no target column in the prepared file
        prepared, unlabelled = feature_frame(raw, params, contract), len(raw)
        get_logger().info("%s: %d rows, pending labels", batch, len(raw))
    else:
        prepared, unlabelled = prepare_frame(raw, params, contract)
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
    profiled = [*categorical, *([] if pending else [TARGET])]
    profile = profile_frame(prepared, profiled, ranges, params["profile"]["bins"])
    profile.update(batch=batch, raw_rows=len(raw), unlabelled=unlabelled)
    if pending:
        profile["pending"] = True
    write_parquet(paths.prepared(batch), prepared)
    write_json(paths.profile(batch), profile)


if __name__ == "__main__":
    run("prepare", prepare)
