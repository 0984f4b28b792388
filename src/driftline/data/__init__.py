"""The data: the contract a raw batch must meet, the raw files DVC tracks, and from a raw
batch to the prepared frame (its time, target and candidate features)."""
