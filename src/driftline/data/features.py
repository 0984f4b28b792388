"""The optional hook for derived features: the demo's, from a flight's scheduled departure.

The pipeline calls :func:`derive` when ``features.derive`` is true in ``params.yaml``. A fork
whose raw columns are its features sets ``derive: false`` and never needs this file; one that
wants features computed from several columns (or from the row's time) edits it. It is stage
code, inside ``src/driftline/core``, so an edit re-prepares every batch.

The contract is the signature and :data:`RANGES`:

- ``derive(raw, time)`` gets one batch typed by the data contract (``raw``) and each row's time
  (``time``, a datetime Series from the contract's ``time`` columns), and returns a DataFrame
  of new columns in the same row order: text columns become categorical candidates, numeric
  ones numeric candidates. A returned name must not be a raw candidate already.
- ``RANGES`` gives each numeric derived column the ``(low, high)`` of its drift histogram, as
  ``range`` in ``contract.yaml`` does for a raw column.
"""

from __future__ import annotations

import pandas as pd

RANGES = {
    "sched_hour": (0.0, 24.0),
    "day_of_week": (0.0, 7.0),
    "day_of_month": (1.0, 32.0),
    "month": (1.0, 13.0),
}


def derive(raw: pd.DataFrame, time: pd.Series) -> pd.DataFrame:
    """The scheduled hour (with minutes), weekday, day of the month and month of each flight."""
    return pd.DataFrame(
        {
            "sched_hour": time.dt.hour.astype("float64") + time.dt.minute.astype("float64") / 60,
            "day_of_week": time.dt.day_of_week.astype("float64"),
            "day_of_month": time.dt.day.astype("float64"),
            "month": time.dt.month.astype("float64"),
        }
    )
