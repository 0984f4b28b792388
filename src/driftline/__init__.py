"""Driftline: a reproducible DVC pipeline for tabular ML on data that arrives in batches.

``driftline.stages`` are the stage entry points ``dvc.yaml`` runs; each depends on exactly the
code it imports: the kernel ``driftline.core`` and parts of ``data``, ``monitoring``,
``model`` and ``pipeline``. ``driftline.tooling`` is the tooling around the pipeline (the CLI,
ingest, the pull-request comment...): editing it reruns no stage. This file holds no code,
since every stage imports it.
"""
