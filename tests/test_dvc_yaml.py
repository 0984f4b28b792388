"""dvc.yaml, the generated pipeline/<group>/dvc.yaml and src/driftline/core/paths.py name the
same files, and each stage runs its entry point (tests/test_stage_deps.py checks that the code
it runs is a dep)."""

import yaml

from driftline.core import paths
from driftline.core.batch_groups import PARAMS, group_of, grouped
from driftline.core.config import REGISTRY_FILE, batch_list, load_params, load_registry
from driftline.ops.batches import register, write_registry
from helpers import pipeline_stages as stages
from helpers import pipelines


def group_files(repo_root):
    """Each registered group's stage file, parsed, by group."""
    params = load_params(repo_root / "params.yaml")
    return {
        group: (names, yaml.safe_load((repo_root / f"pipeline/{group}/dvc.yaml").read_text()))
        for group, names in grouped(batch_list(params)).items()
    }


def test_group_stages_run_from_the_root_one_item_each(repo_root):
    files = group_files(repo_root)
    assert pipelines(repo_root)[1:] == sorted(f"pipeline/{g}/dvc.yaml" for g in files)
    for group, (_, pipeline) in files.items():
        assert set(pipeline["stages"]) == {"prepare", "score"}
        for stage in pipeline["stages"].values():
            assert stage["foreach"] == [group] and stage["do"]["wdir"] == "../.."


def entries(items):
    return [next(iter(i)) if isinstance(i, dict) else i for i in items]


def test_group_paths_agree(repo_root):
    for group, (names, pipeline) in group_files(repo_root).items():
        prepare, score = pipeline["stages"]["prepare"]["do"], pipeline["stages"]["score"]["do"]
        assert prepare["cmd"].split()[3:] == score["cmd"].split()[3:] == names
        assert [str(paths.raw(b)) for b in names] == prepare["deps"][: len(names)]
        assert entries(prepare["outs"]) == [
            str(paths.prepared_dir(group)),
            str(paths.profiles_dir(group)),
        ]
        assert entries(score["outs"]) == [
            str(paths.scores_dir(group)),
            str(paths.batch_metrics_dir(group)),
        ]
        assert entries(prepare["outs"]) == score["deps"][:2]
        assert (prepare["params"], score["params"]) == (
            list(PARAMS["prepare"]),
            list(PARAMS["score"]),
        )
        for batch in names:
            assert paths.prepared(batch).parent == paths.prepared_dir(group_of(batch))
            assert paths.batch_metrics(batch).parent == paths.batch_metrics_dir(group)


def test_the_group_files_are_those_the_registry_generates(repo_root):
    """The check `driftline pipeline sync --check` makes: the committed files are generated."""
    from driftline.ops.pipeline_files import check

    check(repo_root)


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


def test_the_committed_registry_is_as_its_writer_writes_it(repo_root, tmp_path):
    committed = repo_root / REGISTRY_FILE
    written = tmp_path / "batches.yaml"
    write_registry(load_registry(committed), written)
    assert written.read_bytes() == committed.read_bytes()
    register(["2013-07"], written)  # appended last, the header kept
    assert load_registry(written) == [*load_registry(committed), "2013-07"]
    assert written.read_text().startswith("# The registered raw batches")
