"""Every path the pipeline reads or writes, in one place. ``dvc.yaml`` spells the same paths
out for DVC (the per-group ones with ``${item}``, the group);
``tests/unit/project/test_dvc_yaml.py`` checks they agree.

A raw batch and each per-batch output lie in its group's folder
(``driftline.core.batches``), e.g. ``data/raw/2013-01/2013-01-05.csv`` (the raw folder is
tracked by ``data/raw/2013-01.dvc``) and ``data/prepared/2013-01/2013-01-05.parquet`` (each
group's output folder is one output of its stage)."""

from __future__ import annotations

from pathlib import Path

from driftline.core.batches import group_of

LOCK = Path("dvc.lock")
RAW = Path("data/raw")
INCOMING = Path("data/incoming")
PREPARED = Path("data/prepared")
PROFILES = Path("data/profiles")
SCORES = Path("data/scores")
WINDOW = Path("data/window/train.parquet")
REFERENCE = Path("data/window/reference.json")
MODEL = Path("models/model.pkl")
MODEL_META = Path("models/meta.json")
SCORE_PROFILE = Path("models/score_profile.json")
VALIDATION = Path("models/validation.parquet")
# The model being replaced: copies of models/model.pkl and models/meta.json that
# `driftline retrain` tracks with `dvc add` (see models/champion/README.md).
CHAMPION = Path("models/champion")
BATCH_METRICS = Path("metrics/batches")
TRAIN_METRICS = Path("metrics/train.json")
EVALUATE_METRICS = Path("metrics/evaluate.json")
HISTORY = Path("metrics/history.csv")
# The quality timeline across retrains: SERVED holds the rows of the models that served
# before the current one, each batch as scored by the model serving when it arrived (kept by
# `driftline retrain`, in git); evaluate writes TIMELINE, those rows and the current model's.
SERVED = Path("models/served.csv")
TIMELINE = Path("metrics/timeline.csv")
DRIFT_METRICS = Path("metrics/drift.json")
# The promote stage's metrics: the challenger and the champion on the same rows, under the
# names train and evaluate use, so `dvc metrics show` lines them up in one column each.
CHALLENGER_METRICS = Path("metrics/challenger.json")
CHAMPION_METRICS = Path("metrics/champion.json")
# Beside each stage's metrics, what a reviewer reads but does not diff as a number: names,
# time ranges, reasons and per-feature detail (the pull-request comment and `driftline gate`
# read them).
EVALUATE_REPORT = Path("reports/evaluate.json")
DRIFT_REPORT = Path("reports/drift.json")
PROMOTION_REPORT = Path("reports/promotion.json")
ROC = Path("plots/roc.json")
PRC = Path("plots/prc.json")
CONFUSION = Path("plots/confusion.json")
DRIFT_SCORES = Path("plots/drift_scores.json")
CURVES_PNG = Path("plots/curves.png")
CONFUSION_PNG = Path("plots/confusion.png")
RELIABILITY_PNG = Path("plots/reliability.png")
HISTORY_PNG = Path("plots/history.png")
DRIFT_PNG = Path("plots/drift.png")
DISTRIBUTIONS_PNG = Path("plots/drift_distributions.png")
RULES_PNG = Path("plots/history_rules.png")
DRIFT_TIMELINE_PNG = Path("plots/drift_timeline.png")
DRIFT_MARKDOWN = Path("reports/drift.md")


def raw_dir(group: str) -> Path:
    """A group's raw folder, e.g. data/raw/2013-01: one ``dvc add``-tracked folder."""
    return RAW / group


def raw(batch: str) -> Path:
    return raw_dir(group_of(batch)) / f"{batch}.csv"


def prepared_dir(group: str) -> Path:
    return PREPARED / group


def profiles_dir(group: str) -> Path:
    return PROFILES / group


def scores_dir(group: str) -> Path:
    return SCORES / group


def batch_metrics_dir(group: str) -> Path:
    return BATCH_METRICS / group


def prepared(batch: str) -> Path:
    return prepared_dir(group_of(batch)) / f"{batch}.parquet"


def profile(batch: str) -> Path:
    return profiles_dir(group_of(batch)) / f"{batch}.json"


def scores(batch: str) -> Path:
    return scores_dir(group_of(batch)) / f"{batch}.parquet"


def batch_metrics(batch: str) -> Path:
    return batch_metrics_dir(group_of(batch)) / f"{batch}.json"


def champion(path: Path) -> Path:
    """The champion's copy of a model file, e.g. models/champion/model.pkl for MODEL."""
    return CHAMPION / path.name
