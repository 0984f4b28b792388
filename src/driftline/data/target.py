"""The binary label, built from one raw column by the rule in ``params.yaml`` (``target``).

A rule is one comparison with a number (``above``, ``at_least``, ``below``, ``at_most``), one
value (``equals``) or a set of positive classes (``in``). Rows whose column is empty have no
label: ``missing`` drops them, or counts them as positive or negative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftline.core.config import TARGET_NUMERIC_RULES, positive_classes


def rule_of(positive: dict[str, Any]) -> tuple[str, Any]:
    """The one ``(rule, value)`` pair of a ``target.positive`` mapping (checked by config)."""
    ((rule, value),) = positive.items()
    return rule, value


def label(
    values: pd.Series, positive: dict[str, Any], missing: str
) -> tuple[np.ndarray, np.ndarray]:
    """Label every row and say which rows keep a label.

    Parameters
    ----------
    values : pandas.Series
        The target's raw column, typed by the data contract.
    positive : dict
        One rule, e.g. ``{"above": 15}`` or ``{"in": ["Yes"]}``.
    missing : {"drop", "positive", "negative"}
        What an empty value becomes.

    Returns
    -------
    labels : numpy.ndarray of int8
        1 where the rule holds, 0 elsewhere (and the ``missing`` choice where empty).
    keep : numpy.ndarray of bool
        False for the empty rows when ``missing`` is ``"drop"``, True elsewhere.
    """
    rule, value = rule_of(positive)
    empty = values.isna().to_numpy()
    if rule in TARGET_NUMERIC_RULES:
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            hit = {
                "above": numbers > value,
                "at_least": numbers >= value,
                "below": numbers < value,
                "at_most": numbers <= value,
            }[rule]
    else:
        text = values.astype("str").to_numpy(dtype=object, na_value=None)
        hit = np.isin(text, [str(c) for c in positive_classes({"positive": positive})])
    labels = np.where(empty, missing == "positive", hit).astype("int8")
    keep = ~empty if missing == "drop" else np.ones(len(values), dtype=bool)
    return labels, keep
