"""The monitor on one batch, as the pipeline runs it: the batch's profile and the current
model's scores on it, against the training reference and the model's scores on its window.
``score@`` keeps four of its numbers for the quality history; ``drift`` reports all of it for
the newest batch."""

from __future__ import annotations

from typing import Any

import numpy as np

from driftline.core import paths
from driftline.core.dataset import TARGET, feature_lists
from driftline.core.drift import monitor
from driftline.core.io import read_json
from driftline.core.profile import score_profile


def monitor_batch(
    params: dict[str, Any], reference: dict[str, Any], current: dict[str, Any], scores: np.ndarray
) -> dict[str, Any]:
    """:func:`driftline.core.drift.monitor` of a batch's profile ``current`` against the
    ``reference`` profile, for the model's features and the target, with the ``drift``
    params; prediction drift compares ``scores`` with the model's scores on its window."""
    categorical, numeric = feature_lists(params, reference)
    score_profiles = (
        read_json(paths.SCORE_PROFILE),
        score_profile(scores, params["profile"]["bins"]),
    )
    return monitor(
        reference, current, categorical + numeric, TARGET, params["drift"], score_profiles
    )
