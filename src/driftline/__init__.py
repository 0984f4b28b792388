"""Driftline: a reproducible DVC pipeline for tabular ML on data that arrives in batches.

``driftline.core`` is what the pipeline's stages run, and all they run: ``dvc.yaml`` names it
as their code dependency. ``driftline.ops`` is the tooling around the pipeline (the CLI,
ingest, the pull-request comment...): editing it reruns no stage. This file holds no code,
since every stage imports it.
"""
