"""DVC lists and draws one prepare and one score stage per registered group."""

from driftline.core.config import REGISTRY_FILE, parse_yaml
from helpers import run


def test_dvc_lists_and_draws_one_prepare_and_one_score_stage_per_registered_group(repo_root):
    listed = run(repo_root, "dvc", "stage", "list", "--name-only").stdout.split()
    groups = parse_yaml((repo_root / REGISTRY_FILE).read_text())["groups"]
    assert [s for s in listed if "@" in s] == [f"prepare@{g}" for g in groups] + [
        f"score@{g}" for g in groups
    ]
    # dvc dag draws the whole pipeline from the root dvc.yaml: each month's chain is in it.
    edges = run(repo_root, "dvc", "dag", "--mermaid").stdout
    for group in groups:
        assert f"prepare@{group}" in edges and f"score@{group}" in edges
    for stage in ("window", "train", "evaluate", "drift", "promote"):
        assert stage in edges
