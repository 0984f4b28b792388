"""The DVC plumbing the stages use: DVC's hashes and cache read without importing DVC, what
``dvc.yaml`` declares a stage depends on, and the reuse of a group's known batch outputs."""
