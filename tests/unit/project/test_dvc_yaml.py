"""dvc.yaml and src/driftline/core/paths.py name the same files, the group stages run over
the registry's groups, and each stage runs its entry point (tests/unit/project/test_stage_deps.py
checks that its code deps are exactly the code it runs)."""

import yaml

from driftline.core import paths
from driftline.core.config import REGISTRY_FILE, load_registry, parse_yaml
from driftline.tooling.registry import register, write_registry
from helpers import pipeline_stages as stages


def entries(items):
    return [next(iter(i)) if isinstance(i, dict) else i for i in items]


def test_the_group_stages_run_over_the_registry_groups(repo_root):
    """prepare and score are in the root dvc.yaml, a foreach over the groups the registry
    lists (read through vars), each group's paths those of paths.py."""
    pipeline = parse_yaml((repo_root / "dvc.yaml").read_text())
    assert pipeline["vars"] == [REGISTRY_FILE]
    group = "2013-Q1"
    for kind in ("prepare", "score"):
        assert pipeline["stages"][kind]["foreach"] == "${groups}"
    body = {kind: stages(repo_root)[kind]["do"] for kind in ("prepare", "score")}
    resolved = {
        kind: parse_yaml(yaml.safe_dump(b).replace("${item}", group)) for kind, b in body.items()
    }
    assert resolved["prepare"]["cmd"].split()[3:] == resolved["score"]["cmd"].split()[3:] == [group]
    assert resolved["prepare"]["deps"][0] == str(paths.raw_dir(group))
    assert entries(resolved["prepare"]["outs"]) == [
        str(paths.prepared_dir(group)),
        str(paths.profiles_dir(group)),
    ]
    assert entries(resolved["score"]["outs"]) == [
        str(paths.scores_dir(group)),
        str(paths.batch_metrics_dir(group)),
    ]
    assert entries(resolved["prepare"]["outs"]) == resolved["score"]["deps"][:2]
    assert paths.prepared("2013-01-05").parent == paths.prepared_dir(group)


def test_fixed_paths_agree(repo_root):
    s = stages(repo_root)
    declared = set()
    for stage in s.values():
        body = stage.get("do", stage)
        declared |= set(entries(body.get("outs", []))) | set(entries(body.get("metrics", [])))
    fixed = {str(v) for k, v in vars(paths).items() if k.isupper() and "." in str(v)}
    # Every fixed path is a stage's output, but the lock and the timeline's archive, which
    # `driftline retrain` writes and the evaluate stage reads.
    assert fixed - {str(paths.LOCK), str(paths.SERVED)} <= declared
    assert str(paths.SERVED) in s["evaluate"]["deps"] and str(paths.SERVED) not in declared


def test_each_stage_runs_its_entry_point(repo_root):
    for name, stage in stages(repo_root).items():
        body = stage.get("do", stage)
        assert (repo_root / f"src/driftline/stages/{name}.py").is_file(), name
        assert body["cmd"].startswith(f"python -m driftline.stages.{name}")


def test_byte_code_cannot_change_the_package_hash(repo_root):
    ignored = (repo_root / ".dvcignore").read_text().split()
    assert "__pycache__/" in ignored


def test_committed_lock_matches_the_code_contract_and_params(repo_root, monkeypatch):
    """A stale dvc.lock (code, contract, params or pipeline changed without `dvc repro`) fails
    here, in seconds, naming the stages and what changed: the check `driftline report` makes.
    Missing data or models do not count (a fresh clone has none)."""
    from driftline.tooling.repo_state import check_lock_is_fresh

    monkeypatch.chdir(repo_root)
    check_lock_is_fresh()


def test_the_model_is_declared_as_a_registry_artifact(repo_root):
    """DVC's model-registry convention: versions are tags model@vX.Y.Z (tooling/versions.py)."""
    from driftline.tooling.versions import ARTIFACT

    declared = parse_yaml((repo_root / "dvc.yaml").read_text())["artifacts"][ARTIFACT]
    assert declared["path"] == str(paths.MODEL) and declared["type"] == "model"
    assert declared["desc"] and declared["labels"]


def test_the_committed_registry_is_as_its_writer_writes_it(repo_root, tmp_path):
    committed = repo_root / REGISTRY_FILE
    written = tmp_path / "batches.yaml"
    write_registry(load_registry(committed), written)
    assert written.read_bytes() == committed.read_bytes()
    register(["2013-07"], written)  # appended last, the header kept
    assert load_registry(written) == [*load_registry(committed), "2013-07"]
    assert written.read_text().startswith("# The registered raw batches")
