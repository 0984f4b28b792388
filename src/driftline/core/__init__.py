"""The kernel every stage runs: the one params and contract loader (``config``), the paths,
batch groups, atomic writers, logger, failpoints, errors and the stage runner. Each stage in
``dvc.yaml`` depends on this folder as a whole; nothing here imports the other parts."""
