"""The model and its promotion: the scikit-learn pipeline built from params, its safe storage,
the paired bootstrap of champion against challenger, and the promotion gate."""
