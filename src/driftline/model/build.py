"""The model: one sklearn ``Pipeline`` (preprocessing + classifier) built from params, so that
training and scoring can never disagree on how a feature is encoded."""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def build_model(
    model: str, hyperparams: dict[str, Any], categorical: list[str], numeric: list[str], seed: int
) -> Pipeline:
    """An unfitted pipeline: impute, one-hot encode categories, scale numbers for the linear
    model, then classify.

    Parameters
    ----------
    model : {"hgb", "logreg"}
        Histogram gradient boosting, or logistic regression.
    hyperparams : dict
        Keyword arguments of the classifier (``params['train'][model]``).
    categorical, numeric : list of str
        The feature columns.
    seed : int
        The classifier's ``random_state``.

    Unknown categories at scoring time are encoded as all zeros rather than failing: they
    are drift, reported by the drift stage, not errors.
    """
    encode = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype="float64"),
    )
    steps = [SimpleImputer(strategy="median")]
    if model == "logreg":
        steps.append(StandardScaler())
    columns = ColumnTransformer(
        [("categorical", encode, categorical), ("numeric", make_pipeline(*steps), numeric)],
        verbose_feature_names_out=False,
    )
    if model == "hgb":
        classifier = HistGradientBoostingClassifier(
            random_state=seed, early_stopping=False, **hyperparams
        )
    elif model == "logreg":
        classifier = LogisticRegression(random_state=seed, **hyperparams)
    else:
        raise ValueError(f"unknown model {model!r}; choose 'hgb' or 'logreg'")
    return Pipeline([("columns", columns), ("classifier", classifier)])
