"""The history plots label a bounded number of batches, so drawing them does not grow with the
batches, and a long daily history stays readable."""

import pandas as pd
import pytest

from driftline.monitoring import plots


@pytest.mark.parametrize("count", [0, 1, 6, plots.BATCH_LABELS])
def test_every_batch_is_labelled_up_to_the_limit(count):
    assert plots.batch_ticks(count) == list(range(count))


@pytest.mark.parametrize("count", [plots.BATCH_LABELS + 1, 100, 365, 1000, 3653])
def test_a_long_history_labels_the_oldest_the_newest_and_evenly_between(count):
    ticks = plots.batch_ticks(count)
    assert ticks[0] == 0 and ticks[-1] == count - 1
    assert len(ticks) <= plots.BATCH_LABELS + 1
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    step = gaps[0]
    # Evenly spaced, but for the newest, which is never crowded against the label before it.
    assert all(gap == step for gap in gaps[:-1])
    assert step * 3 / 4 <= gaps[-1] < 2 * step


def test_the_history_plot_of_a_thousand_daily_batches_carries_few_labels(tmp_path, monkeypatch):
    drawn = []
    real = plots._batch_axis

    def recording(ax, names, **style):
        real(ax, names, **style)
        drawn.append([label.get_text() for label in ax.get_xticklabels()])

    monkeypatch.setattr(plots, "_batch_axis", recording)
    days = pd.date_range("2013-01-01", periods=1000).strftime("%Y-%m-%d").tolist()
    rows = [{"batch": day, "roc_auc": 0.7, "pr_auc": 0.4, "f1": 0.5} for day in days]
    plots.history_png(rows, tmp_path / "history.png")
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (labels,) = drawn
    assert labels[0] == "2013-01-01" and labels[-1] == days[-1]
    assert len(labels) <= plots.BATCH_LABELS + 1


def test_the_drift_timeline_draws_a_feature_by_batch_grid_in_importance_order(tmp_path):
    weights = {"a": 0.2, "b": 0.7, "c": 0.1}
    days = pd.date_range("2013-01-01", periods=400).strftime("%Y-%m-%d").tolist()
    rows = [
        {"batch": d, "drifted_importance": 0.2, "feature_drift": {"a": 0.1, "b": 1.5, "c": 3.0}}
        for d in days
    ]
    target = tmp_path / "drift_timeline.png"
    plots.drift_timeline_png(rows, weights, 0.5, target)
    first = target.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    plots.drift_timeline_png(rows, weights, 0.5, target)
    assert target.read_bytes() == first  # the same numbers, the same bytes
    plots.drift_timeline_png([], weights, 0.5, target)  # right after a retrain
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
