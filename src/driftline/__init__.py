"""Driftline: a reproducible DVC pipeline for tabular ML on data that arrives in batches."""

__version__ = "0.1.0"
