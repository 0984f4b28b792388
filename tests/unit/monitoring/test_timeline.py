"""The quality timeline across retrains: each batch once, by the model serving on arrival."""

import pandas as pd

from driftline.monitoring.timeline import archived, model_label, promotions, records, timeline


def row(batch: str, auc: float, **extra) -> dict:
    return {"batch": batch, "roc_auc": auc, **extra}


BATCHES = ["01", "02", "03", "04", "05", "06"]


def test_a_retrain_keeps_the_rows_of_the_model_that_served_them():
    # The first model (window 01..02) served 03 and 04, then a retrain moved the window to
    # 03..04: the new model scores only 05 and 06 as after its window.
    first = [row("03", 0.8), row("04", 0.6)]
    served = archived([], first, model_label(["01", "02"]))
    assert served == [
        {"model": "01..02", "batch": "03", "roc_auc": 0.8},
        {"model": "01..02", "batch": "04", "roc_auc": 0.6},
    ]
    line = timeline(served, [row("05", 0.7), row("06", 0.75)], "03..04", BATCHES)
    assert [(r["batch"], r["model"], r["roc_auc"]) for r in line] == [
        ("03", "01..02", 0.8),
        ("04", "01..02", 0.6),
        ("05", "03..04", 0.7),
        ("06", "03..04", 0.75),
    ]
    assert promotions(line) == [2]


def test_a_batch_keeps_its_first_servers_row_and_the_archive_never_rewrites_one():
    served = [{"model": "01..02", **row("03", 0.8)}]
    # A window that does not reach 03 (an expanding window on earlier batches, or a retrain
    # that is undone): the current model scores 03 too, but the timeline keeps who served it.
    line = timeline(served, [row("03", 0.5), row("04", 0.9)], "01..01", BATCHES)
    assert [(r["batch"], r["model"], r["roc_auc"]) for r in line] == [
        ("03", "01..02", 0.8),
        ("04", "01..01", 0.9),
    ]
    again = archived(served, [row("03", 0.5), row("04", 0.9)], "01..01")
    assert again == [served[0], {"model": "01..01", **row("04", 0.9)}]


def test_batches_no_longer_registered_and_unscored_ones_are_left_out():
    served = [{"model": "01..02", **row("03", 0.8)}]
    assert timeline(served, [row("05", 0.7)], "03..04", ["01", "02", "04", "05"]) == [
        {"model": "03..04", **row("05", 0.7)}
    ]
    assert timeline([], [], "01..02", BATCHES) == [] and promotions([]) == []


def test_an_empty_cell_reads_as_none():
    frame = pd.DataFrame({"batch": ["03"], "roc_auc": [float("nan")], "rows": [10]})
    assert records(frame) == [{"batch": "03", "roc_auc": None, "rows": 10}]
