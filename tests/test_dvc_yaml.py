"""dvc.yaml and src/driftline/core/paths.py name the same files, and each stage runs its entry
point (tests/test_stage_deps.py checks that the code it runs is a dep)."""

import yaml

from driftline.core import paths
from helpers import PIPELINES
from helpers import pipeline_stages as stages


def test_per_batch_stages_run_from_the_root_and_list_the_registered_batches(repo_root):
    for name in PIPELINES[1:]:
        pipeline = yaml.safe_load((repo_root / name).read_text())
        assert pipeline["vars"] == ["../../params.yaml:batches"]
        (stage,) = pipeline["stages"].values()
        assert stage["foreach"] == "${batches}" and stage["do"]["wdir"] == "../.."


def entries(items):
    return [next(iter(i)) if isinstance(i, dict) else i for i in items]


def test_per_batch_paths_agree(repo_root):
    s = stages(repo_root)
    item = "${item}"
    assert str(paths.raw(item)) in s["prepare"]["do"]["deps"]
    assert entries(s["prepare"]["do"]["outs"]) == [
        str(paths.prepared(item)),
        str(paths.profile(item)),
    ]
    assert entries(s["score"]["do"]["outs"]) == [
        str(paths.scores(item)),
        str(paths.batch_metrics(item)),
    ]


def test_fixed_paths_agree(repo_root):
    s = stages(repo_root)
    declared = set()
    for stage in s.values():
        body = stage.get("do", stage)
        declared |= set(entries(body.get("outs", []))) | set(entries(body.get("metrics", [])))
    fixed = {str(v) for k, v in vars(paths).items() if k.isupper() and "." in str(v)}
    assert fixed <= declared


def test_each_stage_runs_its_entry_point(repo_root):
    for name, stage in stages(repo_root).items():
        body = stage.get("do", stage)
        assert (repo_root / f"src/driftline/core/stages/{name}.py").is_file(), name
        assert body["cmd"].startswith(f"python -m driftline.core.stages.{name}")


def test_byte_code_cannot_change_the_package_hash(repo_root):
    ignored = (repo_root / ".dvcignore").read_text().split()
    assert "__pycache__/" in ignored


def test_committed_lock_matches_the_code_contract_and_params(repo_root, monkeypatch):
    """A stale dvc.lock (code, contract, params or pipeline changed without `dvc repro`) fails
    here, in seconds, naming the stages and what changed: the check `driftline report` makes.
    Missing data or models do not count (a fresh clone has none)."""
    from driftline.ops.repo_state import check_lock_is_fresh

    monkeypatch.chdir(repo_root)
    check_lock_is_fresh()


def test_the_model_is_declared_as_a_registry_artifact(repo_root):
    """DVC's model-registry convention: versions are tags model@vX.Y.Z (ops/versions.py)."""
    from driftline.ops.versions import ARTIFACT

    declared = yaml.safe_load((repo_root / "dvc.yaml").read_text())["artifacts"][ARTIFACT]
    assert declared["path"] == str(paths.MODEL) and declared["type"] == "model"
    assert declared["desc"] and declared["labels"]
