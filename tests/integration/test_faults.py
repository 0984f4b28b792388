"""Fault injection: a process killed mid-stage or mid-ingest, a full disk, another clock and
time zone. Afterwards a rerun succeeds, `dvc status` is right, nothing is half-written or
lost. On the session's weather project (tests/weather.py): small, and no demo test, so the
faults are tested in every fork."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftline.core.config import parse_yaml
from driftline.core.io import write_json
from driftline.core.runner import run as run_stage
from helpers import ENV, copy_of, registered, run, stages_run
from weather import month_file

from .test_ingest import STAGING, snapshot

FAILPOINT = "DRIFTLINE_FAILPOINT"  # driftline.core.failpoint


def run_until_killed(repo: Path, args: list[str], env: dict[str, str]) -> str:
    """Run ``args`` in a session of its own; a failpoint in ``env`` must SIGKILL it."""
    done = subprocess.run(
        args, cwd=repo, env=env, capture_output=True, text=True, start_new_session=True, timeout=900
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    return done.stdout + done.stderr


def own(weather_project: Path, tmp_path: Path) -> Path:
    """A copy of the weather project, to break."""
    return copy_of(weather_project, tmp_path / "repo")


def unbuilt(weather_project: Path, tmp_path: Path) -> Path:
    """A copy of the weather project as a fresh clone is after `dvc pull` of its raw batches:
    the raw files in the workspace and in DVC's cache, and nothing built, in the workspace,
    the cache or the run-cache, so every stage computes what it writes."""
    repo = own(weather_project, tmp_path)
    shutil.rmtree(repo / ".dvc/cache")
    built = ["data/prepared", "data/profiles", "data/window", "data/scores", "models"]
    run(repo, "git", "clean", "-fdXq", "--", *built, "metrics/batches")
    run(repo, "dvc", "commit", "-fq", *(str(p.relative_to(repo)) for p in raw_records(repo)))
    return repo


def raw_records(repo: Path) -> list[Path]:
    return sorted((repo / "data/raw").glob("*.dvc"))


def test_ingest_killed_mid_way_is_undone_and_can_be_rerun(tmp_path, weather_project):
    repo = own(weather_project, tmp_path)
    before = snapshot(repo)
    batch = month_file(tmp_path / "in", "2024-05")
    # Killed in its commit: the journal written, the file moved into its month's folder in
    # data/raw, `dvc add` next.
    run_until_killed(repo, ["driftline", "ingest", str(batch)], {**ENV, FAILPOINT: "ingest-moved"})
    assert (repo / ".dvc/tmp/driftline-ingest.journal").is_file(), "killed outside the commit"
    assert (repo / "data/raw/2024-05/2024-05.csv").is_file()  # half-done: moved, not registered
    done = run(repo, "driftline", "ingest", str(batch))
    assert "undid an interrupted ingest of 2024-05" in done.stderr
    assert not any((repo / STAGING).glob("batch-*"))
    assert registered(repo)[-1] == "2024-05"
    assert "up to date" in run(repo, "dvc", "status", "data/raw/2024-05.dvc").stdout
    # Besides the new batch's files, the registry and data/raw/.gitignore, nothing changed.
    after, _ = snapshot(repo)
    changed = {k for k in before[0].keys() | after.keys() if before[0].get(k) != after.get(k)}
    assert changed == {
        "data/batches.yaml",
        "data/raw/.gitignore",
        "data/raw/2024-05/2024-05.csv",
        "data/raw/2024-05.dvc",
    }


def test_a_full_disk_leaves_the_previous_output_and_says_what_to_do(tmp_path, monkeypatch, capfd):
    target = tmp_path / "metrics" / "drift.json"
    write_json(target, {"batch": "2013-06"})
    original = target.read_bytes()
    real_write = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        real_write(self, data[: len(data) // 2])  # the disk fills half-way through
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(SystemExit) as exited:
        run_stage("drift", lambda argv: write_json(target, {"batch": "2013-07"}), [])
    assert exited.value.code == 2
    message = capfd.readouterr().err
    assert "no space left on the device" in message and "run 'dvc repro' again" in message
    assert target.read_bytes() == original
    assert json.loads(original)["batch"] == "2013-06"
    assert sorted(p.name for p in target.parent.iterdir()) == ["drift.json"]


# Started by every Python process (DVC and each stage) that has its folder on PYTHONPATH:
# moves the clock that time.time() and datetime.now() read, and lets it run on from there.
CLOCK_HOOK = """import os
import time_machine
time_machine.travel(float(os.environ["DRIFTLINE_TEST_NOW"]), tick=True).start()
"""


def clock_env(tmp_path: Path, when: datetime, tz: str) -> dict[str, str]:
    hook = tmp_path / "clock"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(CLOCK_HOOK)
    pythonpath = os.pathsep.join(filter(None, [str(hook), ENV.get("PYTHONPATH")]))
    return {"PYTHONPATH": pythonpath, "DRIFTLINE_TEST_NOW": str(when.timestamp()), "TZ": tz}


def test_repro_killed_in_every_stage_resumes_to_the_committed_result_on_any_clock(
    tmp_path, weather_project
):
    repo = unbuilt(weather_project, tmp_path)
    committed_lock = (repo / "dvc.lock").read_bytes()
    for folder in ("metrics", "plots", "reports"):  # every stage must write them again
        for path in (repo / folder).rglob("*.*"):
            path.unlink()
    # Every stage runs with the clock 25 years back, 12:45 ahead of UTC (the committed lock
    # was made in UTC, now): neither may reach an output.
    past = clock_env(tmp_path, datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC), "Pacific/Chatham")
    now = "import datetime, time; print(f'{datetime.datetime.now():%Y}', time.strftime('%Y %z'))"
    assert run(repo, "python", "-c", now, **past).stdout.split() == ["2001", "2001", "+1245"]
    said = ""
    for stage, output in (
        ("prepare@2024-02", "data/profiles/2024-02/2024-02.json"),
        ("train", "models/score_profile.json"),
        ("evaluate", "metrics/evaluate.json"),
        ("drift", "reports/drift.md"),
    ):
        # `dvc repro` and the stage SIGKILLed together, the stage's earlier outputs renamed
        # into place and this one written to its temp file, not yet renamed.
        env = {**ENV, **past, FAILPOINT: f"write@{output}:killpg"}
        said += run_until_killed(repo, ["dvc", "repro"], env)
        target = repo / output
        assert list(target.parent.glob(f".{target.name}.*.tmp")), f"not killed writing {output}"
        # The killed stage is not recorded as done, so DVC will run it again.
        status = run(repo, "dvc", "status", stage, **past).stdout
        assert "changed" in status or "modified" in status or "deleted" in status, status
    said += run(repo, "dvc", "repro", **past).stdout
    stages = run(repo, "dvc", "stage", "list", "--name-only").stdout.split()
    assert stages_run(said) == set(stages)  # each, once at least
    # The committed lock, metrics, plots and report, byte for byte: nothing stale, nothing
    # partial, nothing of the clock.
    assert (repo / "dvc.lock").read_bytes() == committed_lock
    assert run(repo, "git", "status", "--porcelain").stdout == ""
    assert "up to date" in run(repo, "dvc", "status").stdout
    leftovers = [p for p in repo.rglob(".*.tmp") if ".dvc" not in p.parts]
    assert leftovers == []
    # Then the clock jumps 40 years ahead, 3:30 behind UTC: nothing looks changed.
    future = clock_env(tmp_path, datetime(2041, 3, 30, 2, 30, tzinfo=UTC), "America/St_Johns")
    assert run(repo, "python", "-c", now, **future).stdout.split() == ["2041", "2041", "-0230"]
    assert "up to date" in run(repo, "dvc", "status", **future).stdout
    assert "Running stage" not in run(repo, "dvc", "repro", **future).stdout


def test_a_corrupted_cache_object_is_refused_and_repaired_from_the_remote(
    tmp_path, weather_project
):
    repo = unbuilt(weather_project, tmp_path)  # prepare@ must read the raw file
    run(repo, "dvc", "push")  # the default remote: a folder beside the repository
    raw = repo / "data/raw/2024-02/2024-02.csv"
    folder = parse_yaml((repo / "data/raw/2024-02.dvc").read_text())["outs"][0]["md5"]
    listing = repo / ".dvc/cache/files/md5" / folder[:2] / folder[2:]
    (entry,) = json.loads(listing.read_text())
    md5 = entry["md5"]
    cached = repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    cached.chmod(0o644)
    with cached.open("r+b") as handle:  # one byte changed in DVC's cache
        handle.seek(1000)
        handle.write(b"9" if handle.read(1) != b"9" else b"8")
    raw.unlink()
    run(repo, "dvc", "checkout", str(raw.relative_to(repo)))  # DVC restores the bad bytes
    assert "not in cache" in run(repo, "dvc", "status", "data/raw/2024-02.dvc").stdout
    done = run(repo, "dvc", "repro", "prepare@2024-02", check=False)
    assert done.returncode != 0
    assert (
        "data/raw/2024-02/2024-02.csv does not match the md5 recorded" in done.stdout + done.stderr
    )
    repair = re.search(r"Repair: .*?: (rm -f .*?); (dvc pull \S+)", done.stdout + done.stderr)
    assert repair, done.stdout + done.stderr
    assert not (repo / "data/prepared/2024-02/2024-02.parquet").exists()  # nothing built from it
    # The repair the message gives: drop both bad copies, fetch a good one from the remote.
    run(repo, *repair.group(1).split())
    run(repo, *repair.group(2).split())
    assert "up to date" in run(repo, "dvc", "status", "data/raw/2024-02.dvc").stdout
    run(repo, "dvc", "repro", "prepare@2024-02")


# What a stage says when it finds a batch that an ingest registered during this `dvc repro`.
RUN_AGAIN = "was ingested while this 'dvc repro' ran, run 'dvc repro' again"


def one_more_repro_builds(repo: Path, newest: str) -> None:
    """The next `dvc repro` builds the newest batch and leaves nothing to do."""
    after = run(repo, "dvc", "repro").stdout
    assert f"prepare@{newest}" in after and "up to date" in run(repo, "dvc", "status").stdout
    assert json.loads((repo / "reports/drift.json").read_text())["batch"] == newest


def start(repo: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def held(proc: subprocess.Popen, point: str) -> None:
    """Read ``proc``'s output until it waits at failpoint ``point``."""
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if f"failpoint {point}: waiting for" in line:
            return
    proc.wait(timeout=60)
    raise AssertionError(f"never reached failpoint {point}:\n{''.join(seen)}")


def test_an_ingest_during_dvc_repro_ends_clean_after_one_more_repro(tmp_path, weather_project):
    repo = own(weather_project, tmp_path)
    run(repo, "driftline", "ingest", str(month_file(tmp_path / "in", "2024-05")))
    june = month_file(tmp_path / "in", "2024-06")
    # `dvc repro` builds May; it is held in prepare@2024-05, its first stage, which has read
    # the registry. DVC lets go of its lock while a stage's command runs.
    go = tmp_path / "go"
    point = "write@data/profiles/2024-05/2024-05.json"
    repro = start(repo, ["dvc", "repro"], {**ENV, FAILPOINT: f"{point}:wait={go}"})
    try:
        held(repro, point)
        ingest = run(repo, "driftline", "ingest", str(june))  # its `dvc add` gets the lock
        assert "Ingested 2024-06" in ingest.stdout
    finally:
        go.touch()
    output = repro.communicate(timeout=900)[0]
    # DVC fixed its stage list at the start; a summary stage (evaluate) then reads the new batch
    # from params.yaml and stops with a message that says what happened and what to do.
    assert repro.returncode != 0, output
    assert RUN_AGAIN in output and "Traceback" not in output, output
    one_more_repro_builds(repo, "2024-06")


def test_dvc_repro_while_an_ingest_runs_ends_clean_after_one_more_repro(tmp_path, weather_project):
    repo = own(weather_project, tmp_path)
    landing = tmp_path / "landing"
    months = ["2024-05", "2024-06"]
    for month in months:
        month_file(landing, month)

    def metrics() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in (repo / "metrics").glob("*.*")}

    before = metrics()
    # The ingest is held half-way: its journal written, both files moved into data/raw/,
    # not yet tracked (`dvc add`) or registered.
    go = tmp_path / "go"
    ingest = start(
        repo,
        ["driftline", "ingest", "--from", str(landing)],
        {**ENV, FAILPOINT: f"ingest-moved:wait={go}"},
    )
    try:
        held(ingest, "ingest-moved")
        assert all((repo / f"data/raw/{month}/{month}.csv").is_file() for month in months)
        repro = run(repo, "dvc", "repro", check=False)
    finally:
        go.touch()
    ingested = ingest.communicate(timeout=600)[0]
    assert ingest.returncode == 0 and "Ingested 2024-05" in ingested, ingested
    # The repro saw no new batch: it did nothing and changed nothing.
    output = repro.stdout + repro.stderr
    assert repro.returncode == 0 and "Traceback" not in output, output
    assert "Running stage" not in output and metrics() == before
    one_more_repro_builds(repo, "2024-06")
