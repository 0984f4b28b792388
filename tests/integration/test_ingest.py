"""`driftline ingest` in a real DVC repository: good batches are added, bad ones refused with a
precise message and the repository left exactly as it was. On the session's weather project
(tests/weather.py), so it runs in every fork; the new batches are its next months, 2024-05 and
2024-06. One test stays on the demo: the rule only the demo's contract holds."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from driftline.core.config import parse_yaml
from driftline.data.contract import MISSING_TOKENS
from driftline.tooling.demo import batch_csv_bytes as csv_bytes
from helpers import ENV, S3_ENV, copy_of, registered, run, unregister_all
from weather import month_file

STAGING = Path(".dvc/tmp/driftline-ingest")


@pytest.fixture
def repo(weather_project, tmp_path) -> Path:
    """A copy of the weather project (2024-01..2024-04 registered), to change freely."""
    return copy_of(weather_project, tmp_path / "repo")


@pytest.fixture(scope="module")
def untouched(weather_project, tmp_path_factory) -> Path:
    """One copy of the weather project for the tests whose every ingest is refused: each
    refusal checks that it changed nothing, so the next one finds the project as it was."""
    return copy_of(weather_project, tmp_path_factory.mktemp("untouched") / "repo")


def month(folder: Path, name: str) -> pd.DataFrame:
    """A new month of weather as text, as `driftline ingest` reads a CSV (NA for missing)."""
    path = month_file(folder, name)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=MISSING_TOKENS)


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The weather project's months as text frames: two new ones, and the newest registered."""
    folder = tmp_path_factory.mktemp("months")
    return {name: month(folder, name) for name in ("2024-04", "2024-05", "2024-06")}


@pytest.fixture
def may(months) -> pd.DataFrame:
    return months["2024-05"].copy()


def csv_file(folder: Path, frame, name: str = "2024-05.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(csv_bytes(frame))
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
    """Run an ingest that must fail; check nothing changed; return what it said (stderr)."""
    before = snapshot(repo)
    done = run(repo, "driftline", "ingest", *args, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert snapshot(repo) == before, "a refused ingest changed the repository"
    assert not any((repo / STAGING).glob("*")), "a refused ingest left staged files"
    assert "Traceback" not in done.stderr
    return done.stderr


def error(stderr: str) -> str:
    """The error an ingest logged (``HH:MM:SS ERROR <message>``), its message whole."""
    _, found, message = stderr.partition(" ERROR ")
    assert found, stderr
    return message.rstrip("\n")


def edit(frame, row: int, column: str, value):
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


def truncated(frame) -> bytes:
    """The file cut off in its 201st row, after ``2024-05-17,co``: a transfer that stopped."""
    lines = csv_bytes(frame).split(b"\n")
    return b"\n".join(lines[:201]) + b"\n" + lines[201][:13]


CONTRACT = "{path}: breaks the data contract:\n  "
# What a target value that params.yaml's `target` does not classify breaks (`driftline init`
# declared target.negative from the sample: No).
NEITHER = (
    "column 'rain_tomorrow', row {row}: must be a class of params.yaml's target: Yes (label 1, "
    "target.positive) or No (label 0, target.negative) (value {value!r})"
)
# Each case: the file's bytes from May, and the message `driftline ingest` says, whole.
BAD_CASES = {
    "empty": (lambda m: b"", "{path}: the file is empty"),
    "header only": (
        lambda m: csv_bytes(m.head(0)),
        "{path}: the batch has a header but no rows",
    ),
    "missing column": (
        lambda m: csv_bytes(m.drop(columns="station")),
        "{path}: missing required column(s): station",
    ),
    "extra column": (
        lambda m: csv_bytes(m.assign(wind_kmh="12")),
        "{path}: unexpected column(s) wind_kmh; the contract does not list them "
        "(set extra_columns: drop in contract.yaml to drop them instead)",
    ),
    "wrong type": (
        lambda m: csv_bytes(edit(m, 4, "reading_id", "far")),
        CONTRACT + "column 'reading_id', row 6: must be int (value 'far')",
    ),
    "out of range": (
        lambda m: csv_bytes(edit(m, 7, "pressure_hpa", "1200")),
        CONTRACT + "column 'pressure_hpa', row 9: must lie in [940.0, 1100.0] (value 1200.0)",
    ),
    "non-finite": (
        lambda m: csv_bytes(edit(m, 0, "temp_c", "inf")),
        CONTRACT + "column 'temp_c', row 2: must be a finite number (value inf)\n"
        "  column 'temp_c', row 2: must lie in [-30.0, 38.0] (value inf)",
    ),
    "unknown target value": (
        lambda m: csv_bytes(edit(m, 3, "rain_tomorrow", "yes")),
        CONTRACT + NEITHER.format(row=5, value="yes"),
    ),
    # The last line cut inside its label (the target is the last column): "Yes" became "Ye".
    "cut inside the target": (
        lambda m: csv_bytes(edit(m, len(m) - 1, "rain_tomorrow", "Yes"))[: -len("s\n")],
        CONTRACT + NEITHER.format(row=373, value="Ye"),
    ),
    "outside the period": (
        lambda m: csv_bytes(edit(m, 9, "date", "2024-06-01")),
        "{path}: row 11 falls in 2024-06, outside the batch's period 2024-05: "
        "one batch holds one month",
    ),
    "not a date": (
        lambda m: csv_bytes(edit(m, 9, "date", "2024-05-32")),
        "{path}: row 11: the time column(s) date do not form a valid date",
    ),
    "not a csv": (
        lambda m: bytes(range(256)) * 64,
        "{path}: a binary file, neither a CSV nor a parquet file",
    ),
    "wrong encoding": (
        lambda m: csv_bytes(edit(m, 0, "station", "nÉrth")).decode().encode("latin-1"),
        "{path}: not UTF-8 text (byte 1 of a chunk): wrong encoding or not a CSV",
    ),
    "truncated csv": (
        truncated,
        CONTRACT
        + "\n  ".join(
            f"column '{name}', row 202: must not be empty (value <NA>)"
            for name in ("temp_c", "humidity", "pressure_hpa", "reading_id")
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_batch_is_refused_and_nothing_changes(untouched, may, case, tmp_path):
    make, message = BAD_CASES[case]
    path = tmp_path / "incoming" / "2024-05.csv"
    path.parent.mkdir()
    path.write_bytes(make(may))
    stderr = refused(untouched, str(path))
    assert error(stderr) == "nothing was ingested:\n" + message.replace("{path}", str(path))


def partnered(repo: Path) -> dict:
    """Give the project's contract an `empty_only_with` rule: a hygrometer off means the
    station is off, so humidity may be empty only where pressure is too. Returns it, loaded."""
    from driftline.core.config import load_contract

    contract = repo / "contract.yaml"
    text = contract.read_text().replace(
        '"humidity": {type: float, nullable: false', '"humidity": {type: float, nullable: true'
    )
    contract.write_text(text + "empty_only_with: {humidity: pressure_hpa}\n")
    return load_contract(contract)


PARTNER_RULE = "row 4: 'humidity' is empty but 'pressure_hpa' is not"


def test_a_value_empty_without_its_partner_is_refused(repo, may, tmp_path):
    """The contract's `empty_only_with` rule, on the weather contract (see ``partnered``).
    The message names the rule at row 4 (the test below: and only once)."""
    partnered(repo)
    path = csv_file(tmp_path / "incoming", edit(may, 2, "humidity", "NA"))
    said = error(refused(repo, str(path)))
    assert said.startswith(f"nothing was ingested:\n{path}: breaks the data contract:\n  ")
    assert PARTNER_RULE in said


def test_a_value_empty_without_its_partner_is_named_once(weather_project, may, tmp_path):
    """What the refusal of a row rule should say: the row and the rule, once, as
    ``contract.check_typed`` (``driftline predict``'s check) says it. In-process: no command."""
    from driftline.core.errors import DriftlineError
    from driftline.data.contract import read_batch

    (tmp_path / "project").mkdir()
    shutil.copy(weather_project / "contract.yaml", tmp_path / "project")
    contract = partnered(tmp_path / "project")
    path = csv_file(tmp_path / "incoming", edit(may, 2, "humidity", "NA"))
    with pytest.raises(DriftlineError) as refusal:
        read_batch(path, contract)
    assert str(refusal.value) == f"{path}: breaks the data contract:\n  {PARTNER_RULE}"


def test_the_demo_label_without_its_partner_is_refused(materialized, demo_months, tmp_path):
    """A demo test: the rule of the demo's own contract (a flight with no air time has no
    arrival delay); the weather contract holds no such rule (the test above gives it one)."""
    repo = copy_of(materialized, tmp_path / "repo")
    path = csv_file(repo / "incoming", edit(demo_months["2013-07"], 2, "arr_delay", "NA"))
    said = error(refused(repo, str(path)))
    assert said.startswith(f"nothing was ingested:\n{path}: breaks the data contract:\n  ")
    assert "row 4: 'arr_delay' is empty but 'air_time' is not" in said


def test_truncated_or_damaged_parquet_is_refused(untouched, may, tmp_path):
    good = tmp_path / "2024-05.parquet"
    may.to_parquet(good)
    damaged = tmp_path / "damaged" / "2024-05.parquet"
    damaged.parent.mkdir()
    damaged.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    said = error(refused(untouched, str(damaged)))
    assert said.startswith(f"nothing was ingested:\n{damaged}: not a readable parquet file: ")


def test_a_batch_overlapping_a_registered_one_is_refused(untouched, months, tmp_path):
    april = csv_file(tmp_path, months["2024-04"], "april-again.csv")
    assert error(refused(untouched, str(april), "--name", "2024-04-bis")) == (
        f"nothing was ingested:\n{april}: already ingested as 2024-04"
    )
    edited = csv_file(tmp_path, edit(months["2024-04"], 0, "temp_c", "20"), "a.csv")
    assert error(refused(untouched, str(edited), "--name", "2024-04-bis")) == (
        f"nothing was ingested:\n{edited}: its rows fall in 2024-04, which batch 2024-04 "
        "already covers"
    )


def test_a_batch_older_than_the_newest_is_refused(repo, months):
    path = csv_file(repo / "incoming", months["2024-06"], "2024-06.csv")
    run(repo, "driftline", "ingest", str(path))
    may = csv_file(repo / "incoming", months["2024-05"])
    assert error(refused(repo, str(may))) == (
        f"nothing was ingested:\n{may}: its period 2024-05 is older than the newest batch's "
        "(2024-06); batches must arrive in time order"
    )


def test_same_content_twice_and_name_collisions_are_refused(repo, may, months):
    path = csv_file(repo / "incoming", may)
    run(repo, "driftline", "ingest", str(path))
    assert error(refused(repo, str(path))) == (
        f"nothing was ingested:\n{path}: already ingested as 2024-05"
    )
    june = csv_file(repo / "incoming", months["2024-06"], "2024-06.csv")
    assert error(refused(repo, str(june), "--name", "2024-05")) == (
        f"nothing was ingested:\n{june}: a batch named 2024-05 exists with different content; "
        "choose another --name"
    )
    assert "is not allowed" in error(refused(repo, str(june), "--name", "../escape"))


def test_dry_run_checks_and_changes_nothing(repo, may):
    path = csv_file(repo / "incoming", may)
    before = snapshot(repo)
    done = run(repo, "driftline", "ingest", "--dry-run", str(path))
    assert done.stdout == f"ok {path} -> 2024-05 (372 rows)\nDry run: nothing was changed.\n"
    assert snapshot(repo) == before


def test_ingest_adds_tracks_and_registers_the_batch(repo, may, tmp_path):
    # The month as a user's export holds it: pandas' CSV, an empty field for a missing label.
    path = month_file(tmp_path / "incoming", "2024-05")
    assert b"\n2024-05-01,north,8.2,58.2,1014.7,363338,\n" in path.read_bytes()
    done = run(repo, "driftline", "ingest", str(path))
    assert "dvc repro" in done.stdout and "dvc push" in done.stdout
    assert batches(repo)[-1] == "2024-05"
    # The month's folder is tracked as one: its .dvc holds the folder's hash, each batch's
    # meta, and its .dir listing in the cache each file's md5.
    record = parse_yaml((repo / "data/raw/2024-05.dvc").read_text())
    raw = (repo / "data/raw/2024-05/2024-05.csv").read_bytes()
    assert listing(repo, record) == {"2024-05.csv": hashlib.md5(raw).hexdigest()}
    assert record["meta"] == {
        "batches": {
            "2024-05": {
                "period": "2024-05",
                "rows": 372,
                "source": "2024-05.csv",
                "unseen_category_rows": 0,
            }
        }
    }
    # Stored in the canonical spelling: contract columns only, NA for missing, Unix newlines.
    assert raw == csv_bytes(may) != path.read_bytes()
    assert b"\n2024-05-01,north,8.2,58.2,1014.7,363338,NA\n" in raw
    assert "/2024-05\n" in (repo / "data/raw/.gitignore").read_text()
    # Registered in the registry; the settings are left as they are.
    status = run(repo, "git", "status", "--porcelain").stdout
    assert " M data/batches.yaml" in status and "params.yaml" not in status
    registry = parse_yaml((repo / "data/batches.yaml").read_text())
    assert registry["groups"][-1] == "2024-05"  # its month's stages now run in dvc.yaml
    assert "prepare@2024-05" in run(repo, "dvc", "stage", "list", "--name-only").stdout


def test_parquet_input_and_dropped_extra_columns(repo, may, tmp_path):
    contract = repo / "contract.yaml"
    contract.write_text(
        contract.read_text().replace("extra_columns: refuse", "extra_columns: drop")
    )
    path = tmp_path / "may.parquet"
    typed = pd.read_csv(io.BytesIO(csv_bytes(may)))  # as a typed export would hold it
    typed.assign(wind_kmh=12.5).to_parquet(path)
    done = run(repo, "driftline", "ingest", str(path))
    assert f"{path} -> 2024-05: 372 rows, period 2024-05, dropped columns ['wind_kmh']" in (
        done.stderr
    )
    assert batches(repo)[-1] == "2024-05"
    header = (repo / "data/raw/2024-05/2024-05.csv").read_text().splitlines()[0]
    assert header == ",".join(may.columns)


def test_unseen_categories_are_counted_not_refused(repo, may):
    path = csv_file(repo / "incoming", edit(edit(may, 0, "station", "east"), 1, "station", "east"))
    done = run(repo, "driftline", "ingest", str(path))
    assert f"{path} -> 2024-05: 372 rows, period 2024-05, 2 rows with unseen categories" in (
        done.stderr
    )
    assert (
        parse_yaml((repo / "data/raw/2024-05.dvc").read_text())["meta"]["batches"]["2024-05"][
            "unseen_category_rows"
        ]
        == 2
    )


def test_ingest_from_a_folder_in_time_order_and_idempotent(repo, months):
    landing = repo.parent / "landing"
    csv_file(landing, months["2024-06"], "b-june.csv")
    csv_file(landing, months["2024-05"], "a-may.csv")
    csv_file(landing, months["2024-05"], "c-may-again.csv")  # the same file twice
    (landing / "README.txt").write_text("not a batch")
    done = run(repo, "driftline", "ingest", "--from", str(landing))
    assert batches(repo)[-2:] == ["2024-05", "2024-06"]
    assert "Ingested 2024-05, 2024-06" in done.stdout
    assert f"skipped {landing}/c-may-again.csv: same content as {landing}/a-may.csv" in (
        done.stdout
    )
    before = snapshot(repo)
    again = run(repo, "driftline", "ingest", "--from", str(landing))
    assert again.stdout.count("already ingested as") == 3
    assert "Nothing new to ingest." in again.stdout
    assert snapshot(repo) == before


def test_ingest_from_a_folder_with_one_bad_file_takes_nothing(untouched, months, tmp_path):
    landing = tmp_path / "landing"
    csv_file(landing, months["2024-05"], "may.csv")
    csv_file(landing, edit(months["2024-06"], 3, "pressure_hpa", "-5"), "june.csv")
    assert error(refused(untouched, "--from", str(landing))) == (
        f"nothing was ingested:\n{landing}/june.csv: breaks the data contract:\n"
        "  column 'pressure_hpa', row 5: must lie in [940.0, 1100.0] (value -5.0)"
    )


def test_a_huge_file_is_streamed_in_chunks_and_read_once(repo, may, monkeypatch):
    from driftline.data import contract
    from driftline.tooling import ingest

    monkeypatch.chdir(repo)
    monkeypatch.setattr(contract, "CHUNK_ROWS", 50)  # May's 372 rows: 8 chunks
    path = csv_file(repo / "incoming", may)
    sizes, opened = [], []
    import pandera.pandas as pa  # the contract imports it when it checks a file

    validate = pa.DataFrameSchema.validate

    def counting(self, frame, **kw):
        sizes.append(len(frame))
        return validate(self, frame, **kw)

    monkeypatch.setattr(pa.DataFrameSchema, "validate", counting)
    read_csv = contract.pd.read_csv
    monkeypatch.setattr(
        contract.pd, "read_csv", lambda *a, **kw: opened.append(a[0]) or read_csv(*a, **kw)
    )
    monkeypatch.setenv("PATH", ENV["PATH"])
    report = ingest.ingest([path], dry_run=True)
    assert report.taken[0].summary.rows == 372
    assert max(sizes) == 50 and len(sizes) == 8  # never more than one chunk in memory
    assert opened == [path]  # parsed once: checking, hashing and copying share the pass


def test_two_ingests_at_once_never_corrupt_the_registry(repo, months, tmp_path):
    first = csv_file(repo / "incoming", months["2024-05"])
    second = csv_file(repo / "incoming", months["2024-06"], "2024-06.csv")

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
    new = [b for b in registered if b in ("2024-05", "2024-06")]
    # Both went in, one after the other, in time order.
    assert new == ["2024-05", "2024-06"]
    for name in registered:
        assert (repo / f"data/raw/{name}.dvc").is_file()
        assert (repo / f"data/raw/{name}/{name}.csv").is_file()
    assert not any((repo / STAGING).glob("*"))


def test_ingest_from_an_s3_landing_location(repo, months, s3_endpoint, monkeypatch):
    import boto3

    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="landing")
    for name in ("2024-05", "2024-06"):
        s3.put_object(Bucket="landing", Key=f"incoming/{name}.csv", Body=csv_bytes(months[name]))
    env = {**S3_ENV, "AWS_ENDPOINT_URL": s3_endpoint}
    done = run(repo, "driftline", "ingest", "--from", "s3://landing/incoming/", **env)
    assert "Ingested 2024-05, 2024-06" in done.stdout
    assert batches(repo)[-2:] == ["2024-05", "2024-06"]
    again = run(repo, "driftline", "ingest", "--from", "s3://landing/incoming/", **env)
    assert "Nothing new to ingest." in again.stdout


def test_a_new_project_ingests_its_first_batch_before_any_window(repo, may):
    unregister_all(repo)
    path = csv_file(repo / "incoming", may)
    run(repo, "driftline", "ingest", str(path))
    assert batches(repo) == ["2024-05"]
