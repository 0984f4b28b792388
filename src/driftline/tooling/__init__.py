"""Tooling around the pipeline: the ``driftline`` CLI, ingest, the demo data, the pull-request
comment, git and DVC queries, ad-hoc comparisons and retraining as a params change. No stage
runs this code, so editing it leaves ``dvc status`` clean
(``tests/unit/project/test_stage_deps.py``)."""
