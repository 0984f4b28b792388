"""The `s3` DVC remote that CI uses, against moto's S3 server on 127.0.0.1 with dummy
credentials: `dvc push`, `dvc status -c`, a fresh clone that pulls the data and the models
and then has nothing to reproduce, and the remote going down in the middle of a push or a pull
(a relay in front of moto resets its connections), then a retry once it is back.

On the session's weather project (tests/weather.py): small, and no demo test, so the remote is
tested in every fork. The two outages alone are demo tests: the relay goes down half-way
through the bytes to move, which on the demo's megabyte objects lands inside one object's
transfer every time. On the weather project's small objects it lands anywhere: in the listing
of the bucket (DVC then prints only "unexpected error"), or inside a one-file download, where
dvc-objects 5.2.0 renames the partial temporary file into the cache, so that a retried pull
takes the empty object as present (docs/reliability.md, "A pull cut off half-way")."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from driftline.core.config import parse_yaml
from helpers import S3_ENV, copy_of, run, s3_client

from .relay import Relay

BUCKET = "driftline-ci"
PREFIX = "dvc"
DVC_DIRS = ("data/", "models/")  # outputs in the DVC cache; metrics and plots are in git
# What a pull must restore, byte for byte: the model, the newest raw batch (the weather
# project's months are its batches and groups: data/raw/<group>/<batch>.csv), the window.
PULLED = ("models/model.pkl", "data/raw/2024-04/2024-04.csv", "data/window/train.parquet")


def use_s3_remote(repo: Path, endpoint: str, bucket: str = BUCKET) -> None:
    """What the workflows do (.github/actions/s3-remote) and the README tells a laptop."""
    url = f"s3://{bucket}/{PREFIX}"
    run(repo, "dvc", "remote", "add", "--local", "--force", "--default", "s3", url)
    run(repo, "dvc", "remote", "modify", "--local", "s3", "endpointurl", endpoint)


def dvc(repo: Path, *args: str, check: bool = True):
    return run(repo, "dvc", *args, check=check, **S3_ENV)


def recorded_objects(repo: Path) -> dict[str, str]:
    """The raw batches' group folders (their .dvc files) and the model and training window
    (dvc.lock), by path, as the `<2 hex>/<rest>` object names DVC stores them under."""
    recorded = {}
    for dvc_file in sorted((repo / "data" / "raw").glob("*.dvc")):
        (out,) = parse_yaml(dvc_file.read_text())["outs"]
        recorded[f"data/raw/{out['path']}"] = out["md5"]
    lock = parse_yaml((repo / "dvc.lock").read_text())["stages"]
    for stage in ("train", "window"):
        outs = lock[stage]["outs"]
        recorded.update({o["path"]: o["md5"] for o in outs if o["path"].startswith(DVC_DIRS)})
    return {path: object_name(md5) for path, md5 in recorded.items()}


def object_name(md5: str) -> str:
    """The `<2 hex>/<rest>` name DVC stores an object under."""
    return f"{md5[:2]}/{md5[2:]}"


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    return client


def bucket_objects(s3, bucket: str = BUCKET) -> set[str]:
    """The DVC objects in the bucket, as `<2 hex>/<rest>` names."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    prefix = f"{PREFIX}/files/md5/"
    return {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}


def cache_objects(repo: Path) -> dict[str, Path]:
    """Every file in the repo's DVC cache, by its `<2 hex>/<rest>` name."""
    root = repo / ".dvc" / "cache" / "files" / "md5"
    return {f"{f.parent.name}/{f.name}": f for f in root.glob("*/*") if f.is_file()}


def md5_name(data: bytes) -> str:
    return object_name(hashlib.md5(data).hexdigest())


def content_name(name: str) -> str:
    """An object's name as the md5 of its bytes gives it: a directory output's listing,
    ``<md5>.dir``, is named for its bytes plus that suffix."""
    return name.removesuffix(".dir")


@pytest.fixture(scope="module")
def pushed(weather_project, s3, s3_endpoint, tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("s3") / "driftline"
    copy_of(weather_project, repo)
    use_s3_remote(repo, s3_endpoint)
    dvc(repo, "push")
    return repo


def test_push_sends_the_data_and_the_models_to_the_bucket(pushed, s3):
    recorded = recorded_objects(pushed)
    assert "models/model.pkl" in recorded and "data/raw/2024-04" in recorded
    in_bucket = bucket_objects(s3)
    assert {path for path, name in recorded.items() if name not in in_bucket} == set()
    assert "Cache and remote 's3' are in sync" in dvc(pushed, "status", "-c").stdout


def test_status_cloud_sees_an_object_missing_from_the_bucket(pushed, s3):
    model = recorded_objects(pushed)["models/model.pkl"]
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/files/md5/{model}")
    status = dvc(pushed, "status", "-c").stdout
    assert "in sync" not in status and "new:" in status, status
    dvc(pushed, "push")
    assert "in sync" in dvc(pushed, "status", "-c").stdout


def test_a_fresh_clone_pulls_data_and_models_and_has_nothing_to_reproduce(
    pushed, s3_endpoint, tmp_path
):
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(pushed), str(clone))
    assert not (clone / "models" / "model.pkl").exists()
    use_s3_remote(clone, s3_endpoint)
    dvc(clone, "pull")
    for name in PULLED:
        assert (clone / name).read_bytes() == (pushed / name).read_bytes(), name
    assert "Data and pipelines are up to date" in dvc(clone, "status").stdout
    repro = dvc(clone, "repro")
    assert "Running stage" not in repro.stdout, repro.stdout
    assert run(clone, "git", "status", "--porcelain").stdout == ""


@pytest.fixture
def relay(s3_endpoint):
    """A relay in front of moto, closed at the end of the test."""
    relay = Relay(int(s3_endpoint.rsplit(":", 1)[1]))
    yield relay
    relay.down()


def test_remote_down_mid_push_keeps_the_cache_and_a_retry_sends_only_the_rest(
    reproduced, s3, relay, tmp_path
):
    bucket = "driftline-outage-push"
    s3.create_bucket(Bucket=bucket)
    repo = tmp_path / "driftline"
    copy_of(reproduced, repo)
    local = cache_objects(repo)
    total = sum(path.stat().st_size for path in local.values())
    use_s3_remote(repo, relay.start(cut_after=total // 2, watched="upload"), bucket)

    failed = dvc(repo, "push", check=False)

    out = failed.stdout + failed.stderr
    assert failed.returncode != 0, out
    # DVC names each object it could not send and why. (When a folder's .dir listing is among
    # them, as the raw month folders' are, DVC 3.67 ends with "unexpected error" instead of
    # its summary line, so only the per-object lines are asserted.)
    assert "failed to transfer" in out and "Could not connect to the endpoint URL" in out, out
    landed = bucket_objects(s3, bucket)
    assert landed, "the relay went down before any object landed"
    for name in landed:  # an object is in the bucket whole, or not at all
        key = f"{PREFIX}/files/md5/{name}"
        assert md5_name(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == content_name(name)
    # nothing lost locally: the cache is whole and the workspace matches dvc.lock
    assert {name: md5_name(path.read_bytes()) for name, path in cache_objects(repo).items()} == {
        name: content_name(name) for name in local
    }
    assert "Data and pipelines are up to date" in dvc(repo, "status").stdout
    relay.start()  # the remote is back, on the same endpoint
    assert "in sync" not in dvc(repo, "status", "-c").stdout

    retried = dvc(repo, "push")

    in_bucket = bucket_objects(s3, bucket)
    assert landed < in_bucket <= set(local)
    assert f"{len(in_bucket - landed)} files pushed" in retried.stdout, retried.stdout
    assert "Cache and remote 's3' are in sync" in dvc(repo, "status", "-c").stdout


DEMO_BUCKET = "driftline-outage-pull"
DEMO_PULLED = ("models/model.pkl", "data/raw/2013-06/2013-06.csv", "data/window/train.parquet")


@pytest.fixture(scope="module")
def demo_pushed(reproduced, s3, s3_endpoint, tmp_path_factory) -> Path:
    """The reproduced demo, pushed to a bucket of its own (see the module's docstring)."""
    s3.create_bucket(Bucket=DEMO_BUCKET)
    repo = tmp_path_factory.mktemp("s3-demo") / "driftline"
    copy_of(reproduced, repo)
    use_s3_remote(repo, s3_endpoint, DEMO_BUCKET)
    dvc(repo, "push")
    return repo


def test_remote_down_mid_pull_leaves_no_partial_file_and_a_retry_completes(
    demo_pushed, s3, relay, tmp_path
):
    pushed = demo_pushed
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(pushed), str(clone))
    expected = bucket_objects(s3, DEMO_BUCKET)
    total = sum(cache_objects(pushed)[name].stat().st_size for name in expected)
    use_s3_remote(clone, relay.start(cut_after=total // 2, watched="download"), DEMO_BUCKET)

    failed = dvc(clone, "pull", check=False)

    out = failed.stdout + failed.stderr
    assert failed.returncode != 0, out
    # DVC names each object it could not send and why. (When a folder's .dir listing is among
    # them, as the raw month folders' are, DVC 3.67 ends with "unexpected error" instead of
    # its summary line, so only the per-object lines are asserted.)
    assert "failed to transfer" in out and "Could not connect to the endpoint URL" in out, out
    fetched = cache_objects(clone)
    assert len(fetched) < len(expected)
    for name, path in fetched.items():  # no half-downloaded object in the cache
        assert md5_name(path.read_bytes()) == content_name(name)
    outputs = [p for d in ("data", "models") for p in (clone / d).rglob("*") if p.is_file()]
    for path in outputs:  # no output half-written: absent, or the pushed bytes
        if path.name != ".gitignore" and path.suffix != ".dvc":
            assert path.read_bytes() == (pushed / path.relative_to(clone)).read_bytes(), path
    assert "up to date" not in dvc(clone, "status").stdout
    assert run(clone, "git", "status", "--porcelain").stdout == ""
    relay.start()

    dvc(clone, "pull")

    for name in DEMO_PULLED:
        assert (clone / name).read_bytes() == (pushed / name).read_bytes(), name
    assert "Data and pipelines are up to date" in dvc(clone, "status").stdout
    assert "Running stage" not in dvc(clone, "repro").stdout
