"""Thin stage entry points run by ``dvc.yaml``: read params, call the pure functions, write
outputs atomically. Each is ``python -m driftline.stages.<stage> [group]``: the group stages,
prepare and score, take the name of one group of batches (``driftline.core.batches``)."""
