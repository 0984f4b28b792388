"""Daily batches under real DVC: one prepare@<quarter> and one score@<quarter> stage per
quarter of days (a foreach in dvc.yaml), each computing only the days whose outputs it does
not know.

The project holds demo days (contract.yaml ``period: day``, as bench/bench_daily.py builds
it): March 27-31 and April 1-3, trained on March 27-29. Adding April 4 must touch the second
quarter's stages alone, reuse its three known days, and give the bytes a build from scratch
gives; a params change, a missing or a corrupted cache object means computing; a registry
edited out of shape, and a raw folder holding a file that is no batch, are refused, naming
the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from driftline.core import paths
from driftline.core.config import parse_yaml
from driftline.tooling.demo import batch_csv_bytes
from driftline.tooling.params_text import set_window
from helpers import copy_of, run, stages_run, unregister_all

DAYS = [f"2013-03-{d}" for d in range(27, 32)] + [f"2013-04-0{d}" for d in range(1, 4)]
PREPARE, SCORE = "prepare@2013-Q2", "score@2013-Q2"


def day_csv(demo_months: dict, day: str, folder: Path) -> Path:
    month = demo_months[day[:7]]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day}.csv"
    path.write_bytes(batch_csv_bytes(month[month["day"].astype(int) == int(day[8:])]))
    return path


def repro(repo: Path, *args: str) -> str:
    done = run(repo, "dvc", "repro", *args)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def daily(committed, demo_months, tmp_path_factory) -> Path:
    """The daily project, reproduced and committed."""
    tmp = tmp_path_factory.mktemp("daily")
    repo = copy_of(committed, tmp / "repo")
    contract = repo / "contract.yaml"
    contract.write_text(re.sub(r"(?m)^period: month\b", "period: day", contract.read_text()))
    unregister_all(repo)  # the demo months
    params = repo / "params.yaml"
    params.write_text(set_window(params.read_text(), DAYS[0], DAYS[2]))
    for day in DAYS:
        day_csv(demo_months, day, tmp / "landing")
    run(repo, "driftline", "ingest", "--from", str(tmp / "landing"))
    listed = run(repo, "dvc", "stage", "list", "--name-only").stdout.split()
    assert [s for s in listed if "@" in s] == [
        "prepare@2013-Q1",
        PREPARE,
        "score@2013-Q1",
        SCORE,
    ]
    repro(repo)
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "daily project")
    return repo


@pytest.fixture(scope="module")
def added(daily, demo_months, tmp_path_factory) -> dict:
    """February 4 ingested: what `dvc status` said, then what `dvc repro` ran and logged."""
    repo = copy_of(daily, tmp_path_factory.mktemp("added") / "repo")
    run(repo, "driftline", "ingest", str(day_csv(demo_months, "2013-04-04", repo.parent)))
    status = json.loads(run(repo, "dvc", "status", "--json").stdout)
    return {"repo": repo, "status": status, "log": repro(repo)}


def changed_deps(status: dict, stage: str) -> dict[str, str]:
    entries = [e for e in status.get(stage, []) if isinstance(e, dict)]
    return {k: v for entry in entries for k, v in entry.get("changed deps", {}).items()}


def test_status_names_the_new_days_quarter_and_dvc_diff_names_the_day(added):
    status = added["status"]
    groups = {s for s in status if "@" in s}
    assert groups == {PREPARE}  # Q1 untouched; score@2013-Q2 follows its prepare
    assert changed_deps(status, PREPARE) == {"data/raw/2013-Q2": "modified"}
    said = run(added["repo"], "dvc", "diff").stdout
    assert "data/raw/2013-Q2/2013-04-04.csv" in said


def test_repro_runs_the_quarters_stages_only_and_reuses_its_known_days(added):
    log = added["log"]
    groups = {s for s in stages_run(log) if "@" in s}
    assert groups == {PREPARE, SCORE}
    assert log.count("2013-Q2: 4 batches, 3 reused, 1 computed") == 2  # prepare, then score
    assert "2013-Q1:" not in log
    assert "Running stage" not in repro(added["repo"])


def test_the_quarters_outputs_are_those_of_a_build_from_scratch(added, tmp_path):
    scratch = copy_of(added["repo"], tmp_path / "scratch")
    lock = parse_yaml((scratch / "dvc.lock").read_text())
    entries = {stage: lock["stages"].pop(stage) for stage in (PREPARE, SCORE)}
    (scratch / "dvc.lock").write_text(yaml.safe_dump(lock))  # no previous run to reuse
    log = repro(scratch, "--no-run-cache", SCORE)
    assert log.count("2013-Q2: 4 batches, 0 reused, 4 computed") == 2
    rebuilt = parse_yaml((scratch / "dvc.lock").read_text())["stages"]
    assert {stage: rebuilt[stage] for stage in entries} == entries
    for folder in ("data/prepared", "data/profiles", "data/scores", "metrics/batches"):
        mine, theirs = added["repo"] / folder / "2013-Q2", scratch / folder / "2013-Q2"
        assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in theirs.iterdir())
        for path in mine.iterdir():
            assert path.read_bytes() == (theirs / path.name).read_bytes(), path


def test_a_params_change_recomputes_every_batch(daily, tmp_path):
    repo = copy_of(daily, tmp_path / "repo")
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("share: 0.5 ", "share: 0.6 ", 1))
    log = repro(repo)
    assert {s for s in stages_run(log) if "@" in s} == {"score@2013-Q1", SCORE}
    assert "2013-Q1: 5 batches, 0 reused, 5 computed" in log
    assert "2013-Q2: 3 batches, 0 reused, 3 computed" in log


def cache_object(repo: Path, folder: str, name: str) -> Path:
    """The DVC cache object of one file of a group folder, as dvc.lock records it."""
    lock = parse_yaml((repo / "dvc.lock").read_text())
    stage = PREPARE if folder.startswith("data/pr") else SCORE
    (dir_md5,) = [o["md5"] for o in lock["stages"][stage]["outs"] if o["path"] == folder]
    cache = repo / ".dvc/cache/files/md5"
    listing = json.loads((cache / dir_md5[:2] / dir_md5[2:]).read_text())
    (md5,) = [e["md5"] for e in listing if e["relpath"] == name]
    return cache / md5[:2] / md5[2:]


def test_a_missing_or_corrupted_cache_object_is_computed_again(daily, demo_months, tmp_path):
    repo = copy_of(daily, tmp_path / "repo")
    expected = {
        path: (repo / path).read_bytes()
        for path in (paths.prepared("2013-04-01"), paths.profile("2013-04-02"))
    }
    corrupted = cache_object(repo, "data/prepared/2013-Q2", "2013-04-01.parquet")
    corrupted.chmod(0o644)
    corrupted.write_bytes(b"bit rot")
    cache_object(repo, "data/profiles/2013-Q2", "2013-04-02.json").unlink()
    run(repo, "driftline", "ingest", str(day_csv(demo_months, "2013-04-04", tmp_path)))
    log = repro(repo)
    assert "2013-Q2: 4 batches, 1 reused, 3 computed" in log  # only 2013-04-03 was intact
    for path, data in expected.items():
        assert (repo / path).read_bytes() == data, path  # computed again, the same bytes
    assert "2013-Q2: 4 batches, 3 reused, 1 computed" in log  # score: its cache is intact


def test_a_registry_edited_out_of_shape_is_refused_naming_the_fix(daily, tmp_path):
    repo = copy_of(daily, tmp_path / "repo")
    registry = repo / "data/batches.yaml"  # a day added by hand, its group not listed
    text = registry.read_text()
    registry.write_text(text.replace('  - "2013-04-03"\n', '  - "2013-04-03"\n  - "2013-07-01"\n'))
    done = run(repo, "dvc", "repro", check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in said
    assert "data/batches.yaml: 'groups' lists ['2013-Q1', '2013-Q2']" in said
    assert "'driftline ingest' writes both lists" in said


def test_a_file_in_a_raw_folder_that_is_no_batch_is_refused_by_ingest_and_prepare(
    daily, demo_months, tmp_path
):
    repo = copy_of(daily, tmp_path / "repo")
    stray = repo / "data/raw/2013-Q2/2013-04-03.csv.bak"
    stray.write_text("an editor's backup\n")
    before = run(repo, "git", "status", "--porcelain").stdout
    new_day = day_csv(demo_months, "2013-04-04", tmp_path)
    done = run(repo, "driftline", "ingest", str(new_day), check=False)
    assert done.returncode == 2
    assert "data/raw/2013-Q2/2013-04-03.csv.bak: in the raw folder of group 2013-Q2" in (
        done.stderr
    )
    assert run(repo, "git", "status", "--porcelain").stdout == before  # nothing changed
    # Tracked by hand with the folder, it is refused when the quarter is prepared.
    run(repo, "dvc", "add", "--quiet", "data/raw/2013-Q2")
    done = run(repo, "dvc", "repro", check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in said
    assert "data/raw/2013-Q2 holds data/raw/2013-Q2/2013-04-03.csv.bak" in said
    assert "not a registered batch" in said
