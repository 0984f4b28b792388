"""`driftline ingest` in a real DVC repository: good batches are added, bad ones refused with a
precise message and the repository left exactly as it was."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from driftline.tooling.demo import batch_csv_bytes
from helpers import ENV, S3_ENV, copy_of, registered, run, unregister_all

STAGING = Path(".dvc/tmp/driftline-ingest")


@pytest.fixture
def repo(materialized, tmp_path) -> Path:
    return copy_of(materialized, tmp_path / "repo")


@pytest.fixture(scope="module")
def july(demo_months):
    return demo_months["2013-07"].copy()


def csv_file(folder: Path, frame, name: str = "2013-07.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(batch_csv_bytes(frame))
    return path


def snapshot(repo: Path) -> tuple[dict[str, str], str]:
    """Every file outside .git and DVC's cache and tmp, by content, and git's view."""
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if rel.parts[0] == ".git" or rel.parts[:2] in ((".dvc", "cache"), (".dvc", "tmp")):
            continue
        if path.is_file():
            files[str(rel)] = hashlib.md5(path.read_bytes()).hexdigest()
    return files, run(repo, "git", "status", "--porcelain").stdout


def listing(repo: Path, record: dict) -> dict[str, str]:
    """A tracked folder's files and md5s, from the .dir object its .dvc record names."""
    md5 = record["outs"][0]["md5"].removesuffix(".dir")
    entries = json.loads((repo / ".dvc/cache/files/md5" / md5[:2] / f"{md5[2:]}.dir").read_text())
    return {e["relpath"]: e["md5"] for e in entries}


def batches(repo: Path) -> list[str]:
    return registered(repo)


def refused(repo: Path, *args: str) -> str:
    """Run an ingest that must fail; check nothing changed; return its message."""
    before = snapshot(repo)
    done = run(repo, "driftline", "ingest", *args, check=False)
    assert done.returncode != 0, done.stdout + done.stderr
    assert snapshot(repo) == before, "a refused ingest changed the repository"
    assert not any((repo / STAGING).glob("*")), "a refused ingest left staged files"
    assert "Traceback" not in done.stderr
    return done.stderr


def edit(frame, row: int, column: str, value: str):
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


BAD_CASES = {
    "empty": (lambda j: b"", "the file is empty"),
    "header only": (lambda j: batch_csv_bytes(j.head(0)), "has a header but no rows"),
    "missing column": (
        lambda j: batch_csv_bytes(j.drop(columns="carrier")),
        "missing required column(s): carrier",
    ),
    "extra column": (
        lambda j: batch_csv_bytes(j.assign(gate="A1")),
        "unexpected column(s) gate",
    ),
    "wrong type": (
        lambda j: batch_csv_bytes(edit(j, 4, "distance", "far")),
        "column 'distance', row 6: must be int (value 'far')",
    ),
    "label without its partner": (
        lambda j: batch_csv_bytes(edit(j, 2, "arr_delay", "NA")),
        "row 4: 'arr_delay' is empty but 'air_time' is not",
    ),
    "out of range": (
        lambda j: batch_csv_bytes(edit(j, 7, "distance", "99999")),
        "column 'distance', row 9: must lie in [1, 6000]",
    ),
    "non-finite": (
        lambda j: batch_csv_bytes(edit(j, 0, "temp", "inf")),
        "column 'temp', row 2: must be a finite number",
    ),
    "outside the period": (
        lambda j: batch_csv_bytes(edit(j, 9, "month", "8")),
        "row 11 falls in 2013-08, outside the batch's period 2013-07",
    ),
    "not a csv": (lambda j: bytes(range(256)) * 64, "a binary file, neither a CSV nor"),
    "wrong encoding": (
        lambda j: batch_csv_bytes(edit(j, 0, "tailnum", "NÉ1")).decode().encode("latin-1"),
        "not UTF-8 text",
    ),
    "truncated csv": (
        lambda j: batch_csv_bytes(j)[:-7000].rsplit(b"\n", 1)[0] + b"\n2013,7,",
        "row 29",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_batch_is_refused_and_nothing_changes(repo, july, case):
    make, message = BAD_CASES[case]
    path = repo / "incoming" / "2013-07.csv"
    path.parent.mkdir()
    path.write_bytes(make(july))
    stderr = refused(repo, str(path))
    assert str(path) in stderr and message in stderr, stderr


def test_truncated_or_damaged_parquet_is_refused(repo, july, tmp_path):
    good = tmp_path / "2013-07.parquet"
    july.to_parquet(good)
    damaged = repo / "2013-07.parquet"
    damaged.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "not a readable parquet file" in refused(repo, str(damaged))


def test_a_batch_overlapping_a_registered_one_is_refused(repo, demo_months):
    june = csv_file(repo / "incoming", demo_months["2013-06"], "june-again.csv")
    stderr = refused(repo, str(june), "--name", "2013-06-bis")
    assert "already ingested as 2013-06" in stderr
    edited = csv_file(repo / "incoming", edit(demo_months["2013-06"], 0, "temp", "50"), "j.csv")
    assert "rows fall in 2013-06, which batch 2013-06 already covers" in refused(
        repo, str(edited), "--name", "2013-06-bis"
    )


def test_a_batch_older_than_the_newest_is_refused(repo, demo_months):
    path = csv_file(repo / "incoming", demo_months["2013-08"], "2013-08.csv")
    run(repo, "driftline", "ingest", str(path))
    july = csv_file(repo / "incoming", demo_months["2013-07"])
    assert "older than the newest batch's (2013-08)" in refused(repo, str(july))


def test_same_content_twice_and_name_collisions_are_refused(repo, july, demo_months):
    path = csv_file(repo / "incoming", july)
    run(repo, "driftline", "ingest", str(path))
    assert "2013-07.csv: already ingested as 2013-07" in refused(repo, str(path))
    august = csv_file(repo / "incoming", demo_months["2013-08"], "2013-08.csv")
    assert "a batch named 2013-07 exists with different content" in refused(
        repo, str(august), "--name", "2013-07"
    )
    assert "is not allowed" in refused(repo, str(august), "--name", "../escape")


def test_dry_run_checks_and_changes_nothing(repo, july):
    path = csv_file(repo / "incoming", july)
    before = snapshot(repo)
    done = run(repo, "driftline", "ingest", "--dry-run", str(path))
    assert "ok " in done.stdout and "-> 2013-07 (29425 rows)" in done.stdout
    assert "nothing was changed" in done.stdout
    assert snapshot(repo) == before


def test_ingest_adds_tracks_and_registers_the_batch(repo, july):
    path = csv_file(repo / "incoming", july)
    done = run(repo, "driftline", "ingest", str(path))
    assert "dvc repro" in done.stdout and "dvc push" in done.stdout
    assert batches(repo)[-1] == "2013-07"
    # The month's folder is tracked as one: its .dvc holds the folder's hash, each batch's
    # meta, and its .dir listing in the cache each file's md5.
    record = yaml.safe_load((repo / "data/raw/2013-07.dvc").read_text())
    raw = (repo / "data/raw/2013-07/2013-07.csv").read_bytes()
    assert listing(repo, record) == {"2013-07.csv": hashlib.md5(raw).hexdigest()}
    assert record["meta"] == {
        "batches": {
            "2013-07": {
                "period": "2013-07",
                "rows": 29425,
                "source": "2013-07.csv",
                "unseen_category_rows": 0,
            }
        }
    }
    # The canonical bytes are those `driftline demo materialize` writes on a fresh clone.
    assert raw == path.read_bytes()
    assert "/2013-07\n" in (repo / "data/raw/.gitignore").read_text()
    # Registered in the registry; the settings are left as they are.
    status = run(repo, "git", "status", "--porcelain").stdout
    assert " M data/batches.yaml" in status and "params.yaml" not in status
    registry = yaml.safe_load((repo / "data/batches.yaml").read_text())
    assert registry["groups"][-1] == "2013-07"  # its month's stages now run in dvc.yaml
    assert "prepare@2013-07" in run(repo, "dvc", "stage", "list", "--name-only").stdout


def test_parquet_input_and_dropped_extra_columns(repo, july, tmp_path):
    contract = repo / "contract.yaml"
    contract.write_text(
        contract.read_text().replace("extra_columns: refuse", "extra_columns: drop")
    )
    path = tmp_path / "july.parquet"
    typed = pd.read_csv(io.BytesIO(batch_csv_bytes(july)))  # as a typed export would hold it
    typed.assign(gate="A1").to_parquet(path)
    done = run(repo, "driftline", "ingest", str(path))
    assert "dropped columns ['gate']" in done.stderr
    assert batches(repo)[-1] == "2013-07"
    assert "gate" not in (repo / "data/raw/2013-07/2013-07.csv").read_text().splitlines()[0]


def test_unseen_categories_are_counted_not_refused(repo, july):
    path = csv_file(repo / "incoming", edit(edit(july, 0, "carrier", "ZZ"), 1, "carrier", "ZZ"))
    done = run(repo, "driftline", "ingest", str(path))
    assert "2 rows with unseen categories" in done.stderr
    assert (
        yaml.safe_load((repo / "data/raw/2013-07.dvc").read_text())["meta"]["batches"]["2013-07"][
            "unseen_category_rows"
        ]
        == 2
    )


def test_ingest_from_a_folder_in_time_order_and_idempotent(repo, demo_months):
    landing = repo.parent / "landing"
    csv_file(landing, demo_months["2013-08"], "b-august.csv")
    csv_file(landing, demo_months["2013-07"], "a-july.csv")
    csv_file(landing, demo_months["2013-07"], "c-july-again.csv")  # the same file twice
    (landing / "README.txt").write_text("not a batch")
    done = run(repo, "driftline", "ingest", "--from", str(landing))
    assert batches(repo)[-2:] == ["2013-07", "2013-08"]
    assert "Ingested 2013-07, 2013-08" in done.stdout
    assert "c-july-again.csv: same content as" in done.stdout
    before = snapshot(repo)
    again = run(repo, "driftline", "ingest", "--from", str(landing))
    assert again.stdout.count("already ingested as") == 3
    assert "Nothing new to ingest." in again.stdout
    assert snapshot(repo) == before


def test_ingest_from_a_folder_with_one_bad_file_takes_nothing(repo, demo_months):
    landing = repo.parent / "landing"
    csv_file(landing, demo_months["2013-07"], "july.csv")
    csv_file(landing, edit(demo_months["2013-08"], 3, "distance", "-5"), "august.csv")
    stderr = refused(repo, "--from", str(landing))
    assert "august.csv" in stderr and "must lie in [1, 6000]" in stderr


def test_a_huge_file_is_streamed_in_chunks_and_read_once(repo, july, monkeypatch):
    from driftline.data import contract
    from driftline.tooling import ingest

    monkeypatch.chdir(repo)
    monkeypatch.setattr(contract, "CHUNK_ROWS", 4000)
    path = csv_file(repo / "incoming", july)
    sizes, opened = [], []
    validate = contract.pa.DataFrameSchema.validate

    def counting(self, frame, **kw):
        sizes.append(len(frame))
        return validate(self, frame, **kw)

    monkeypatch.setattr(contract.pa.DataFrameSchema, "validate", counting)
    read_csv = contract.pd.read_csv
    monkeypatch.setattr(
        contract.pd, "read_csv", lambda *a, **kw: opened.append(a[0]) or read_csv(*a, **kw)
    )
    monkeypatch.setenv("PATH", ENV["PATH"])
    report = ingest.ingest([path], dry_run=True)
    assert report.taken[0].summary.rows == 29425
    assert max(sizes) == 4000 and len(sizes) == 8  # never more than one chunk in memory
    assert opened == [path]  # parsed once: checking, hashing and copying share the pass


def test_two_ingests_at_once_never_corrupt_the_registry(repo, demo_months, tmp_path):
    first = csv_file(repo / "incoming", demo_months["2013-07"])
    second = csv_file(repo / "incoming", demo_months["2013-08"], "2013-08.csv")

    def ingest(path: Path, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "driftline.tooling.cli", "ingest", str(path)],
            cwd=repo,
            env={**ENV, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def until(proc: subprocess.Popen, said: str) -> None:
        for line in proc.stderr:
            if said in line:
                return
        raise AssertionError(f"the ingest ended without saying {said!r}: {proc.wait()}")

    # The first is held half-way through its commit, holding the ingest lock; the second
    # starts then and waits for the lock.
    go = tmp_path / "go"
    procs = [ingest(first, DRIFTLINE_FAILPOINT=f"ingest-moved:wait={go}")]
    try:
        until(procs[0], "failpoint ingest-moved: waiting")
        procs.append(ingest(second))
        until(procs[1], "another driftline ingest holds")
    finally:
        go.touch()
    codes = [p.wait(timeout=120) for p in procs]
    for proc in procs:
        proc.communicate()
    assert codes == [0, 0]
    registered = batches(repo)
    new = [b for b in registered if b in ("2013-07", "2013-08")]
    # Both went in, one after the other, in time order.
    assert new == ["2013-07", "2013-08"]
    for name in registered:
        assert (repo / f"data/raw/{name}.dvc").is_file()
        assert (repo / f"data/raw/{name}/{name}.csv").is_file()
    assert not any((repo / STAGING).glob("*"))


def test_ingest_from_an_s3_landing_location(repo, demo_months, s3_endpoint, monkeypatch):
    import boto3

    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="landing")
    for month in ("2013-07", "2013-08"):
        s3.put_object(
            Bucket="landing", Key=f"incoming/{month}.csv", Body=batch_csv_bytes(demo_months[month])
        )
    env = {**S3_ENV, "AWS_ENDPOINT_URL": s3_endpoint}
    done = run(repo, "driftline", "ingest", "--from", "s3://landing/incoming/", **env)
    assert "Ingested 2013-07, 2013-08" in done.stdout
    assert batches(repo)[-2:] == ["2013-07", "2013-08"]
    again = run(repo, "driftline", "ingest", "--from", "s3://landing/incoming/", **env)
    assert "Nothing new to ingest." in again.stdout


def test_a_new_project_ingests_its_first_batch_before_any_window(repo, july):
    unregister_all(repo)
    path = csv_file(repo / "incoming", july)
    run(repo, "driftline", "ingest", str(path))
    assert batches(repo) == ["2013-07"]
