"""The group stages' pieces, in process: a batch's group, its key, the manifest diff, DVC's
cache as the previous run left it (a lock entry, .dir listings, objects), and the generated
stage files. tests/test_group_stages.py runs them under DVC."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from driftline.core.batch_groups import check_group_files, group_of, grouped
from driftline.core.dvc_cache import cache_dir
from driftline.core.errors import DriftlineError
from driftline.core.known_outputs import (
    MANIFEST,
    GroupStage,
    batch_key,
    build,
    code_fingerprint,
    declared,
    unchanged,
)
from driftline.ops.pipeline_files import Sync, apply, expected, plan, render

# --- groups ----------------------------------------------------------------------------------


def test_a_batch_is_in_the_group_of_its_month_or_its_own():
    assert group_of("2013-01-05") == group_of("2013-01") == "2013-01"
    assert group_of("2013-01-05-night") == "2013-01"
    assert group_of("week-07") == "week-07" and group_of("201301") == "201301"


def test_groups_keep_the_registry_order():
    assert grouped(["2013-01-30", "2013-01-31", "2013-02-01", "x"]) == {
        "2013-01": ["2013-01-30", "2013-01-31"],
        "2013-02": ["2013-02-01"],
        "x": ["x"],
    }


# --- keys and the manifest diff ----------------------------------------------------------------


def test_a_key_is_canonical_and_changes_with_any_part():
    parts = {"batch": "2013-01-05", "raw": "ab", "params": {"bins": 10, "derive": True}}
    assert batch_key(parts) == batch_key(dict(reversed(list(parts.items()))))
    assert batch_key(parts) != batch_key({**parts, "raw": "ac"})
    assert batch_key(parts) != batch_key({**parts, "params": {"bins": 11, "derive": True}})


def test_declared_params_are_read_by_dotted_key():
    params = {"target": {"column": "y"}, "features": {"derive": True}, "drift": {}}
    assert declared(params, ("target", "features.derive", "drift.columns")) == {
        "target": {"column": "y"},
        "features.derive": True,
        "drift.columns": None,
    }


def test_only_batches_with_the_same_key_are_unchanged():
    previous = {"a": "1", "b": "2", "gone": "3"}
    assert unchanged(previous, {"a": "1", "b": "9", "new": "4"}) == ["a"]
    assert unchanged({}, {"a": "1"}) == []


def test_the_code_fingerprint_covers_every_python_file_and_nothing_else(tmp_path):
    (tmp_path / "stages").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "stages" / "b.py").write_text("y = 2\n")
    first = code_fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not code")
    assert code_fingerprint(tmp_path) == first
    (tmp_path / "stages" / "b.py").write_text("y = 3\n")
    assert code_fingerprint(tmp_path) != first


def test_the_cache_is_found_where_the_dvc_config_puts_it(tmp_path):
    assert cache_dir(tmp_path) == tmp_path / ".dvc" / "cache"
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(
        "[core]\n    remote = local\n[cache]\n    dir = ../shared-cache\n"
        "['remote \"local\"']\n    url = ../remote\n"
    )
    assert cache_dir(tmp_path) == tmp_path / ".dvc" / "../shared-cache"
    (tmp_path / ".dvc" / "config.local").write_text("[cache]\n    dir = /abs/cache\n")
    assert cache_dir(tmp_path) == Path("/abs/cache")


# --- a group stage against the previous run's cache ---------------------------------------------


def put(cache: Path, data: bytes) -> str:
    md5 = hashlib.md5(data).hexdigest()
    (cache / "files" / "md5" / md5[:2]).mkdir(parents=True, exist_ok=True)
    (cache / "files" / "md5" / md5[:2] / md5[2:]).write_bytes(data)
    return md5


def previous_run(root: Path, files: dict[str, bytes], keys: dict[str, str]) -> str:
    """Record ``files`` (name: bytes) and the manifest of ``keys`` in the cache as the output
    folder ``out/g`` of stage ``make@g``, as DVC would after a run; returns the .dir md5."""
    cache = root / ".dvc" / "cache"
    entries = [
        {"md5": put(cache, data), "relpath": name}
        for name, data in {**files, MANIFEST: json.dumps(keys).encode()}.items()
    ]
    listing = json.dumps(sorted(entries, key=lambda e: e["relpath"])).encode()
    dir_md5 = hashlib.md5(listing).hexdigest()
    (cache / "files" / "md5" / dir_md5[:2]).mkdir(parents=True, exist_ok=True)
    (cache / "files" / "md5" / dir_md5[:2] / (dir_md5[2:] + ".dir")).write_bytes(listing)
    lock = {"stages": {"make@g": {"outs": [{"path": "out/g", "md5": dir_md5 + ".dir"}]}}}
    (root / "pipeline" / "g").mkdir(parents=True, exist_ok=True)
    (root / "pipeline" / "g" / "dvc.lock").write_text(yaml.safe_dump(lock))
    return dir_md5


def stage(root: Path, computed: list[str]) -> GroupStage:
    def compute(batch: str) -> None:
        computed.append(batch)
        (root / "out" / "g").mkdir(parents=True, exist_ok=True)
        (root / "out" / "g" / f"{batch}.txt").write_text(f"computed {batch}\n")

    return GroupStage(
        "make",
        "g",
        Path("pipeline/g/dvc.lock"),
        {Path("out/g"): lambda b: Path(f"out/g/{b}.txt")},
        compute,
    )


def outputs(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "out" / "g").iterdir())}


def test_known_batches_are_restored_and_the_others_computed(tmp_path):
    previous_run(tmp_path, {"a.txt": b"old a\n", "b.txt": b"old b\n"}, {"a": "ka", "b": "kb"})
    computed: list[str] = []
    reused = build(stage(tmp_path, computed), {"a": "ka", "b": "kb2", "c": "kc"}, tmp_path)
    assert reused == ["a"] and computed == ["b", "c"]
    assert outputs(tmp_path) == {
        MANIFEST: json.dumps({"a": "ka", "b": "kb2", "c": "kc"}, indent=2, sort_keys=True) + "\n",
        "a.txt": "old a\n",
        "b.txt": "computed b\n",
        "c.txt": "computed c\n",
    }


def test_a_missing_or_corrupted_cache_object_is_computed_not_reused(tmp_path):
    previous_run(tmp_path, {"a.txt": b"old a\n", "b.txt": b"old b\n"}, {"a": "ka", "b": "kb"})
    cache = tmp_path / ".dvc" / "cache" / "files" / "md5"
    a_md5, b_md5 = (hashlib.md5(d).hexdigest() for d in (b"old a\n", b"old b\n"))
    (cache / a_md5[:2] / a_md5[2:]).unlink()
    (cache / b_md5[:2] / b_md5[2:]).write_bytes(b"bit rot\n")
    computed: list[str] = []
    assert build(stage(tmp_path, computed), {"a": "ka", "b": "kb"}, tmp_path) == []
    assert computed == ["a", "b"]
    assert outputs(tmp_path)["b.txt"] == "computed b\n"


@pytest.mark.parametrize("damage", ["no lock", "no entry", "no listing", "other cache"])
def test_anything_amiss_with_the_previous_run_means_computing(tmp_path, damage):
    dir_md5 = previous_run(tmp_path, {"a.txt": b"old a\n"}, {"a": "ka"})
    lock = tmp_path / "pipeline" / "g" / "dvc.lock"
    if damage == "no lock":
        lock.unlink()
    elif damage == "no entry":
        lock.write_text(yaml.safe_dump({"stages": {}}))
    elif damage == "no listing":
        (tmp_path / ".dvc/cache/files/md5" / dir_md5[:2] / (dir_md5[2:] + ".dir")).unlink()
    else:
        (tmp_path / ".dvc" / "config").write_text("[cache]\n    dir = elsewhere\n")
    computed: list[str] = []
    assert build(stage(tmp_path, computed), {"a": "ka"}, tmp_path) == []
    assert computed == ["a"] and outputs(tmp_path)["a.txt"] == "computed a\n"


def test_files_of_batches_no_longer_in_the_group_are_removed(tmp_path):
    (tmp_path / "out" / "g").mkdir(parents=True)
    (tmp_path / "out" / "g" / "gone.txt").write_text("stale\n")
    build(stage(tmp_path, []), {"a": "ka"}, tmp_path)
    assert set(outputs(tmp_path)) == {MANIFEST, "a.txt"}


# --- the generated stage files ------------------------------------------------------------


def test_a_group_file_lists_its_batches_and_is_the_same_bytes_every_time():
    text = render("2013-01", ["2013-01-01", "2013-01-02"])
    assert text == render("2013-01", ["2013-01-01", "2013-01-02"])
    assert text.startswith("# Generated by `driftline pipeline sync`")
    stages = yaml.safe_load(text)["stages"]
    prepare = stages["prepare"]["do"]
    assert stages["prepare"]["foreach"] == stages["score"]["foreach"] == ["2013-01"]
    assert prepare["cmd"] == "python -m driftline.core.stages.prepare 2013-01-01 2013-01-02"
    assert prepare["deps"][:2] == [
        "data/raw/2013-01/2013-01-01.csv",
        "data/raw/2013-01/2013-01-02.csv",
    ]
    assert prepare["outs"] == ["data/prepared/2013-01", "data/profiles/2013-01"]
    assert stages["score"]["do"]["outs"] == ["data/scores/2013-01", "metrics/batches/2013-01"]


def test_a_sync_writes_new_groups_and_removes_unregistered_ones_with_their_lock(tmp_path):
    apply(plan(["2013-01-01", "2013-02-01"], tmp_path), tmp_path)
    (tmp_path / "pipeline/2013-02/dvc.lock").write_text("schema: '2.0'\n")
    (tmp_path / "pipeline/handmade").mkdir()
    (tmp_path / "pipeline/handmade/dvc.yaml").write_text("stages: {}\n")
    changes = plan(["2013-01-01", "2013-01-02"], tmp_path)
    assert changes == Sync(
        {
            Path("pipeline/2013-01/dvc.yaml"): expected(["2013-01-01", "2013-01-02"])[
                Path("pipeline/2013-01/dvc.yaml")
            ]
        },
        [Path("pipeline/2013-02/dvc.yaml"), Path("pipeline/2013-02/dvc.lock")],
    )
    apply(changes, tmp_path)
    assert not (tmp_path / "pipeline/2013-02").exists()
    assert (tmp_path / "pipeline/handmade/dvc.yaml").is_file()  # not generated: kept
    assert plan(["2013-01-01", "2013-01-02"], tmp_path) == Sync()


def test_a_registry_the_group_files_do_not_match_is_refused_naming_the_fix(tmp_path):
    apply(plan(["2013-01-01", "2013-02-01"], tmp_path), tmp_path)
    check_group_files(["2013-01-01", "2013-02-01"], tmp_path)
    with pytest.raises(DriftlineError) as missing:
        check_group_files(["2013-01-01", "2013-02-01", "2013-03-01"], tmp_path)
    assert "group 2013-03 (2013-03-01...) has no pipeline/2013-03/dvc.yaml" in str(missing.value)
    assert "Run 'driftline pipeline sync'" in str(missing.value)
    with pytest.raises(DriftlineError, match="pipeline/2013-02/dvc.yaml is of group 2013-02"):
        check_group_files(["2013-01-01"], tmp_path)
    with pytest.raises(DriftlineError, match=r"pipeline/2013-01/dvc.yaml lists \['2013-01-01'\]"):
        check_group_files(["2013-01-01", "2013-01-02", "2013-02-01"], tmp_path)
