"""The group stages' pieces, in process: a batch's group, its key, the manifest diff, DVC's
cache as the previous run left it (a lock entry, .dir listings, objects), the inputs a stage
reads back from dvc.yaml, and the stray files of a raw folder.
tests/integration/test_group_stages.py runs them under DVC."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from driftline.core.batches import group_of, grouped
from driftline.core.errors import DriftlineError
from driftline.data.raw_files import check_folder, unregistered
from driftline.pipeline.dvc_cache import cache_dir
from driftline.pipeline.reuse import (
    MANIFEST,
    GroupStage,
    batch_key,
    build,
    code_fingerprint,
    declared,
    unchanged,
)
from driftline.pipeline.stage_inputs import declared_inputs

# --- groups ----------------------------------------------------------------------------------


def test_a_day_is_in_its_quarter_a_month_is_its_own_group_and_any_other_name_too():
    assert group_of("2013-01-05") == group_of("2013-03-31") == "2013-Q1"
    assert group_of("2013-02-05-night") == "2013-Q1"
    assert group_of("2013-04-01") == "2013-Q2" and group_of("2013-12-31") == "2013-Q4"
    assert group_of("2013-01") == group_of("2013-01-bis") == "2013-01"
    assert group_of("week-07") == "week-07" and group_of("201301") == "201301"


def test_groups_keep_the_registry_order():
    assert grouped(["2013-03-30", "2013-03-31", "2013-04-01", "x"]) == {
        "2013-Q1": ["2013-03-30", "2013-03-31"],
        "2013-Q2": ["2013-04-01"],
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


def test_the_code_fingerprint_follows_the_declared_files_and_folders_and_nothing_else(tmp_path):
    (tmp_path / "stages").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "stages" / "b.py").write_text("y = 2\n")
    (tmp_path / "c.py").write_text("z = 3\n")
    files = (Path("stages/b.py"), Path("a.py"))
    first = code_fingerprint(files, tmp_path)
    assert code_fingerprint(files[::-1], tmp_path) == first  # order-free
    (tmp_path / "c.py").write_text("z = 4\n")  # not a dep of this stage
    assert code_fingerprint(files, tmp_path) == first
    (tmp_path / "stages" / "b.py").write_text("y = 3\n")
    assert code_fingerprint(files, tmp_path) != first
    assert code_fingerprint(files[:1], tmp_path) != code_fingerprint(files, tmp_path)
    # A folder dep stands for every file in it, byte code aside.
    folder = code_fingerprint((Path("stages"),), tmp_path)
    (tmp_path / "stages" / "__pycache__").mkdir()
    (tmp_path / "stages" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"\0")
    assert code_fingerprint((Path("stages"),), tmp_path) == folder
    (tmp_path / "stages" / "c.py").write_text("w = 1\n")
    assert code_fingerprint((Path("stages"),), tmp_path) != folder


def test_a_stage_reads_its_params_and_code_deps_back_from_dvc_yaml(tmp_path):
    (tmp_path / "dvc.yaml").write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "make": {
                        "foreach": "${groups}",
                        "do": {
                            "cmd": "python -m x ${item}",
                            "deps": ["data/${item}", "src/pkg/x.py", "src/pkg/y.py"],
                            "params": ["a.b", {"other.yaml": ["c"]}],
                        },
                    }
                }
            }
        )
    )
    inputs = declared_inputs("make", tmp_path)
    assert inputs.params == ("a.b",)
    assert inputs.code == (Path("src/pkg/x.py"), Path("src/pkg/y.py"))
    with pytest.raises(DriftlineError, match="cannot read the deps of stage 'nope'"):
        declared_inputs("nope", tmp_path)


def test_a_raw_folder_holding_anything_but_its_batches_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "data/raw/2013-01"
    folder.mkdir(parents=True)
    for name in ("2013-01-01.csv", "2013-01-02.csv"):
        (folder / name).write_text("a\n")
    check_folder("2013-01", ["2013-01-01", "2013-01-02"])
    check_folder("2013-02", [])  # no folder yet: nothing stray
    (folder / "2013-01-02.csv~").write_text("an editor's backup\n")
    (folder / "download (1).csv").write_text("a stray download\n")
    assert [p.name for p in unregistered("2013-01", ["2013-01-01", "2013-01-02"])] == [
        "2013-01-02.csv~",
        "download (1).csv",
    ]
    with pytest.raises(DriftlineError) as stray:
        check_folder("2013-01", ["2013-01-01", "2013-01-02"])
    said = str(stray.value)
    assert "data/raw/2013-01/2013-01-02.csv~" in said and "download (1).csv" in said
    assert "not a registered batch" in said and "dvc add data/raw/2013-01" in said


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
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))
    return dir_md5


def stage(root: Path, computed: list[str]) -> GroupStage:
    def compute(batch: str) -> None:
        computed.append(batch)
        (root / "out" / "g").mkdir(parents=True, exist_ok=True)
        (root / "out" / "g" / f"{batch}.txt").write_text(f"computed {batch}\n")

    return GroupStage(
        "make",
        "g",
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
    lock = tmp_path / "dvc.lock"
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
